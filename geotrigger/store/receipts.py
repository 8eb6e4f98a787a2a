"""Ingestion receipts: the answer each ping got, so that a ping sent again gets the same one.

Keyed by a keyed digest of the device and ping id (never the ids), holding only the answer
(status, reason, transitions and moments by id); pruned ``ping_receipts_s`` after they were
received (``geotrigger db prune``). The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, select

from geotrigger.store.database import upsert_insert
from geotrigger.store.tables import ping_receipts

_KEYS_PER_QUERY = 500


def load_receipts(conn: Connection, *, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The answers kept for ``keys``, by key (keys never seen are absent)."""
    wanted = sorted(set(keys))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        query = select(ping_receipts.c.key, ping_receipts.c.result).where(
            ping_receipts.c.key.in_(chunk)
        )
        found.update((key, dict(result)) for key, result in conn.execute(query))
    return found


def save_receipts(
    conn: Connection, *, results: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> int:
    """Keep the answers; a key already kept keeps its first answer. The rows inserted."""
    if not results:
        return 0
    rows = [{"key": k, "result": dict(v), "received_at": now} for k, v in results.items()]
    insert = upsert_insert(conn, ping_receipts).on_conflict_do_nothing(index_elements=["key"])
    return int(conn.execute(insert, rows).rowcount or 0)


def prune_receipts(conn: Connection, *, before: dt.datetime) -> int:
    """Delete the receipts received before ``before``; how many."""
    deleted = conn.execute(delete(ping_receipts).where(ping_receipts.c.received_at < before))
    return int(deleted.rowcount or 0)
