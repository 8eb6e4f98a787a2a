"""The mutable half of the place index: places changed since the snapshot, in an rtree.

Every upserted place is compiled on its own (one row) and its widened boxes go into an
rtree (libspatialindex), which takes inserts and deletes in place, no rebuild. Batches ask the
tree once through its bulk interface (``intersection_v``), then the same exact tests as the
snapshot run on the candidates. The layer stays small: the index folds it into a new snapshot
after ``IndexSettings.rebuild_after`` changes.
"""

from __future__ import annotations

import numpy as np
from rtree import index as rtree_index

from geotrigger.model import Place
from geotrigger.spatial.pairs import test_pairs
from geotrigger.spatial.table import (
    FloatArray,
    IntArray,
    ObjArray,
    Pings,
    PlaceTable,
    compile_places,
    concat_tables,
)

_COARSE_DEG = 0.005  # ~550 m of latitude
_NCOLS = int(360 / _COARSE_DEG) + 2
_MAX_COARSE_CELLS = 4096  # a bigger place turns the coarse prefilter off until the rebuild


def _cell(deg: FloatArray, offset: float) -> IntArray:
    with np.errstate(invalid="ignore"):
        return np.floor((np.nan_to_num(deg) + offset) / _COARSE_DEG).astype(np.int64)


class LiveLayer:
    """Places upserted since the snapshot; rows are never reused until the next snapshot."""

    __slots__ = (
        "_bounds",
        "_cell_keys",
        "_cells",
        "_everywhere",
        "_rows",
        "_table",
        "_tree",
        "near_m",
        "row_of",
    )

    def __init__(self, *, near_m: float) -> None:
        self.near_m = near_m
        self._tree = rtree_index.Index(interleaved=True)
        self._rows: list[PlaceTable] = []
        self.row_of: dict[str, int] = {}
        self._table: PlaceTable | None = None
        self._bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])
        # Coarse cells touched by live boxes: points elsewhere skip the rtree altogether, so
        # a few hundred scattered changes do not send a whole metro's batch through it.
        self._cells: set[int] = set()
        self._cell_keys: np.ndarray | None = None
        self._everywhere = False

    def __len__(self) -> int:
        return len(self.row_of)

    def add(self, place: Place) -> None:
        """Add a place (its id must not be live already: drop it first)."""
        row = len(self._rows)
        one = compile_places([place], self.near_m, first_slot=row)
        for box in one.wide.box:
            self._tree.insert(row, tuple(box.tolist()))
        self._rows.append(one)
        self.row_of[place.id] = row
        self._table = None
        b = one.wide.box
        self._add_cells(b)
        self._bounds = np.concatenate(
            [
                np.minimum(self._bounds[:2], b[:, :2].min(0)),
                np.maximum(self._bounds[2:], b[:, 2:].max(0)),
            ]
        )

    def _add_cells(self, boxes: FloatArray) -> None:
        r0, r1 = _cell(boxes[:, 1], 90.0), _cell(boxes[:, 3], 90.0)
        c0, c1 = _cell(boxes[:, 0], 180.0), _cell(boxes[:, 2], 180.0)
        if int(((r1 - r0 + 1) * (c1 - c0 + 1)).sum()) > _MAX_COARSE_CELLS:
            self._everywhere = True
            return
        for ra, rb, ca, cb in zip(r0.tolist(), r1.tolist(), c0.tolist(), c1.tolist(), strict=True):
            self._cells.update(r * _NCOLS + c for r in range(ra, rb + 1) for c in range(ca, cb + 1))
        self._cell_keys = None

    def drop(self, place_id: str) -> bool:
        """Remove a live place; False when the id is not live."""
        row = self.row_of.pop(place_id, None)
        if row is None:
            return False
        for box in self._rows[row].wide.box:
            self._tree.delete(row, tuple(box.tolist()))
        return True

    def _compiled(self) -> PlaceTable:
        if self._table is None:
            self._table = concat_tables(self._rows)
        return self._table

    def query(self, pings: Pings, within_m: float) -> tuple[IntArray, ObjArray, FloatArray]:
        """(point, place id, distance) of the live places within ``within_m`` (unordered)."""
        empty = np.zeros(0, dtype=np.int64)
        if not self.row_of:
            return empty, np.zeros(0, dtype=object), np.zeros(0)
        b = self._bounds
        near = pings.valid & (pings.lon >= b[0]) & (pings.lon <= b[2])
        near &= (pings.lat >= b[1]) & (pings.lat <= b[3])
        if not self._everywhere:
            if self._cell_keys is None:
                self._cell_keys = np.array(sorted(self._cells), dtype=np.int64)
            keys = _cell(pings.lat, 90.0) * _NCOLS + _cell(pings.lon, 180.0)
            pos = np.minimum(np.searchsorted(self._cell_keys, keys), len(self._cell_keys) - 1)
            near &= self._cell_keys[pos] == keys
        idx = np.flatnonzero(near)
        if len(idx) == 0:
            return empty, np.zeros(0, dtype=object), np.zeros(0)
        xy = np.column_stack([pings.lon[idx], pings.lat[idx]])
        rows, counts = self._tree.intersection_v(xy, xy)
        point = np.repeat(idx, counts.astype(np.int64))
        rows = rows.astype(np.int64)
        # A point on the shared edge of two boxes of one place is reported twice.
        width = len(self._rows)
        key = np.unique(point * width + rows)
        point, rows = key // width, key % width
        table = self._compiled()
        keep, dist = test_pairs(table, pings, point, rows, within_m, table.chord2(within_m))
        return point[keep], table.ids[rows[keep]], dist[keep]
