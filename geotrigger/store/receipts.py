"""Ingestion receipts: the answer each ping got, so that a ping sent again gets the same one.

Keyed by a keyed digest of the device and ping id (never the ids), holding only the answer
(status, reason, transitions and moments by id); pruned ``ping_receipts_s`` after they were
received (``geotrigger db prune``). The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from geotrigger.store.bulk import BulkInsert
from geotrigger.store.database import dump_json, in_lists
from geotrigger.store.tables import ping_receipts

# Statements built once: building them costs more than running them for a single ping.
_LOAD = select(ping_receipts.c.key, ping_receipts.c.result).where(
    ping_receipts.c.key.in_(bindparam("keys", expanding=True))
)


# A key already kept keeps its first answer (written per batch: see store/bulk.py).
_INSERT_NEW = BulkInsert(ping_receipts, ("key", "result", "received_at"), key=("key",), update=())


def load_receipts(conn: Connection, *, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The answers kept for ``keys``, by key (keys never seen are absent)."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in in_lists(keys):
        found.update((key, dict(result)) for key, result in conn.execute(_LOAD, {"keys": chunk}))
    return found


def save_receipts(
    conn: Connection, *, results: Mapping[str, Mapping[str, Any]], now: dt.datetime
) -> int:
    """Keep the answers; a key already kept keeps its first answer. The rows inserted."""
    if not results:
        return 0
    return _INSERT_NEW.execute(conn, [(k, dump_json(v), now) for k, v in results.items()])


def prune_receipts(conn: Connection, *, before: dt.datetime) -> int:
    """Delete the receipts received before ``before``; how many."""
    deleted = conn.execute(delete(ping_receipts).where(ping_receipts.c.received_at < before))
    return int(deleted.rowcount or 0)
