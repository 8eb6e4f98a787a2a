"""Raw pings in the database: only when keeping them is switched on, and never for long.

A raw ping is an exact position of a person, so nothing stores them unless
``GEOTRIGGER_RETENTION_KEEP_RAW_PINGS`` is on (the caller checks), and
:func:`prune_raw_pings` deletes them once they are older than their time to live. The payload
is every field of the ping as it was parsed, its time as an RFC 3339 string in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, delete, func, insert, select

from geotrigger.model import Ping
from geotrigger.store.pings import ping_document
from geotrigger.store.tables import raw_pings
from geotrigger.store.types import utc


def save_raw_pings(conn: Connection, *, pings: Iterable[Ping], received_at: dt.datetime) -> int:
    """Store the pings as received at ``received_at`` (one multi-row insert); how many."""
    when = utc(received_at)
    rows = [
        {"device_id": p.device_id, "received_at": when, "payload": ping_document(p)} for p in pings
    ]
    if rows:
        conn.execute(insert(raw_pings), rows)
    return len(rows)


def prune_raw_pings(conn: Connection, *, before: dt.datetime) -> int:
    """Delete the pings received before ``before`` (one received exactly then stays); how many."""
    return conn.execute(delete(raw_pings).where(raw_pings.c.received_at < utc(before))).rowcount


def count_raw_pings(conn: Connection) -> int:
    """How many raw pings are stored."""
    return int(conn.execute(select(func.count()).select_from(raw_pings)).scalar_one())
