"""Overland (iOS and Android GPS logger): a batch of GeoJSON points, as pings.

The app POSTs ``{"locations": [Feature, ...], "current": ..., "trip": ...}`` and deletes its
queued points only when the reply is :data:`OVERLAND_REPLY` (``{"result": "ok"}``). Each
location is a GeoJSON Feature with a Point geometry (``coordinates`` are ``[lon, lat]``) and
properties; ``current`` (a copy of the newest queued point, sent again later in a batch) and
``trip`` (the trip in progress) are not fixes and are not read. Features whose properties carry
an ``action`` (the visits and app events of "include tracking stats") are not fixes either and
give no item.

Properties read:

- ``timestamp``: ISO 8601 with a zone; Overland writes offsets without a colon
  (``2017-01-28T21:37:02-0800``), or ``Z``, with or without fractional seconds.
- ``device_id``: the Device ID of the app's settings (an empty string when none is set, which
  is refused: geotrigger cannot tell devices apart without it).
- ``horizontal_accuracy`` (metres) and ``speed`` (metres per second): iOS reports ``-1`` for
  unknown, which (like any value at or below zero for accuracy) becomes None.
- ``battery_level`` (0 to 1), ``altitude`` (metres; unknown when ``vertical_accuracy`` is
  negative) and ``course`` (degrees; ``-1`` unknown) become the signals ``battery_pct``,
  ``altitude_m`` and ``heading_deg``.

The ping id is ``overland:<device>:<timestamp>`` with the timestamp in UTC
(``2017-01-29T05:37:02Z``): a point sent again is a duplicate, whatever offset it was written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings.fields import (
    as_utc,
    client_ping,
    is_number,
    json_number,
    malformed,
    shown,
    signals,
    text_id,
)
from geotrigger.timestamps import rfc3339

OVERLAND_REPLY: Final[dict[str, str]] = {"result": "ok"}  # what the app waits for; never mutate

_fromisoformat = datetime.fromisoformat
_NO_DEVICE = (
    "field 'properties.device_id' is empty: set a Device ID in Overland's settings "
    "(Receiver Endpoint) so that its points can be told from other devices'"
)


def parse_overland(body: Any) -> list[Ping | Rejection]:
    """A Ping or a Rejection per point of an Overland batch.

    A body that is not an object with a ``locations`` list raises :class:`PingError`.
    """
    if not isinstance(body, Mapping):
        raise PingError(
            f"Overland: expected a JSON object with 'locations', got {type(body).__name__}"
        )
    locations = body.get("locations")
    if not isinstance(locations, list):
        found = "nothing" if locations is None else type(locations).__name__
        raise PingError(f"Overland: 'locations' must be a list of GeoJSON Features, got {found}")
    out: list[Ping | Rejection] = []
    for index, feature in enumerate(locations):
        item = _feature(feature, f"locations[{index}]: ")
        if item is not None:
            out.append(item)
    return out


def _feature(feature: object, prefix: str) -> Ping | Rejection | None:
    """The point's Ping, a Rejection naming what is wrong, or None for a non-fix feature."""
    if not isinstance(feature, Mapping):
        return malformed(f"{prefix}expected a GeoJSON Feature object, got {type(feature).__name__}")
    if feature.get("type") != "Feature":
        return malformed(
            f"{prefix}field 'type' must be 'Feature', got {shown(feature.get('type'))}"
        )
    properties = feature.get("properties")
    if not isinstance(properties, Mapping):
        return malformed(f"{prefix}field 'properties' is missing or not an object")
    if properties.get("action"):
        return None  # a visit or an app event: tracking stats, not a fix
    device = text_id(properties.get("device_id"))
    if device is None:
        return malformed(prefix + _NO_DEVICE)
    try:
        return _ping(feature, properties, device)
    except PingError as exc:
        return malformed(prefix + exc.reason, device)


def _ping(feature: Mapping[str, Any], properties: Mapping[str, Any], device: str) -> Ping:
    timestamp = _timestamp(properties.get("timestamp"))
    lon, lat = _point(feature.get("geometry"))
    return client_ping(
        device,
        lat,
        lon,
        timestamp,
        timestamp.timestamp(),
        f"overland:{device}:{rfc3339(timestamp)}",
        _number(properties, "horizontal_accuracy"),
        _number(properties, "speed"),
        _signals(properties),
    )


def _timestamp(value: object) -> datetime:
    if value is None or value == "":
        raise PingError("field 'properties.timestamp' is missing")
    if not isinstance(value, str):
        raise PingError(
            f"field 'properties.timestamp': expected an ISO 8601 string, got {type(value).__name__}"
        )
    try:
        parsed = _fromisoformat(value)
    except ValueError:
        raise PingError(f"field 'properties.timestamp': {shown(value)} is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise PingError(f"field 'properties.timestamp': {shown(value)} has no time zone")
    return as_utc(parsed)


def _point(geometry: object) -> tuple[float, float]:
    """``(lon, lat)`` of a Point geometry; PingError for any other shape (never quoting it)."""
    if not isinstance(geometry, Mapping):
        raise PingError("field 'geometry' is missing or not an object")
    kind = geometry.get("type")
    if kind != "Point":
        raise PingError(f"geometry type {shown(kind)} is not a Point: only points are fixes")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list | tuple) or len(coordinates) < 2:
        raise PingError("field 'geometry.coordinates': expected [lon, lat]")
    lon, lat = coordinates[0], coordinates[1]
    if is_number(lon) and is_number(lat):
        return float(lon), float(lat)
    raise PingError("field 'geometry.coordinates': expected two numbers, [lon, lat]")


def _signals(properties: Mapping[str, Any]) -> MappingProxyType[str, float]:
    """Battery (0 to 1, as percent), altitude (unless its accuracy is negative) and course."""
    level = _number(properties, "battery_level")
    altitude = _number(properties, "altitude")
    vertical = _number(properties, "vertical_accuracy")
    return signals(
        level * 100.0 if level is not None else None,
        altitude if vertical is None or vertical >= 0.0 else None,
        _number(properties, "course"),
    )


def _number(properties: Mapping[str, Any], name: str) -> float | None:
    """A JSON number; None when missing or null; PingError naming the property otherwise."""
    return json_number(properties.get(name), f"properties.{name}")
