"""Places compiled to flat arrays.

A :class:`PlaceTable` holds one row ("slot") per place: circles as a centre unit vector and a
radius, polygons as prepared shapely geometries with their bounds, their lon/lat edges and
their edges projected into a local metric frame (see :mod:`geotrigger.spatial.polygons`).
Everything is computed once, in vectorised form, when the table is built;
:func:`geotrigger.spatial.pairs.test_pairs` then decides many (point, slot) pairs at once
without any per-pair Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geotrigger.model import Circle, Place
from geotrigger.spatial.geodesy import (
    EARTH_RADIUS_M,
    chord_for_distance,
    unit_vectors,
)
from geotrigger.spatial.polygons import ALL, frames, lonlat_edges

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

# Bounding boxes are widened by this much (relative, then absolute degrees) so that rounding
# in the box arithmetic can never drop a true match; the exact tests decide.
_REL_SLACK = 1e-7
_ABS_SLACK_DEG = 1e-9


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
        polygon = np.where(self.match2 < ALL, (np.sqrt(self.match2) + reach) ** 2, ALL)
        return np.where(self.is_poly, polygon, circle)


def slack_deg(deg: FloatArray) -> FloatArray:
    """Degrees widened by the box slack, so that rounding never drops a true match."""
    return deg * (1.0 + _REL_SLACK) + _ABS_SLACK_DEG


def cap_boxes(lat: FloatArray, lon: FloatArray, dist_m: FloatArray, slot: IntArray) -> Boxes:
    """Boxes covering every point within ``dist_m`` of each (lat, lon), split at ±180."""
    ang = np.asarray(dist_m, dtype=np.float64) / EARTH_RADIUS_M
    dlat = slack_deg(np.degrees(ang))
    lat0, lat1 = np.maximum(lat - dlat, -90.0), np.minimum(lat + dlat, 90.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(ang) / np.cos(np.radians(lat))
    # A cap that reaches a pole spans every longitude.
    full = (lat + dlat >= 90.0) | (lat - dlat <= -90.0) | ~(s < 1.0)
    dlon = np.where(full, 180.0, slack_deg(np.degrees(np.arcsin(np.clip(s, 0.0, 1.0)))))
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
    dlat = slack_deg(np.full(len(pb), np.degrees(near_m / EARTH_RADIUS_M)))
    y0, y1 = np.maximum(pb[:, 1] - dlat, -90.0), np.minimum(pb[:, 3] + dlat, 90.0)
    lat_abs = np.maximum(np.abs(pb[:, 1]), np.abs(pb[:, 3]))
    with np.errstate(divide="ignore"):
        s = np.sin(near_m / EARTH_RADIUS_M) / np.cos(np.radians(lat_abs))
    full = (lat_abs + dlat >= 90.0) | ~(s < 1.0)
    dlon = np.where(full, 180.0, slack_deg(np.degrees(np.arcsin(np.clip(s, 0.0, 1.0)))))
    wide = _wrap(pb[:, 0] - dlon, y0, pb[:, 2] + dlon, y1, full, part_slot.astype(np.int64))
    bounds = shapely.bounds(geoms).reshape(-1, 4)
    # Parts on both sides of ±180 give a bounding box that means nothing: make it pass all.
    split = (bounds[:, 2] - bounds[:, 0]) > 180.0
    bounds[split, 0], bounds[split, 2] = -180.0, 180.0
    return tight, wide, bounds


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
        f = frames(pg)
        xyz[poly], east[poly], north[poly], huge[poly], bound2[poly] = (
            f.origin,
            f.east,
            f.north,
            f.huge,
            f.bound2,
        )
        dense[poly], edges, edge_n[poly], inner2[poly] = f.dense, f.edges, f.edge_n, f.inner2
        ring_edges, ring_n[poly] = lonlat_edges(pg)
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
    return np.where(reach | ~(s < 1.0), 360.0, slack_deg(np.degrees(np.arcsin(np.clip(s, 0, 1)))))
