"""Pings as JSON documents in the database: one form for the device state's pings and the
raw pings kept for their time to live."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from geotrigger.model import Ping


def ping_document(ping: Ping) -> dict[str, Any]:
    """A ping as JSON: every field; its time as epoch seconds (exact, what is read back) and
    as RFC 3339 in UTC (``...Z``, for people reading the rows)."""
    return {
        "device_id": ping.device_id,
        "timestamp": ping.timestamp.isoformat().replace("+00:00", "Z"),
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
