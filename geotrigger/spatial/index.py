"""The in-memory place index: which places cover, or are near, a batch of points.

Two layers answer every query together:

* a :class:`~geotrigger.spatial.snapshot.Snapshot`, immutable and vectorised (a compiled table
  of all places and a lon/lat grid in CSR form), which serves batches with numpy alone;
* a :class:`~geotrigger.spatial.live.LiveLayer`, an rtree of the places upserted since the
  snapshot was built, so that changes are live at once without a rebuild. Snapshot slots whose
  place was removed or replaced since are masked out.

After ``IndexSettings.rebuild_after`` changes the next query builds a new snapshot from all
places, synchronously, and swaps it in with one attribute assignment. A background thread
would mostly move the same work elsewhere (the build is largely Python and holds the GIL);
the build takes ~0.05 s at 10k places and ~0.6 s at 100k, so a latency-sensitive caller
calls :meth:`PlaceIndex.rebuild` itself, off the request path (e.g. from a job after a batch
of place changes). Until then the live layer serves the changes at a few x the cost.

``IndexSettings.cell_m`` is the largest grid cell; each snapshot shrinks its cells towards
the size of the places it holds (see :func:`~geotrigger.spatial.snapshot.match_cell_m`).

Geometry semantics (the same as :mod:`geotrigger.spatial.brute`, the oracle):

* circles: great-circle distance on the mean sphere from the centre, ``<= radius_m`` matches;
* polygons: planar in (lon, lat), boundary and hole rings included — PostGIS ``ST_Covers``;
* distance outside a polygon: metres in a tangent plane at the polygon.

Points that are not finite or outside [-90, 90] x [-180, 180] match nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geotrigger.config import IndexSettings
from geotrigger.errors import IndexUsageError
from geotrigger.model import Place
from geotrigger.spatial.live import LiveLayer
from geotrigger.spatial.snapshot import Snapshot
from geotrigger.spatial.table import BoolArray, Pings

# Points are processed in chunks of this size: candidate arrays stay in cache and the memory
# of one query stays bounded whatever the batch size.
CHUNK = 4096
_NO_DISTANCES = np.zeros(0)


@dataclass(frozen=True, slots=True)
class Matches:
    """Places per point of a batch, in compressed rows.

    For point ``i`` the matches are ``place_ids[offsets[i]:offsets[i + 1]]`` with
    ``distance_m`` alongside (0 when the place covers the point, else metres outside).
    Within a row, ids are sorted.
    """

    offsets: npt.NDArray[np.int64]
    place_ids: npt.NDArray[np.object_]
    distance_m: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def ids(self, i: int) -> list[str]:
        """Sorted ids of the places matched by point ``i``."""
        return list(self.place_ids[self.offsets[i] : self.offsets[i + 1]])

    def row(self, i: int) -> Iterator[tuple[str, float]]:
        """(place id, distance outside in metres) for point ``i``."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return zip(self.place_ids[lo:hi], self.distance_m[lo:hi].tolist(), strict=True)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _View:
    """What one query reads: consistent, and never mutated after it is published."""

    snapshot: Snapshot
    dead: BoolArray | None  # snapshot slots removed or replaced since the snapshot


