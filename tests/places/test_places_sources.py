"""The three sources (YAML, GeoJSON, CSV), the shipped examples and the Helsinki fixture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geotrigger.errors import ConfigError, PlaceError
from geotrigger.model import Circle
from geotrigger.places import LoadDefaults, Severity, load_places, load_places_strict

YAML = """\
version: 1
defaults:
  timezone: Europe/Helsinki
  radius_m: 60
  tags: [demo]
places:
  - id: store-1
    name: Store one
    brand: Acme
    tags: [grocery]
    circle: {lat: 60.17, lon: 24.94}
    opening_hours: "Mo-Fr 08:00-20:00"
    dwell_s: 120
    metadata: {region: south, floor: 2}
  - id: 42
    name: Square
    polygon:
      - [[24.95, 60.16], [24.96, 60.16], [24.96, 60.17], [24.95, 60.16]]
  - id: two
    name: Two parts
    multipolygon:
      - - [[24.90, 60.10], [24.91, 60.10], [24.91, 60.11], [24.90, 60.10]]
      - - [[24.92, 60.10], [24.93, 60.10], [24.93, 60.11], [24.92, 60.10]]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_fields_and_defaults(tmp_path: Path) -> None:
    result = load_places([write(tmp_path / "p.yml", YAML)])
    assert not result.findings
    by_id = {p.id: p for p in result.places}
    store = by_id["store-1"]
    assert store.geometry == Circle(lat=60.17, lon=24.94, radius_m=60.0)  # default radius
    assert (store.brand, store.tags, store.dwell_s) == ("Acme", {"grocery", "demo"}, 120.0)
    assert dict(store.metadata) == {"region": "south", "floor": 2}
    assert store.timezone == "Europe/Helsinki" and store.opening_hours is not None
    assert store.opening_hours.is_open(datetime(2024, 1, 15, 10, tzinfo=UTC))
    assert isinstance(by_id["42"].geometry, Polygon)  # numeric ids become text
    assert isinstance(by_id["two"].geometry, MultiPolygon)


def feature(geometry: dict, fid: object = None, **props: object) -> dict:
    out: dict = {"type": "Feature", "properties": props, "geometry": geometry}
    if fid is not None:
        out["id"] = fid
    return out


POINT = {"type": "Point", "coordinates": [24.94, 60.17]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[24.95, 60.16], [24.96, 60.16], [24.96, 60.17], [24.95, 60.16]]],
}


def collection(*features: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def test_geojson_features(tmp_path: Path) -> None:
    text = collection(
        feature(POINT, "p1", radius_m=40, name="Point", shop="bakery", opening_hours="24/7"),
        feature(SQUARE, None, id="sq", name="Square", tags=["x"], colour="red"),
    )
    result = load_places(
        [write(tmp_path / "f.geojson", text)], defaults=LoadDefaults(timezone="UTC")
    )
    by_id = {p.id: p for p in result.places}
    assert by_id["p1"].geometry == Circle(lat=60.17, lon=24.94, radius_m=40.0)
    assert by_id["p1"].tags == {"bakery"}  # OSM shop/amenity/cuisine become tags
    assert dict(by_id["sq"].metadata) == {"colour": "red"}  # other properties: metadata
    assert [f.code for f in result.findings] == ["timezone-assumed"]


@pytest.mark.parametrize(
    ("feat", "code", "text"),
    [
        # a point with no radius and no default radius
        (feature(POINT, "a"), "radius-missing", "radius_m is missing"),
        # lines are not places
        (
            feature({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "a"),
            "geometry-type",
            "'LineString' is not a place",
        ),
        # no geometry
        (feature(None, "a"), "geometry-missing", "no geometry"),  # type: ignore[arg-type]
        # unclosed ring
        (
            feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}, "a"),
            "ring-unclosed",
            "not closed",
        ),
        # no id anywhere
        (feature(POINT, None, radius_m=40), "id-missing", "no id"),
    ],
)
def test_geojson_errors_name_the_feature(tmp_path: Path, feat: dict, code: str, text: str):
    padding = feature(POINT, "first", radius_m=40, name="First")
    path = write(tmp_path / "f.json", collection(padding, feat))
    (finding,) = load_places([path]).errors
    assert (finding.code, finding.where.feature) == (code, 1)
    assert text in finding.message and " feature 1" in finding.format()


