"""Every lint finding, with the file, line (or feature) and place id it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from geotrigger.places import LoadDefaults, Severity, load_places

HEAD = "version: 1\ndefaults: {}\nplaces:\n"  # places start on line 4

OK = "  - id: ok\n    name: Ok\n    circle: {lat: 60.17, lon: 24.94, radius_m: 50}\n"
UNCLOSED = "[[24.9, 60.1], [24.91, 60.1], [24.91, 60.11]]"
SHORT = "[[24.9, 60.1], [24.91, 60.1], [24.9, 60.1]]"


def branded(pid: str, brand: str, lat: float) -> str:
    """A YAML place of a brand, 50 m round, at lon 24.94."""
    circle = f"{{lat: {lat}, lon: 24.94, radius_m: 50}}"
    return f"  - id: {pid}\n    name: {pid}\n    brand: {brand}\n    circle: {circle}\n"


def run(tmp_path: Path, body: str, *, fix: bool = False, **defaults: object):
    path = tmp_path / "places.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return load_places([path], fix=fix, defaults=LoadDefaults(**defaults))  # type: ignore[arg-type]


ERRORS = [
    # latitude out of range in a circle, reported at the circle's line
    (
        "  - id: a\n    name: A\n    circle: {lat: -95, lon: 124, radius_m: 50}\n",
        "coord-range",
        6,
        "a",
        "latitude -95 is outside [-90, 90]",
    ),
    # a latitude over 90 with a longitude under 90 is a swapped pair
    (
        "  - id: a\n    name: A\n    circle: {lat: 124.9, lon: 60.2, radius_m: 50}\n",
        "coord-swapped",
        6,
        "a",
        "look swapped",
    ),
    # ring not closed: named at the ring's line
    (
        f"  - id: p\n    name: P\n    polygon:\n      - {UNCLOSED}\n",
        "ring-unclosed",
        7,
        "p",
        "ring is not closed",
    ),
    # ring too short
    (
        f"  - id: p\n    name: P\n    polygon:\n      - {SHORT}\n",
        "ring-too-short",
        7,
        "p",
        "2 distinct positions",
    ),
    # self-intersection, with where as (lat, lon)
    (
        "  - id: p\n    name: P\n    polygon:\n      - [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]\n",
        "geometry-invalid",
        6,
        "p",
        "self-intersecting at (0.50000, 0.50000)",
    ),
    # a bad position is named at its own line in a block list
    (
        "  - id: p\n    name: P\n    polygon:\n      - - [24.9, 60.1]\n        - [24.91, 260.1]\n"
        "        - [24.91, 60.11]\n        - [24.9, 60.1]\n",
        "coord-range",
        8,
        "p",
        "latitude 260.1",
    ),
    # radius below the model's minimum
    (
        "  - id: r\n    name: R\n    circle: {lat: 60.17, lon: 24.94, radius_m: 0.5}\n",
        "radius-range",
        6,
        "r",
        "radius_m 0.5 is outside [1, 50000] m",
    ),
    # radius above the maximum
    (
        "  - id: r\n    name: R\n    circle: {lat: 60.17, lon: 24.94, radius_m: 60000}\n",
        "radius-range",
        6,
        "r",
        "radius_m 60000",
    ),
    # no radius and no default
    (
        "  - id: r\n    name: R\n    circle: {lat: 60.17, lon: 24.94}\n",
        "radius-missing",
        6,
        "r",
        "radius_m is missing",
    ),
    # opening hours with no zone anywhere
    (
        OK.replace("id: ok", "id: h") + "    opening_hours: Mo-Fr 10:00-18:00\n",
        "timezone-missing",
        7,
        "h",
        "opening hours need a time zone",
    ),
    # a misspelt zone, with a suggestion
    (
        OK.replace("id: ok", "id: z") + "    timezone: Europe/Helsinky\n",
        "timezone-unknown",
        7,
        "z",
        "did you mean 'Europe/Helsinki'?",
    ),
    # hours that do not parse are an error in YAML
    (
        OK.replace("id: ok", "id: h") + "    timezone: UTC\n    opening_hours: Mon 9-5\n",
        "hours-invalid",
        8,
        "h",
        "did you mean 'Mo'?",
    ),
    # unknown key, with a suggestion
    (
        OK.replace("id: ok", "id: k") + "    openinghours: 24/7\n",
        "unknown-key",
        7,
        "k",
        "unknown key 'openinghours' (did you mean 'opening_hours'?)",
    ),
    # a key given twice
    (
        OK.replace("id: ok", "id: k") + "    name: Again\n",
        "duplicate-key",
        7,
        "k",
        "key 'name' is repeated",
    ),
    # no id
    (
        "  - name: Nameless\n    circle: {lat: 60.17, lon: 24.94, radius_m: 50}\n",
        "id-missing",
        4,
        None,
        "place has no id",
    ),
    # no geometry
    ("  - id: g\n    name: G\n", "geometry-missing", 4, "g", "place has no geometry"),
    # two geometries
    (
        OK.replace("id: ok", "id: g") + "    polygon: [[[0, 0], [1, 0], [1, 1], [0, 0]]]\n",
        "geometry-ambiguous",
        4,
        "g",
        "exactly one of circle, polygon, multipolygon",
    ),
    # negative dwell
    (OK.replace("id: ok", "id: d") + "    dwell_s: -5\n", "dwell-invalid", 7, "d", "dwell_s"),
    # the same id twice: the second names the first
    (OK + OK, "id-duplicate", 7, "ok", "duplicate id: also defined in"),
    # tags of the wrong shape
    (OK.replace("id: ok", "id: t") + "    tags: {a: 1}\n", "field-type", 7, "t", "tags must be"),
]


@pytest.mark.parametrize(("body", "code", "line", "place", "text"), ERRORS)
def test_errors(tmp_path: Path, body: str, code: str, line: int, place: str | None, text: str):
    result = run(tmp_path, body)
    found = [f for f in result.findings if f.code == code]
    assert found, [f.format() for f in result.findings]
    finding = found[0]
    assert finding.severity == Severity.ERROR
    assert (finding.where.line, finding.where.item_id) == (line, place)
    assert text in finding.message
    assert finding.format().startswith(f"error {tmp_path / 'places.yaml'}:{line}")
    assert place not in {p.id for p in result.places} or code == "id-duplicate"


WARNINGS = [
    # a radius under typical phone accuracy
    (OK.replace("radius_m: 50", "radius_m: 10"), {}, "radius-small", 6, "under typical phone"),
    # holiday rules are accepted and ignored
    (
        OK + "    timezone: UTC\n    opening_hours: Mo-Fr 10:00-18:00; PH off\n",
        {},
        "hours-holidays-ignored",
        8,
        "no holiday calendar",
    ),
    # hours without a zone take the loader's default, with one warning for the file
    (
        OK + "    opening_hours: 24/7\n",
        {"timezone": "Europe/Helsinki"},
        "timezone-assumed",
        None,
        "1 place(s) with opening hours and no time zone: assuming Europe/Helsinki",
    ),
    # no name: the id stands in
    (
        "  - id: n\n    circle: {lat: 60.17, lon: 24.94, radius_m: 50}\n",
        {},
        "name-missing",
        4,
        "using its id",
    ),
    # two places of one brand that overlap; the other is named with its line
    (
        branded("b1", "Kiosk", 60.17) + branded("b2", "Kiosk", 60.1703),
        {},
        "brand-overlap",
        4,
        "overlaps place 'b2' (",
    ),
]


@pytest.mark.parametrize(("body", "defaults", "code", "line", "text"), WARNINGS)
def test_warnings(
    tmp_path: Path, body: str, defaults: dict, code: str, line: int | None, text: str
) -> None:
    result = run(tmp_path, body, **defaults)
    found = [f for f in result.findings if f.code == code]
    assert found and found[0].severity == Severity.WARNING, result.findings
    assert found[0].where.line == line and text in found[0].message
    assert not result.errors and result.places  # warnings do not stop a place


def test_brand_overlap_needs_same_brand_and_real_overlap(tmp_path: Path) -> None:
    # b1-b2 are 222 m apart (two 50 m circles); b3 overlaps b1 but is another brand
    far = branded("b1", "K", 60.17) + branded("b2", "K", 60.172) + branded("b3", "L", 60.17)
    assert not [f for f in run(tmp_path, far).findings if f.code == "brand-overlap"]


def circles(points: list[tuple[float, float]]) -> str:
    """YAML places p0, p1, ... 50 m round at the given (lat, lon); p<i> starts on line 4 + 3i."""
    return "".join(
        f"  - id: p{i}\n    name: P\n    circle: {{lat: {lat}, lon: {lon}, radius_m: 50}}\n"
        for i, (lat, lon) in enumerate(points)
    )


HELSINKI = [(60.17, 24.94), (60.16, 24.93), (60.18, 24.95)]


@pytest.mark.parametrize(
    ("points", "far"),
    [
        # typed [lat, lon]: lands in the Indian Ocean, swapped it sits among the others
        ([*HELSINKI, (24.94, 60.17)], "p3"),
        # a real store of a Baltic chain in Dubai: swapped it would be near Riga, but it is real
        ([(56.95, 24.10), (56.96, 24.12), (54.69, 25.28), (25.197, 55.279)], "p3"),
        # far away, but swapped it would be no nearer: not even a hint
        ([*HELSINKI, (-33.87, 151.21)], None),
    ],
)
def test_far_from_the_others_is_a_warning_never_fixed(
    tmp_path: Path, points: list[tuple[float, float]], far: str | None
) -> None:
    for fix in (False, True):
        result = run(tmp_path, circles(points), fix=fix)
        assert not result.errors and not result.repaired
        assert len(result.places) == len(points)
        found = [f for f in result.warnings if f.code == "coord-far"]
        assert [f.where.item_id for f in found] == ([far] if far else [])
        if far:
            assert found[0].where.line == 13 and "may be swapped" in found[0].message
            moved = next(p for p in result.places if p.id == far)
            assert (moved.geometry.lat, moved.geometry.lon) == points[3]  # type: ignore[union-attr]


def test_fix_repairs_only_when_asked(tmp_path: Path) -> None:
    body = (
        f"  - id: u\n    name: U\n    polygon:\n      - {UNCLOSED}\n"
        "  - id: s\n    name: S\n    polygon:\n      - [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]\n"
    )
    plain = run(tmp_path, body)
    assert {f.where.item_id for f in plain.errors} == {"u", "s"} and not plain.places
    fixed = run(tmp_path, body, fix=True)
    assert not fixed.errors and {p.id for p in fixed.places} == {"u", "s"}
    assert {(f.where.item_id, f.code) for f in fixed.repaired} == {
        ("u", "ring-unclosed"),
        ("s", "geometry-invalid"),
    }


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("version: 2\nplaces: []\n", "yaml-version", 1),  # unsupported version
        ("places: []\n", "yaml-version", 1),  # no version at all
        ("version: 1\nplaces:\n  - id: a\n   name: b\n", "yaml-syntax", 4),  # bad indent
        ("version: 1\nplaces: {}\n", "yaml-shape", 2),  # places not a list: at its key
        ("version: 1\nplace: []\n", "unknown-key", 2),  # misspelt top key
        ("- 1\n", "yaml-shape", 1),  # not a mapping
        ("version: 1\ndefaults: {radius: 5}\nplaces: []\n", "unknown-key", 2),  # bad default
        # bad default values: one error for the file, at the defaults line, not one per place
        ("version: 1\ndefaults:\n  timezone: Europe/Helsinky\nplaces: []\n", "defaults-invalid", 3),
        ("version: 1\ndefaults:\n  radius_m: 0\nplaces: []\n", "defaults-invalid", 3),
        ("version: 1\ndefaults:\n  dwell_s: -1\nplaces: []\n", "defaults-invalid", 3),
        ("version: 1\ndefaults:\n  tags: a\nplaces: []\n", "defaults-invalid", 3),
    ],
)
def test_file_errors(tmp_path: Path, text: str, code: str, line: int) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    errors = load_places([path]).errors
    assert (code, line) in [(e.code, e.where.line) for e in errors], errors
    assert all(e.where.item_id is None for e in errors)


def test_paths(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    codes = [f.code for f in load_places([tmp_path / "nope.yaml", tmp_path / "notes.txt"]).errors]
    assert codes == ["path-missing", "path-type"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert [f.code for f in load_places([empty]).errors] == ["path-empty"]


def test_duplicates_across_files_name_both(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(HEAD + OK, encoding="utf-8")
    result = load_places([tmp_path])
    (finding,) = result.errors
    assert finding.where.source == str(tmp_path / "b.yaml")
    assert f"also defined in {tmp_path / 'a.yaml'}:4" in finding.message
    assert len(result.places) == 1


def polygon_place(pid: str, brand: str, west: float, east: float) -> str:
    """A YAML place of a brand: a box from lon ``west`` to ``east``, lat 60.17 to 60.171."""
    ring = (
        f"[[{west}, 60.17], [{east}, 60.17], [{east}, 60.171], [{west}, 60.171], [{west}, 60.17]]"
    )
    return f"  - id: {pid}\n    name: {pid}\n    brand: {brand}\n    polygon:\n      - {ring}\n"


@pytest.mark.parametrize(
    ("body", "pairs"),
    [
        # two outlines that share area
        (polygon_place("a", "K", 24.940, 24.942) + polygon_place("b", "K", 24.941, 24.943), 1),
        # two outlines that only touch along an edge do not overlap
        (polygon_place("a", "K", 24.940, 24.942) + polygon_place("b", "K", 24.942, 24.944), 0),
        # a circle reaching into an outline (its centre 30 m east of the box, radius 50 m)
        (
            polygon_place("a", "K", 24.940, 24.942)
            + branded("c", "K", 60.1705).replace("lon: 24.94,", "lon: 24.9425,"),
            1,
        ),
    ],
)
def test_brand_overlap_shapes(tmp_path: Path, body: str, pairs: int) -> None:
    found = [f for f in run(tmp_path, body).findings if f.code == "brand-overlap"]
    assert len(found) == pairs, found


def test_unknown_circle_field(tmp_path: Path) -> None:
    body = "  - id: c\n    name: C\n    circle: {lat: 60.17, lon: 24.94, radius: 50}\n"
    codes = {(f.code, f.where.line) for f in run(tmp_path, body).errors}
    assert ("unknown-key", 6) in codes and ("radius-missing", 6) in codes


@pytest.mark.parametrize(
    ("hours", "never"),
    [
        ('"by appointment"', True),  # a comment alone
        ("off", True),  # closed always
        ("Mo-Fr 10:00-12:00; PH off", False),  # open on weekdays
        ("Jun-Aug off", True),  # only closed rules
    ],
)
def test_hours_that_never_open(tmp_path: Path, hours: str, never: bool) -> None:
    body = OK + f"    timezone: UTC\n    opening_hours: '{hours}'\n"
    codes = [f.code for f in run(tmp_path, body).warnings]
    assert ("hours-never-open" in codes) is never
