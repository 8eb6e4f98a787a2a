"""The immutable, vectorised half of the place index: a compiled table and its grids.

A snapshot is built from every place at one moment and never changes afterwards, so a query
can use it without any lock while the index absorbs live changes elsewhere; a new snapshot
replaces it with one attribute assignment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geotrigger.model import Place
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT
from geotrigger.spatial.grid import Grid, expand
from geotrigger.spatial.pairs import test_pairs
from geotrigger.spatial.polygons import covers
from geotrigger.spatial.table import (
    FloatArray,
    IntArray,
    Pings,
    PlaceTable,
    compile_places,
)

_MATCH_CELL_FACTOR = 0.7
_NEAR_CELL_FACTOR = 0.4


def match_cell_m(boxes: FloatArray, cell_m: float, factor: float = _MATCH_CELL_FACTOR) -> float:
    """Cell edge of a grid: ``cell_m``, or less when places are much smaller.

    Candidates per point grow with (cell + place size)², so cells much larger than the
    typical place mostly add false candidates; ~0.7 of the median box height measured best
    for matching (2.5x fewer candidates than 250 m cells for 30-150 m places), ~0.4 for the
    widened boxes of ``near``. Never below ``cell_m / 8``, which bounds the cells (memory) a
    place is listed in.
    """
    if len(boxes) == 0:
        return cell_m
    height_m = float(np.median(boxes[:, 3] - boxes[:, 1])) * METRES_PER_DEGREE_LAT
    return min(cell_m, max(factor * height_m, cell_m / 8.0))


class Snapshot:
    """Places sorted by id (slot = rank of the id), a grid for matching and one for near."""

    __slots__ = ("_chord2", "_entry_data", "near_m", "slot_of", "table", "tight", "wide")

    def __init__(self, places: Sequence[Place], *, near_m: float, cell_m: float) -> None:
        ordered = sorted(places, key=lambda p: p.id)
        self.near_m = near_m
        self.table: PlaceTable = compile_places(ordered, near_m)
        self.slot_of: dict[str, int] = {p.id: i for i, p in enumerate(ordered)}
        boxes = self.table.tight.box
        ref_lat = float(np.median((boxes[:, 1] + boxes[:, 3]) / 2.0)) if len(boxes) else 0.0
        self.tight = Grid(self.table.tight, cell_m=match_cell_m(boxes, cell_m), ref_lat=ref_lat)
        # With nothing to widen by, matching and near share one grid.
        wide_cell = match_cell_m(self.table.wide.box, cell_m, factor=_NEAR_CELL_FACTOR)
        self.wide = (
            Grid(self.table.wide, cell_m=wide_cell, ref_lat=ref_lat) if near_m > 0 else self.tight
        )
        self._chord2: dict[float, FloatArray] = {0.0: self.table.chord2(0.0)}
        # Matching reads each candidate's centre and threshold from here, laid out like the
        # grid's entries, so that a point's candidates are one contiguous run in memory.
        entry_slots = self.tight.slots
        self._entry_data = np.column_stack(
            [self.table.xyz[entry_slots], self.table.match2[entry_slots]]
        )

    def __len__(self) -> int:
        return len(self.table)

    def chord2(self, within_m: float) -> FloatArray:
        """Circle thresholds for ``within_m``, cached (callers use one or two values)."""
        c = self._chord2.get(within_m)
        if c is None:
            if len(self._chord2) > 8:
                self._chord2 = {0.0: self._chord2[0.0]}
            c = self._chord2[within_m] = self.table.chord2(within_m)
        return c

    def match(self, pings: Pings) -> tuple[IntArray, IntArray]:
        """(point, slot) of the places covering each point, ordered by point, then slot.

        The hot path: one cap test per candidate (a circle's own, or a cap holding a polygon)
        decides circles and prefilters polygons; only polygons that pass go to shapely.
        """
        grid = self.tight
        start, count = grid.lookup(grid.keys(pings.lat, pings.lon, pings.valid))
        point, entry = expand(start, count)
        # np.take on rows and column-wise arithmetic: several times faster than fancy indexing
        # and (n, 3) temporaries on this path.
        data = np.take(self._entry_data, entry, axis=0)
        acc = np.repeat(pings.xyz[:, 0], count)
        acc -= data[:, 0]
        acc *= acc
        for k in (1, 2):
            t = np.repeat(pings.xyz[:, k], count)
            t -= data[:, k]
            t *= t
            acc += t
        hit = np.flatnonzero(acc <= data[:, 3])
        d2 = acc[hit]
        point, slot = point[hit], np.take(grid.slots, entry[hit]).astype(np.int64)
        poly = np.flatnonzero(self.table.is_poly[slot])
        if len(poly):
            point, slot = self._cover_polygons(pings, point, slot, poly, d2[poly])
        if len(grid.large_slot):
            lp, ls = grid.large_candidates(pings.lat, pings.lon)
            ok, _ = test_pairs(self.table, pings, lp, ls, 0.0, self._chord2[0.0])
            point, slot = np.concatenate([point, lp[ok]]), np.concatenate([slot, ls[ok]])
            order = np.argsort(point * len(self.table) + slot, kind="stable")
            point, slot = point[order], slot[order]
        return point, slot

    def _cover_polygons(
        self, pings: Pings, point: IntArray, slot: IntArray, poly: IntArray, d2: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Drop the pairs ``poly`` (polygons that passed the cap test) that do not cover.

        ``d2`` is each pair's squared chord to the polygon's frame origin: inside the inner
        cap the answer is known; otherwise a box test, then shapely on what is left.
        """
        ps, pp = slot[poly], point[poly]
        lon, lat = pings.lon[pp], pings.lat[pp]
        b = np.take(self.table.bounds, ps, axis=0)
        inside = (lon >= b[:, 0]) & (lon <= b[:, 2]) & (lat >= b[:, 1]) & (lat <= b[:, 3])
        sure = d2 <= np.take(self.table.inner2, ps)
        test = np.flatnonzero(inside & ~sure)
        inside[test] = covers(self.table, ps[test], lon[test], lat[test])
        if inside.all():
            return point, slot
        keep = np.ones(len(point), dtype=bool)
        keep[poly[~inside]] = False
        return point[keep], slot[keep]

    def query(self, pings: Pings, within_m: float) -> tuple[IntArray, IntArray, FloatArray]:
        """(point, slot, distance) of the places within ``within_m``, ordered by point, slot."""
        grid = self.tight if within_m <= 0.0 else self.wide
        keys = grid.keys(pings.lat, pings.lon, pings.valid)
        point, slot = grid.candidates(keys)
        merged = len(grid.large_slot) > 0
        if merged:
            lp, ls = grid.large_candidates(pings.lat, pings.lon)
            point, slot = np.concatenate([point, lp]), np.concatenate([slot, ls])
        keep, dist = test_pairs(self.table, pings, point, slot, within_m, self.chord2(within_m))
        point, slot, dist = point[keep], slot[keep], dist[keep]
        if merged and len(point):
            order = np.argsort(point * len(self.table) + slot, kind="stable")
            point, slot, dist = point[order], slot[order], dist[order]
        return point, slot, dist