def test_geojson_hours_that_do_not_parse_are_dropped(tmp_path: Path) -> None:
    # Imported data: the place loads without its hours, with a warning that says why.
    feat = feature(POINT, "a", radius_m=40, name="A", opening_hours="Mo-Fr 9-17", timezone="UTC")
    result = load_places([write(tmp_path / "f.geojson", collection(feat))])
    (place,) = result.places
    assert place.opening_hours is None
    (finding,) = result.findings
    assert finding.severity == Severity.WARNING and finding.code == "hours-dropped"
    assert "time '9' must be written hh:mm" in finding.message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "json-syntax"),  # broken JSON
        ('{"type": "Feature"}', "geometry-missing"),  # a lone feature is accepted, but empty
        ('{"type": "Topology"}', "geojson-shape"),  # not a FeatureCollection
        ('{"type": "FeatureCollection", "features": [1]}', "geojson-shape"),  # not a feature
    ],
)
def test_geojson_file_errors(tmp_path: Path, text: str, code: str) -> None:
    assert code in [f.code for f in load_places([write(tmp_path / "f.geojson", text)]).errors]


CSV = """\
id,name,lat,lon,radius_m,brand,tags,opening_hours,timezone,store_no
s1,One,60.17,24.94,50,Acme,a;b,Mo-Fr 08:00-20:00,Europe/Helsinki,17
s2,Two,60.18,24.95,,,,,,
s3,Three,sixty,24.95,50,,,,,
s4,"Multi
line",60.19,24.96,50,,,Mo-Fr 9-5,UTC,
s5,Five,60.2,24.97,50,,,,Europe/Nowhere,
"""


def test_csv_rows_and_lines(tmp_path: Path) -> None:
    result = load_places([write(tmp_path / "s.csv", CSV)], defaults=LoadDefaults(radius_m=70))
    by_id = {p.id: p for p in result.places}
    assert set(by_id) == {"s1", "s2", "s4"}
    assert by_id["s1"].tags == {"a", "b"} and dict(by_id["s1"].metadata) == {"store_no": "17"}
    assert by_id["s2"].geometry == Circle(lat=60.18, lon=24.95, radius_m=70.0)
    assert by_id["s4"].name == "Multi\nline" and by_id["s4"].opening_hours is None
    lines = {(f.code, f.where.line, f.where.item_id) for f in result.findings}
    assert ("field-type", 4, "s3") in lines  # lat is not a number
    assert ("hours-dropped", 5, "s4") in lines  # imported hours: dropped, with a warning
    assert ("timezone-unknown", 7, "s5") in lines  # after a two-line record


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("name,lat\nx,1\n", "csv-header", 1),  # no id or lon column
        ("id,lat,lon\na,60,24,extra\n", "csv-shape", 2),  # too many cells
        ("id,id,lat,lon\na,b,60,24\n", "csv-header", 1),  # a column twice: which one?
        ("id,lat,lon,radius_m\na,60,24,abc\n", "field-type", 2),  # said once, not also missing
    ],
)
def test_csv_errors(tmp_path: Path, text: str, code: str, line: int) -> None:
    (finding,) = load_places([write(tmp_path / "s.csv", text)]).errors
    assert (finding.code, finding.where.line) == (code, line)


def test_strict_raises_listing_errors(tmp_path: Path) -> None:
    good = load_places_strict([write(tmp_path / "p.yaml", YAML)])
    assert len(good.places) == 3
    bad = write(tmp_path / "bad.yaml", YAML.replace("dwell_s: 120", "dwell_s: -1"))
    with pytest.raises(PlaceError) as caught:
        load_places_strict([bad])
    assert "1 error(s) in the places" in str(caught.value)
    assert f"error {bad}:13 place 'store-1': dwell_s must be" in str(caught.value)


