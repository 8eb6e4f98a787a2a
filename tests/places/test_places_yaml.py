"""YAML as written: aliases, merge keys, ids and numbers that YAML 1.1 would reinterpret."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from geotrigger.places import Severity, load_places
from geotrigger.places.yaml_nodes import ALIAS_BUDGET

HEAD = "version: 1\ndefaults: {radius_m: 50}\nplaces:\n"  # places start on line 4


def run(tmp_path: Path, body: str):
    path = tmp_path / "places.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return load_places([path])


def laughs(levels: int) -> str:
    """A place whose metadata nests ``levels`` lists of ten aliases of the level below."""
    rows = ["      l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"]
    for n in range(1, levels):
        refs = ", ".join([f"*l{n - 1}"] * 10)
        rows.append(f"      l{n}: &l{n} [{refs}]\n")
    return "  - id: lol\n    circle: {lat: 60.1, lon: 24.9}\n    metadata:\n" + "".join(rows)


@pytest.mark.parametrize(
    ("body", "line", "text"),
    [
        # ten levels of ten: 10^10 values if followed; refused at the first alias over budget
        (laughs(10), 11, f"aliases expand to more than {ALIAS_BUDGET:,} values"),
        # an alias inside its own anchor is a loop, not a place
        (
            "  - id: loop\n    circle: {lat: 60.1, lon: 24.9}\n    metadata: &m {self: *m}\n",
            6,
            "an alias refers to a value that contains it",
        ),
    ],
)
def test_aliases_over_budget_are_refused_quickly(
    tmp_path: Path, body: str, line: int, text: str
) -> None:
    started = time.perf_counter()
    result = run(tmp_path, body)
    assert time.perf_counter() - started < 2.0
    (finding,) = result.findings
    assert (finding.code, finding.where.line) == ("yaml-aliases", line)
    assert text in finding.message and finding.format().startswith(f"error {tmp_path}")
    assert not result.places


def test_aliases_within_budget_load(tmp_path: Path) -> None:
    # Four levels (11,110 values through aliases) is a large but honest reuse: it loads.
    result = run(tmp_path, laughs(4))
    assert not result.errors and [p.id for p in result.places] == ["lol"]


MERGE_BASE = "  - &base\n    id: base\n    brand: Acme\n    circle: {lat: 60.1, lon: 24.9}\n"


@pytest.mark.parametrize(
    ("second", "repeated"),
    [
        # local keys override merged ones: not a repeat
        ("  - <<: *base\n    id: second\n    circle: {lat: 60.2, lon: 24.9}\n", []),
        # a key written twice by hand is still a repeat, merge or not
        ("  - <<: *base\n    id: second\n    name: A\n    name: B\n", [11]),
    ],
)
def test_merge_keys(tmp_path: Path, second: str, repeated: list[int]) -> None:
    result = run(tmp_path, MERGE_BASE + second)
    found = [f.where.line for f in result.findings if f.code == "duplicate-key"]
    assert found == repeated, [f.format() for f in result.findings]
    if not repeated:
        second_place = next(p for p in result.places if p.id == "second")
        assert second_place.brand == "Acme"  # merged
        assert second_place.geometry.lat == 60.2  # type: ignore[union-attr]  # overridden


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("0123", "0123"),  # YAML 1.1 octal would make it 83
        ("0x1F", "0x1F"),  # hexadecimal would make it 31
        ("1_000", "1_000"),  # underscores would make it 1000
        ("12:30", "12:30"),  # base 60 would make it 750
        ("42", "42"),  # a plain number is its text, as before
        ("'0123'", "0123"),  # quoted: a string anyway
    ],
)
def test_numeric_ids_keep_their_text(tmp_path: Path, written: str, expected: str) -> None:
    result = run(tmp_path, f"  - {{id: {written}, name: N, circle: {{lat: 60.1, lon: 24.9}}}}\n")
    assert [p.id for p in result.places] == [expected]


@pytest.mark.parametrize(
    ("circle", "radius"),
    [
        ("{lat: 60.1, lon: 24.9, radius_m: 5e3}", 5000.0),  # YAML 1.2 float, text in 1.1
        ("{lat: 6.01e1, lon: 24.9, radius_m: 1E2}", 100.0),  # exponent in a coordinate too
        ("{lat: 60.1, lon: 24.9, radius_m: 5.0e+3}", 5000.0),  # YAML 1.1 float, as before
    ],
)
def test_yaml12_floats_in_number_fields(tmp_path: Path, circle: str, radius: float) -> None:
    result = run(tmp_path, f"  - id: a\n    name: A\n    circle: {circle}\n")
    (place,) = result.places
    assert place.geometry.radius_m == radius  # type: ignore[union-attr]


def test_yaml12_floats_elsewhere(tmp_path: Path) -> None:
    # Defaults, dwell and polygon positions read the same way; a quoted "5e3" stays text.
    body = (
        "  - id: p\n    name: P\n    dwell_s: 1.2e2\n    polygon:\n"
        "      - [[24.9, 60.1], [2.491e1, 60.1], [24.91, 60.11], [24.9, 60.1]]\n"
        "  - id: q\n    name: Q\n    circle: {lat: 60.2, lon: 24.9, radius_m: '5e3'}\n"
    )
    path = tmp_path / "places.yaml"
    path.write_text(HEAD.replace("radius_m: 50", "radius_m: 5e1") + body, encoding="utf-8")
    result = load_places([path])
    assert [p.id for p in result.places] == ["p"] and result.places[0].dwell_s == 120.0
    (finding,) = result.errors
    assert (finding.where.item_id, finding.code) == ("q", "radius-type")
    assert result.places[0].geometry.bounds[2] == pytest.approx(24.91)


def test_lines_skip_metadata_but_name_geometry(tmp_path: Path) -> None:
    # Findings still point at the geometry's own lines; metadata is not walked for lines.
    body = (
        "  - id: p\n    name: P\n    metadata: {a: [1, 2, 3]}\n    polygon:\n"
        "      - - [24.9, 60.1]\n        - [24.91, 260.1]\n        - [24.9, 60.1]\n"
        "        - [24.9, 60.1]\n"
    )
    (finding,) = run(tmp_path, body).errors
    assert (finding.code, finding.where.line, finding.severity) == (
        "coord-range",
        9,
        Severity.ERROR,
    )


def test_lines_are_kept_for_keys_and_geometry_only(tmp_path: Path) -> None:
    # Metadata is never walked for lines; a shape shared through an alias is walked per place.
    from geotrigger.places.yaml_source import read_yaml

    body = (
        "  - id: a\n    metadata: {deep: [[1, 2], [3]]}\n    polygon: &shape\n"
        "      - [[24.9, 60.1], [24.91, 60.1], [24.91, 60.11], [24.9, 60.1]]\n"
        "  - id: b\n    polygon: *shape\n"
    )
    path = tmp_path / "places.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    raws, findings = read_yaml(path, "places.yaml")
    assert not findings
    first, second = (dict(r.lines) for r in raws)
    assert first[("metadata",)] == 5 and not [k for k in first if k[:1] == ("metadata",)][1:]
    assert first[("polygon", 0, 2)] == 7 and second[("polygon", 0, 2)] == 7
    assert second[("polygon",)] == 9  # the key of the place's own alias
