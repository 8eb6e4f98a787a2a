"""The filters a ping passes before any matching, each rejection counted by reason.

Two kinds, in this order:

* **static** checks need only the ping and ``now``: coordinates that are non-finite or out of
  range, exactly (0, 0), an invalid or too-poor accuracy, a timestamp too far in the future or
  the past;
* **history** checks need what the device did before: a duplicate (same id, or same device and
  timestamp, among the recently accepted pings), a ping older than the last accepted one
  (out of order), and a jump from the last accepted ping at an impossible speed. The speed is
  measured on the distance minus both fixes' accuracies, so two honest but noisy fixes a
  second apart are not a teleport.

``now`` is injected as epoch seconds. The live service passes the wall clock; a replay passes
``--now`` when given, else the newest accepted event time so far (so "too old" means "older
than ``max_age_s`` behind the stream", and "future" means a jump of more than ``max_age_s``
ahead of it: a broken clock, not a pause in the stream).

Only accepted pings become history: a rejected ping changes nothing, which is what makes a
re-sent ping reject the same way twice.

For a whole batch, :meth:`PingFilter.suspects` runs the checks of coordinates and accuracy on
columns at once and names the few pings that may fail them; only those need :meth:`static`
one by one (which then says why), the rest only its two comparisons of time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Container, Sequence

import numpy as np
import numpy.typing as npt

from geotrigger.config import FilterSettings
from geotrigger.model import Ping, Rejection, RejectReason
from geotrigger.spatial.geodesy import EARTH_RADIUS_M, METRES_PER_DEGREE_LAT

_isfinite = math.isfinite
_radians = math.radians
_METRES_PER_DEGREE = float(METRES_PER_DEGREE_LAT)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points.

    Fixes of one device a few seconds apart are close: for them an equirectangular step
    (error under 0.1 % within a degree, away from the poles) costs a third of the haversine,
    which is kept for everything else.
    """
    dlat = lat2 - lat1
    dlon = (lon2 - lon1 + 540.0) % 360.0 - 180.0  # across the antimeridian too
    if -1.0 < dlat < 1.0 and -1.0 < dlon < 1.0 and -80.0 < lat1 < 80.0:
        x = dlon * math.cos(_radians(lat1 + dlat / 2.0))
        return _METRES_PER_DEGREE * math.sqrt(x * x + dlat * dlat)
    p1, p2 = _radians(lat1), _radians(lat2)
    a = (
        math.sin((p2 - p1) / 2.0) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(_radians(dlon) / 2.0) ** 2
    )
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def implied_speed_mps(
    prev: Ping, prev_ts: float, ping: Ping, ts: float, prev_acc: float, acc: float
) -> float:
    """Speed from ``prev`` to ``ping``, not counting the distance their accuracies explain."""
    dt = ts - prev_ts
    if dt <= 0.0:
        return 0.0
    moved = distance_m(prev.lat, prev.lon, ping.lat, ping.lon) - prev_acc - acc
    return moved / dt if moved > 0.0 else 0.0


