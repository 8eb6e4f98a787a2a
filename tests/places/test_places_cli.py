"""``geotrigger places check`` and ``places match``: output, exit codes, one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geotrigger.cli import main

GOOD = """\
version: 1
places:
  - id: square
    name: Square
    polygon:
      - [[24.95, 60.16], [24.96, 60.16], [24.96, 60.17], [24.95, 60.17], [24.95, 60.16]]
  - id: dot
    name: Dot
    circle: {lat: 60.165, lon: 24.955, radius_m: 100}
"""

UNCLOSED = GOOD.replace(", [24.95, 60.16]]\n", "]\n")
TINY = GOOD.replace("radius_m: 100", "radius_m: 10")


def write(tmp_path: Path, text: str, name: str = "places.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "args", "code", "last_line"),
    [
        # clean file: exit 0, summary only
        (GOOD, [], 0, "2 places loaded; 0 errors, 0 warnings"),
        # warnings alone do not fail the check
        (TINY, [], 0, "2 places loaded; 0 errors, 1 warnings"),
        # an error fails it, and the place is not loaded
        (UNCLOSED, [], 1, "1 places loaded; 1 errors, 0 warnings"),
        # --fix repairs it, reports the repair, and exits 0
        (UNCLOSED, ["--fix"], 0, "2 places loaded; 0 errors, 0 warnings, 1 repaired"),
    ],
)
def test_check_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str, args: list, code: int, last_line: str
) -> None:
    path = write(tmp_path, text)
    assert main(["places", "check", str(path), *args]) == code
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == last_line
    if text is UNCLOSED:
        severity = "fixed" if args else "error"
        assert lines[0].startswith(f"{severity} {path}:6 place 'square': ")


def test_check_json_and_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, UNCLOSED)
    assert main(["places", "check", "--format", "json", str(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"places": 1, "errors": 1, "warnings": 0, "repaired": 0}
    assert doc["findings"][0] | {"message": ""} == {
        "severity": "error",
        "code": "ring-unclosed",
        "file": str(path),
        "line": 6,
        "feature": None,
        "place": "square",
        "message": "",
    }
    assert main(["places", "check", str(tmp_path / "missing.yaml")]) == 1


def test_check_default_radius_and_timezone(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    point = {"type": "Point", "coordinates": [24.94, 60.17]}
    feature = {"type": "Feature", "id": "p", "properties": {"name": "P", "opening_hours": "24/7"}}
    text = json.dumps({"type": "FeatureCollection", "features": [feature | {"geometry": point}]})
    path = write(tmp_path, text, "p.geojson")
    assert main(["places", "check", str(path)]) == 1
    args = ["--default-radius", "50", "--timezone", "Europe/Helsinki"]
    assert main(["places", "check", str(path), *args]) == 0
    assert "assuming Europe/Helsinki" in capsys.readouterr().out


def test_check_as_a_subprocess(tmp_path: Path, repo_root: Path) -> None:
    # The installed entry point, run for real, on the shipped examples and on a broken file.
    shipped = subprocess.run(
        [sys.executable, "-m", "geotrigger", "places", "check", "rules/places"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    assert " 0 errors" in shipped.stdout.splitlines()[-1]
    broken = subprocess.run(
        [sys.executable, "-m", "geotrigger", "places", "check", str(write(tmp_path, UNCLOSED))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 1 and "ring is not closed" in broken.stdout


def test_match_writes_one_line_per_ping(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    places = write(tmp_path, GOOD)
    pings = tmp_path / "pings.jsonl"
    rows = [
        {"id": "in-both", "device_id": "d1", "lat": 60.165, "lon": 24.955},
        {"id": "in-square", "device_id": "d1", "lat": 60.1695, "lon": 24.9505},
        {"id": "nowhere", "device_id": "d2", "lat": 60.2, "lon": 25.0},
    ]
    lines = [json.dumps(r | {"timestamp": "2024-01-15T10:00:00Z"}) for r in rows]
    pings.write_text("\n".join([*lines, "{broken"]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["places", "match", "--places", str(places), "--pings", str(pings), "--out", str(out)]
    assert main(args) == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert got == [
        {"ping_id": "in-both", "device_id": "d1", "places": ["dot", "square"]},
        {"ping_id": "in-square", "device_id": "d1", "places": ["square"]},
        {"ping_id": "nowhere", "device_id": "d2", "places": []},
    ]
    assert "1 malformed records skipped" in capsys.readouterr().err


def test_match_refuses_places_with_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    places = write(tmp_path, UNCLOSED)
    pings = write(tmp_path, "", "pings.jsonl")
    assert main(["places", "match", "--places", str(places), "--pings", str(pings)]) == 1
    assert "1 error(s) in the places" in capsys.readouterr().err
