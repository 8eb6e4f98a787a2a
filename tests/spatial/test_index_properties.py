"""Property: the index agrees with brute force, for match and near, anywhere on the globe."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import segmentize
from shapely.geometry import MultiPolygon, Polygon, box

from geotrigger.config import IndexSettings
from geotrigger.model import Circle, Place
from geotrigger.spatial.brute import distance_outside_m
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT, unit_vectors
from geotrigger.spatial.index import PlaceIndex

NEAR_M = 75.0
# Pairs this close to the decision boundary may go either way: the index and the oracle
# compute the same distance by different (equally valid) float paths or frames.
TOLERANCE_M = 0.05

# Where places are put: a metro, both sides of the antimeridian, both poles, anywhere.
REGIONS = st.sampled_from(["metro", "dateline", "north", "south", "anywhere"])


@st.composite
def centres(draw: st.DrawFn) -> tuple[float, float]:
    region = draw(REGIONS)
    u = draw(st.floats(0.0, 1.0))
    v = draw(st.floats(0.0, 1.0))
    if region == "metro":
        return 60.15 + 0.05 * u, 24.90 + 0.1 * v
    if region == "dateline":
        return -17.0 + 0.02 * u, (179.99 + 0.01 * v) * draw(st.sampled_from([1.0, -1.0]))
    if region == "north":
        return 89.98 + 0.02 * u, -180.0 + 360.0 * v
    if region == "south":
        return -90.0 + 0.02 * u, -180.0 + 360.0 * v
    return -89.0 + 178.0 * u, -180.0 + 360.0 * v


def _ring_box(lat: float, lon: float, h: float, w: float) -> tuple[float, float, float, float]:
    """A lon/lat box around a centre, kept inside the valid ranges."""
    y0, y1 = max(lat - h, -90.0), min(lat + h, 90.0)
    x0, x1 = lon - w, lon + w
    if x0 < -180.0:
        x0, x1 = -180.0, -180.0 + 2 * w
    if x1 > 180.0:
        x0, x1 = 180.0 - 2 * w, 180.0
    return x0, y0, x1, y1


@st.composite
def geometries(draw: st.DrawFn) -> Circle | Polygon | MultiPolygon:
    lat, lon = draw(centres())
    kind = draw(st.sampled_from(["circle", "circle", "polygon", "holed", "split", "star"]))
    size_m = draw(st.sampled_from([5.0, 40.0, 150.0, 2_000.0, 40_000.0]))
    if kind == "circle":
        return Circle(lat=lat, lon=lon, radius_m=size_m)
    h = size_m / METRES_PER_DEGREE_LAT
    w = min(h / max(math.cos(math.radians(lat)), 0.05), 10.0)
    x0, y0, x1, y1 = _ring_box(lat, lon, h, w)
    if kind == "polygon":
        return box(x0, y0, x1, y1)
    if kind == "holed":
        cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
        return Polygon(
            [(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
            [[(cx - hx, cy - hy), (cx + hx, cy - hy), (cx + hx, cy + hy), (cx - hx, cy + hy)]],
        )
    if kind == "split":  # as the loaders deliver a ring that crossed ±180
        return MultiPolygon([box(180.0 - w, y0, 180.0, y1), box(-180.0, y0, -180.0 + w, y1)])
    # A concave star, to exercise the exact test beyond boxes and caps.
    angles = np.linspace(0.0, 2 * np.pi, 11)[:-1]
    radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.4)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    pts = [
        (cx + r * (x1 - x0) / 2 * np.cos(a), cy + r * (y1 - y0) / 2 * np.sin(a))
        for a, r in zip(angles, radii, strict=True)
    ]
    return Polygon(pts)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[Place], np.ndarray, np.ndarray]:
    geoms = draw(st.lists(geometries(), min_size=1, max_size=8))
    places = [Place(id=f"p{i:02d}", name="p", geometry=g) for i, g in enumerate(geoms)]
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    lats, lons = [], []
    for p in places:  # points around every place, at its scale and a bit beyond
        g = p.geometry
        if isinstance(g, Circle):
            clat, clon, size = g.lat, g.lon, g.radius_m
        else:
            x0, y0, x1, y1 = g.bounds
            clat, clon = (y0 + y1) / 2, (x0 + x1) / 2
            size = (y1 - y0) * METRES_PER_DEGREE_LAT / 2 + 1.0
        spread = (size + 2 * NEAR_M) / METRES_PER_DEGREE_LAT
        lat = np.clip(clat + rng.uniform(-spread, spread, 8), -90.0, 90.0)
        dlon = spread / max(math.cos(math.radians(clat)), 1e-3)
        lon = clon + rng.uniform(-min(dlon, 180.0), min(dlon, 180.0), 8)
        lats.append(lat)
        lons.append((lon + 180.0) % 360.0 - 180.0)
    lats.append(rng.uniform(-90.0, 90.0, 8))
    lons.append(rng.uniform(-180.0, 180.0, 8))
    return places, np.concatenate(lats), np.concatenate(lons)


def _oracle(places: list[Place], lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Brute-force distance outside of every (point, place); NaN where the oracle is blind.

    The oracle projects a polygon into a plane at the point: its edges are densified first,
    and the far hemisphere folds
    onto the near one (the antipode of a pole lands on the pole): pairs more than a quarter
    of the globe apart are not compared.
    """
    d = np.full((len(lats), len(places)), np.nan)
    v = unit_vectors(lats, lons)
    for j, place in enumerate(places):
        g = place.geometry
        # The same point set in (lon, lat), with vertices close enough for the plane at the
        # point to follow its edges (see table._frames).
        p = (
            place
            if isinstance(g, Circle)
            else Place(id="d", name="d", geometry=segmentize(g, 0.001))
        )
        c = (g.lat, g.lon) if isinstance(g, Circle) else (g.centroid.y, g.centroid.x)
        facing = v @ unit_vectors(*c) > 0.0
        for i in np.flatnonzero(facing | isinstance(g, Circle)).tolist():
            d[i, j] = distance_outside_m(p, float(lats[i]), float(lons[i]))
    return d