class PingFilter:
    """Applies the filters and counts the rejections by reason in :attr:`counts`."""

    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings
        self.counts: Counter[RejectReason] = Counter()

    def _reject(self, ping: Ping, reason: RejectReason, detail: str) -> Rejection:
        self.counts[reason] += 1
        return Rejection(
            reason=reason,
            detail=detail,
            device_id=ping.device_id,
            ping_id=ping.id,
            timestamp=ping.timestamp,
        )

    def static(
        self, ping: Ping, ts: float, now: float, future_limit_s: float | None = None
    ) -> Rejection | None:
        """Checks that need no history; ``ts`` is the ping's epoch seconds, ``now`` too.

        ``future_limit_s`` replaces ``max_future_s`` (a replay judged on event time allows more).
        """
        lat, lon = ping.lat, ping.lon
        if not (_isfinite(lat) and _isfinite(lon) and -90.0 <= lat <= 90.0):
            return self._reject(ping, RejectReason.INVALID_COORDINATES, _coord_detail(lat, lon))
        if not -180.0 <= lon <= 180.0:
            return self._reject(ping, RejectReason.INVALID_COORDINATES, _coord_detail(lat, lon))
        if lat == 0.0 and lon == 0.0:
            return self._reject(ping, RejectReason.NULL_ISLAND, "position is exactly (0, 0)")
        acc = ping.accuracy_m
        s = self.settings
        if acc is not None:
            if not (_isfinite(acc) and acc >= 0.0):
                return self._reject(
                    ping, RejectReason.INVALID_ACCURACY, f"accuracy_m {acc} is not a distance"
                )
            if acc > s.max_accuracy_m:
                detail = f"accuracy_m {acc:g} is worse than the limit {s.max_accuracy_m:g}"
                return self._reject(ping, RejectReason.POOR_ACCURACY, detail)
        limit = s.max_future_s if future_limit_s is None else future_limit_s
        if ts > now + limit:
            detail = f"{ts - now:.0f} s ahead of now (limit {limit:g} s)"
            return self._reject(ping, RejectReason.FUTURE, detail)
        if ts < now - s.max_age_s:
            detail = f"{now - ts:.0f} s behind now (limit {s.max_age_s:g} s)"
            return self._reject(ping, RejectReason.TOO_OLD, detail)
        return None

    def suspects(
        self,
        pings: Sequence[Ping],
        lat: npt.NDArray[np.float64],
        lon: npt.NDArray[np.float64],
        accuracy_m: npt.NDArray[np.float64],
    ) -> set[int]:
        """Positions in ``pings`` that may fail a check of :meth:`static` other than time.

        The columns are the pings' fields (``accuracy_m`` NaN where a ping has none). Every
        ping that :meth:`static` would reject for its coordinates or accuracy is named; a few
        more may be (it decides).
        """
        with np.errstate(invalid="ignore"):
            ok = (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0) & ((lat != 0.0) | (lon != 0.0))
            ok &= ~(accuracy_m < 0.0) & ~(accuracy_m > self.settings.max_accuracy_m)
            ok &= ~np.isinf(accuracy_m)
        suspects = set(np.flatnonzero(~ok).tolist())
        unknown = np.isnan(accuracy_m)
        if unknown.any():  # no accuracy (fine) or a NaN one (invalid): only the ping can tell
            suspects.update(
                i for i in np.flatnonzero(unknown).tolist() if pings[i].accuracy_m is not None
            )
        return suspects

    def history(
        self,
        ping: Ping,
        ts: float,
        last: Ping | None,
        last_ts: float,
        recent: Container[object],
        default_accuracy_m: float = 0.0,
    ) -> Rejection | None:
        """Checks against the device's last accepted ping and its recent ids and times.

        ``recent`` holds the ids (str) and timestamps (epoch float) of recently accepted pings.
        """
        if (ping.id is not None and ping.id in recent) or ts in recent:
            what = "id" if ping.id is not None and ping.id in recent else "device and timestamp"
            return self._reject(ping, RejectReason.DUPLICATE, f"same {what} as an accepted ping")
        if last is None:
            return None
        if ts < last_ts:
            detail = f"{last_ts - ts:.1f} s older than the device's last accepted ping"
            return self._reject(ping, RejectReason.OUT_OF_ORDER, detail)
        prev_acc = last.accuracy_m if last.accuracy_m is not None else default_accuracy_m
        acc = ping.accuracy_m if ping.accuracy_m is not None else default_accuracy_m
        speed = implied_speed_mps(last, last_ts, ping, ts, prev_acc, acc)
        if speed > self.settings.max_speed_mps:
            limit = self.settings.max_speed_mps
            detail = f"implied speed {speed:.0f} m/s from the last accepted ping (limit {limit:g})"
            return self._reject(ping, RejectReason.IMPOSSIBLE_SPEED, detail)
        return None


def _coord_detail(lat: float, lon: float) -> str:
    # Only say which part is wrong: the values are a device's position and stay out of text.
    if not (_isfinite(lat) and _isfinite(lon)):
        return "latitude or longitude is not a finite number"
    if not -90.0 <= lat <= 90.0:
        return "latitude is outside [-90, 90]"
    return "longitude is outside [-180, 180]"
