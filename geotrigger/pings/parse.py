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
from datetime import datetime
from types import MappingProxyType
from typing import Any

from geotrigger.errors import PingError, Where
from geotrigger.model import Ping, trusted_ping
from geotrigger.pings.fields import (
    NO_SIGNALS,
    as_utc,
    is_number,
    known_speed,
    number,
    optional_number,
    shown,
    utc_from_epoch,
)

REQUIRED_FIELDS = ("device_id", "lat", "lon", "timestamp")
OPTIONAL_FIELDS = ("id", "accuracy_m", "speed_mps", "consumer_id", "signals")

_fromisoformat = datetime.fromisoformat
_INFINITY = math.inf


def parse_timestamp(value: object, *, where: Where | None = None) -> datetime:
    """An RFC 3339 string or epoch seconds as an aware UTC datetime; PingError otherwise."""
    if isinstance(value, str):
        try:
            parsed = _fromisoformat(value)
        except ValueError:
            return _epoch_string(value, where)
        if parsed.tzinfo is None:
            raise PingError(
                f"field 'timestamp': {shown(value)} has no time zone (add 'Z' or an offset)",
                where=where,
            )
        return as_utc(parsed)
    if is_number(value):
        return utc_from_epoch(float(value), "timestamp", where)
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
            f"field 'timestamp': {shown(value)} is neither RFC 3339 nor epoch seconds",
            where=where,
        ) from None
    return utc_from_epoch(seconds, "timestamp", where)


def _number(record: Mapping[str, Any], name: str, where: Where | None) -> float:
    value = record.get(name)
    if value is None:
        raise PingError(f"missing field {name!r}", where=where)
    return number(value, name, where)


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
        str(name): number(raw, f"signals.{name}", where)
        for name, raw in value.items()
        if raw is not None
    }
    for name, reading in signals.items():
        if not math.isfinite(reading):
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
        accuracy = optional_number(accuracy, "accuracy_m", where)
    speed = get("speed_mps")
    if speed is not None and not (type(speed) is float and 0.0 <= speed < _INFINITY):
        if type(speed) is not float:
            speed = optional_number(speed, "speed_mps", where)
        speed = known_speed(speed)  # -1 (what phones send), NaN: unknown
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
        MappingProxyType(_signals(signals, where)) if signals else NO_SIGNALS,
    )
