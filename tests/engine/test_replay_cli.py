"""``geotrigger replay`` and ``geotrigger demo`` end to end, in process and as a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from geotrigger.cli import main

PLACES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "cafe",
            "properties": {"name": "Café", "radius_m": 50},
            "geometry": {"type": "Point", "coordinates": [24.9384, 60.1699]},
        }
    ],
}
# In at 10:00, still in at 10:06 (dwell), out from 10:07 (exit at 10:08); line 4 is a
# duplicate of line 3, line 5 is not JSON. A bad line is reported as it is read; within a
# batch of pings, rejections come before transitions.


def _line(pid: str, lat: float, at: str) -> str:
    return json.dumps(
        {"id": pid, "device_id": "d1", "lat": lat, "lon": 24.9384, "timestamp": f"2026-06-12T{at}Z"}
    )


PINGS = [
    _line("p1", 60.1699, "10:00:00"),
    _line("p2", 60.1699, "10:06:00"),
    _line("p3", 60.1750, "10:07:00"),
    _line("p3", 60.1750, "10:07:00"),
    "{oops",
    _line("p4", 60.1750, "10:08:00"),
]


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A one-place GeoJSON file and a small JSON Lines file of pings."""
    places = tmp_path / "places.geojson"
    places.write_text(json.dumps(PLACES), encoding="utf-8")
    pings = tmp_path / "pings.jsonl"
    pings.write_text("\n".join(PINGS) + "\n", encoding="utf-8")
    return places, pings


def _check(events: list[dict[str, object]]) -> None:
    kinds = [(e["type"], e.get("kind") or e.get("reason"), e.get("line")) for e in events]
    assert kinds == [
        ("rejection", "malformed", 5),
        ("rejection", "duplicate", 4),
        ("transition", "enter", None),
        ("transition", "dwell", None),
        ("transition", "exit", None),
    ]
    exit_ = events[-1]
    assert exit_["at"] == "2026-06-12T10:08:00Z"
    assert exit_["entered_at"] == "2026-06-12T10:00:00Z"
    assert exit_["duration_s"] == 420.0
    assert set(exit_) >= {"device_id", "place_id", "ping_id", "consumer_id", "distance_m", "reason"}


def test_replay_in_process(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Events to --out, the summary to stderr: counts by reason, kind and place, no positions."""
    places, pings = inputs
    out = tmp_path / "events.jsonl"
    code = main(["replay", "--places", str(places), "--pings", str(pings), "--out", str(out)])
    assert code == 0
    _check([json.loads(line) for line in out.read_text().splitlines()])
    err = capsys.readouterr().err
    for expected in ("pings read", "accepted", "duplicate", "malformed", "enter", "cafe"):
        assert expected in err
    assert "60.1" not in err and "d1" not in err  # neither positions nor device ids


def test_replay_now_option_rejects_old_pings(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """With --now a month later, every ping is too old (max_age_s is 7 days)."""
    places, pings = inputs
    assert (
        main(
            [
                "replay",
                "--places",
                str(places),
                "--pings",
                str(pings),
                "--now",
                "2026-07-12T00:00:00Z",
            ]
        )
        == 0
    )
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["reason"] for e in events} == {"too_old", "malformed"}


def test_replay_bad_now_is_a_usage_error(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A --now that is no time says so and exits 2."""
    places, pings = inputs
    with pytest.raises(SystemExit) as info:
        main(["replay", "--places", str(places), "--pings", str(pings), "--now", "soon"])
    assert info.value.code == 2
    assert "--now: 'soon' is neither RFC 3339 nor epoch seconds" in capsys.readouterr().err


def test_replay_missing_pings_file(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreadable ping file is an error naming it, exit code 1."""
    places, _ = inputs
    assert main(["replay", "--places", str(places), "--pings", str(tmp_path / "nope.jsonl")]) == 1
    assert "nope.jsonl" in capsys.readouterr().err


def test_replay_subprocess(inputs: tuple[Path, Path]) -> None:
    """The installed command line, events on stdout."""
    places, pings = inputs
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "geotrigger",
            "replay",
            "--places",
            str(places),
            "--pings",
            str(pings),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    _check([json.loads(line) for line in done.stdout.splitlines()])
    assert "transitions by place" in done.stderr


def test_demo_tells_the_story(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo replays the shipped day and explains it without device ids."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Musiikkitalon kahvila" in out and "after 2" in out  # the 20-minute café visit
    assert "without dwelling" in out  # the tram
    assert "HTTP service" in out
    # consumers are named by their consumer ids; the phones' device ids never appear
    for device in ("visitor", "commuter", "shopper", "barista", "walker", "jogger"):
        assert re.search(rf"(?<!consumer-){device}", out) is None


def test_demo_tells_a_lost_signal(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A phone that dwells and then falls silent for hours was last seen at its last ping
    inside, not "still there" and not gone for hours."""
    places, _ = inputs
    pings = tmp_path / "silent.jsonl"
    silent = [PINGS[0], PINGS[1], _line("p9", 60.1750, "13:00:00")]  # dwell at 10:06, silence
    pings.write_text("\n".join(silent) + "\n", encoding="utf-8")
    assert main(["demo", "--places", str(places), "--pings", str(pings)]) == 0
    out = capsys.readouterr().out
    assert "last seen there at 10:06 UTC after 6 min, then fell silent" in out


def test_replay_gpx_with_device_id(
    inputs: tuple[Path, Path], shared_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real hike in GPX: fixes without time are rejected with their fix number."""
    places, _ = inputs
    gpx = shared_fixtures / "traces" / "korita-zbevnica.gpx"
    args = ["replay", "--places", str(places), "--pings", str(gpx), "--device-id", "hiker"]
    assert main(args) == 0
    captured = capsys.readouterr()
    events = [json.loads(line) for line in captured.out.splitlines()]
    malformed = [e for e in events if e.get("reason") == "malformed"]
    assert malformed and all(e["device_id"] == "hiker" for e in malformed)
    assert malformed[0]["line"] == 1 and "has no time" in malformed[0]["detail"]
    assert "hiker" not in captured.err
