"""A flat lon/lat grid of place slots in compressed (CSR) form: the vectorised candidate search.

Each slot is listed in every cell its boxes touch, so a point needs to look only at its own
cell. Cells are sorted by key and found with one ``np.searchsorted`` per batch; within a cell
slots are ascending, which keeps candidates (and so matches) in slot order for free. Places
whose boxes touch more than ``max_cells`` cells (huge polygons, caps around a pole) would blow
up the grid; they sit in a short "large" list tested against every point by box first.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT
from geotrigger.spatial.table import Boxes, FloatArray, IntArray

MAX_CELLS_PER_PLACE = 64
# Longitude cells are widened by 1 / cos(latitude of the places) so that cells stay roughly
# square where the places are; never more than this factor (the grid stays correct anywhere).
_MAX_LON_STRETCH = 20.0
_NO_CELL = -1
Int32Array = npt.NDArray[np.int32]
# A dense cell table is used when the occupied extent has at most this many cells per
# occupied cell (or is this small anyway), and never above _DENSE_MAX cells (8 B each).
_DENSE_FILL = 4
_DENSE_MIN = 1 << 16
_DENSE_MAX = 1 << 22


class Grid:
    """Immutable grid of slots; built once from boxes, queried with many batches."""

    __slots__ = (
        "_dense",
        "cell_keys",
        "dlat",
        "dlon",
        "inv_dlat",
        "inv_dlon",
        "large_box",
        "large_slot",
        "ncols",
        "nrows",
        "slots",
        "starts",
    )

    def __init__(self, boxes: Boxes, *, cell_m: float, ref_lat: float) -> None:
        self.dlat = cell_m / METRES_PER_DEGREE_LAT
        stretch = min(1.0 / max(math.cos(math.radians(ref_lat)), 1e-9), _MAX_LON_STRETCH)
        self.dlon = self.dlat * stretch
        self.inv_dlat = 1.0 / self.dlat
        self.inv_dlon = 1.0 / self.dlon
        self.nrows = int(180.0 * self.inv_dlat) + 1
        self.ncols = int(360.0 * self.inv_dlon) + 1
        b = boxes.box
        r0, r1 = self._rows(b[:, 1]), self._rows(b[:, 3])
        c0, c1 = self._cols(b[:, 0]), self._cols(b[:, 2])
        h, w = r1 - r0 + 1, c1 - c0 + 1
        ncell = h * w
        per_slot = np.zeros(int(boxes.slot.max(initial=-1)) + 1, dtype=np.int64)
        np.add.at(per_slot, boxes.slot, ncell)
        large = per_slot[boxes.slot] > MAX_CELLS_PER_PLACE
        self.large_box: FloatArray = b[large]
        self.large_slot: IntArray = boxes.slot[large]
        keep = ~large
        r0, c0, w, ncell, slot = r0[keep], c0[keep], w[keep], ncell[keep], boxes.slot[keep]
        total = int(ncell.sum())
        box_of = np.repeat(np.arange(len(ncell)), ncell)
        local = np.arange(total) - np.repeat(np.cumsum(ncell) - ncell, ncell)
        keys = (r0[box_of] + local // w[box_of]) * self.ncols + c0[box_of] + local % w[box_of]
        slots = slot[box_of]
        width = int(slots.max(initial=0)) + 1
        if len(keys) and int(keys.max()) < (1 << 62) // width:
            # One int64 sort key is several times faster than a two-key lexsort.
            order = np.argsort(keys * width + slots)
        else:
            order = np.lexsort((slots, keys))
        keys, slots = keys[order], slots[order]
        # A slot with two boxes on one cell (multipolygon parts) is listed once.
        fresh = np.ones(len(keys), dtype=bool)
        fresh[1:] = (keys[1:] != keys[:-1]) | (slots[1:] != slots[:-1])
        keys, slots = keys[fresh], slots[fresh]
        first = np.flatnonzero(np.diff(keys, prepend=-2) != 0)  # keys are sorted already
        self.cell_keys = keys[first]
        self.starts = np.append(first, len(keys)).astype(np.int64)
        # int32 halves the largest array of the grid; numpy takes either as indices.
        self.slots: IntArray = slots.astype(np.int32)
        self._dense = self._dense_table()

    def _dense_table(self) -> tuple[int, int, int, int, Int32Array, Int32Array] | None:
        """Start and count of every cell of the occupied extent, when that is compact.

        Places in one metro fill most of their extent: indexing a dense table is ~5x
        cheaper than a binary search of the sorted keys. Sparse extents keep the search.
        """
        n = len(self.cell_keys)
        if n == 0:
            return None
        rows, cols = self.cell_keys // self.ncols, self.cell_keys % self.ncols
        r0, c0 = int(rows.min()), int(cols.min())
        h, w = int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1
        if h * w > max(_DENSE_FILL * n, _DENSE_MIN) or h * w > _DENSE_MAX:
            return None
        start = np.zeros(h * w, dtype=np.int32)
        count = np.zeros(h * w, dtype=np.int32)
        at = (rows - r0) * w + (cols - c0)
        start[at] = self.starts[:-1]
        count[at] = np.diff(self.starts)
        return r0, c0, h, w, start, count

    def _rows(self, lat: FloatArray) -> IntArray:
        r = np.floor((lat + 90.0) * self.inv_dlat).astype(np.int64)
        return np.clip(r, 0, self.nrows - 1)

    def _cols(self, lon: FloatArray) -> IntArray:
        c = np.floor((lon + 180.0) * self.inv_dlon).astype(np.int64)
        return np.clip(c, 0, self.ncols - 1)

    def keys(self, lat: FloatArray, lon: FloatArray, valid: np.ndarray) -> IntArray:
        """The cell key of each point (-1 for invalid points)."""
        safe_lat = np.where(valid, lat, 0.0)
        safe_lon = np.where(valid, lon, 0.0)
        k = self._rows(safe_lat) * self.ncols + self._cols(safe_lon)
        return np.where(valid, k, _NO_CELL)

    def lookup(self, keys: IntArray) -> tuple[IntArray, IntArray]:
        """First entry and number of entries of each point's cell (0 entries when empty)."""
        if len(self.cell_keys) == 0:
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
        if self._dense is not None:
            r0, c0, h, w, dense_start, dense_count = self._dense
            r = keys // self.ncols - r0
            c = keys % self.ncols - c0
            inside = (r >= 0) & (r < h) & (c >= 0) & (c < w) & (keys >= 0)
            at = np.where(inside, r * w + c, 0)
            return dense_start[at].astype(np.int64), np.where(inside, dense_count[at], 0)
        pos = np.searchsorted(self.cell_keys, keys)
        np.minimum(pos, len(self.cell_keys) - 1, out=pos)
        start = self.starts[pos]
        count = self.starts[pos + 1] - start
        count[self.cell_keys[pos] != keys] = 0
        return start, count

    def candidates(self, keys: IntArray) -> tuple[IntArray, IntArray]:
        """(point index, slot) of every slot listed in each point's cell; point-major order."""
        point, entry = expand(*self.lookup(keys))
        return point, self.slots[entry].astype(np.int64)

    def large_candidates(self, lat: FloatArray, lon: FloatArray) -> tuple[IntArray, IntArray]:
        """(point index, slot) of the large places whose boxes hold each point (unordered)."""
        points: list[IntArray] = []
        slots: list[IntArray] = []
        for box, slot in zip(self.large_box, self.large_slot.tolist(), strict=True):
            inside = (lat >= box[1]) & (lat <= box[3]) & (lon >= box[0]) & (lon <= box[2])
            idx = np.flatnonzero(inside)
            points.append(idx)
            slots.append(np.full(len(idx), slot, dtype=np.int64))
        if not points:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        point, slot_arr = np.concatenate(points), np.concatenate(slots)
        # Two boxes of one place (both sides of ±180) can hold the same point at lon ±180.
        width = int(slot_arr.max(initial=0)) + 1
        key = np.unique(point * width + slot_arr)
        return key // width, key % width


def expand(start: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """(point index, entry index) for the ``count[i]`` entries from ``start[i]`` of each point."""
    ends = np.cumsum(count)
    total = int(ends[-1]) if len(ends) else 0
    point = np.repeat(np.arange(len(count), dtype=np.int64), count)
    entry = np.arange(total, dtype=np.int64) + np.repeat(start - (ends - count), count)
    return point, entry
