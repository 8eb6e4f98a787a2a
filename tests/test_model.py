"""Invariants of the shared value objects, checked when they are built."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
import shapely

from geotrigger.model import (
    Circle,
    Ping,
    Place,
    Transition,
    TransitionKind,
    transition_at_ping,
    trusted_ping,
)

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # latitude past the pole
        ({"lat": 91.0, "lon": 0.0, "radius_m": 50.0}, "latitude"),
        # longitude past the antimeridian (must be normalised before)
        ({"lat": 0.0, "lon": 180.5, "radius_m": 50.0}, "longitude"),
        # NaN is not a coordinate
        ({"lat": float("nan"), "lon": 0.0, "radius_m": 50.0}, "latitude"),
        # a radius under a metre is no place
        ({"lat": 0.0, "lon": 0.0, "radius_m": 0.5}, "radius_m"),
        # a radius of a region, not a place
        ({"lat": 0.0, "lon": 0.0, "radius_m": 60_000.0}, "radius_m"),
    ],
)
def test_circle_refuses_bad_values(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Circle(**kwargs)


def test_place_with_hours_needs_a_time_zone() -> None:
    class Always:
        expression = "24/7"

        def is_open(self, at: datetime) -> bool:
            return True

    circle = Circle(lat=60.17, lon=24.94, radius_m=50.0)
    with pytest.raises(ValueError, match="no time zone"):
        Place(id="x", name="X", geometry=circle, opening_hours=Always())
    place = Place(
        id="x", name="X", geometry=circle, opening_hours=Always(), timezone="Europe/Helsinki"
    )
    assert place.is_circle


def test_place_metadata_is_read_only() -> None:
    place = Place(id="p", name="P", geometry=shapely.box(0, 0, 1, 1), metadata={"k": 1})
    assert not place.is_circle
    with pytest.raises(TypeError):
        place.metadata["k"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    "timestamp",
    [
        # naive: which zone was meant is unknowable
        datetime(2026, 6, 1, 12, 0),
        # aware but not UTC: converted at the boundary, never inside
        datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=3))),
    ],
)
def test_ping_timestamp_must_be_utc(timestamp: datetime) -> None:
    with pytest.raises(ValueError, match="UTC"):
        Ping(device_id="d", lat=0.1, lon=0.1, timestamp=timestamp)


def test_ping_key_is_id_or_device_and_time() -> None:
    with_id = Ping(device_id="d", lat=1.0, lon=1.0, timestamp=T0, id="p-1")
    without = Ping(device_id="d", lat=1.0, lon=1.0, timestamp=T0)
    assert with_id.key == "p-1"
    assert without.key == f"d@{T0.isoformat()}"


def test_transition_time_must_be_utc() -> None:
    with pytest.raises(ValueError, match="UTC"):
        Transition(kind=TransitionKind.ENTER, device_id="d", place_id="p", at=datetime(2026, 1, 1))


def test_ping_carries_its_epoch_seconds() -> None:
    """epoch_s is derived from the timestamp, also after replace(), and not compared."""
    ping = Ping(device_id="d", lat=1.0, lon=1.0, timestamp=T0)
    assert ping.epoch_s == T0.timestamp()
    later = replace(ping, timestamp=T0 + timedelta(seconds=90))
    assert later.epoch_s == T0.timestamp() + 90


def test_trusted_ping_equals_the_checked_one() -> None:
    """The parsers' fast constructor builds the same value as the checking one."""
    checked = Ping(
        device_id="d",
        lat=60.1,
        lon=24.9,
        timestamp=T0,
        id="p-1",
        accuracy_m=12.0,
        speed_mps=1.5,
        consumer_id="c",
        signals={"fatigue": 0.4},
    )
    trusted = trusted_ping(
        "d",
        60.1,
        24.9,
        T0,
        T0.timestamp(),
        "p-1",
        12.0,
        1.5,
        "c",
        MappingProxyType({"fatigue": 0.4}),
    )
    assert trusted == checked and repr(trusted) == repr(checked)
    assert trusted.epoch_s == checked.epoch_s
    with pytest.raises(FrozenInstanceError):
        trusted.lat = 0.0  # type: ignore[misc]


def test_transition_at_ping_equals_the_checked_one() -> None:
    """The engine's fast constructor takes time, ids and consumer from the ping."""
    ping = Ping(device_id="d", lat=1.0, lon=1.0, timestamp=T0, id="p-1", consumer_id="c")
    fast = transition_at_ping(TransitionKind.EXIT, ping, "cafe", 12.5, T0, 60.0)
    checked = Transition(
        kind=TransitionKind.EXIT,
        device_id="d",
        place_id="cafe",
        at=T0,
        ping_id="p-1",
        consumer_id="c",
        entered_at=T0,
        duration_s=60.0,
        distance_m=12.5,
    )
    assert fast == checked and repr(fast) == repr(checked)
