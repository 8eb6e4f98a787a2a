"""The places repository on SQLite and on PostGIS: rows back to equal places, the diff names
every field that changed, apply makes the database hold exactly the places given."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import Connection, Engine, insert

from geotrigger.errors import ConfigError, PlaceError
from geotrigger.model import Circle, Place
from geotrigger.places import load_places_strict, parse_opening_hours
from geotrigger.spatial import PlaceIndex
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.places import (
    PlaceDiff,
    apply_places,
    delete_place,
    diff_places,
    load_places,
    require_places_table,
    save_place,
)
from geotrigger.store.tables import places as places_table

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
SQUARE = [(24.95, 60.16), (24.96, 60.16), (24.96, 60.17), (24.95, 60.17), (24.95, 60.16)]
HOLE = [(24.953, 60.163), (24.953, 60.165), (24.955, 60.165), (24.955, 60.163), (24.953, 60.163)]
FAR = [(25.0, 60.2), (25.01, 60.2), (25.01, 60.21), (25.0, 60.2)]

CAFE = Place(
    id="cafe-1",
    name="Café Ursula",
    geometry=Circle(lat=60.1578123456789, lon=24.9561234567891, radius_m=45.5),
    brand="Ursula",
    tags=frozenset({"coffee", "terrace"}),
    timezone="Europe/Helsinki",
    opening_hours=parse_opening_hours("Mo-Fr 08:00-20:00; Sa,Su 10:00-18:00", "Europe/Helsinki"),
    dwell_s=240.0,
    metadata={"osm_id": "node/1", "floors": [1, 2], "owner": {"since": 1952, "open": True}},
)
SQUARE_WITH_HOLE = Place(id="square", name="Square", geometry=Polygon(SQUARE, [HOLE]))
PARK = Place(
    id="park",
    name="Park in two parts",
    geometry=MultiPolygon([Polygon(SQUARE), Polygon(FAR)]),
    tags=frozenset({"park"}),
)
PLAIN = Place(id="plain", name="Plain", geometry=Circle(lat=-33.9, lon=151.2, radius_m=10))
ANTIMERIDIAN = Place(id="fiji", name="Fiji", geometry=Circle(lat=-17.7, lon=180.0, radius_m=500))
PLACES = [CAFE, SQUARE_WITH_HOLE, PARK, PLAIN, ANTIMERIDIAN]


def assert_same_place(got: Place, want: Place) -> None:
    """Equal in every field the table keeps (opening hours by their text and zone)."""
    assert (got.id, got.name, got.brand, got.tags) == (want.id, want.name, want.brand, want.tags)
    assert (got.timezone, got.dwell_s, dict(got.metadata)) == (
        want.timezone,
        want.dwell_s,
        dict(want.metadata),
    )
    if isinstance(want.geometry, Circle):
        assert got.geometry == want.geometry  # centre and radius, bit for bit
    else:
        assert type(got.geometry) is type(want.geometry)
        assert shapely.equals_exact(got.geometry, want.geometry, tolerance=0.0)
    if want.opening_hours is None:
        assert got.opening_hours is None
    else:
        assert got.opening_hours is not None
        assert got.opening_hours.expression == want.opening_hours.expression
        for hour in (3, 7, 12, 19):  # the re-parsed hours answer as the original
            at = dt.datetime(2026, 3, 2, hour, tzinfo=dt.UTC)
            assert got.opening_hours.is_open(at) == want.opening_hours.is_open(at)


def test_places_round_trip(engine: Engine) -> None:
    with engine.begin() as conn:
        for place in PLACES:
            save_place(conn, place=place, now=NOW)
    with engine.connect() as conn:
        loaded = load_places(conn)
    assert [p.id for p in loaded] == sorted(p.id for p in PLACES)
    by_id = {p.id: p for p in loaded}
    for place in PLACES:
        assert_same_place(by_id[place.id], place)
    square, park = by_id["square"].geometry, by_id["park"].geometry
    assert isinstance(square, Polygon) and len(square.interiors) == 1  # the hole is kept
    assert isinstance(park, MultiPolygon) and len(park.geoms) == 2


def test_save_place_replaces_and_delete_place_removes(engine: Engine) -> None:
    renamed = dataclasses.replace(PLAIN, name="Renamed", geometry=Polygon(SQUARE))
    with engine.begin() as conn:
        save_place(conn, place=PLAIN, now=NOW)
        save_place(conn, place=renamed, now=NOW)
        assert [p.name for p in load_places(conn)] == ["Renamed"]
        assert isinstance(load_places(conn)[0].geometry, Polygon)  # the radius is cleared
        assert delete_place(conn, place_id="plain") is True
        assert delete_place(conn, place_id="plain") is False
        assert load_places(conn) == []


def test_metadata_dates_are_kept_as_iso_text_and_compare_unchanged(engine: Engine) -> None:
    dated = dataclasses.replace(PLAIN, metadata={"opened": dt.date(2020, 5, 1)})
    with engine.begin() as conn:
        apply_places(conn, places=[dated], now=NOW)
        assert dict(load_places(conn)[0].metadata) == {"opened": "2020-05-01"}
        assert diff_places(conn, places=[dated]) == PlaceDiff(unchanged=1)


def test_metadata_that_json_cannot_hold_is_refused_by_id(engine: Engine) -> None:
    bad = dataclasses.replace(PLAIN, metadata={"ratio": float("nan")})
    with engine.begin() as conn, pytest.raises(PlaceError, match=r"'plain'.*JSON"):
        save_place(conn, place=bad, now=NOW)


# One case per field: the place as the database has it is CAFE; the files say this instead.
FIELD_CHANGES: list[tuple[str, dict[str, Any]]] = [
    ("name", {"name": "Café Ursula by the sea"}),
    ("brand", {"brand": None}),
    ("tags", {"tags": frozenset({"coffee"})}),
    # a centre moved by the last digit of a double is a change
    ("geometry", {"geometry": Circle(lat=60.1578123456788, lon=24.9561234567891, radius_m=45.5)}),
    ("geometry", {"geometry": Circle(lat=60.1578123456789, lon=24.9561234567891, radius_m=46)}),
    # a circle that became a polygon
    ("geometry", {"geometry": Polygon(SQUARE)}),
    ("timezone", {"timezone": "Europe/Stockholm", "opening_hours": CAFE.opening_hours}),
    (
        "opening_hours",
        {"opening_hours": parse_opening_hours("Mo-Su 07:00-22:00", "Europe/Helsinki")},
    ),
    ("opening_hours", {"opening_hours": None}),
    ("dwell_s", {"dwell_s": None}),
    ("dwell_s", {"dwell_s": 241.0}),
    ("metadata", {"metadata": {"osm_id": "node/2"}}),
    # nested values count too
    ("metadata", {"metadata": {**CAFE.metadata, "floors": [1, 2, 3]}}),
]


@pytest.mark.parametrize(("field", "changes"), FIELD_CHANGES)
def test_diff_names_the_changed_field(engine: Engine, field: str, changes: dict[str, Any]) -> None:
    changed = dataclasses.replace(CAFE, **changes)
    with engine.begin() as conn:
        apply_places(conn, places=[CAFE, PLAIN], now=NOW)
        diff = diff_places(conn, places=[changed, PLAIN])
        assert diff == PlaceDiff(changed={"cafe-1": (field,)}, unchanged=1)
        assert apply_places(conn, places=[changed, PLAIN], now=NOW) == diff
        assert_same_place(_one(conn, "cafe-1"), changed)


def test_diff_polygon_changes(engine: Engine) -> None:
    """A hole filled in, a ring wound the other way, a part dropped: each is a change."""
    cases = [
        dataclasses.replace(SQUARE_WITH_HOLE, geometry=Polygon(SQUARE)),
        dataclasses.replace(SQUARE_WITH_HOLE, geometry=Polygon(SQUARE[::-1], [HOLE])),
        dataclasses.replace(PARK, geometry=MultiPolygon([Polygon(SQUARE)])),
    ]
    with engine.begin() as conn:
        apply_places(conn, places=PLACES, now=NOW)
        for place in cases:
            others = [p for p in PLACES if p.id != place.id]
            diff = diff_places(conn, places=[place, *others])
            assert diff == PlaceDiff(changed={place.id: ("geometry",)}, unchanged=len(others))


def test_diff_several_fields_in_order(engine: Engine) -> None:
    changed = dataclasses.replace(CAFE, name="New", dwell_s=None, tags=frozenset())
    with engine.begin() as conn:
        apply_places(conn, places=[CAFE], now=NOW)
        diff = diff_places(conn, places=[changed])
    assert diff.changed == {"cafe-1": ("name", "tags", "dwell_s")}


def test_apply_adds_changes_and_removes(engine: Engine) -> None:
    with engine.begin() as conn:
        first = apply_places(conn, places=[CAFE, PLAIN, PARK], now=NOW)
    assert first == PlaceDiff(added=("cafe-1", "park", "plain"))
    renamed = dataclasses.replace(PLAIN, name="Plainer")
    with engine.begin() as conn:
        second = apply_places(conn, places=[renamed, PARK, SQUARE_WITH_HOLE], now=NOW)
    assert second == PlaceDiff(
        added=("square",), changed={"plain": ("name",)}, removed=("cafe-1",), unchanged=1
    )
    with engine.connect() as conn:
        loaded = load_places(conn)
    assert [p.id for p in loaded] == ["park", "plain", "square"]
    assert loaded[1].name == "Plainer"


def test_apply_twice_second_is_all_unchanged(engine: Engine) -> None:
    with engine.begin() as conn:
        assert apply_places(conn, places=PLACES, now=NOW).added == tuple(
            sorted(p.id for p in PLACES)
        )
    with engine.begin() as conn:
        again = apply_places(conn, places=PLACES, now=NOW)
    assert again == PlaceDiff(unchanged=len(PLACES))
    assert again.is_empty


def test_apply_nothing_empties_the_table(engine: Engine) -> None:
    with engine.begin() as conn:
        apply_places(conn, places=PLACES, now=NOW)
        assert apply_places(conn, places=[], now=NOW).removed == tuple(sorted(p.id for p in PLACES))
        assert load_places(conn) == []


def test_a_rolled_back_apply_leaves_the_table(engine: Engine) -> None:
    """The caller owns the transaction: an error after apply undoes all of it."""
    with engine.begin() as conn:
        apply_places(conn, places=[PLAIN], now=NOW)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        apply_places(conn, places=[CAFE, PARK], now=NOW)
        raise RuntimeError("after the apply")
    with engine.connect() as conn:
        assert [p.id for p in load_places(conn)] == ["plain"]


def test_ids_given_twice_are_refused(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(PlaceError, match=r"'plain'.*given twice"):
        apply_places(conn, places=[PLAIN, PLAIN], now=NOW)


def test_now_must_be_aware(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="timezone-aware"):
        save_place(conn, place=PLAIN, now=NOW.replace(tzinfo=None))


# Rows that no place can come from; each is named by its id when loaded.
BAD_ROWS = [
    # a radius with a polygon
    ({"geometry": shapely.to_wkb(Polygon(SQUARE)), "radius_m": 50.0}, "radius with a Polygon"),
    # a point without a radius
    ({"geometry": shapely.to_wkb(shapely.Point(24.9, 60.1)), "radius_m": None}, "Point without"),
    # hours without a zone
    ({"opening_hours": "Mo-Fr 08:00-20:00", "timezone": None}, "not a place"),
    # hours that do not parse
    ({"opening_hours": "Mo-Fr 25:00-26:00", "timezone": "Europe/Helsinki"}, "cannot parse"),
]


@pytest.mark.parametrize(("fields", "reason"), BAD_ROWS)
def test_a_row_that_is_no_place_is_named(
    engine: Engine, fields: dict[str, Any], reason: str
) -> None:
    row = {
        "id": "broken",
        "name": "Broken",
        "tags": [],
        "geometry": shapely.to_wkb(Polygon(SQUARE)),
        "radius_m": None,
        "metadata": {},
        "updated_at": NOW,
        **fields,
    }
    with engine.begin() as conn:
        conn.execute(insert(places_table).values(row))
        with pytest.raises(PlaceError, match=f"'broken' in the database: .*{reason}"):
            load_places(conn)


def test_the_places_table_is_required(database_url: str) -> None:
    engine = connect(database_url)
    try:
        with engine.connect() as conn, pytest.raises(ConfigError, match="db upgrade"):
            require_places_table(conn)
        migrations.upgrade(database_url)
        with engine.connect() as conn:
            require_places_table(conn)  # no error once the schema exists
    finally:
        engine.dispose()


def test_the_shipped_places_round_trip_into_the_same_index(engine: Engine, repo_root: Path) -> None:
    """The places of rules/places, stored and loaded back, match the same points."""
    from_files = list(load_places_strict([repo_root / "rules" / "places"]).places)
    with engine.begin() as conn:
        assert len(apply_places(conn, places=from_files, now=NOW).added) == len(from_files)
    with engine.connect() as conn:
        from_database = load_places(conn)
        assert diff_places(conn, places=from_files) == PlaceDiff(unchanged=len(from_files))
    by_id = {p.id: p for p in from_database}
    for place in from_files:
        assert_same_place(by_id[place.id], place)
    points = _points(from_files)
    lats, lons = [lat for lat, _ in points], [lon for _, lon in points]
    want, got = (
        PlaceIndex(from_files).match(lats, lons),
        PlaceIndex(from_database).match(lats, lons),
    )
    hits = 0
    for i in range(len(points)):
        assert got.ids(i) == want.ids(i)
        hits += bool(want.ids(i))
    assert hits >= len(points) - 1  # every point but the one far away lands somewhere


def _points(places: list[Place]) -> list[tuple[float, float]]:
    """The centres of every few circles, a point inside every polygon, and one far away."""
    circles = [p.geometry for p in places if isinstance(p.geometry, Circle)]
    polygons = [p.geometry for p in places if not isinstance(p.geometry, Circle)]
    points = [(0.0, -150.0)] + [(c.lat, c.lon) for c in circles[::97]]
    for polygon in polygons:
        inside = polygon.representative_point()
        points.append((inside.y, inside.x))
    return points


def _one(conn: Connection, place_id: str) -> Place:
    (place,) = [p for p in load_places(conn) if p.id == place_id]
    return place
