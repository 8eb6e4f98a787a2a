"""Ingestion receipts: the answer each ping got, so that a ping sent again gets the same one.

Keyed by a keyed digest of the device and ping id (never the ids), holding only the answer
(status, reason, transitions and moments by id); pruned ``ping_receipts_s`` after they were
received (``geotrigger db prune``). The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from geotrigger.store.database import in_lists
from geotrigger.store.tables import ping_receipts

# Statements built once: building them costs more than running them for a single ping.
_LOAD = select(ping_receipts.c.key, ping_receipts.c.result).where(
    ping_receipts.c.key.in_(bindparam("keys", expanding=True))
)


@cache
def _insert_new(dialect_name: str) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that leaves a key already kept as it is, on this database."""
    insert = (postgresql if dialect_name == "postgresql" else sqlite).insert(ping_receipts)
    return insert.on_conflict_do_nothing(index_elements=["key"])


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
    rows = [{"key": k, "result": dict(v), "received_at": now} for k, v in results.items()]
    return int(conn.execute(_insert_new(conn.dialect.name), rows).rowcount or 0)


def prune_receipts(conn: Connection, *, before: dt.datetime) -> int:
    """Delete the receipts received before ``before``; how many."""
    deleted = conn.execute(delete(ping_receipts).where(ping_receipts.c.received_at < before))
    return int(deleted.rowcount or 0)
