"""Matching throughput of the place index against its peers, on one synthetic metro area.

Places and pings are generated deterministically (seeded numpy) around Helsinki: mostly
circles of 30-150 m, ~20 % small rotated polygons (some with courtyards), clustered in
districts over a uniform background, at a density where a ping matches ~7 places when
100k places are loaded. Every rate is a median of several runs; ratios compare with the
baseline measured in the same run (PostGIS one query per ping, or brute force without it).

Run: ``python -m benchmarks matching``. PostGIS is read from ``GEOTRIGGER_TEST_POSTGRES_URL``
(default: the local test database); without it the PostGIS rows say why they were skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import multiprocessing
import os
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import shapely
from shapely.strtree import STRtree

from benchmarks.report import Row, median_rate
from geotrigger.model import Circle, Place
from geotrigger.spatial.brute import brute_force_near
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT
from geotrigger.spatial.index import PlaceIndex

CENTRE = (60.17, 24.94)  # Helsinki
HALF_SIDE_M = 13_000.0  # the metro square; with the clusters, ~7 matches/ping at 100k
DISTRICTS = 14
NEAR_M = 75.0
SEED = 2026
DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/geotrigger_test"


def _positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Metres (east, north) from the centre: 60 % in districts, the rest anywhere."""
    districts = np.random.default_rng(SEED).uniform(-0.7, 0.7, (DISTRICTS, 2)) * HALF_SIDE_M
    k = int(n * 0.6)
    which = rng.integers(0, DISTRICTS, k)
    clustered = districts[which] + rng.normal(0.0, 1_800.0, (k, 2))
    spread = rng.uniform(-HALF_SIDE_M, HALF_SIDE_M, (n - k, 2))
    xy = np.clip(np.concatenate([clustered, spread]), -HALF_SIDE_M, HALF_SIDE_M)
    return xy[:, 0], xy[:, 1]


def _to_degrees(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = CENTRE[0] + y / METRES_PER_DEGREE_LAT
    lon = CENTRE[1] + x / (METRES_PER_DEGREE_LAT * math.cos(math.radians(CENTRE[0])))
    return lat, lon


def make_places(n: int) -> list[Place]:
    """``n`` places, the same ones on every run."""
    rng = np.random.default_rng(SEED + n)
    lat, lon = _to_degrees(*_positions(rng, n))
    radius = rng.uniform(30.0, 150.0, n)
    is_poly = rng.random(n) < 0.2
    places = []
    for i in range(n):
        if is_poly[i]:
            geometry = _footprint(rng, float(lat[i]), float(lon[i]), float(radius[i]))
        else:
            geometry = Circle(lat=float(lat[i]), lon=float(lon[i]), radius_m=float(radius[i]))
        places.append(Place(id=f"place-{i:06d}", name=f"place {i}", geometry=geometry))
    return places


def _footprint(rng: np.random.Generator, lat: float, lon: float, size_m: float) -> shapely.Polygon:
    """A rotated rectangle of about ``size_m``, every third one with a courtyard."""
    w, h = size_m * rng.uniform(0.8, 1.6), size_m * rng.uniform(0.8, 1.6)
    shape = shapely.box(-w / 2, -h / 2, w / 2, h / 2)
    if rng.random() < 0.33:
        shape = shape.difference(shapely.box(-w / 6, -h / 6, w / 6, h / 6))
    angle = rng.uniform(0.0, math.pi / 2)
    c, s = math.cos(angle), math.sin(angle)
    ky = 1.0 / METRES_PER_DEGREE_LAT
    kx = ky / math.cos(math.radians(lat))

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] * c - xy[:, 1] * s, xy[:, 0] * s + xy[:, 1] * c
        return np.column_stack([lon + x * kx, lat + y * ky])

    return shapely.transform(shape, move)


