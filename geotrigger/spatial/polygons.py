"""Polygons as arrays: tangent frames, edges, caps, and the vectorised tests that use them.

Containment is planar in (lon, lat), boundary included (PostGIS ``ST_Covers``): a crossing
number over each small polygon's edges in numpy, with points too close to an edge to trust
floating point handed to shapely's robust predicate. Distances of points outside a polygon
are measured in a tangent plane at the polygon, to its densified, projected edges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import shapely

from geotrigger.spatial.geodesy import EARTH_RADIUS_M, chord_for_distance, unit_vectors

if TYPE_CHECKING:
    from geotrigger.spatial.table import BoolArray, FloatArray, IntArray, ObjArray, PlaceTable

# Polygons wider than this (from their frame's origin) are measured the reference way, point by
# point: a tangent plane's error grows with the square of the distance from its origin.
HUGE_POLYGON_M = 100_000.0
# Bounding caps of polygons, a cheap prefilter (see frames).
_CAP_MAX_LAT = 80.0
_CAP_MAX_M = 5_000.0
_CAP_SLACK_M = 2.0
_DENSIFY_DEG = 0.005
_INNER_SLACK_M = 0.05
_MAX_RING_EDGES = 64
_BAND_DEG = 1e-9
ALL = 5.0  # larger than any squared chord of the unit sphere (4): "holds everything"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PolygonFrames:
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


def _inner_caps(geoms: ObjArray, f: PolygonFrames, lat: FloatArray, lon: FloatArray) -> FloatArray:
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
    usable = inside & (f.bound2 < ALL) & (radius > 0.0)
    return np.where(usable, chord_for_distance(np.maximum(radius, 0.0)) ** 2, -1.0)


def frames(geoms: ObjArray) -> PolygonFrames:
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
    frames = PolygonFrames(
        origin=origin,
        east=east,
        north=north,
        edges=edges,
        edge_n=edge_n,
        dense=kept,
        huge=huge,
        bound2=np.where(small, cap * cap, ALL),
        inner2=np.zeros(n),
    )
    return replace(frames, inner2=_inner_caps(geoms, frames, lat, lon))


def lonlat_edges(geoms: ObjArray) -> tuple[FloatArray, IntArray]:
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


def _per_edge(
    count: IntArray, lo: IntArray, edges: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Expand pairs to their polygon's edges, for per-(pair, edge) arithmetic.

    ``count`` / ``lo`` are each pair's number of edges and the index of its first edge in
    ``edges``. Returns where each pair's run starts in the expansion (for ``reduceat``), the
    pair of every expanded row, and the expanded edges (x0, y0, x1, y1).
    """
    first = np.cumsum(count) - count
    pair = np.repeat(np.arange(len(count)), count)
    edge = np.arange(int(count.sum())) + np.repeat(lo - first, count)
    return first, pair, np.take(edges, edge, axis=0)


def covers_by_edges(
    table: PlaceTable, slot: IntArray, lon: FloatArray, lat: FloatArray
) -> tuple[BoolArray, BoolArray]:
    """Whether each polygon covers its point, by crossing number over its lon/lat edges.

    Returns (covered, unsure). The answer is exact for points farther than ``_BAND_DEG`` from
    every edge's line: the sign of a cross product decides each crossing and its rounding
    error is far below the band. Points in the band (on or next to the boundary, where
    "covers" includes the boundary) are flagged unsure, for shapely's robust predicate.
    """
    first, pair, e = _per_edge(table.ring_n[slot], table.ring_lo[slot], table.ring_edges)
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


def covers(table: PlaceTable, slot: IntArray, lon: FloatArray, lat: FloatArray) -> BoolArray:
    """Whether each polygon slot covers its point (boundary included, as ST_Covers).

    Small polygons by :func:`covers_by_edges`; large ones, and points in its boundary band,
    by shapely's prepared ``intersects_xy`` (robust predicates).
    """
    inside = np.zeros(len(slot), dtype=bool)
    simple = table.ring_n[slot] > 0
    by_edges = np.flatnonzero(simple)
    covered, unsure = covers_by_edges(table, slot[by_edges], lon[by_edges], lat[by_edges])
    inside[by_edges] = covered
    rest = np.concatenate([np.flatnonzero(~simple), by_edges[unsure]])
    inside[rest] = shapely.intersects_xy(table.geoms[slot[rest]], lon[rest], lat[rest])
    return inside


def edge_distance(table: PlaceTable, v: FloatArray, slot: IntArray) -> FloatArray:
    """Metres from points (unit vectors) to the nearest edge of each slot's polygon.

    Vectorised over (pair, edge): every pair is expanded to its polygon's edges, the distance
    to each segment is taken in the polygon's frame, and the minimum is reduced per pair.
    """
    x = np.einsum("ij,ij->i", v, table.east[slot]) * EARTH_RADIUS_M
    y = np.einsum("ij,ij->i", v, table.north[slot]) * EARTH_RADIUS_M
    count = table.edge_n[slot]
    first, pair, e = _per_edge(count, table.edge_lo[slot], table.edges)
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
