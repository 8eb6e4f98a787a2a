"""Pings as JSON in the database: a readable document for the raw pings kept for their time to
live (and the device states written before the compact form), and a compact array for the
pings device states keep, written and read for every device of every batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from geotrigger.model import Ping, trusted_ping
from geotrigger.timestamps import rfc3339


def ping_document(ping: Ping) -> dict[str, Any]:
    """A ping as JSON: every field; its time as epoch seconds (exact, what is read back) and
    as RFC 3339 in UTC (``...Z``, for people reading the rows)."""
    return {
        "device_id": ping.device_id,
        "timestamp": rfc3339(ping.timestamp),
        "lat": ping.lat,
        "lon": ping.lon,
        "epoch_s": ping.epoch_s,
        "id": ping.id,
        "accuracy_m": ping.accuracy_m,
        "speed_mps": ping.speed_mps,
        "consumer_id": ping.consumer_id,
        "signals": dict(ping.signals),
    }


def ping_from_document(doc: Mapping[str, Any]) -> Ping:
    """The ping :func:`ping_document` wrote."""
    return Ping(
        device_id=doc["device_id"],
        lat=doc["lat"],
        lon=doc["lon"],
        timestamp=datetime.fromtimestamp(doc["epoch_s"], UTC),
        id=doc["id"],
        accuracy_m=doc["accuracy_m"],
        speed_mps=doc["speed_mps"],
        consumer_id=doc["consumer_id"],
        signals=doc["signals"],
    )


_NO_SIGNALS: MappingProxyType[str, float] = MappingProxyType({})


def fix_row(ping: Ping, device_id: str) -> list[Any]:
    """A ping of a device's state as a compact JSON array, for the rows written per batch:
    ``[epoch_s, lat, lon, id, accuracy_m, speed_mps, consumer_id, signals, device_id]``, the
    time as epoch seconds only (exact; no ISO text to format and parse) and the device id
    null when it is ``device_id``, the row's own."""
    return [
        ping.epoch_s,
        ping.lat,
        ping.lon,
        ping.id,
        ping.accuracy_m,
        ping.speed_mps,
        ping.consumer_id,
        dict(ping.signals) if ping.signals else {},
        None if ping.device_id == device_id else ping.device_id,
    ]


def ping_from_fix_row(row: Sequence[Any], device_id: str) -> Ping:
    """The ping :func:`fix_row` wrote for ``device_id``: built without the constructor's
    checks, which the ping passed when it was accepted (its epoch seconds give back its
    timestamp to the microsecond, and the timestamp gives back the same epoch seconds)."""
    epoch_s, lat, lon, ping_id, accuracy_m, speed_mps, consumer_id, signals, device = row
    return trusted_ping(
        device_id if device is None else device,
        lat,
        lon,
        datetime.fromtimestamp(epoch_s, UTC),
        epoch_s,
        ping_id,
        accuracy_m,
        speed_mps,
        consumer_id,
        MappingProxyType(signals) if signals else _NO_SIGNALS,
    )
