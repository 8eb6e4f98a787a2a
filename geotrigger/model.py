"""Frozen value objects shared by every layer.

Invariants are checked when an object is built, so code that holds one can trust it.
Times are timezone-aware UTC. Coordinates are WGS 84 degrees; longitudes in [-180, 180].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias

from shapely.geometry.base import BaseGeometry

MIN_RADIUS_M = 1.0
MAX_RADIUS_M = 50_000.0

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _require_utc(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be timezone-aware UTC, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Circle:
    """A circular place: centre and radius in metres, matched by great-circle distance."""

    lat: float
    lon: float
    radius_m: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"circle latitude {self.lat} is outside [-90, 90]")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"circle longitude {self.lon} is outside [-180, 180]")
        if not (math.isfinite(self.radius_m) and MIN_RADIUS_M <= self.radius_m <= MAX_RADIUS_M):
            raise ValueError(
                f"radius_m {self.radius_m} is outside [{MIN_RADIUS_M:g}, {MAX_RADIUS_M:g}] m"
            )


# A polygonal place is a shapely Polygon or MultiPolygon in (lon, lat) order, valid, with
# longitudes in [-180, 180]: rings crossing the antimeridian are already split at load time.
Geometry: TypeAlias = Circle | BaseGeometry


class OpeningHours(Protocol):
    """Opening hours of a place, evaluated in the place's own time zone."""

    @property
    def expression(self) -> str:
        """The text the hours were parsed from (OpenStreetMap ``opening_hours`` syntax)."""
        ...

    def is_open(self, at: datetime) -> bool:
        """Whether the place is open at the UTC instant ``at``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """A store or point of interest that moments can be tied to."""

    id: str
    name: str
    geometry: Geometry
    brand: str | None = None
    tags: frozenset[str] = frozenset()
    timezone: str | None = None  # IANA zone, required with opening hours
    opening_hours: OpeningHours | None = None
    dwell_s: float | None = None  # per-place dwell time, overrides the default
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ValueError("place id must be a non-empty string")
        if self.opening_hours is not None and self.timezone is None:
            raise ValueError(f"place {self.id!r} has opening hours but no time zone")
        if self.dwell_s is not None and not (math.isfinite(self.dwell_s) and self.dwell_s >= 0):
            raise ValueError(f"place {self.id!r}: dwell_s must be a non-negative number")
        if not isinstance(self.metadata, MappingProxyType):
            object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def is_circle(self) -> bool:
        """True for a centre-and-radius place."""
        return isinstance(self.geometry, Circle)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping:
    """One location fix of one device, as accepted by the parsers (not yet filtered)."""

    device_id: str
    lat: float
    lon: float
    timestamp: datetime
    id: str | None = None
    accuracy_m: float | None = None
    speed_mps: float | None = None
    consumer_id: str | None = None
    signals: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    # The timestamp as epoch seconds, derived once: the unit ordering, filters and transitions
    # compare in, so that no datetime arithmetic runs per ping on the hot path.
    epoch_s: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.device_id:
            raise ValueError("ping device_id must be a non-empty string")
        _require_utc("ping timestamp", self.timestamp)
        if not isinstance(self.signals, MappingProxyType):
            object.__setattr__(self, "signals", MappingProxyType(dict(self.signals)))
        object.__setattr__(self, "epoch_s", self.timestamp.timestamp())

    @property
    def key(self) -> str:
        """Idempotency key: the ping id, or device and timestamp when there is none."""
        return ping_key(self.device_id, self.id, self.timestamp)


def ping_key(device_id: str, ping_id: str | None, timestamp: datetime | None) -> str:
    """A ping's idempotency key: its id, or its device and time when it has none (events name
    their ping so: a transition or rejection finds its ping by this key)."""
    if ping_id is not None:
        return ping_id
    if timestamp is None:
        raise ValueError("a ping without an id is known by its time: give one")
    return f"{device_id}@{timestamp.isoformat()}"


_PING_SLOTS = (
    "device_id",
    "lat",
    "lon",
    "timestamp",
    "epoch_s",
    "id",
    "accuracy_m",
    "speed_mps",
    "consumer_id",
    "signals",
)
_new = object.__new__
(
    _set_device_id,
    _set_lat,
    _set_lon,
    _set_timestamp,
    _set_epoch_s,
    _set_id,
    _set_accuracy_m,
    _set_speed_mps,
    _set_consumer_id,
    _set_signals,
) = (getattr(Ping, name).__set__ for name in _PING_SLOTS)


def trusted_ping(
    device_id: str,
    lat: float,
    lon: float,
    timestamp: datetime,
    epoch_s: float,
    ping_id: str | None,
    accuracy_m: float | None,
    speed_mps: float | None,
    consumer_id: str | None,
    signals: MappingProxyType[str, float],
) -> Ping:
    """A Ping from values a parser has already checked, without checking them again.

    Only for parsers: ``device_id`` non-empty, ``timestamp`` aware UTC with ``epoch_s`` its
    epoch seconds, ``signals`` a read-only mapping. The checks of :class:`Ping` cost more than
    the parse itself; everything else builds pings with the checking constructor.
    """
    ping = _new(Ping)
    _set_device_id(ping, device_id)
    _set_lat(ping, lat)
    _set_lon(ping, lon)
    _set_timestamp(ping, timestamp)
    _set_epoch_s(ping, epoch_s)
    _set_id(ping, ping_id)
    _set_accuracy_m(ping, accuracy_m)
    _set_speed_mps(ping, speed_mps)
    _set_consumer_id(ping, consumer_id)
    _set_signals(ping, signals)
    return ping


class RejectReason(StrEnum):
    """Why a ping was filtered out before matching. Each is counted."""

    INVALID_COORDINATES = "invalid_coordinates"  # non-finite or out of range
    NULL_ISLAND = "null_island"  # exactly (0, 0): a GPS default, not a fix
    POOR_ACCURACY = "poor_accuracy"  # accuracy_m worse than the configured limit
    INVALID_ACCURACY = "invalid_accuracy"  # negative or non-finite accuracy
    FUTURE = "future"  # timestamp too far ahead of now
    TOO_OLD = "too_old"  # timestamp too far behind now
    DUPLICATE = "duplicate"  # same id, or same device and timestamp, seen before
    OUT_OF_ORDER = "out_of_order"  # older than the device's last accepted ping
    IMPOSSIBLE_SPEED = "impossible_speed"  # implied speed from the last accepted ping
    MALFORMED = "malformed"  # a record of a ping file that does not parse
    DEVICE_NOT_ALLOWED = "device_not_allowed"  # the API key may not post for this device


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """A ping (or a record that was meant to be one) that was filtered out, and why."""

    reason: RejectReason
    detail: str
    device_id: str | None = None
    ping_id: str | None = None
    timestamp: datetime | None = None
    line: int | None = None  # where in the input file, when it came from one


class TransitionKind(StrEnum):
    """What a device did relative to a place."""

    ENTER = "enter"
    DWELL = "dwell"
    EXIT = "exit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """An enter, dwell or exit of one device at one place, at the time of a ping."""

    kind: TransitionKind
    device_id: str
    place_id: str
    at: datetime  # event time: the timestamp of the ping that made it (or of the change)
    ping_id: str | None = None
    consumer_id: str | None = None
    entered_at: datetime | None = None  # start of the visit: its first fix (enter, dwell, exit)
    duration_s: float | None = None  # time inside so far (dwell) or the visit's length (exit)
    distance_m: float | None = None  # distance of the fix outside the place, 0 when inside
    # why, when not a plain movement: e.g. "place removed", "signal lost"
    reason: str | None = None

    def __post_init__(self) -> None:
        _require_utc("transition time", self.at)


(
    _set_kind,
    _set_t_device_id,
    _set_place_id,
    _set_at,
    _set_ping_id,
    _set_t_consumer_id,
    _set_entered_at,
    _set_duration_s,
    _set_distance_m,
    _set_reason,
) = (
    getattr(Transition, name).__set__
    for name in (
        "kind",
        "device_id",
        "place_id",
        "at",
        "ping_id",
        "consumer_id",
        "entered_at",
        "duration_s",
        "distance_m",
        "reason",
    )
)


def transition_at_ping(
    kind: TransitionKind,
    ping: Ping,
    place_id: str,
    distance_m: float | None,
    entered_at: datetime | None,
    duration_s: float | None,
    reason: str | None = None,
) -> Transition:
    """The transition at a ping's time, built without re-checking what the Ping guarantees.

    Its time is the ping's timestamp, already aware UTC: the engine emits one of these for a
    large share of pings, and the check of :class:`Transition` would cost more than the rest.
    """
    event = _new(Transition)
    _set_kind(event, kind)
    _set_t_device_id(event, ping.device_id)
    _set_place_id(event, place_id)
    _set_at(event, ping.timestamp)
    _set_ping_id(event, ping.id)
    _set_t_consumer_id(event, ping.consumer_id)
    _set_entered_at(event, entered_at)
    _set_duration_s(event, duration_s)
    _set_distance_m(event, distance_m)
    _set_reason(event, reason)
    return event
