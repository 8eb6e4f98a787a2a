"""Places compiled to flat arrays, and the exact tests of (point, place) pairs.

A :class:`PlaceTable` holds one row ("slot") per place: circles as a centre unit vector and a
radius, polygons as prepared shapely geometries with their bounds and their edges projected
into a local metric frame (for distances of points outside them). Everything is computed once, in
vectorised form, when the table is built; :func:`test_pairs` then decides many (point, slot)
pairs at once without any per-pair Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from geotrigger.model import Circle, Place
from geotrigger.spatial.geodesy import (
    EARTH_RADIUS_M,
    chord_for_distance,
    distance_for_chord,
    distance_to_geometry_m,
    unit_vectors,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

# Polygons wider than this (from their frame's origin) are measured the reference way, point by
# point: a tangent plane's error grows with the square of the distance from its origin.
HUGE_POLYGON_M = 100_000.0
# Bounding boxes are widened by this much (relative, then absolute degrees) so that rounding
# in the box arithmetic can never drop a true match; the exact tests decide.
_REL_SLACK = 1e-7
_ABS_SLACK_DEG = 1e-9
# Bounding caps of polygons, a cheap prefilter of matching (see _frames).
_CAP_MAX_LAT = 80.0
_CAP_MAX_M = 5_000.0
_CAP_SLACK_M = 2.0
_DENSIFY_DEG = 0.005
_INNER_SLACK_M = 0.05
_MAX_RING_EDGES = 64
_BAND_DEG = 1e-9
_ALL = 5.0  # larger than any squared chord of the unit sphere (4)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pings:
    """A batch of points, with what every test needs precomputed."""

    lat: FloatArray
    lon: FloatArray
    xyz: FloatArray  # (n, 3) unit vectors
    valid: BoolArray  # finite and in range; invalid points match nothing

    @classmethod
    def of(cls, lats: npt.ArrayLike, lons: npt.ArrayLike) -> Pings:
        """Precompute a batch; the caller has checked that the shapes agree."""
        lat = np.ascontiguousarray(lats, dtype=np.float64).ravel()
        lon = np.ascontiguousarray(lons, dtype=np.float64).ravel()
        with np.errstate(invalid="ignore"):
            valid = (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
        return cls(lat=lat, lon=lon, xyz=unit_vectors(lat, lon), valid=valid)

    def take(self, idx: IntArray | slice) -> Pings:
        """A sub-batch."""
        return Pings(lat=self.lat[idx], lon=self.lon[idx], xyz=self.xyz[idx], valid=self.valid[idx])

    def __len__(self) -> int:
        return len(self.lat)


@dataclass(frozen=True, slots=True, kw_only=True)
class Boxes:
    """Lon/lat boxes (minx, miny, maxx, maxy) that together cover the points a slot can match.

    A slot may own several boxes: the two sides of the antimeridian, or the parts of a
    multipolygon. Boxes never cross ±180.
    """

    box: FloatArray  # (k, 4)
    slot: IntArray  # (k,)

    def __len__(self) -> int:
        return len(self.slot)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PlaceTable:
    """Places as arrays, one slot per place; immutable once built."""

    ids: ObjArray
    is_poly: BoolArray
    xyz: FloatArray  # circle centre, or a polygon's frame origin, as unit vectors
    radius_m: FloatArray  # 0 for polygons
    bounds: FloatArray  # (n, 4) lon/lat bounds of a polygon (full lon range when split at ±180)
    lat_max_abs: FloatArray  # the largest |latitude| a polygon reaches
    geoms: ObjArray  # prepared polygons; None for circles
    dense: ObjArray  # huge polygons densified, lon/lat (measured the reference way)
    edges: FloatArray  # (m, 4) polygon edges in their frames, metres: x0, y0, x1, y1
    edge_lo: IntArray  # first edge of each slot
    edge_n: IntArray  # number of edges of each slot (0 for circles)
    ring_edges: FloatArray  # (m, 4) polygon edges in lon/lat, for the vectorised cover test
    ring_lo: IntArray  # first lon/lat edge of each slot
    ring_n: IntArray  # lon/lat edges of each slot; 0 for circles and polygons left to shapely
    east: FloatArray  # (n, 3) frame axes of polygons
    north: FloatArray
    huge: BoolArray  # polygons too wide for one tangent plane
    match2: FloatArray  # squared chord of a circle's radius, or of a cap that holds a polygon
    inner2: FloatArray  # squared chord of a cap inside a polygon (-1: none, or a circle)
    tight: Boxes  # boxes of the points each place covers
    wide: Boxes  # the same, widened by near_m

    def __len__(self) -> int:
        return len(self.ids)

    def chord2(self, within_m: float) -> FloatArray:
        """Squared unit-sphere chord that a point must be within, from each slot's centre.

        For a circle: its radius plus ``within_m`` (exact). For a polygon: the cap that holds
        it, widened by ``within_m`` (a prefilter: chords obey the triangle inequality).
        """
        reach = chord_for_distance(within_m)
        circle = chord_for_distance(self.radius_m + within_m) ** 2
        polygon = np.where(self.match2 < _ALL, (np.sqrt(self.match2) + reach) ** 2, _ALL)
        return np.where(self.is_poly, polygon, circle)


def _slack(deg: FloatArray) -> FloatArray:
    return deg * (1.0 + _REL_SLACK) + _ABS_SLACK_DEG


def cap_boxes(lat: FloatArray, lon: FloatArray, dist_m: FloatArray, slot: IntArray) -> Boxes:
    """Boxes covering every point within ``dist_m`` of each (lat, lon), split at ±180."""
    ang = np.asarray(dist_m, dtype=np.float64) / EARTH_RADIUS_M
    dlat = _slack(np.degrees(ang))
    lat0, lat1 = np.maximum(lat - dlat, -90.0), np.minimum(lat + dlat, 90.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(ang) / np.cos(np.radians(lat))
    # A cap that reaches a pole spans every longitude.
    full = (lat + dlat >= 90.0) | (lat - dlat <= -90.0) | ~(s < 1.0)
    dlon = np.where(full, 180.0, _slack(np.degrees(np.arcsin(np.clip(s, 0.0, 1.0)))))
    return _wrap(lon - dlon, lat0, lon + dlon, lat1, full, slot)


def _wrap(
    x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray, full: BoolArray, slot: IntArray
) -> Boxes:
    """Boxes with longitudes folded into [-180, 180], split in two where they cross it."""
    full = full | (x1 - x0 >= 360.0)
    x0 = np.where(full, -180.0, x0)
    x1 = np.where(full, 180.0, x1)
    west = x0 < -180.0  # the part beyond -180 reappears below +180
    east = x1 > 180.0
    main = np.column_stack([np.maximum(x0, -180.0), y0, np.minimum(x1, 180.0), y1])
    extra_w = np.column_stack([x0[west] + 360.0, y0[west], np.full(west.sum(), 180.0), y1[west]])
    extra_e = np.column_stack([np.full(east.sum(), -180.0), y0[east], x1[east] - 360.0, y1[east]])
    return Boxes(
        box=np.concatenate([main, extra_w, extra_e]),
        slot=np.concatenate([slot, slot[west], slot[east]]).astype(np.int64),
    )


def _polygon_boxes(
    geoms: ObjArray, slots: IntArray, near_m: float
) -> tuple[Boxes, Boxes, FloatArray]:
    """Tight and widened boxes of every part of each polygon; the bounds of each polygon."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    pb = shapely.bounds(parts).reshape(-1, 4)
    part_slot = slots[owner]
    tight = Boxes(box=pb, slot=part_slot.astype(np.int64))
    dlat = _slack(np.full(len(pb), np.degrees(near_m / EARTH_RADIUS_M)))
    y0, y1 = np.maximum(pb[:, 1] - dlat, -90.0), np.minimum(pb[:, 3] + dlat, 90.0)
    lat_abs = np.maximum(np.abs(pb[:, 1]), np.abs(pb[:, 3]))
    with np.errstate(divide="ignore"):
        s = np.sin(near_m / EARTH_RADIUS_M) / np.cos(np.radians(lat_abs))
    full = (lat_abs + dlat >= 90.0) | ~(s < 1.0)
    dlon = np.where(full, 180.0, _slack(np.degrees(np.arcsin(np.clip(s, 0.0, 1.0)))))
    wide = _wrap(pb[:, 0] - dlon, y0, pb[:, 2] + dlon, y1, full, part_slot.astype(np.int64))
    bounds = shapely.bounds(geoms).reshape(-1, 4)
    # Parts on both sides of ±180 give a bounding box that means nothing: make it pass all.
    split = (bounds[:, 2] - bounds[:, 0]) > 180.0
    bounds[split, 0], bounds[split, 2] = -180.0, 180.0
    return tight, wide, bounds


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Frames:
    """Per polygon: a tangent frame, its edges in that frame, and its cap for prefiltering."""

    origin: FloatArray
    east: FloatArray
    north: FloatArray
    edges: FloatArray  # (m, 4) x0, y0, x1, y1 in metres, grouped by polygon
    edge_n: IntArray
    dense: ObjArray  # huge polygons, densified, in lon/lat; None for the others
    huge: BoolArray
    bound2: FloatArray
    inner2: FloatArray