def make_pings(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pings over the same area, the same ones on every run."""
    return _to_degrees(*_positions(np.random.default_rng(SEED - 1), n))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc), so that RSS shows live memory."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: freed pages count too
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _measure_memory(n: int) -> tuple[float, float]:
    """Bytes per place of an index build: (RSS growth, tracemalloc), in a fresh process."""
    places = make_places(n)
    PlaceIndex(places[:200], near_m=NEAR_M)  # first use loads code and caches: not per place
    gc.collect()
    _release_free_memory()
    rss0 = _rss_bytes()
    first = PlaceIndex(places, near_m=NEAR_M)
    _release_free_memory()  # count what the index keeps, not the build's freed temporaries
    rss = _rss_bytes() - rss0
    tracemalloc.start()
    second = PlaceIndex(places, near_m=NEAR_M)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del first, second
    return rss / n, traced / n


def _memory_rows(group: str, n: int) -> list[Row]:
    # A fresh interpreter: freed memory of earlier runs would hide the growth of this one.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        rss, traced = pool.submit(_measure_memory, n).result()
    return [
        Row(
            group=group,
            name="index memory (RSS kept after the build)",
            value=rss,
            unit="bytes/place",
            note="all of it, GEOS (prepared, projected polygons) included",
        ),
        Row(
            group=group,
            name="index memory (tracemalloc)",
            value=traced,
            unit="bytes/place",
            note="Python objects and numpy arrays only",
        ),
    ]


def _strtree_rate(places: list[Place], lats: np.ndarray, lons: np.ndarray) -> float:
    """shapely STRtree with a predicate; circles as 32-gons (approximate, as peers do)."""
    geoms = []
    a = np.linspace(0.0, 2 * math.pi, 33)
    for p in places:
        g = p.geometry
        if isinstance(g, Circle):
            ry = g.radius_m / METRES_PER_DEGREE_LAT
            rx = ry / math.cos(math.radians(g.lat))
            geoms.append(
                shapely.Polygon(np.column_stack([g.lon + rx * np.cos(a), g.lat + ry * np.sin(a)]))
            )
        else:
            geoms.append(g)
    tree = STRtree(geoms)
    points = shapely.points(lons, lats)
    return median_rate(lambda: tree.query(points, predicate="intersects"), len(points), repeat=3)


def _brute_rate(places: list[Place], lats: np.ndarray, lons: np.ndarray) -> float:
    def run() -> None:
        for lat, lon in zip(lats.tolist(), lons.tolist(), strict=True):
            brute_force_near(places, lat, lon, 0.0)

    start = time.perf_counter()
    run()
    return len(lats) / (time.perf_counter() - start)


def _micro_batches(index: PlaceIndex, lats: np.ndarray, lons: np.ndarray) -> Callable[[], None]:
    def run() -> None:
        for lo in range(0, len(lats), 1000):
            index.match(lats[lo : lo + 1000], lons[lo : lo + 1000])

    return run


def _live_row(
    index: PlaceIndex, places: list[Place], lats: np.ndarray, lons: np.ndarray
) -> tuple[str, float, str]:
    """Matching while 255 changes wait in the rtree layer (just under the rebuild)."""
    rng = np.random.default_rng(SEED + 7)
    moved = []
    for i in rng.choice(len(places), 255, replace=False).tolist():
        g = places[i].geometry
        if isinstance(g, Circle):  # move it ~50 m north and make it bigger
            g = Circle(lat=g.lat + 50 / METRES_PER_DEGREE_LAT, lon=g.lon, radius_m=g.radius_m + 20)
        moved.append(Place(id=places[i].id, name="moved", geometry=g))
    for p in moved:
        index.upsert(p)
    rate = median_rate(lambda: index.match(lats, lons), len(lats))
    start = time.perf_counter()
    index.rebuild()
    rebuild_s = time.perf_counter() - start
    return (
        "index.match, 255 live changes pending",
        rate,
        f"rtree layer + masked snapshot; rebuild took {rebuild_s:.2f} s",
    )


def _group_rows(n: int, postgis: PostgisPeer | None, skipped: str) -> list[Row]:
    group = f"matching, {n // 1000}k places"
    places = make_places(n)
    index = PlaceIndex(places, near_m=NEAR_M)
    lats, lons = make_pings(200_000 if n <= 10_000 else 100_000)
    matched = len(index.match(lats, lons).place_ids) / len(lats)
    measured: list[tuple[str, float, str]] = []
    if postgis is not None:
        postgis.load(places)
        measured.append(
            (
                "PostGIS, one query per ping",
                postgis.per_ping(lats[:2000], lons[:2000]),
                "GiST; ST_Covers / box && + ST_DWithin(geography, false)",
            )
        )
        measured.append(
            (
                "PostGIS, batched 1000 pings per query",
                postgis.batched(lats[:10_000], lons[:10_000]),
                "unnest arrays, same predicates",
            )
        )
    sample = 20 if n <= 10_000 else 3
    measured.append(
        (
            "brute force (spatial/brute.py)",
            _brute_rate(places, lats[:sample], lons[:sample]),
            f"{sample} pings timed, rate extrapolated",
        )
    )
    measured.append(
        (
            "shapely STRtree.query(predicate=)",
            _strtree_rate(places, lats[:20_000], lons[:20_000]),
            "circles as 32-gons",
        )
    )
    measured.append(
        (
            "index.match (batch)",
            median_rate(lambda: index.match(lats, lons), len(lats)),
            f"{matched:.1f} matches/ping, {len(lats):,} pings",
        )
    )
    measured.append(
        (
            "index.match (micro-batches of 1000)",
            median_rate(_micro_batches(index, lats[:50_000], lons[:50_000]), 50_000, repeat=3),
            "",
        )
    )
    near_n = 20_000
    measured.append(
        (
            f"index.near (batch, within {NEAR_M:g} m)",
            median_rate(lambda: index.near(lats[:near_n], lons[:near_n], NEAR_M), near_n, repeat=3),
            "with distances",
        )
    )
    measured.append(_live_row(index, places, lats, lons))
    baseline = measured[0][1]
    rows = [
        Row(group=group, name=name, value=value, unit="pings/s", ratio=value / baseline, note=note)
        for name, value, note in measured
    ]
    if postgis is None:
        rows.insert(
            0,
            Row(group=group, name="PostGIS", value=0.0, unit="pings/s", note=f"skipped: {skipped}"),
        )
    rows.extend(_memory_rows(group, n))
    return rows


class PostgisPeer:
    """The same places in PostGIS with GiST indexes, queried through psycopg2."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": parsed.database}
            ).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        self.engine = sa.create_engine(parsed)
        self.raw = self.engine.raw_connection()
        self.cur = self.raw.cursor()
        self.cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        # JIT compiles each batched query for ~0.25 s, longer than running it: a tuned
        # deployment turns it off for this kind of query, so the peer does too.
        self.cur.execute("SET jit = off")
        self.raw.commit()

    def load(self, places: list[Place]) -> None:
        """Replace the benchmark tables with these places."""
        import io

        cur = self.cur
        cur.execute("DROP TABLE IF EXISTS bench_polys, bench_circles")
        cur.execute("CREATE TABLE bench_polys (id text, geom geometry(Geometry, 4326))")
        cur.execute(
            "CREATE TABLE bench_circles (id text, lon float8, lat float8, r float8,"
            " geog geography, box geometry(Polygon, 4326))"
        )
        polys, circles = io.StringIO(), io.StringIO()
        for p in places:
            g = p.geometry
            if isinstance(g, Circle):
                circles.write(f"{p.id}\t{g.lon!r}\t{g.lat!r}\t{g.radius_m!r}\n")
            else:
                polys.write(f"{p.id}\tSRID=4326;{g.wkt}\n")
        polys.seek(0)
        circles.seek(0)
        cur.copy_expert("COPY bench_polys (id, geom) FROM STDIN", polys)
        cur.copy_expert("COPY bench_circles (id, lon, lat, r) FROM STDIN", circles)
        cur.execute(
            "UPDATE bench_circles SET geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,"
            " box = ST_Expand(ST_SetSRID(ST_MakePoint(lon, lat), 4326),"
            f" r / {METRES_PER_DEGREE_LAT!r} * 1.0001,"
            f" r / (cos(radians(lat)) * {METRES_PER_DEGREE_LAT!r}) * 1.0001)"
        )
        cur.execute("CREATE INDEX ON bench_polys USING gist (geom)")
        cur.execute("CREATE INDEX ON bench_circles USING gist (box)")
        cur.execute("ANALYZE bench_polys")
        cur.execute("ANALYZE bench_circles")
        self.raw.commit()

    _ONE = (
        "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326) AS pt)"
        " SELECT g.id FROM p JOIN bench_polys g ON ST_Covers(g.geom, p.pt)"
        " UNION ALL SELECT c.id FROM p JOIN bench_circles c ON c.box && p.pt"
        " AND ST_DWithin(c.geog, p.pt::geography, c.r, false)"
    )
    _BATCH = (
        "WITH p AS (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt"
        " FROM unnest(%(i)s::int[], %(x)s::float8[], %(y)s::float8[]) AS t(i, x, y))"
        " SELECT p.i, g.id FROM p JOIN bench_polys g ON ST_Covers(g.geom, p.pt)"
        " UNION ALL SELECT p.i, c.id FROM p JOIN bench_circles c ON c.box && p.pt"
        " AND ST_DWithin(c.geog, p.pt::geography, c.r, false)"
    )

    def per_ping(self, lats: np.ndarray, lons: np.ndarray) -> float:
        """Median pings/s with one round trip per ping."""
        pairs = list(zip(lons.tolist(), lats.tolist(), strict=True))

        def run() -> None:
            for x, y in pairs:
                self.cur.execute(self._ONE, {"x": x, "y": y})
                self.cur.fetchall()

        return median_rate(run, len(pairs), repeat=3)

    def batched(self, lats: np.ndarray, lons: np.ndarray) -> float:
        """Median pings/s with 1000 pings per query."""
        batches = [
            {
                "i": list(range(lo, min(lo + 1000, len(lats)))),
                "x": lons[lo : lo + 1000].tolist(),
                "y": lats[lo : lo + 1000].tolist(),
            }
            for lo in range(0, len(lats), 1000)
        ]

        def run() -> None:
            for b in batches:
                self.cur.execute(self._BATCH, b)
                self.cur.fetchall()

        return median_rate(run, len(lats), repeat=3)

    def close(self) -> None:
        """Drop the tables and disconnect."""
        self.cur.execute("DROP TABLE IF EXISTS bench_polys, bench_circles")
        self.raw.commit()
        self.raw.close()
        self.engine.dispose()


def run() -> list[Row]:
    """Rows for 10k and 100k places."""
    postgis: PostgisPeer | None = None
    skipped = ""
    try:
        postgis = PostgisPeer(os.environ.get("GEOTRIGGER_TEST_POSTGRES_URL", DEFAULT_URL))
    except Exception as exc:  # no server, no driver, no extension: say so, keep going
        skipped = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    rows: list[Row] = []
    try:
        for n in (10_000, 100_000):
            rows.extend(_group_rows(n, postgis, skipped))
    finally:
        if postgis is not None:
            postgis.close()
    return rows


__all__ = ["PostgisPeer", "make_pings", "make_places", "run"]