def test_helsinki_fixture_loads(shared_fixtures: Path) -> None:
    path = shared_fixtures / "places" / "helsinki-osm-pois.geojson"
    defaults = LoadDefaults(timezone="Europe/Helsinki", radius_m=40)
    result = load_places([path], defaults=defaults)
    assert len(result.places) == 1039 and not result.errors
    with_hours = [p for p in result.places if p.opening_hours is not None]
    assert len(with_hours) == 499  # 508 have hours; 9 do not parse and are dropped
    assert sum(f.code == "hours-dropped" for f in result.findings) == 9


def test_shipped_examples_load_without_errors(repo_root: Path) -> None:
    result = load_places([repo_root / "rules" / "places"])
    assert not result.errors
    expected = {"hours-holidays-ignored", "hours-never-open"}  # explained in the README
    assert {f.code for f in result.warnings} == expected
    assert len(result.places) >= 1039 + 5
    polygons = [p for p in result.places if not p.is_circle]
    senate = next(p for p in polygons if p.id == "senaatintori")
    assert not shapely.intersects_xy(senate.geometry, 24.9521, 60.1694)  # the statue: a hole
    assert isinstance(next(p for p in polygons if p.id == "esplanadi").geometry, MultiPolygon)
    inputs = load_places([repo_root / "rules" / "places" / "inputs"])
    assert not inputs.findings and len(inputs.places) == 5


