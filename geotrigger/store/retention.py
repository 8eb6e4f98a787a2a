"""Retention: delete what is kept longer than the settings allow (``geotrigger db prune``).

Decisions go ``decisions_days`` after they were stored; raw pings ``raw_pings_ttl_s`` after
they were received; the log of place changes ``place_changes_days`` after the change (the
newest is always kept); weather readings ``weather_readings_days`` after they were observed
(the newest of each key, and the newest stored, are always kept); ingestion receipts
``ping_receipts_s`` after they were received. Raw pings are pruned whether
keeping them is on or off, so that switching it off never leaves positions behind for longer
than their time to live. A row exactly at the cutoff stays until the next prune. The caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from geotrigger.config import RetentionSettings
from geotrigger.store.decisions import prune_decisions
from geotrigger.store.place_feed import prune_place_changes
from geotrigger.store.raw_pings import prune_raw_pings
from geotrigger.store.receipts import prune_receipts
from geotrigger.store.weather_readings import prune_weather_readings


def cutoffs(*, settings: RetentionSettings, now: dt.datetime) -> dict[str, dt.datetime]:
    """Per table, the time before which its rows are deleted at ``now``."""
    return {
        "decisions": _minus(now, settings.decisions_days * 86400.0),
        "raw_pings": _minus(now, settings.raw_pings_ttl_s),
        "place_changes": _minus(now, settings.place_changes_days * 86400.0),
        "weather_readings": _minus(now, settings.weather_readings_days * 86400.0),
        "ping_receipts": _minus(now, settings.ping_receipts_s),
    }


def prune(conn: Connection, *, settings: RetentionSettings, now: dt.datetime) -> dict[str, int]:
    """Delete decisions, raw pings, place changes and weather readings older than their
    retention at ``now``; the rows deleted, per table."""
    before = cutoffs(settings=settings, now=now)
    return {
        "decisions": prune_decisions(conn, before=before["decisions"]),
        "raw_pings": prune_raw_pings(conn, before=before["raw_pings"]),
        "place_changes": prune_place_changes(conn, before=before["place_changes"]),
        "weather_readings": prune_weather_readings(conn, before=before["weather_readings"]),
        "ping_receipts": prune_receipts(conn, before=before["ping_receipts"]),
    }


# Nothing is stored before this: a retention longer than all of time deletes nothing.
_EARLIEST = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _minus(now: dt.datetime, seconds: float) -> dt.datetime:
    try:
        return now - dt.timedelta(seconds=seconds)
    except OverflowError:
        return _EARLIEST
