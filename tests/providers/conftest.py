"""Fixtures of the provider tests: one local fixture server per test module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.server import FixtureServer


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FixtureServer]:
    """One server for the module: starting and stopping one costs about half a second."""
    with FixtureServer() as server:
        yield server


@pytest.fixture
def server(shared_server: FixtureServer) -> FixtureServer:
    """The module's server with no routes and no requests seen yet."""
    shared_server.reset()
    return shared_server
