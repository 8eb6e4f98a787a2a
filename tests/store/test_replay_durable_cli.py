"""``geotrigger replay --database-url``: state and moments kept in the database, so replaying
the same file again (a restart over pings already seen) fires nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geotrigger.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _args(url: str, out: Path) -> list[str]:
    return [
        "replay",
        "--places", str(ROOT / "rules" / "places"),
        "--rules", str(ROOT / "rules" / "moments"),
        "--consumers", str(ROOT / "examples" / "consumers"),
        "--pings", str(ROOT / "examples" / "pings" / "helsinki-morning.jsonl"),
        "--database-url", url,
        "--out", str(out),
    ]  # fmt: skip


def _replay(url: str, out: Path) -> list[dict]:  # type: ignore[type-arg]
    assert main(_args(url, out)) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_replaying_again_into_the_same_database_fires_nothing_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'gt.sqlite3'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    first = _replay(url, tmp_path / "first.jsonl")
    fired = [r for r in first if r.get("outcome") == "fired"]
    assert fired  # the visitor's coffee moment at least
    second = _replay(url, tmp_path / "second.jsonl")
    assert not [r for r in second if r.get("outcome") == "fired"]
    reasons = {r["reason"] for r in second if r["type"] == "rejection"}
    assert "duplicate" in reasons or "out_of_order" in reasons  # the device state was kept
    capsys.readouterr()


def test_a_database_without_schema_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert main(_args(url, tmp_path / "out.jsonl")) == 1
    assert "run geotrigger db upgrade first" in capsys.readouterr().err


def test_places_applied_to_the_database_are_what_replay_matches_against(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """places apply, then replay without --places: the same transitions as from the files."""
    url = f"sqlite:///{tmp_path / 'gt.sqlite3'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert main(["places", "apply", str(ROOT / "rules" / "places"), "--database-url", url]) == 0
    pings = str(ROOT / "examples" / "pings" / "helsinki-morning.jsonl")
    from_files, from_db = tmp_path / "files.jsonl", tmp_path / "db.jsonl"
    places = str(ROOT / "rules" / "places")
    assert main(["replay", "--places", places, "--pings", pings, "--out", str(from_files)]) == 0
    args = ["replay", "--database-url", url, "--pings", pings, "--out", str(from_db)]
    assert main(args) == 0
    assert from_db.read_text(encoding="utf-8") == from_files.read_text(encoding="utf-8")
    capsys.readouterr()


def test_replay_needs_places_from_somewhere(capsys: pytest.CaptureFixture[str]) -> None:
    pings = str(ROOT / "examples" / "pings" / "helsinki-morning.jsonl")
    assert main(["replay", "--pings", pings]) == 1
    assert "give --places PATH" in capsys.readouterr().err
