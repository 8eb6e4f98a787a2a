"""The in-memory place index: which places cover, or are near, a batch of points.

PLACEHOLDER IMPLEMENTATION (brute force) — the public API below is the contract; the fast
implementation (rtree for live changes + vectorised grid snapshot) replaces the internals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geotrigger.config import IndexSettings
from geotrigger.errors import IndexUsageError
from geotrigger.model import Place
from geotrigger.spatial.brute import brute_force_near


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


class PlaceIndex:
    """Places in memory, for matching batches of points.

    ``near_m`` is the widest ``within_m`` that :meth:`near` will be asked for; the index is
    built to answer it without a rebuild.
    """

    def __init__(
        self,
        places: Iterable[Place] = (),
        *,
        near_m: float = 0.0,
        settings: IndexSettings | None = None,
    ) -> None:
        self.near_m = near_m
        self.settings = settings or IndexSettings()
        self._places: dict[str, Place] = {}
        for place in places:
            self.upsert(place)

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
        self._places[place.id] = place

    def remove(self, place_id: str) -> Place:
        """Remove a place and return it; raises IndexUsageError for an unknown id."""
        try:
            return self._places.pop(place_id)
        except KeyError:
            raise IndexUsageError(f"no place {place_id!r} in the index") from None

    def match(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> Matches:
        """The places that cover each point (boundary included, like PostGIS ST_Covers)."""
        return self.near(lats, lons, 0.0)

    def near(self, lats: npt.ArrayLike, lons: npt.ArrayLike, within_m: float) -> Matches:
        """The places within ``within_m`` metres of each point, with the distance outside."""
        if within_m > self.near_m:
            raise IndexUsageError(f"within_m={within_m} is wider than the index's near_m")
        lat_arr = np.asarray(lats, dtype=np.float64).ravel()
        lon_arr = np.asarray(lons, dtype=np.float64).ravel()
        if lat_arr.shape != lon_arr.shape:
            raise IndexUsageError("lats and lons must have the same length")
        offsets = [0]
        ids: list[str] = []
        dists: list[float] = []
        places = list(self._places.values())
        for lat, lon in zip(lat_arr.tolist(), lon_arr.tolist(), strict=True):
            found = brute_force_near(places, lat, lon, within_m)
            for pid in sorted(found):
                ids.append(pid)
                dists.append(found[pid])
            offsets.append(len(ids))
        return Matches(
            offsets=np.asarray(offsets, dtype=np.int64),
            place_ids=np.asarray(ids, dtype=object),
            distance_m=np.asarray(dists, dtype=np.float64),
        )

    def match_one(self, lat: float, lon: float) -> list[str]:
        """Sorted ids of the places covering one point."""
        return self.match([lat], [lon]).ids(0)