class PlaceIndex:
    """Places in memory, for matching batches of points.

    ``near_m`` is the widest ``within_m`` that :meth:`near` will be asked for; the index is
    built to answer it without a rebuild. Changes and queries may come from several threads.
    """

    def __init__(
        self,
        places: Iterable[Place] = (),
        *,
        near_m: float = 0.0,
        settings: IndexSettings | None = None,
    ) -> None:
        if not near_m >= 0.0:
            raise IndexUsageError(f"near_m must be a number >= 0, got {near_m!r}")
        self.near_m = float(near_m)
        self.settings = settings or IndexSettings()
        self._lock = threading.Lock()
        self._places: dict[str, Place] = {p.id: p for p in places}
        self._live = LiveLayer(near_m=self.near_m)
        self._pending = 0
        self._view = _View(snapshot=self._build(), dead=None)

    def _build(self) -> Snapshot:
        return Snapshot(
            list(self._places.values()), near_m=self.near_m, cell_m=self.settings.cell_m
        )

    def __len__(self) -> int:
        return len(self._places)

    def __contains__(self, place_id: object) -> bool:
        return place_id in self._places

    def get(self, place_id: str) -> Place | None:
        """The place with this id, or None."""
        return self._places.get(place_id)

    def places(self) -> list[Place]:
        """All places, in no particular order."""
        return list(self._places.values())

    def upsert(self, place: Place) -> None:
        """Insert a place, or replace the one with the same id; live, no rebuild needed."""
        with self._lock:
            self._forget(place.id)
            self._live.add(place)
            self._places[place.id] = place
            self._pending += 1

    def remove(self, place_id: str) -> Place:
        """Remove a place and return it; raises IndexUsageError for an unknown id."""
        with self._lock:
            place = self._places.pop(place_id, None)
            if place is None:
                raise IndexUsageError(f"no place {place_id!r} in the index")
            self._forget(place_id)
            self._pending += 1
            return place

    def _forget(self, place_id: str) -> None:
        """Hide the current version of a place from queries (lock held)."""
        if self._live.drop(place_id):
            return
        slot = self._view.snapshot.slot_of.get(place_id)
        if slot is None:
            return
        view = self._view
        dead = np.zeros(len(view.snapshot), dtype=bool) if view.dead is None else view.dead
        if dead[slot]:
            return
        # Copy on write: a query that already holds the old mask keeps a consistent view.
        dead = dead.copy()
        dead[slot] = True
        self._view = _View(snapshot=view.snapshot, dead=dead)

    def rebuild(self) -> None:
        """Fold every change into a new snapshot now, and swap it in."""
        with self._lock:
            snapshot = self._build()
            self._live = LiveLayer(near_m=self.near_m)
            self._pending = 0
            self._view = _View(snapshot=snapshot, dead=None)

    @property
    def pending_changes(self) -> int:
        """Changes absorbed by the live layer since the last snapshot."""
        return self._pending

    def match(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> Matches:
        """The places that cover each point (boundary included, like PostGIS ST_Covers)."""
        return self._query(lats, lons, 0.0)

    def near(self, lats: npt.ArrayLike, lons: npt.ArrayLike, within_m: float) -> Matches:
        """The places within ``within_m`` metres of each point, with the distance outside.

        A place is listed when the point is inside it (distance 0) or at most ``within_m``
        metres outside it; ``within_m`` may not exceed the index's ``near_m``.
        """
        if not 0.0 <= within_m <= self.near_m:
            raise IndexUsageError(
                f"within_m={within_m} must be between 0 and the index's near_m={self.near_m}"
            )
        return self._query(lats, lons, float(within_m))

    def match_one(self, lat: float, lon: float) -> list[str]:
        """Sorted ids of the places covering one point."""
        return self.match([lat], [lon]).ids(0)

    def _query(self, lats: npt.ArrayLike, lons: npt.ArrayLike, within_m: float) -> Matches:
        lat_arr = np.asarray(lats, dtype=np.float64).ravel()
        lon_arr = np.asarray(lons, dtype=np.float64).ravel()
        if lat_arr.shape != lon_arr.shape:
            raise IndexUsageError("lats and lons must have the same length")
        with self._lock:
            if self._pending and self._pending >= self.settings.rebuild_after:
                self._live = LiveLayer(near_m=self.near_m)
                self._pending = 0
                self._view = _View(snapshot=self._build(), dead=None)
            view = self._view
            live = self._live if len(self._live) else None
            pings = Pings.of(lat_arr, lon_arr)
            live_hits = live.query(pings, within_m) if live is not None else None
        return _assemble(view, pings, within_m, live_hits)


def _assemble(
    view: _View,
    pings: Pings,
    within_m: float,
    live_hits: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.float64]]
    | None,
) -> Matches:
    """Query the snapshot chunk by chunk, mask dead slots, merge the live layer's hits."""
    snap = view.snapshot
    n = len(pings)
    points, slots, dists = [], [], []
    for lo in range(0, n, CHUNK):
        chunk = pings.take(slice(lo, lo + CHUNK))
        if within_m <= 0.0:
            p, s = snap.match(chunk)
            d = _NO_DISTANCES
        else:
            p, s, d = snap.query(chunk, within_m)
        points.append(p + lo)
        slots.append(s)
        dists.append(d)
    point = np.concatenate(points) if points else np.zeros(0, dtype=np.int64)
    slot = np.concatenate(slots) if slots else np.zeros(0, dtype=np.int64)
    dist = np.zeros(len(point)) if within_m <= 0.0 else np.concatenate(dists or [_NO_DISTANCES])
    if view.dead is not None:
        alive = ~view.dead[slot]
        point, slot, dist = point[alive], slot[alive], dist[alive]
    ids = snap.table.ids[slot]
    if live_hits is not None and len(live_hits[0]):
        point, ids, dist = _merge_live(snap, point, slot, ids, dist, live_hits)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(point, minlength=n), out=offsets[1:])
    return Matches(offsets=offsets, place_ids=ids, distance_m=dist)


def _merge_live(
    snap: Snapshot,
    point: npt.NDArray[np.int64],
    slot: npt.NDArray[np.int64],
    ids: npt.NDArray[np.object_],
    dist: npt.NDArray[np.float64],
    live_hits: tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.float64]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """Interleave live hits with the snapshot's, keeping rows sorted by point, then id.

    Snapshot ids are sorted by slot already: slot ``s`` ranks ``(s + 1) * width``. A live id
    that would be inserted before slot ``p`` (``searchsorted``) ranks ``p * width + 1 + k``,
    ``k`` its place among the live ids, so it falls between slots ``p - 1`` and ``p``. An id
    is never in both: its snapshot slot is dead once it is live.
    """
    live_point, live_ids, live_dist = live_hits
    uniq = np.array(sorted(set(live_ids.tolist())), dtype=object)
    width = len(uniq) + 1
    live_rank = np.searchsorted(snap.table.ids, live_ids) * width + 1
    live_rank += np.searchsorted(uniq, live_ids)
    rank = np.concatenate([(slot + 1) * width, live_rank])
    point = np.concatenate([point, live_point])
    order = np.lexsort((rank, point))
    return (
        point[order],
        np.concatenate([ids, live_ids])[order],
        np.concatenate([dist, live_dist])[order],
    )
