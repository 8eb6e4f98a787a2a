"""The field readers the ping parsers share: numbers, epoch times, unknowns, signals.

geotrigger's own records (:mod:`~geotrigger.pings.parse`) and the client protocols (OwnTracks,
Overland, OsmAnd) read the same kinds of field, so each rule is written once here:

- A number field's error names the field and the *type* it got ("expected a number, got
  str"), never the value: the value may be a coordinate.
- Epoch seconds (and, where a client sends them, milliseconds) become aware UTC datetimes;
  a value out of range names the field.
- An accuracy that is missing, zero or negative is unknown (None): a real fix never has a zero
  radius. A speed that is missing, negative or not finite is unknown: phones send -1.
- Battery, altitude and heading become signals only when in range.
- A client's fix becomes a Ping through :func:`client_ping`, which applies those rules of
  unknowns: a client app names a device, never a consumer.

Private to :mod:`geotrigger.pings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeGuard

from geotrigger.errors import PingError, Where
from geotrigger.model import Ping, Rejection, RejectReason, trusted_ping

MILLISECONDS_FROM = 1e11  # an epoch value this large is milliseconds (10^11 s is year 5138)
NO_SIGNALS: MappingProxyType[str, float] = MappingProxyType({})
_MILLISECONDS_HINT = " (epoch milliseconds? seconds are expected)"
_SHOWN_LENGTH = 40  # a quoted value (a timestamp, a type name) is cut to this many characters

_NUMBER_OR_TEXT = (int, float, str)  # a tuple: isinstance is quicker with it than a union
_fromtimestamp = datetime.fromtimestamp


# --- numbers --------------------------------------------------------------------------------


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a JSON number (an int or a float, not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(value: object, field: str, where: Where | None = None) -> float:
    """A number or a numeric string as a float; PingError naming ``field`` and the type else.

    The value itself is never quoted: it may be a coordinate.
    """
    if type(value) is float:  # the common case, first and cheapest: this runs for every field
        return value
    if isinstance(value, _NUMBER_OR_TEXT) and type(value) is not bool:
        try:
            return float(value)
        except ValueError:
            pass
    raise PingError(f"field {field!r}: expected a number, got {type(value).__name__}", where=where)


def optional_number(value: object, field: str, where: Where | None = None) -> float | None:
    """As :func:`number`, but missing (None or an empty string) is None."""
    if type(value) is float:
        return value
    if value is None or value == "":
        return None
    return number(value, field, where)


def required_number(value: object, field: str) -> float:
    """As :func:`number`; missing (None or an empty string) is an error naming ``field``."""
    if value is None or value == "":
        raise PingError(f"field {field!r} is missing")
    return number(value, field)


def number_field(record: Mapping[str, Any], name: str) -> float | None:
    """The field ``name`` of ``record`` as :func:`optional_number` reads it, named as itself."""
    return optional_number(record.get(name), name)


def required_number_field(record: Mapping[str, Any], name: str) -> float:
    """The field ``name`` of ``record`` as :func:`required_number` reads it."""
    return required_number(record.get(name), name)


def json_number(value: object, field: str) -> float | None:
    """A JSON number (numeric strings refused) as a float; None when missing or null."""
    if value is None:
        return None
    if is_number(value):
        return float(value)
    raise PingError(f"field {field!r}: expected a number, got {type(value).__name__}")


# --- times ----------------------------------------------------------------------------------


def utc_from_epoch(seconds: float, field: str, where: Where | None = None) -> datetime:
    """Epoch seconds as an aware UTC datetime; PingError naming ``field`` when out of range
    (with a hint when the value looks like milliseconds)."""
    try:
        return _fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        hint = _MILLISECONDS_HINT if abs(seconds) >= MILLISECONDS_FROM else ""
        raise _out_of_range(field, seconds, hint, where) from None


def utc_from_epoch_or_milliseconds(value: float, field: str) -> datetime:
    """Epoch seconds, or milliseconds from :data:`MILLISECONDS_FROM` on (for clients that send
    either), as an aware UTC datetime; PingError naming ``field`` when out of range."""
    if abs(value) < MILLISECONDS_FROM:
        return utc_from_epoch(value, field)
    try:
        return _fromtimestamp(value / 1000.0, UTC)
    except (OverflowError, OSError, ValueError):
        raise _out_of_range(field, value) from None


def _out_of_range(
    field: str, value: float, hint: str = "", where: Where | None = None
) -> PingError:
    return PingError(f"field {field!r}: epoch value {value:g} is out of range{hint}", where=where)


def as_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC (itself when it already is)."""
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def epoch_text(seconds: float) -> str:
    """Epoch seconds without a trailing '.0' on a whole second, as clients send them."""
    return str(int(seconds)) if seconds.is_integer() else repr(seconds)


# --- unknowns and signals -------------------------------------------------------------------


def known_accuracy(metres: float | None) -> float | None:
    """The accuracy, or None when missing, zero or negative (or NaN): a real fix has a radius."""
    return metres if metres is not None and metres > 0.0 else None


def known_speed(metres_per_second: float | None) -> float | None:
    """The speed, or None when missing, negative or not finite (phones report -1)."""
    speed = metres_per_second
    return speed if speed is not None and 0.0 <= speed < math.inf else None


def signals(
    battery_pct: float | None, altitude_m: float | None, heading_deg: float | None
) -> MappingProxyType[str, float]:
    """Battery, altitude and heading as signals, each left out when unknown or out of range."""
    found: dict[str, float] = {}
    if battery_pct is not None and 0.0 <= battery_pct <= 100.0:
        found["battery_pct"] = round(battery_pct, 6)
    if altitude_m is not None and math.isfinite(altitude_m):
        found["altitude_m"] = altitude_m
    if heading_deg is not None and 0.0 <= heading_deg <= 360.0:
        found["heading_deg"] = heading_deg
    return MappingProxyType(found) if found else NO_SIGNALS


def client_ping(
    device: str,
    lat: float,
    lon: float,
    timestamp: datetime,
    epoch_s: float,
    ping_id: str,
    accuracy_m: float | None,
    speed_mps: float | None,
    found: MappingProxyType[str, float],
) -> Ping:
    """A client app's checked fix as a Ping: accuracy and speed as :func:`known_accuracy` and
    :func:`known_speed` read them, and no consumer (the apps name only their device).

    ``timestamp`` is aware UTC and ``epoch_s`` its epoch seconds, as :func:`trusted_ping`
    needs them.
    """
    return trusted_ping(
        device,
        lat,
        lon,
        timestamp,
        epoch_s,
        ping_id,
        known_accuracy(accuracy_m),
        known_speed(speed_mps),
        None,
        found,
    )


# --- text and rejections --------------------------------------------------------------------


def text_id(value: object) -> str | None:
    """A device id given as text (stripped) or a whole number; None when empty or another type."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def shown(value: object) -> str:
    """``value`` quoted for an error message, cut short: never a long payload in a log."""
    text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def malformed(detail: str, device: str | None = None) -> Rejection:
    """A client's fix that cannot be read, with what is wrong (and its device when known)."""
    return Rejection(reason=RejectReason.MALFORMED, detail=detail, device_id=device)
