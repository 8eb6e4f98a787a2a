"""The index agrees with PostGIS: ST_Covers for polygons, ST_DWithin on the sphere for circles."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy.engine import Connection, make_url

from geotrigger.cli import main
from geotrigger.model import Circle, Place
from geotrigger.places import load_places_strict
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT, haversine_m
from geotrigger.spatial.index import PlaceIndex
from tests.conftest import require

pytestmark = pytest.mark.postgis

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/geotrigger_test"


@pytest.fixture(scope="module")
def connection() -> Iterator[Connection]:
    """A connection to a PostGIS database, created when missing."""
    url = make_url(os.environ.get("GEOTRIGGER_TEST_POSTGRES_URL", DEFAULT_URL))
    try:
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        engine = sa.create_engine(url)
        conn = engine.connect()
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.commit()
    except Exception as exc:  # any driver or server error means "no PostGIS here"
        require(False, f"PostGIS is not available: {type(exc).__name__}: {exc}")
        raise
    try:
        yield conn
    finally:
        conn.close()
        engine.dispose()


def _footprint(rng: np.random.Generator, lat: float, lon: float) -> Polygon:
    """A store-sized footprint: an L-shaped building, rotated, sometimes with a courtyard."""
    w, h = rng.uniform(20, 80), rng.uniform(20, 80)
    shape = Polygon([(0, 0), (w, 0), (w, h / 2), (w / 2, h / 2), (w / 2, h), (0, h)])
    if rng.random() < 0.3:
        shape = box(0, 0, w, h).difference(box(w * 0.3, h * 0.3, w * 0.6, h * 0.6))
    shape = affinity.rotate(shape, rng.uniform(0, 90), origin=(0, 0))
    k = 1.0 / METRES_PER_DEGREE_LAT
    return affinity.affine_transform(shape, [k / math.cos(math.radians(lat)), 0, 0, k, lon, lat])


def _places(rng: np.random.Generator) -> list[Place]:
    geoms: list[object] = []
    for _ in range(150):  # footprints and circles in Helsinki
        lat, lon = 60.16 + rng.uniform(0, 0.02), 24.93 + rng.uniform(0, 0.04)
        if rng.random() < 0.5:
            geoms.append(_footprint(rng, lat, lon))
        else:
            geoms.append(Circle(lat=lat, lon=lon, radius_m=float(rng.uniform(5, 200))))
    for _ in range(20):  # random larger polygons with holes
        lat, lon = 60.16 + rng.uniform(0, 0.02), 24.93 + rng.uniform(0, 0.04)
        outer = box(lon, lat, lon + rng.uniform(0.002, 0.01), lat + rng.uniform(0.001, 0.005))
        geoms.append(outer.difference(outer.centroid.buffer(0.0008)))
    # The antimeridian (a split polygon, circles across it) and the poles.
    geoms.append(
        MultiPolygon([box(179.99, -17.01, 180, -16.99), box(-180, -17.01, -179.99, -16.99)])
    )
    geoms.append(Circle(lat=-17.0, lon=179.9999, radius_m=500.0))
    geoms.append(Circle(lat=89.999, lon=10.0, radius_m=300.0))
    geoms.append(Circle(lat=-89.99, lon=-100.0, radius_m=2_000.0))
    return [Place(id=f"p{i:03d}", name="p", geometry=g) for i, g in enumerate(geoms)]


def _points(rng: np.random.Generator, places: list[Place]) -> tuple[np.ndarray, np.ndarray]:
    """Points around every place, minus any so close to a boundary that rounding decides."""
    lats, lons = [], []
    for p in places:
        g = p.geometry
        lat, lon = (g.lat, g.lon) if isinstance(g, Circle) else (g.centroid.y, g.centroid.x)
        spread = 300.0 / METRES_PER_DEGREE_LAT
        lats.append(np.clip(lat + rng.uniform(-spread, spread, 20), -90, 90))
        wide = min(spread / max(math.cos(math.radians(lat)), 1e-3), 180.0)
        lons.append((lon + rng.uniform(-wide, wide, 20) + 180.0) % 360.0 - 180.0)
    lat_arr, lon_arr = np.concatenate(lats), np.concatenate(lons)
    keep = np.ones(len(lat_arr), dtype=bool)
    pts = shapely.points(lon_arr, lat_arr)
    for p in places:
        g = p.geometry
        if isinstance(g, Circle):
            d = haversine_m(g.lat, g.lon, lat_arr, lon_arr)
            keep &= np.abs(d - g.radius_m) > 1e-3 + 1e-6 * g.radius_m
        else:
            keep &= shapely.distance(g.boundary, pts) > 1e-7
    return lat_arr[keep], lon_arr[keep]


def _postgis_matches(
    c: Connection, places: list[Place], lats: np.ndarray, lons: np.ndarray
) -> list[list[str]]:
    c.execute(sa.text("DROP TABLE IF EXISTS t_polys, t_circles, t_points"))
    c.execute(sa.text("CREATE TEMP TABLE t_polys (id text, geom geometry(Geometry, 4326))"))
    c.execute(sa.text("CREATE TEMP TABLE t_circles (id text, geog geography, r float8)"))
    c.execute(sa.text("CREATE TEMP TABLE t_points (i int, lon float8, lat float8)"))
    polys = [
        {"id": p.id, "wkt": p.geometry.wkt} for p in places if not isinstance(p.geometry, Circle)
    ]
    circles = [
        {"id": p.id, "lon": p.geometry.lon, "lat": p.geometry.lat, "r": p.geometry.radius_m}
        for p in places
        if isinstance(p.geometry, Circle)
    ]
    c.execute(sa.text("INSERT INTO t_polys VALUES (:id, ST_GeomFromText(:wkt, 4326))"), polys)
    c.execute(
        sa.text("INSERT INTO t_circles VALUES (:id, ST_Point(:lon, :lat, 4326)::geography, :r)"),
        circles,
    )
    c.execute(
        sa.text("INSERT INTO t_points VALUES (:i, :lon, :lat)"),
        [
            {"i": i, "lon": x, "lat": y}
            for i, (x, y) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True))
        ],
    )
    rows = c.execute(
        sa.text(
            "SELECT p.i, g.id FROM t_points p JOIN t_polys g"
            " ON ST_Covers(g.geom, ST_Point(p.lon, p.lat, 4326))"
            " UNION ALL"
            " SELECT p.i, k.id FROM t_points p JOIN t_circles k"
            " ON ST_DWithin(k.geog, ST_Point(p.lon, p.lat, 4326)::geography, k.r, false)"
        )
    ).all()
    found: list[list[str]] = [[] for _ in range(len(lats))]
    for i, pid in rows:
        found[i].append(pid)
    return [sorted(f) for f in found]


def test_index_agrees_with_postgis(connection: Connection) -> None:
    rng = np.random.default_rng(20_26)
    places = _places(rng)
    lats, lons = _points(rng, places)
    expected = _postgis_matches(connection, places, lats, lons)
    m = PlaceIndex(places, near_m=75.0).match(lats, lons)
    mismatches = [i for i in range(len(lats)) if m.ids(i) != expected[i]]
    assert sum(len(e) for e in expected) > 500  # the sample really exercises matching
    assert not mismatches, [(i, m.ids(i), expected[i]) for i in mismatches[:5]]


def test_places_match_agrees_with_postgis_on_the_shipped_places(
    connection: Connection, repo_root: Path, tmp_path: Path
) -> None:
    """`places match` on the shipped Helsinki places (circles, outlines, a hole, a multipolygon)."""
    places = list(load_places_strict([repo_root / "rules" / "places"]).places)
    assert any(not isinstance(p.geometry, Circle) for p in places)
    rng = np.random.default_rng(7)
    outlined = [p for p in places if not isinstance(p.geometry, Circle)]
    sample = outlined + [places[i] for i in rng.choice(len(places), 200, replace=False)]
    lats, lons = _points(rng, sample)
    pings = tmp_path / "pings.jsonl"
    with pings.open("w") as handle:
        for i, (lat, lon) in enumerate(zip(lats.tolist(), lons.tolist(), strict=True)):
            record = {"id": f"q{i}", "device_id": "probe", "lat": lat, "lon": lon}
            handle.write(json.dumps({**record, "timestamp": 1_780_000_000 + i}) + "\n")
    out = tmp_path / "matches.jsonl"
    argv = ["places", "match", "--places", str(repo_root / "rules" / "places")]
    assert main([*argv, "--pings", str(pings), "--out", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    expected = _postgis_matches(connection, places, lats, lons)
    assert [g["ping_id"] for g in got] == [f"q{i}" for i in range(len(lats))]
    assert sum(len(e) for e in expected) > 200  # the sample really lands in places
    mismatches = [(g["ping_id"], g["places"], e) for g, e in zip(got, expected, strict=True)]
    assert [m for m in mismatches if m[1] != m[2]] == []