def _inner_caps(geoms: ObjArray, f: _Frames, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Squared chord of a cap around each frame origin that lies inside its polygon, or -1.

    Points in it are covered for sure and skip the exact test: the origin is inside and the
    nearest edge is ``D`` metres away in the frame, so the disc of radius ``D`` is inside;
    a point ``g`` metres from the origin on the sphere is at most ``g`` away in the plane.
    The cap is shrunk by ``_INNER_SLACK_M`` for the projection of the (densified) edges.
    """
    first = np.cumsum(f.edge_n) - f.edge_n
    e = f.edges
    dx, dy = e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-(e[:, 0] * dx + e[:, 1] * dy) / length2, 0.0, 1.0)
    t[length2 == 0.0] = 0.0
    ex, ey = e[:, 0] + t * dx, e[:, 1] + t * dy
    nearest = np.zeros(len(first))
    some = f.edge_n > 0  # a degenerate polygon can have no edge at all
    if some.any():
        nearest[some] = np.sqrt(np.minimum.reduceat(ex * ex + ey * ey, first[some]))
    inside = shapely.intersects_xy(geoms, np.degrees(lon), np.degrees(lat))
    radius = nearest * (1.0 - 1e-6) - _INNER_SLACK_M
    usable = inside & (f.bound2 < _ALL) & (radius > 0.0)
    return np.where(usable, chord_for_distance(np.maximum(radius, 0.0)) ** 2, -1.0)


def _frames(geoms: ObjArray) -> _Frames:
    """A tangent frame per polygon (origin at its mean vertex), and its edges projected.

    Edges are straight in (lon, lat); projecting only the vertices would straighten them in
    the plane instead, which moves a long edge by up to L²·tan(lat)/8R (222 m for an 80 km
    edge at 60°N). Edges are split into pieces of at most ``_DENSIFY_DEG`` first (~1 cm).
    """
    n = len(geoms)
    dense = shapely.segmentize(geoms, _DENSIFY_DEG)
    rings, ring_owner = shapely.get_rings(dense, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    owner = ring_owner[ring_of]
    uv = unit_vectors(coords[:, 1], coords[:, 0])
    mean = np.column_stack([np.bincount(owner, weights=uv[:, k], minlength=n) for k in range(3)])
    norm = np.linalg.norm(mean, axis=1)
    degenerate = norm < 1e-9
    origin = mean / np.where(degenerate, 1.0, norm)[:, None]
    lat = np.arcsin(np.clip(origin[:, 2], -1.0, 1.0))
    lon = np.arctan2(origin[:, 1], origin[:, 0])
    east = np.column_stack([-np.sin(lon), np.cos(lon), np.zeros(n)])
    north = np.column_stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    x = np.einsum("ij,ij->i", uv, east[owner]) * EARTH_RADIUS_M
    y = np.einsum("ij,ij->i", uv, north[owner]) * EARTH_RADIUS_M
    same_ring = ring_of[:-1] == ring_of[1:]
    edges = np.column_stack([x[:-1], y[:-1], x[1:], y[1:]])[same_ring]
    edge_n = np.bincount(owner[:-1][same_ring], minlength=n).astype(np.int64)
    spread = np.zeros(n)
    np.maximum.at(spread, owner, np.linalg.norm(uv - origin[owner], axis=1))
    huge = degenerate | (spread > float(chord_for_distance(HUGE_POLYGON_M)))
    # The cap around the origin through the farthest vertex holds the polygon, up to how far a
    # lon/lat-straight edge bows away from the great circle: at most ~1 m for a 10 km polygon
    # below 80° of latitude. Elsewhere the cap is not a safe prefilter: make it hold everything.
    lat_ok = np.abs(np.degrees(lat)) <= _CAP_MAX_LAT
    small = ~degenerate & lat_ok & (spread <= float(chord_for_distance(_CAP_MAX_M)))
    cap = spread * (1.0 + 1e-3) + float(chord_for_distance(_CAP_SLACK_M))
    # Huge polygons are measured point by point in lon/lat: keep them densified for that.
    kept = np.full(n, None, dtype=object)
    kept[huge] = dense[huge]
    frames = _Frames(
        origin=origin,
        east=east,
        north=north,
        edges=edges,
        edge_n=edge_n,
        dense=kept,
        huge=huge,
        bound2=np.where(small, cap * cap, _ALL),
        inner2=np.zeros(n),
    )
    return replace(frames, inner2=_inner_caps(geoms, frames, lat, lon))


def _lonlat_edges(geoms: ObjArray) -> tuple[FloatArray, IntArray]:
    """Edges (x0, y0, x1, y1) of polygons in lon/lat, and how many each has.

    Polygons with more than ``_MAX_RING_EDGES`` edges get none: shapely's prepared geometry
    (an indexed point locator) beats a scan of every edge for them.
    """
    rings, owner = shapely.get_rings(geoms, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_of[:-1] == ring_of[1:]
    edge_owner = owner[ring_of[:-1][same_ring]]
    count = np.bincount(edge_owner, minlength=len(geoms)).astype(np.int64)
    keep = count[edge_owner] <= _MAX_RING_EDGES
    edges = np.column_stack([coords[:-1], coords[1:]])[same_ring][keep]
    return edges, np.where(count <= _MAX_RING_EDGES, count, 0)


def covers_by_edges(
    table: PlaceTable, slot: IntArray, lon: FloatArray, lat: FloatArray
) -> tuple[BoolArray, BoolArray]:
    """Whether each polygon covers its point, by crossing number over its lon/lat edges.

    Returns (covered, unsure). The answer is exact for points farther than ``_BAND_DEG`` from
    every edge's line: the sign of a cross product decides each crossing and its rounding
    error is far below the band. Points in the band (on or next to the boundary, where
    "covers" includes the boundary) are flagged unsure, for shapely's robust predicate.
    """
    count = table.ring_n[slot]
    first = np.cumsum(count) - count
    pair = np.repeat(np.arange(len(slot)), count)
    edge = np.arange(int(count.sum())) + np.repeat(table.ring_lo[slot] - first, count)
    e = np.take(table.ring_edges, edge, axis=0)
    px, py = lon[pair] - e[:, 0], lat[pair] - e[:, 1]
    dx, dy = e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]
    cross = dx * py - dy * px
    # Half-open straddle on the raw coordinates, so that two edges meeting at a vertex level
    # with the point agree on which side the vertex is (differences could round apart).
    y = lat[pair]
    straddle = (e[:, 1] > y) != (e[:, 3] > y)
    crossing = straddle & ((cross > 0.0) == (dy > 0.0))
    near_line = cross * cross <= _BAND_DEG * _BAND_DEG * (dx * dx + dy * dy)
    covered = (np.add.reduceat(crossing, first) & 1).astype(bool)
    unsure = np.logical_or.reduceat(near_line, first)
    return covered, unsure


def compile_places(places: Sequence[Place], near_m: float, first_slot: int = 0) -> PlaceTable:
    """Compile places (in slot order) into a table; slots are numbered from ``first_slot``."""
    n = len(places)
    ids = np.empty(n, dtype=object)
    ids[:] = [p.id for p in places]
    circles = [p.geometry for p in places if isinstance(p.geometry, Circle)]
    is_poly = np.fromiter((not isinstance(p.geometry, Circle) for p in places), bool, n)
    circ = np.flatnonzero(~is_poly)
    poly = np.flatnonzero(is_poly)
    c_lat = np.array([c.lat for c in circles], dtype=np.float64)
    c_lon = np.array([c.lon for c in circles], dtype=np.float64)
    c_rad = np.array([c.radius_m for c in circles], dtype=np.float64)
    geoms = np.full(n, None, dtype=object)
    geoms[poly] = [p.geometry for p in places if not isinstance(p.geometry, Circle)]
    pg = geoms[poly]
    shapely.prepare(pg)

    xyz = np.zeros((n, 3))
    radius = np.zeros(n)
    xyz[circ] = unit_vectors(c_lat, c_lon)
    radius[circ] = c_rad
    bounds = np.zeros((n, 4))
    east, north = np.zeros((n, 3)), np.zeros((n, 3))
    dense = np.full(n, None, dtype=object)
    edges = np.zeros((0, 4))
    ring_edges = np.zeros((0, 4))
    ring_n = np.zeros(n, dtype=np.int64)
    edge_n = np.zeros(n, dtype=np.int64)
    huge = np.zeros(n, dtype=bool)
    bound2 = np.zeros(n)
    inner2 = np.full(n, -1.0)
    lat_max_abs = np.zeros(n)
    c_slots = (circ + first_slot).astype(np.int64)
    p_slots = (poly + first_slot).astype(np.int64)
    tight_c = cap_boxes(c_lat, c_lon, c_rad, c_slots)
    wide_c = cap_boxes(c_lat, c_lon, c_rad + near_m, c_slots)
    boxes = [(tight_c, wide_c)]
    if len(poly):
        tight_p, wide_p, bounds[poly] = _polygon_boxes(pg, p_slots, near_m)
        boxes.append((tight_p, wide_p))
        f = _frames(pg)
        xyz[poly], east[poly], north[poly], huge[poly], bound2[poly] = (
            f.origin,
            f.east,
            f.north,
            f.huge,
            f.bound2,
        )
        dense[poly], edges, edge_n[poly], inner2[poly] = f.dense, f.edges, f.edge_n, f.inner2
        ring_edges, ring_n[poly] = _lonlat_edges(pg)
        lat_max_abs[poly] = np.maximum(np.abs(bounds[poly, 1]), np.abs(bounds[poly, 3]))
    return PlaceTable(
        ids=ids,
        is_poly=is_poly,
        xyz=xyz,
        radius_m=radius,
        bounds=bounds,
        lat_max_abs=lat_max_abs,
        geoms=geoms,
        dense=dense,
        edges=edges,
        edge_lo=np.cumsum(edge_n) - edge_n,
        edge_n=edge_n,
        ring_edges=ring_edges,
        ring_lo=np.cumsum(ring_n) - ring_n,
        ring_n=ring_n,
        east=east,
        north=north,
        huge=huge,
        match2=np.where(is_poly, bound2, chord_for_distance(radius) ** 2),
        inner2=inner2,
        tight=_concat([t for t, _ in boxes]),
        wide=_concat([w for _, w in boxes]),
    )


def _concat(parts: list[Boxes]) -> Boxes:
    return Boxes(
        box=np.concatenate([b.box for b in parts]).reshape(-1, 4),
        slot=np.concatenate([b.slot for b in parts]).astype(np.int64),
    )


def concat_tables(tables: Sequence[PlaceTable]) -> PlaceTable:
    """One table of the rows of several (their box slots must already be numbered globally)."""
    fields: dict[str, Any] = {}
    for lo, arr in (("edge_lo", "edges"), ("ring_lo", "ring_edges")):
        base = np.cumsum([0] + [len(getattr(t, arr)) for t in tables])[:-1]
        fields[lo] = np.concatenate([getattr(t, lo) + b for t, b in zip(tables, base, strict=True)])
    for name in PlaceTable.__dataclass_fields__:
        if name in fields:
            continue
        values = [getattr(t, name) for t in tables]
        fields[name] = _concat(values) if isinstance(values[0], Boxes) else np.concatenate(values)
    return PlaceTable(**fields)


def lon_margin_deg(table: PlaceTable, slots: IntArray, within_m: float) -> FloatArray:
    """Longitude half-width of ``within_m`` around each polygon at its most polar latitude."""
    s = np.sin(within_m / EARTH_RADIUS_M) / np.cos(np.radians(table.lat_max_abs[slots]))
    reach = table.lat_max_abs[slots] + np.degrees(within_m / EARTH_RADIUS_M) >= 90.0
    return np.where(reach | ~(s < 1.0), 360.0, _slack(np.degrees(np.arcsin(np.clip(s, 0, 1)))))


def test_pairs(
    table: PlaceTable,
    pings: Pings,
    ping: IntArray,
    slot: IntArray,
    within_m: float,
    chord2: FloatArray,
) -> tuple[BoolArray, FloatArray]:
    """Decide (point, slot) pairs: whether the place is within ``within_m``, and how far out.

    ``chord2`` is :meth:`PlaceTable.chord2` for ``within_m`` (callers cache it). Returns the
    decision per pair and the distance outside in metres (valid where the decision is True).
    """
    keep = np.zeros(len(ping), dtype=bool)
    dist = np.zeros(len(ping))
    # One cap test for every pair (the circle itself, or a cap holding the polygon widened by
    # within_m) decides circles and prefilters polygons.
    d2 = _chord2_between(np.take(pings.xyz, ping, axis=0), np.take(table.xyz, slot, axis=0))
    hit = np.flatnonzero(d2 <= np.take(chord2, slot))
    poly = table.is_poly[slot[hit]]
    ci = hit[~poly]
    keep[ci] = True
    if within_m > 0.0 and len(ci):
        out = distance_for_chord(np.sqrt(d2[ci])) - np.take(table.radius_m, slot[ci])
        dist[ci] = np.maximum(out, 0.0)
    pi = hit[poly]
    if len(pi):
        keep[pi], dist[pi] = _test_polygons(table, pings, ping[pi], slot[pi], within_m)
    return keep, dist


def _chord2_between(a: FloatArray, b: FloatArray) -> FloatArray:
    """Squared chord between rows of two (n, 3) arrays of unit vectors, column by column."""
    acc = a[:, 0] - b[:, 0]
    acc *= acc
    for k in (1, 2):
        t = a[:, k] - b[:, k]
        t *= t
        acc += t
    return acc


def _test_polygons(
    table: PlaceTable, pings: Pings, ping: IntArray, slot: IntArray, within_m: float
) -> tuple[BoolArray, FloatArray]:
    lat, lon = pings.lat[ping], pings.lon[ping]
    b = table.bounds[slot]
    keep = np.zeros(len(ping), dtype=bool)
    dist = np.zeros(len(ping))
    if within_m <= 0.0:
        box = (lon >= b[:, 0]) & (lon <= b[:, 2]) & (lat >= b[:, 1]) & (lat <= b[:, 3])
        idx = np.flatnonzero(box)
        keep[idx] = shapely.intersects_xy(table.geoms[slot[idx]], lon[idx], lat[idx])
        return keep, dist
    m_lat = _slack(np.full(len(ping), np.degrees(within_m / EARTH_RADIUS_M)))
    m_lon = lon_margin_deg(table, slot, within_m)
    centre, half = (b[:, 0] + b[:, 2]) / 2.0, (b[:, 2] - b[:, 0]) / 2.0
    off = np.abs((lon - centre + 540.0) % 360.0 - 180.0)
    box = (lat >= b[:, 1] - m_lat) & (lat <= b[:, 3] + m_lat) & (off <= half + m_lon)
    idx = np.flatnonzero(box)
    inside = shapely.intersects_xy(table.geoms[slot[idx]], lon[idx], lat[idx])
    keep[idx[inside]] = True
    out = idx[~inside]
    if len(out) == 0:
        return keep, dist
    d = np.empty(len(out))
    so = slot[out]
    big = table.huge[so]
    fine = np.flatnonzero(~big)
    if len(fine):
        d[fine] = _edge_distance(table, pings.xyz[ping[out[fine]]], so[fine])
    for k in np.flatnonzero(big).tolist():
        j = int(ping[out[k]])
        geom: BaseGeometry = table.dense[so[k]]
        d[k] = distance_to_geometry_m(geom, float(pings.lat[j]), float(pings.lon[j]))
    near = d <= within_m
    keep[out[near]] = True
    dist[out[near]] = d[near]
    return keep, dist


def _edge_distance(table: PlaceTable, v: FloatArray, slot: IntArray) -> FloatArray:
    """Metres from points (unit vectors) to the nearest edge of each slot's polygon.

    Vectorised over (pair, edge): every pair is expanded to its polygon's edges, the distance
    to each segment is taken in the polygon's frame, and the minimum is reduced per pair.
    """
    x = np.einsum("ij,ij->i", v, table.east[slot]) * EARTH_RADIUS_M
    y = np.einsum("ij,ij->i", v, table.north[slot]) * EARTH_RADIUS_M
    count = table.edge_n[slot]
    first = np.cumsum(count) - count
    pair = np.repeat(np.arange(len(slot)), count)
    edge = np.arange(int(count.sum())) + np.repeat(table.edge_lo[slot] - first, count)
    e = np.take(table.edges, edge, axis=0)
    px, py = x[pair] - e[:, 0], y[pair] - e[:, 1]
    dx, dy = e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)
    t[length2 == 0.0] = 0.0
    ex, ey = px - t * dx, py - t * dy
    nearest = np.full(len(slot), np.inf)
    some = count > 0  # a degenerate polygon can have no edge at all
    if some.any():
        nearest[some] = np.minimum.reduceat(ex * ex + ey * ey, first[some])
    # A point on the far side of the sphere projects onto the plane too: exclude it.
    facing = np.einsum("ij,ij->i", v, table.xyz[slot]) > 0.0
    return np.where(facing, np.sqrt(nearest), np.inf)
