"""A micro-batch of pings as columns: the numbers that vectorised steps read, once per batch.

The static filters (:meth:`~geotrigger.pings.filters.PingFilter.suspects`), the place index
and the accuracy of the hysteresis all read the same few fields of every ping of a batch.
Building each column once, as a numpy array, costs a few tens of nanoseconds per ping and
spares every one of those steps a Python loop over the pings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geotrigger.model import Ping

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Columns:
    """Latitude, longitude and accuracy (NaN where a ping has none) of a batch, by position."""

    lat: FloatArray
    lon: FloatArray
    accuracy_m: FloatArray

    @classmethod
    def of(cls, pings: Sequence[Ping]) -> Columns:
        """The columns of ``pings``, in their order."""
        return cls(
            lat=np.array([p.lat for p in pings], dtype=np.float64),
            lon=np.array([p.lon for p in pings], dtype=np.float64),
            accuracy_m=np.array([p.accuracy_m for p in pings], dtype=np.float64),
        )

    def take(self, rows: IndexArray) -> Columns:
        """The columns of the pings at positions ``rows`` (e.g. the accepted ones)."""
        return Columns(lat=self.lat[rows], lon=self.lon[rows], accuracy_m=self.accuracy_m[rows])
