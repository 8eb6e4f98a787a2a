"""Every filter reason, each counted, and what passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from geotrigger.config import FilterSettings
from geotrigger.engine.columns import Columns
from geotrigger.model import Ping, RejectReason
from geotrigger.pings import PingFilter

NOW = datetime(2026, 6, 12, 12, 0, tzinfo=UTC)
LAT, LON = 60.1699, 24.9384


def ping(**kw: object) -> Ping:
    """A plausible fix at NOW, changed by ``kw``."""
    fields: dict[str, object] = {"device_id": "d", "lat": LAT, "lon": LON, "timestamp": NOW}
    return Ping(**{**fields, **kw})  # type: ignore[arg-type]


LAST = ping(timestamp=NOW - timedelta(seconds=60), id="p0", accuracy_m=10.0)
RECENT = {"p0", (NOW - timedelta(seconds=60)).timestamp()}


@pytest.mark.parametrize(
    ("candidate", "reason", "detail"),
    [
        # NaN latitude
        (ping(lat=float("nan")), RejectReason.INVALID_COORDINATES, "not a finite number"),
        # latitude past the pole
        (ping(lat=91.0), RejectReason.INVALID_COORDINATES, "latitude is outside"),
        # longitude past the antimeridian
        (ping(lon=-181.0), RejectReason.INVALID_COORDINATES, "longitude is outside"),
        # the GPS default position
        (ping(lat=0.0, lon=0.0), RejectReason.NULL_ISLAND, "exactly (0, 0)"),
        # a negative accuracy is no distance
        (ping(accuracy_m=-5.0), RejectReason.INVALID_ACCURACY, "not a distance"),
        # an infinite accuracy neither
        (ping(accuracy_m=float("inf")), RejectReason.INVALID_ACCURACY, "not a distance"),
        # a cell-tower fix, worse than the 200 m limit
        (ping(accuracy_m=1500.0), RejectReason.POOR_ACCURACY, "worse than the limit 200"),
        # a clock 10 minutes ahead
        (ping(timestamp=NOW + timedelta(minutes=10)), RejectReason.FUTURE, "600 s ahead"),
        # eight days old
        (ping(timestamp=NOW - timedelta(days=8)), RejectReason.TOO_OLD, "behind now"),
        # the same id again
        (ping(id="p0", timestamp=NOW), RejectReason.DUPLICATE, "same id"),
        # another id, but the same device and timestamp
        (ping(id="p9", timestamp=LAST.timestamp), RejectReason.DUPLICATE, "device and timestamp"),
        # older than the last accepted ping
        (ping(timestamp=NOW - timedelta(seconds=90)), RejectReason.OUT_OF_ORDER, "30.0 s older"),
        # 10 km in a minute (~166 m/s) from the last accepted fix
        (ping(lat=LAT + 0.09, accuracy_m=10.0), RejectReason.IMPOSSIBLE_SPEED, "implied speed"),
    ],
)
def test_each_reason_is_detected_and_counted(
    candidate: Ping, reason: RejectReason, detail: str
) -> None:
    """The static checks first, then the history ones; each rejection counted once."""
    f = PingFilter(FilterSettings())
    ts = candidate.timestamp.timestamp()
    rejection = f.static(candidate, ts, NOW.timestamp()) or f.history(
        candidate, ts, LAST, LAST.timestamp.timestamp(), RECENT
    )
    assert rejection is not None
    assert rejection.reason is reason
    assert detail in rejection.detail
    assert f.counts == {reason: 1}
    assert str(LAT)[:5] not in rejection.detail  # no device position in any message


@pytest.mark.parametrize(
    "candidate",
    [
        ping(),  # a plain fix a minute later, same place
        ping(accuracy_m=200.0),  # exactly at the accuracy limit
        ping(timestamp=NOW + timedelta(seconds=100)),  # a little ahead: clocks drift
        ping(lat=LAT + 0.003, accuracy_m=10.0),  # 330 m in 60 s: a car, fine
        # 150 m in a second is a jump, unless both fixes are that uncertain (10 m + 150 m)
        ping(lat=LAT + 0.00135, accuracy_m=150.0, timestamp=LAST.timestamp + timedelta(seconds=1)),
    ],
)
def test_plausible_pings_pass(candidate: Ping) -> None:
    """Nothing wrong, nothing counted."""
    f = PingFilter(FilterSettings())
    ts = candidate.timestamp.timestamp()
    assert f.static(candidate, ts, NOW.timestamp()) is None
    assert f.history(candidate, ts, LAST, LAST.timestamp.timestamp(), RECENT) is None
    assert not f.counts


STATIC_CASES = [
    ping(lat=float("nan")),
    ping(lon=float("inf")),
    ping(lat=91.0),
    ping(lat=-90.5),
    ping(lon=-181.0),
    ping(lon=180.5),
    ping(lat=0.0, lon=0.0),
    ping(accuracy_m=-5.0),
    ping(accuracy_m=float("inf")),
    ping(accuracy_m=float("nan")),
    ping(accuracy_m=1500.0),
]
CLEAN = [ping(), ping(accuracy_m=None), ping(accuracy_m=200.0), ping(lat=90.0, lon=-180.0)]


def test_suspects_name_every_ping_static_rejects_for_position_or_accuracy() -> None:
    """The columnar pre-check names every bad fix and none of the clean ones."""
    f = PingFilter(FilterSettings())
    pings = CLEAN + STATIC_CASES
    columns = Columns.of(pings)
    suspects = f.suspects(pings, columns.lat, columns.lon, columns.accuracy_m)
    assert suspects == set(range(len(CLEAN), len(pings)))
    for i in suspects:
        assert f.static(pings[i], NOW.timestamp(), NOW.timestamp()) is not None
    for candidate in CLEAN:
        assert f.static(candidate, NOW.timestamp(), NOW.timestamp()) is None
