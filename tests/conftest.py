"""Fixtures shared by the whole suite: the real data beside the checkout, and real servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, why: str) -> None:
    """Skip locally when a real dependency is missing; in CI a missing dependency fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{why} (CI is set, so this is a failure, not a skip)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The real recorded data (weather, GPS traces, OpenStreetMap places) beside the checkout."""
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"the shared fixtures are missing: expected {SHARED_FIXTURES}")
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the checkout."""
    return REPO_ROOT


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI nothing may be skipped silently: any skipped test fails the run."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and session.exitstatus == 0:
        print(f"\n{skipped} test(s) skipped while CI is set: failing the run")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
