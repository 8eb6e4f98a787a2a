"""One record (a JSON object, a CSV row) to one :class:`~geotrigger.model.Ping`.

The parser checks types only: a field that is missing or of the wrong kind raises
:class:`~geotrigger.errors.PingError` naming the field (and the line, when known). Whether a
well-typed value is *plausible* — finite coordinates, an accuracy under the limit, a timestamp
near now — is the job of :mod:`geotrigger.pings.filters`, which counts each reason. Keeping
the two apart keeps this function short, which matters: it runs once per ping.

Timestamps are RFC 3339 strings with ``Z`` or an offset (``2026-06-12T10:15:30Z``,
``2026-06-12T12:15:30+02:00``) or epoch seconds (int, float or a numeric string), and always
come out as aware UTC. A string without a zone is refused rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from geotrigger.errors import PingError, Where
from geotrigger.model import Ping, trusted_ping

REQUIRED_FIELDS = ("device_id", "lat", "lon", "timestamp")
OPTIONAL_FIELDS = ("id", "accuracy_m", "speed_mps", "consumer_id", "signals")

_NO_SIGNALS: MappingProxyType[str, float] = MappingProxyType({})
_fromisoformat = datetime.fromisoformat
_fromtimestamp = datetime.fromtimestamp


def parse_timestamp(value: object, *, where: Where | None = None) -> datetime:
    """An RFC 3339 string or epoch seconds as an aware UTC datetime; PingError otherwise."""
    if isinstance(value, str):
        try:
            parsed = _fromisoformat(value)
        except ValueError:
            return _epoch_string(value, where)
        if parsed.tzinfo is None:
            raise PingError(
                f"field 'timestamp': {value!r} has no time zone (add 'Z' or an offset)",
                where=where,
            )
        return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value), where)
    raise PingError(
        f"field 'timestamp': expected an RFC 3339 string or epoch seconds, "
        f"got {type(value).__name__}",
        where=where,
    )


def _epoch_string(value: str, where: Where | None) -> datetime:
    try:
        seconds = float(value)
    except ValueError:
        raise PingError(
            f"field 'timestamp': {value!r} is neither RFC 3339 nor epoch seconds", where=where
        ) from None
    return _from_epoch(seconds, where)


def _from_epoch(seconds: float, where: Where | None) -> datetime:
    try:
        return _fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        hint = " (epoch milliseconds? seconds are expected)" if abs(seconds) > 1e11 else ""
        raise PingError(
            f"field 'timestamp': epoch value {seconds:g} is out of range{hint}", where=where
        ) from None


def _number(record: Mapping[str, Any], name: str, where: Where | None) -> float:
    value = record.get(name)
    if type(value) is float:  # the common case, first and cheapest
        return value
    if value is None:
        raise PingError(f"missing field {name!r}", where=where)
    return _as_float(value, name, where)


def _as_float(value: object, label: str, where: Where | None) -> float:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    # the value is not quoted: it may be a coordinate
    raise PingError(f"field {label!r}: expected a number, got {type(value).__name__}", where=where)


def _optional_number(record: Mapping[str, Any], name: str, where: Where | None) -> float | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    return _number(record, name, where)


def _text(record: Mapping[str, Any], name: str, where: Where | None) -> str | None:
    value = record.get(name)
    if value is None or type(value) is str:
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric ids are common in exports; their text form is the id
    raise PingError(f"field {name!r}: expected a string, got {type(value).__name__}", where=where)


def _signals(value: object, where: Where | None) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise PingError("field 'signals': expected an object of name -> number", where=where)
    # A null signal is "not measured this time", not an error; NaN or infinity is an error
    # (a threshold cannot be crossed by it, and JSON cannot store it).
    signals = {
        str(name): _as_float(raw, f"signals.{name}", where)
        for name, raw in value.items()
        if raw is not None
    }
    for name, number in signals.items():
        if not math.isfinite(number):
            raise PingError(f"field 'signals.{name}': expected a finite number", where=where)
    return signals


def parse_ping(record: Mapping[str, Any], *, where: Where | None = None) -> Ping:
    """Build a Ping from one decoded record; PingError names the field that is wrong.

    Unknown fields are ignored, so that clients can send more than geotrigger reads. A
    negative or non-finite ``speed_mps`` means "unknown" (phones report -1) and becomes None.
    """
    if type(record) is not dict and not isinstance(record, Mapping):
        raise PingError(f"expected an object, got {type(record).__name__}", where=where)
    # Each field is first tried for its common type inline; the helpers handle the rest and
    # the errors. This function runs once per ping, so the fast path is worth the lines.
    get = record.get
    device_id = get("device_id")
    if type(device_id) is not str or not device_id:
        device_id = _text(record, "device_id", where)
        if device_id is None:
            raise PingError("missing field 'device_id'", where=where)
    lat = get("lat")
    if type(lat) is not float:
        lat = _number(record, "lat", where)
    lon = get("lon")
    if type(lon) is not float:
        lon = _number(record, "lon", where)
    raw_time = get("timestamp")
    if raw_time is None or raw_time == "":
        raise PingError("missing field 'timestamp'", where=where)
    timestamp = parse_timestamp(raw_time, where=where)
    ping_id = get("id")
    if ping_id is not None and type(ping_id) is not str:
        ping_id = _text(record, "id", where)
    accuracy = get("accuracy_m")
    if accuracy is not None and type(accuracy) is not float:
        accuracy = _optional_number(record, "accuracy_m", where)
    speed = get("speed_mps")
    if speed is not None:
        if type(speed) is not float:
            speed = _optional_number(record, "speed_mps", where)
        if speed is not None and not (speed >= 0.0 and math.isfinite(speed)):
            speed = None
    consumer_id = get("consumer_id")
    if consumer_id is not None and type(consumer_id) is not str:
        consumer_id = _text(record, "consumer_id", where)
    signals = get("signals")
    # Every field is checked above and the timestamp is aware UTC (parse_timestamp makes it
    # so): the Ping is built without checking it all again.
    return trusted_ping(
        device_id,
        lat,
        lon,
        timestamp,
        timestamp.timestamp(),
        ping_id or None,
        accuracy,
        speed,
        consumer_id or None,
        MappingProxyType(_signals(signals, where)) if signals else _NO_SIGNALS,
    )
