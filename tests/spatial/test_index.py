"""The place index: table-driven cases, live changes, and its contract with the caller."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geotrigger.config import IndexSettings
from geotrigger.errors import IndexUsageError
from geotrigger.model import Circle, Place
from geotrigger.spatial.brute import brute_force_near
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT
from geotrigger.spatial.index import Matches, PlaceIndex

M = 1.0 / METRES_PER_DEGREE_LAT  # degrees of latitude per metre


def circle(pid: str, lat: float, lon: float, radius_m: float) -> Place:
    return Place(id=pid, name=pid, geometry=Circle(lat=lat, lon=lon, radius_m=radius_m))


def polygon(pid: str, geometry: Polygon | MultiPolygon) -> Place:
    return Place(id=pid, name=pid, geometry=geometry)


# A square store with a square courtyard (hole) in the middle, in Helsinki.
STORE = polygon(
    "store",
    Polygon(
        [(24.940, 60.170), (24.942, 60.170), (24.942, 60.171), (24.940, 60.171)],
        [[(24.9405, 60.1703), (24.9415, 60.1703), (24.9415, 60.1707), (24.9405, 60.1707)]],
    ),
)
CAFE = circle("cafe", 60.1700, 24.9500, 50.0)
# A circle straddling the antimeridian (Fiji / Taveuni), and a polygon split there.
DATELINE = circle("dateline", -16.8, 179.9995, 200.0)
SPLIT = polygon(
    "split",
    MultiPolygon([box(179.999, -17.001, 180.0, -16.999), box(-180.0, -17.001, -179.999, -16.999)]),
)
# A circle around the North Pole and one near the South Pole.
NORTH = circle("north-pole", 89.9995, 45.0, 120.0)
SOUTH = circle("south", -89.99, -120.0, 1500.0)
PLACES = [STORE, CAFE, DATELINE, SPLIT, NORTH, SOUTH]


@pytest.fixture(scope="module")
def index() -> PlaceIndex:
    return PlaceIndex(PLACES, near_m=75.0)


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (60.1701, 24.9401, ["store"]),  # inside the store, outside the courtyard
        (60.1705, 24.9410, []),  # in the courtyard (the hole)
        (60.1703, 24.9410, ["store"]),  # on the hole's edge: boundary counts (ST_Covers)
        (60.1700, 24.9410, ["store"]),  # on the outer edge
        (60.1700, 24.9400, ["store"]),  # on a corner vertex
        (60.1699, 24.9410, []),  # just south of the store
        (60.1700 + 49.9 * M, 24.9500, ["cafe"]),  # 10 cm inside the cafe's radius
        (60.1700 + 50.1 * M, 24.9500, []),  # 10 cm outside it
        (-16.8, -179.9995, ["dateline"]),  # across ±180 from the circle's centre, inside
        (-16.8, 179.997, []),  # 266 m west of the circle's centre, outside
        (-17.0, 179.9995, ["split"]),  # the split polygon's western part
        (-17.0, -179.9995, ["split"]),  # ...and its eastern part
        (-17.0, 180.0, ["split"]),  # exactly on the split line (+180)
        (-17.0, -180.0, ["split"]),  # ...written as -180
        (90.0, 0.0, ["north-pole"]),  # the pole itself (any longitude)
        (90.0, -170.0, ["north-pole"]),  # the pole, another longitude
        (89.9995, -135.0, ["north-pole"]),  # over the pole, 111 m from the centre
        (89.999, -135.0, []),  # over the pole, 167 m from the centre
        (-90.0, 0.0, ["south"]),  # the south circle holds the pole (1112 m from its centre)
        (-89.999, 60.0, ["south"]),  # beyond the pole, 1223 m from the centre
        (-89.99 + 1600 * M, -120.0, []),  # 1600 m from the south circle's centre
        (0.0, 0.0, []),  # nowhere near anything
        (float("nan"), 24.94, []),  # not a number: matches nothing
        (95.0, 24.94, []),  # out of range: matches nothing
    ],
)
def test_match_cases(index: PlaceIndex, lat: float, lon: float, expected: list[str]) -> None:
    assert index.match_one(lat, lon) == expected


@pytest.mark.parametrize(
    ("lat", "lon", "within_m", "expected"),
    [
        (60.1700 + 60 * M, 24.9500, 20.0, {"cafe": 10.0}),  # 10 m outside the cafe
        (60.1700 + 60 * M, 24.9500, 5.0, {}),  # ...beyond a 5 m reach
        (60.1701, 24.9401, 75.0, {"store": 0.0}),  # inside: distance 0
        (60.1705, 24.9410, 75.0, {"store": 22.26}),  # middle of the hole: ~22 m to its edge
        (60.1699, 24.9410, 20.0, {"store": 11.13}),  # 0.0001° (~11 m) south of the store
        (-16.8, 179.9995 - 260 * M / np.cos(np.radians(16.8)), 75.0, {"dateline": 60.0}),
        (-17.0, -179.9985, 75.0, {"split": 53.17}),  # east of the split polygon's east part
        (-17.0, 179.9985, 75.0, {"split": 53.17}),  # west of its west part
    ],
)
def test_near_cases(
    index: PlaceIndex, lat: float, lon: float, within_m: float, expected: dict[str, float]
) -> None:
    got = dict(index.near([lat], [lon], within_m).row(0))
    assert sorted(got) == sorted(expected)
    for pid, metres in expected.items():
        assert got[pid] == pytest.approx(metres, abs=0.05)
    assert got == pytest.approx(brute_force_near(PLACES, lat, lon, within_m), abs=1e-3)


def test_within_wider_than_near_m_is_refused(index: PlaceIndex) -> None:
    with pytest.raises(IndexUsageError, match="near_m"):
        index.near([60.17], [24.94], 76.0)


def test_negative_within_is_refused(index: PlaceIndex) -> None:
    with pytest.raises(IndexUsageError):
        index.near([60.17], [24.94], -1.0)


def test_mismatched_shapes_are_refused(index: PlaceIndex) -> None:
    with pytest.raises(IndexUsageError, match="same length"):
        index.match([60.17, 60.18], [24.94])


def test_unknown_id_cannot_be_removed() -> None:
    with pytest.raises(IndexUsageError, match="nope"):
        PlaceIndex([CAFE]).remove("nope")


def test_empty_index_and_empty_batch() -> None:
    empty = PlaceIndex()
    assert empty.match_one(60.17, 24.95) == []
    m = PlaceIndex([CAFE]).match([], [])
    assert len(m) == 0 and list(m.offsets) == [0]


def test_rows_are_sorted_by_id_and_offsets_are_compressed() -> None:
    # Ten overlapping circles inserted in shuffled id order, plus a polygon over them.
    ids = [f"c{i}" for i in (7, 2, 9, 0, 5, 3, 8, 1, 6, 4)]
    places = [circle(pid, 60.17, 24.95, 100.0 + i) for i, pid in enumerate(ids)]
    places.append(polygon("b-poly", box(24.949, 60.169, 24.951, 60.171)))
    idx = PlaceIndex(places)
    m = idx.match([60.17, 0.0, 60.17], [24.95, 0.0, 24.95])
    want = sorted([*ids, "b-poly"])
    assert isinstance(m, Matches) and len(m) == 3
    assert m.ids(0) == want and m.ids(1) == [] and m.ids(2) == want
    assert list(m.offsets) == [0, 11, 11, 22]
    assert [d for _, d in m.row(0)] == [0.0] * 11


@pytest.mark.parametrize("rebuild_after", [1_000, 0])  # live through the rtree; rebuilt each time
def test_live_changes(rebuild_after: int) -> None:
    idx = PlaceIndex([CAFE, STORE], settings=IndexSettings(rebuild_after=rebuild_after))
    at_cafe, at_store = (60.17, 24.95), (60.1701, 24.9401)

    def where(lat: float, lon: float) -> list[str]:
        return idx.match_one(lat, lon)

    idx.upsert(circle("b-kiosk", 60.17, 24.95, 10.0))  # new place, id sorts before "cafe"
    assert where(*at_cafe) == ["b-kiosk", "cafe"]
    idx.upsert(circle("cafe", 60.1701, 24.9401, 30.0))  # the cafe moves into the store
    assert where(*at_cafe) == ["b-kiosk"]
    assert where(*at_store) == ["cafe", "store"]
    assert idx.remove("store") == STORE
    assert where(*at_store) == ["cafe"]
    idx.upsert(STORE)  # back again
    assert where(*at_store) == ["cafe", "store"]
    idx.upsert(circle("zz", 60.1701, 24.9401, 5.0))
    idx.remove("zz")  # removed before any rebuild: never seen
    assert where(*at_store) == ["cafe", "store"]
    assert len(idx) == 3 and "zz" not in idx and idx.get("cafe") is not None
    idx.rebuild()
    assert idx.pending_changes == 0
    assert where(*at_cafe) == ["b-kiosk"] and where(*at_store) == ["cafe", "store"]
    assert sorted(p.id for p in idx.places()) == ["b-kiosk", "cafe", "store"]


def test_rebuild_happens_after_enough_changes() -> None:
    idx = PlaceIndex([CAFE], settings=IndexSettings(rebuild_after=3))
    for i in range(3):
        idx.upsert(circle(f"p{i}", 60.17, 24.95, 20.0))
    assert idx.pending_changes == 3
    assert idx.match_one(60.17, 24.95) == ["cafe", "p0", "p1", "p2"]
    assert idx.pending_changes == 0  # the query folded the changes into a new snapshot


def test_live_near_merges_with_snapshot_in_id_order() -> None:
    idx = PlaceIndex([CAFE, STORE], near_m=75.0)
    idx.upsert(circle("ca", 60.1700 + 70 * M, 24.95, 5.0))  # 65 m out at the probe point
    idx.upsert(circle("zz", 60.17, 24.95, 1.0))
    m = idx.near([60.17, 60.17], [24.95, 24.95], 75.0)
    for i in range(2):
        got = dict(m.row(i))
        assert m.ids(i) == ["ca", "cafe", "zz"]
        assert got["ca"] == pytest.approx(65.0, abs=0.01) and got["cafe"] == 0.0


def test_large_places_are_served() -> None:
    # A country-sized polygon and a 50 km circle: both far larger than any grid cell.
    big = polygon("country", box(20.0, 59.0, 32.0, 70.0))
    idx = PlaceIndex([big, circle("wide", 60.17, 24.95, 50_000.0), CAFE], near_m=75.0)
    assert idx.match_one(60.17, 24.95) == ["cafe", "country", "wide"]
    assert idx.match_one(60.17, 19.9) == []
    d = dict(idx.near([60.17], [20.0 - 0.001], 75.0).row(0))
    assert d["country"] == pytest.approx(55.4, abs=0.5)


def test_batch_larger_than_one_chunk() -> None:
    rng = np.random.default_rng(3)
    lats = 60.17 + rng.uniform(-0.002, 0.002, 20_000)
    lons = 24.95 + rng.uniform(-0.004, 0.004, 20_000)
    m = PlaceIndex([CAFE, STORE]).match(lats, lons)
    for i in rng.choice(20_000, 200, replace=False).tolist():
        want = sorted(brute_force_near([CAFE, STORE], float(lats[i]), float(lons[i])))
        assert m.ids(i) == want


def test_polygon_cover_agrees_with_shapely_on_vertices_edges_and_vertex_latitudes() -> None:
    # The vectorised crossing test must give shapely's answer everywhere, including points
    # on vertices and edges (boundary: covered) and points level with a vertex, where a
    # crossing-number test is easiest to get wrong.
    rng = np.random.default_rng(11)
    places, lats, lons = [], [], []
    for i in range(60):
        cx, cy = 24.9 + rng.uniform(0, 0.05), 60.15 + rng.uniform(0, 0.03)
        k = int(rng.integers(3, 12))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(0.0002, 0.001, k)
        ring = np.column_stack([cx + radii * np.cos(angles) * 2, cy + radii * np.sin(angles)])
        geometry = Polygon(ring).buffer(0)
        if geometry.geom_type != "Polygon":
            continue
        places.append(polygon(f"g{i:02d}", geometry))
        xy = np.asarray(geometry.exterior.coords)
        mid = (xy[:-1] + xy[1:]) / 2
        lats += [*xy[:, 1], *mid[:, 1], *xy[:, 1], *xy[:, 1]]
        lons += [*xy[:, 0], *mid[:, 0], *(xy[:, 0] - 0.0003), *(xy[:, 0] + 0.0003)]
    lats += list(60.15 + rng.uniform(0, 0.03, 2000))
    lons += list(24.9 + rng.uniform(0, 0.05, 2000))
    m = PlaceIndex(places).match(lats, lons)
    for i, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
        want = [p.id for p in places if p.geometry.intersects(Point(lon, lat))]
        assert m.ids(i) == want, (i, lat, lon)