def test_converter_output_is_current(repo_root: Path, shared_fixtures: Path) -> None:
    # The committed YAML is exactly what the script makes from the fixture.
    import importlib.util

    script = repo_root / "rules" / "places" / "build_helsinki.py"
    spec = importlib.util.spec_from_file_location("build_helsinki", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = shared_fixtures / "places" / "helsinki-osm-pois.geojson"
    committed = (repo_root / "rules" / "places" / "helsinki.yaml").read_text(encoding="utf-8")
    assert module.build(source) == committed


@pytest.mark.parametrize(
    ("last", "fix", "severity", "code", "lat_lon"),  # lat_lon: of the place as loaded
    [
        # [lat, lon] that are both possible: a warning, left alone even with fix
        ([60.17, 24.94], True, Severity.WARNING, "coord-far", (24.94, 60.17)),
        # a latitude over 90 is impossible as given: an error...
        ([24.94, 160.17], False, Severity.ERROR, "coord-swapped", None),
        # ...that fix swaps back
        ([24.94, 160.17], True, Severity.FIXED, "coord-swapped", (24.94, 160.17)),
    ],
)
def test_geojson_point_that_looks_swapped(
    tmp_path: Path,
    last: list[float],
    fix: bool,
    severity: Severity,
    code: str,
    lat_lon: tuple[float, float] | None,
) -> None:
    # Feature 3 gives [lat, lon] (GeoJSON wants [lon, lat]); the others are in Helsinki.
    coords = [[24.94, 60.17], [24.95, 60.16], [24.93, 60.18], last]
    feats = [
        feature({"type": "Point", "coordinates": c}, f"p{i}", name="P", radius_m=40)
        for i, c in enumerate(coords)
    ]
    result = load_places([write(tmp_path / "f.geojson", collection(*feats))], fix=fix)
    (finding,) = result.findings
    assert (finding.severity, finding.code, finding.where.feature, finding.where.item_id) == (
        severity,
        code,
        3,
        "p3",
    )
    place = next((p for p in result.places if p.id == "p3"), None)
    if lat_lon is None:
        assert place is None
    else:
        assert place is not None
        assert place.geometry == Circle(lat=lat_lon[0], lon=lat_lon[1], radius_m=40.0)


def test_yaml_polygon_across_the_antimeridian(tmp_path: Path) -> None:
    # Taveuni, Fiji, where the 180th meridian crosses land: loaded as two parts.
    text = (
        "version: 1\nplaces:\n  - id: taveuni\n    name: Taveuni\n    polygon:\n"
        "      - [[179.8, -16.7], [-179.8, -16.7], [-179.8, -17.0],\n"
        "         [179.8, -17.0], [179.8, -16.7]]\n"
    )
    (place,) = load_places([write(tmp_path / "p.yaml", text)]).places
    assert isinstance(place.geometry, MultiPolygon) and len(place.geometry.geoms) == 2
    assert shapely.intersects_xy(place.geometry, -179.9, -16.8)
    assert shapely.intersects_xy(place.geometry, 179.9, -16.8)


def test_geojson_ring_problems_say_which_ring(tmp_path: Path) -> None:
    # GeoJSON has no lines, so the message counts polygons, rings and positions instead.
    rings = [[[24.9, 60.1], [24.91, 60.1], [24.91, 60.11], [24.9, 60.1]]]
    bad = [[[24.9, 60.1], [24.91, 60.1], [24.91, 160.11], [24.9, 60.1]]]
    multi = {"type": "MultiPolygon", "coordinates": [rings, bad]}
    path = write(tmp_path / "f.geojson", collection(feature(multi, "m", name="M")))
    (finding,) = load_places([path]).errors
    assert finding.message.endswith("(polygon 1, ring 0, position 2)")


def test_schema_matches_the_loader(repo_root: Path) -> None:
    # The JSON Schema for editors names exactly the keys the loader accepts.
    from geotrigger.places import yaml_source

    schema = json.loads((repo_root / "rules" / "places" / "places.schema.json").read_text())
    assert set(schema["properties"]) == set(yaml_source.TOP_KEYS)
    assert set(schema["properties"]["defaults"]["properties"]) == set(yaml_source.DEFAULT_KEYS)
    assert set(schema["$defs"]["place"]["properties"]) == set(yaml_source.PLACE_KEYS)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("s.csv", "id,name,lat,lon,radius_m\n"),  # a header and no rows
        ("f.geojson", '{"type": "FeatureCollection", "features": []}'),  # no features
        ("f.geojson", '{"type": "FeatureCollection"}'),  # no features member
        ("f.geojson", '{"type": "FeatureCollection", "features": null}'),  # features null
        ("p.yaml", "version: 1\nplaces: []\n"),  # an empty list of places
    ],
)
def test_a_file_without_places_is_one_warning(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path / name, text)
    result = load_places([path])
    (finding,) = result.findings
    assert (finding.severity, finding.code, finding.where.source) == (
        Severity.WARNING,
        "file-empty",
        str(path),
    )
    assert finding.format() == f"warning {path}: no places in the file"


def test_geojson_features_not_a_list(tmp_path: Path) -> None:
    path = write(tmp_path / "f.geojson", '{"type": "FeatureCollection", "features": {"a": 1}}')
    (finding,) = load_places([path]).errors
    assert (finding.code, finding.message) == (
        "geojson-shape",
        "features must be a list of Feature objects",
    )


def test_geojson_with_a_byte_order_mark(tmp_path: Path) -> None:
    # As some Windows tools write it; CSV already accepted it.
    path = tmp_path / "f.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + collection(feature(POINT, "a", radius_m=40)).encode())
    assert [p.id for p in load_places([path]).places] == ["a"]


def test_the_same_file_twice_is_read_once(tmp_path: Path) -> None:
    # Named twice, by another spelling, and through its folder: one place, no duplicate id.
    path = write(tmp_path / "p.yaml", YAML)
    other = tmp_path / "." / "p.yaml"
    result = load_places([path, other, tmp_path])
    assert not result.errors and len(result.places) == 3


def test_loader_default_timezone_is_checked() -> None:
    # A wrong zone would silently drop the hours of every place relying on it.
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Base'"):
        LoadDefaults(timezone="Mars/Base")
    assert LoadDefaults(timezone="Europe/Helsinki").timezone == "Europe/Helsinki"