def _check(index: PlaceIndex, places: list[Place], lats: np.ndarray, lons: np.ndarray) -> None:
    dist = _oracle(places, lats, lons)
    for within in (0.0, 30.0, NEAR_M):
        m = index.match(lats, lons) if within == 0.0 else index.near(lats, lons, within)
        for i in range(len(lats)):
            got = dict(m.row(i))
            assert m.ids(i) == sorted(got)
            for j, p in enumerate(places):
                d = dist[i, j]
                if np.isnan(d) or abs(d - within) < TOLERANCE_M:
                    continue  # blind oracle, or on the boundary: either answer is right
                if within == 0.0 and not isinstance(p.geometry, Circle) and d < TOLERANCE_M:
                    continue  # a polygon's "distance" of a point it covers is exactly 0
                assert (p.id in got) == (d <= within), (p.id, i, within, d)
                if p.id in got:
                    assert abs(got[p.id] - d) <= TOLERANCE_M + 1e-4 * d, (p.id, i, within)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes(), st.sampled_from([250.0, 40.0]))
def test_index_agrees_with_brute_force(
    scene: tuple[list[Place], np.ndarray, np.ndarray], cell_m: float
) -> None:
    places, lats, lons = scene
    index = PlaceIndex(places, near_m=NEAR_M, settings=IndexSettings(cell_m=cell_m))
    _check(index, places, lats, lons)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes(), scenes(), st.integers(0, 3))
def test_live_changes_agree_with_brute_force(
    first: tuple[list[Place], np.ndarray, np.ndarray],
    second: tuple[list[Place], np.ndarray, np.ndarray],
    removed: int,
) -> None:
    # Start from one scene, then upsert the places of another (same ids replace, new ids
    # add) and remove a few: the live layer and the masked snapshot must answer together.
    places, lats, lons = first
    index = PlaceIndex(places, near_m=NEAR_M, settings=IndexSettings(rebuild_after=10_000))
    current = {p.id: p for p in places}
    for p in second[0]:
        moved = Place(id=f"{p.id}{'b' if int(p.id[1:]) % 2 else ''}", name="q", geometry=p.geometry)
        index.upsert(moved)
        current[moved.id] = moved
    for pid in sorted(current)[:removed]:
        index.remove(pid)
        del current[pid]
    all_lats, all_lons = np.concatenate([lats, second[1]]), np.concatenate([lons, second[2]])
    _check(index, list(current.values()), all_lats, all_lons)
    index.rebuild()
    _check(index, list(current.values()), all_lats, all_lons)
