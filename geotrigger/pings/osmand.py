"""The OsmAnd protocol of Traccar Client (and OsmAnd's own tracker): one fix per request, as pings.

Two shapes reach the same endpoint:

- Query or form parameters (OsmAnd, Traccar Client before version 9): ``id`` (or
  ``deviceid``), ``lat`` and ``lon`` (or ``location=<lat>,<lon>``), ``timestamp``, and the
  optional ``speed`` (knots), ``accuracy`` (metres), ``batt`` (percent), ``bearing`` (or
  ``heading``, degrees) and ``altitude`` (metres). Unknown parameters are ignored.
- The JSON body of Traccar Client 9: ``{"device_id": ..., "location": {"timestamp": ISO,
  "coords": {"latitude", "longitude", "accuracy", "speed", "heading", "altitude", ...},
  "battery": {"level": 0..1, ...}, "is_moving", "odometer", "activity", ...}}``. Here the
  speed is in metres per second; ``location`` may also be a list (a batch of fixes). Its
  device id falls back to the ``id`` parameter.

A ``timestamp`` is epoch seconds or epoch milliseconds (told apart by size: a value of 10^11
or more is milliseconds, as 10^11 seconds is in the year 5138 and 10^11 ms in 1973), ISO 8601,
or ``yyyy-MM-dd HH:mm:ss``; a time without a zone is UTC, as the Traccar server reads it.
There is no "now" default: a fix without a time is refused.

Unknowns become None: an accuracy at or below zero, a negative or non-finite speed. Battery,
altitude and heading become the signals ``battery_pct``, ``altitude_m`` and ``heading_deg``
when in range. The ping id is ``osmand:<device>:<epoch seconds>`` (a whole number when the
fix is on a whole second), so a fix sent again is a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings.fields import (
    as_utc,
    client_ping,
    epoch_text,
    is_number,
    malformed,
    number_field,
    optional_number,
    required_number,
    required_number_field,
    shown,
    signals,
    text_id,
    utc_from_epoch_or_milliseconds,
)

KNOTS_TO_MPS = 1852.0 / 3600.0

_fromisoformat = datetime.fromisoformat
_LOCATION_PARAMS = ("id", "deviceid", "lat", "lon", "location", "timestamp")
_NO_DEVICE_PARAM = "no device id: add id=<device> (Traccar Client's Device identifier)"
_NO_DEVICE_JSON = (
    "no device id: send 'device_id' in the body (Traccar Client's Device identifier) "
    "or id=<device> in the URL"
)


def parse_osmand(params: Mapping[str, str], body: Any | None) -> list[Ping | Rejection]:
    """A Ping or a Rejection per fix of a request: its JSON body if given, else its parameters.

    A request that carries no fix at all (no location parameters, a body that is not Traccar
    Client's JSON) raises :class:`PingError`.
    """
    if body is not None:
        return _from_json(body, params)
    if not any(params.get(name) for name in _LOCATION_PARAMS):
        raise PingError(
            "OsmAnd: the request has none of the parameters id, lat, lon, location, timestamp"
        )
    return [_from_params(params)]


# --- query or form parameters -------------------------------------------------------------


def _from_params(params: Mapping[str, str]) -> Ping | Rejection:
    device = (params.get("id") or params.get("deviceid") or "").strip()
    if not device:
        return malformed(_NO_DEVICE_PARAM)
    try:
        return _param_ping(params, device)
    except PingError as exc:
        return malformed(exc.reason, device)


def _param_ping(params: Mapping[str, str], device: str) -> Ping:
    timestamp = _timestamp(params.get("timestamp"), "timestamp")
    lat, lon = _param_position(params)
    knots = number_field(params, "speed")
    heading = number_field(params, "bearing")
    if heading is None:
        heading = number_field(params, "heading")
    found = signals(number_field(params, "batt"), number_field(params, "altitude"), heading)
    return _build(
        device,
        lat,
        lon,
        timestamp,
        number_field(params, "accuracy"),
        knots * KNOTS_TO_MPS if knots is not None else None,
        found,
    )


def _param_position(params: Mapping[str, str]) -> tuple[float, float]:
    """``(lat, lon)`` from ``lat`` and ``lon``, else from ``location=<lat>,<lon>``."""
    if params.get("lat") or params.get("lon"):
        return required_number_field(params, "lat"), required_number_field(params, "lon")
    location = params.get("location")
    if not location:
        raise PingError("fields 'lat' and 'lon' (or 'location=<lat>,<lon>') are missing")
    parts = location.split(",")
    try:
        if len(parts) == 2:
            return float(parts[0]), float(parts[1])
    except ValueError:
        pass
    raise PingError("field 'location': expected two numbers, '<lat>,<lon>'")


# --- the JSON body of Traccar Client 9 ----------------------------------------------------


def _from_json(body: Any, params: Mapping[str, str]) -> list[Ping | Rejection]:
    if not isinstance(body, Mapping):
        raise PingError(
            f"Traccar Client: expected a JSON object with 'location', got {type(body).__name__}"
        )
    location = body.get("location")
    if isinstance(location, Mapping):
        locations, labelled = [location], False
    elif isinstance(location, list):
        locations, labelled = location, True
    else:
        raise PingError("Traccar Client: the JSON body has no 'location' object")
    device = text_id(body.get("device_id")) or text_id(params.get("id") or params.get("deviceid"))
    out: list[Ping | Rejection] = []
    for index, item in enumerate(locations):
        prefix = f"location[{index}]: " if labelled else ""
        if device is None:
            out.append(malformed(prefix + _NO_DEVICE_JSON))
            continue
        try:
            out.append(_json_ping(item, device))
        except PingError as exc:
            out.append(malformed(prefix + exc.reason, device))
    return out


def _json_ping(location: object, device: str) -> Ping:
    if not isinstance(location, Mapping):
        raise PingError(f"expected a location object, got {type(location).__name__}")
    timestamp = _timestamp(location.get("timestamp"), "location.timestamp")
    coords = location.get("coords")
    if not isinstance(coords, Mapping):
        raise PingError("field 'location.coords' is missing or not an object")
    lat = required_number(coords.get("latitude"), "location.coords.latitude")
    lon = required_number(coords.get("longitude"), "location.coords.longitude")
    battery = location.get("battery")
    level = _json_number(battery, "level", "battery") if isinstance(battery, Mapping) else None
    found = signals(
        level * 100.0 if level is not None and level >= 0.0 else None,
        _json_number(coords, "altitude"),
        _json_number(coords, "heading"),
    )
    return _build(
        device,
        lat,
        lon,
        timestamp,
        _json_number(coords, "accuracy"),
        _json_number(coords, "speed"),
        found,
    )


def _json_number(record: Mapping[str, Any], name: str, parent: str = "coords") -> float | None:
    """A JSON number (or numeric string); None when missing. The value is never quoted."""
    return optional_number(record.get(name), f"location.{parent}.{name}")


# --- shared -------------------------------------------------------------------------------


def _timestamp(value: object, name: str) -> datetime:
    """Epoch seconds or milliseconds, ISO 8601 or ``yyyy-MM-dd HH:mm:ss`` (UTC) as aware UTC."""
    if value is None or value == "":
        raise PingError(f"field {name!r} is missing")
    if is_number(value):
        return utc_from_epoch_or_milliseconds(float(value), name)
    if not isinstance(value, str):
        raise PingError(f"field {name!r}: expected a time, got {type(value).__name__}")
    text = value.strip()
    try:
        return utc_from_epoch_or_milliseconds(float(text), name)
    except ValueError:
        pass
    try:
        parsed = _fromisoformat(text)
    except ValueError:
        raise PingError(
            f"field {name!r}: {shown(value)} is neither epoch seconds or milliseconds, "
            "ISO 8601 nor 'yyyy-MM-dd HH:mm:ss'"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return as_utc(parsed)


def _build(
    device: str,
    lat: float,
    lon: float,
    timestamp: datetime,
    accuracy: float | None,
    speed: float | None,
    found: MappingProxyType[str, float],
) -> Ping:
    """The fix with its id ``osmand:<device>:<epoch seconds>``: one id whichever shape sent it."""
    epoch = timestamp.timestamp()
    return client_ping(
        device,
        lat,
        lon,
        timestamp,
        epoch,
        f"osmand:{device}:{epoch_text(epoch)}",
        accuracy,
        speed,
        found,
    )
