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


@pytest.mark.parametrize(
    ("zone", "said"),
    [
        # not a zone at all
        ("Mars/Base", "unknown time zone 'Mars/Base'"),
        # the right name in the wrong case: named, with the spelling meant
        ("europe/helsinki", "(did you mean 'Europe/Helsinki'?)"),
    ],
)
@pytest.mark.parametrize("command", ["check", "match"])
def test_timezone_option_is_checked_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture, zone: str, said: str, command: str
) -> None:
    places = str(write(tmp_path, GOOD))
    args = [places] if command == "check" else ["--places", places, "--pings", "p.jsonl"]
    with pytest.raises(SystemExit) as caught:
        main(["places", command, *args, "--timezone", zone])
    assert caught.value.code == 2  # a usage error, before anything is read
    err = capsys.readouterr().err
    assert "argument --timezone" in err and said in err


def test_assumed_timezone_is_one_warning_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rows = "".join(f"s{i},S,60.1{i},24.9,50,Mo-Fr 08:00-17:00\n" for i in range(3))
    path = write(tmp_path, "id,name,lat,lon,radius_m,opening_hours\n" + rows, "s.csv")
    assert main(["places", "check", str(path), "--timezone", "Europe/Helsinki"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"warning {path}: 3 place(s) with opening hours and no time zone: "
        "assuming Europe/Helsinki (loader default)",
        "3 places loaded; 0 errors, 1 warnings",
    ]


def match_args(tmp_path: Path, pings: Path, out: str | None = None) -> list[str]:
    args = ["places", "match", "--places", str(write(tmp_path, GOOD)), "--pings", str(pings)]
    return [*args, "--out", out] if out is not None else args


def test_match_opens_the_pings_before_the_output(tmp_path: Path) -> None:
    # A missing pings file must not truncate what --out already holds.
    out = write(tmp_path, "earlier results\n", "out.jsonl")
    assert main(match_args(tmp_path, tmp_path / "missing.jsonl", str(out))) == 1
    assert out.read_text(encoding="utf-8") == "earlier results\n"


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        # a folder that does not exist
        ("{tmp}/no/such/dir/out.jsonl", "No such file or directory"),
        # a folder, not a file
        ("{tmp}", "Is a directory"),
        # a device that is always full (where there is one)
        pytest.param(
            "/dev/full",
            "No space left on device",
            marks=pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full"),
        ),
    ],
)
def test_match_output_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, out: str, reason: str
) -> None:
    pings = write(tmp_path, PING, "pings.jsonl")
    target = out.format(tmp=tmp_path)
    assert main(match_args(tmp_path, pings, target)) == 1
    err = capsys.readouterr().err
    assert err == f"geotrigger: error: cannot write {target}: {reason}\n"


PING = '{"id": "p", "device_id": "d", "lat": 60.165, "lon": 24.955, "timestamp": 0}\n'


@pytest.mark.parametrize(
    ("good", "bad", "code", "listed", "more"),
    [
        # one bad line among good ones: listed with its line and reason, exit 0
        (2, 1, 0, 1, None),
        # many bad lines: the first 20 listed, the rest counted
        (1, 25, 0, 20, "and 5 more malformed records"),
        # nothing could be matched because every record was malformed: exit 1
        (0, 3, 1, 3, None),
        # an empty file is not an error
        (0, 0, 0, 0, None),
    ],
)
def test_match_lists_malformed_records(
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    good: int,
    bad: int,
    code: int,
    listed: int,
    more: str | None,
) -> None:
    pings = write(tmp_path, PING * good + '{"device_id": "d"}\n' * bad, "pings.jsonl")
    assert main(match_args(tmp_path, pings)) == code
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == good
    err = captured.err.splitlines()
    skipped = [line for line in err if ": skipped: " in line]
    assert len(skipped) == listed
    if listed:
        assert skipped[0].startswith(f"geotrigger: {pings}:{good + 1}: skipped: ")
    assert (more is not None) == any(more in line for line in err if more)
    assert (f"{bad} malformed records skipped" in captured.err) is (bad > 0)
