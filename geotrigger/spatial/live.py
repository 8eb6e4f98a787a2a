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
from geotrigger.spatial.table import (
    FloatArray,
    IntArray,
    ObjArray,
    Pings,
    PlaceTable,
    compile_places,
    concat_tables,
    test_pairs,
)


class LiveLayer:
    """Places upserted since the snapshot; rows are never reused until the next snapshot."""

    __slots__ = ("_bounds", "_rows", "_table", "_tree", "near_m", "row_of")

    def __init__(self, *, near_m: float) -> None:
        self.near_m = near_m
        self._tree = rtree_index.Index(interleaved=True)
        self._rows: list[PlaceTable] = []
        self.row_of: dict[str, int] = {}
        self._table: PlaceTable | None = None
        self._bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])

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
        self._bounds = np.concatenate(
            [
                np.minimum(self._bounds[:2], b[:, :2].min(0)),
                np.maximum(self._bounds[2:], b[:, 2:].max(0)),
            ]
        )

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
