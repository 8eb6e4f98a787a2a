"""``geotrigger rules check`` and ``rules schema``: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geotrigger.cli import main
from geotrigger.rules.schema import schema_text

GOOD = """\
version: 1
moments:
  - id: coffee
    trigger: {on: dwell, places: {tags: [cafe]}}
    suppression:
      caps: [{scope: consumer_rule, max: 1, window: calendar_day}]
    action: {message: "{place.name} is {distance_m} m away"}
"""
TYPO = GOOD.replace("on: dwell", "on: dwel")
UNCAPPED = GOOD.replace(
    "      caps: [{scope: consumer_rule, max: 1, window: calendar_day}]\n", "      cooldown: 1h\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "moments.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "code", "lines"),
    [
        # a clean file: the summary only
        (GOOD, 0, ["1 rules loaded; 0 errors, 0 warnings"]),
        # a warning does not fail the check
        (
            UNCAPPED,
            0,
            [
                "{path} line 3: rule 'coffee': warning: a live moment with no caps",
                "1 rules loaded; 0 errors, 1 warnings",
            ],
        ),
        # an error does, with file, line, rule id, reason and did-you-mean
        (
            TYPO,
            1,
            [
                "{path} line 4: rule 'coffee': trigger.on: 'dwel' is not one of enter, dwell,"
                " exit, weather, signal (did you mean 'dwell'?)",
                "0 rules loaded; 1 errors, 0 warnings",
            ],
        ),
    ],
)
def test_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, code: int, lines: list[str]
) -> None:
    path = write(tmp_path, text)
    assert main(["rules", "check", str(path)]) == code
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(lines)
    for got, want in zip(out, lines, strict=True):
        assert got.startswith(want.format(path=path))


def test_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, TYPO)
    assert main(["rules", "check", "--json", str(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"rules": 0, "errors": 1, "warnings": 0}
    (finding,) = doc["findings"]
    assert (finding["file"], finding["line"], finding["rule"]) == (str(path), 4, "coffee")
    assert finding["severity"] == "error" and "did you mean 'dwell'?" in finding["message"]


def test_check_with_places(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_root: Path
) -> None:
    path = write(tmp_path, GOOD.replace("tags: [cafe]", "ids: [osm-node-100741627]"))
    places = str(repo_root / "rules" / "places")
    assert main(["rules", "check", str(path), "--places", places]) == 1
    out = capsys.readouterr().out
    assert "no place has the id 'osm-node-100741627' (did you mean 'osm-node-1007416273'?)" in out


def test_shipped_moments_check_clean(capsys: pytest.CaptureFixture[str], repo_root: Path) -> None:
    moments, places = repo_root / "rules" / "moments", repo_root / "rules" / "places"
    assert main(["rules", "check", str(moments), "--places", str(places)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("; 0 errors, 0 warnings")


def test_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "schema"]) == 0
    assert capsys.readouterr().out == schema_text()
    out = tmp_path / "s.json"
    assert main(["rules", "schema", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == schema_text()
    assert main(["rules", "schema", "--out", str(tmp_path / "no" / "s.json")]) == 1
