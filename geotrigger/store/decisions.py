"""Decisions in the database: the trace of every candidate, kept for a configured time.

A decision is one row: the columns that queries and erasure select on (consumer, rule, place,
event time, outcome, the gate or condition, the moment's id) and the whole record, as
:meth:`Decision.to_record` gives it, made JSON-safe with the same options as a decisions file
(times as RFC 3339 strings in UTC, ``Z``), so a stored record equals that file's line. Retention
counts from ``created_at``, when the decision was stored (:func:`prune_decisions`).

Each row has its candidate's key (:func:`decision_key`: rule, consumer, place and event, the
id its moment has or would have), unique: a batch that runs again (a replay restarted after a
crash, an ingest batch sent again) stores nothing twice, and the decision stored first stays.
Rows stored before migration 0006 have no key and never block a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete, select

from geotrigger.moments.decision import Decision, decision_key
from geotrigger.store.database import upsert_insert
from geotrigger.store.tables import decisions as decisions_table
from geotrigger.store.types import utc

# The options of the events file (cli/replay.py), so that records read back compare equal.
RECORD_OPTIONS = orjson.OPT_UTC_Z


def decision_record(decision: Decision) -> dict[str, Any]:
    """The decision's record as JSON: every datetime an RFC 3339 string in UTC."""
    record: dict[str, Any] = orjson.loads(orjson.dumps(decision.to_record(), option=RECORD_OPTIONS))
    return record


def save_decisions(conn: Connection, *, decisions: Sequence[Decision], now: dt.datetime) -> None:
    """Store the decisions (one multi-row insert); ``now`` is when, for retention. A decision
    whose key is stored already (the same candidate, from a batch that ran before) is left
    out: the one stored first stays."""
    if not decisions:
        return
    created_at = utc(now)
    rows = [
        {
            "consumer_id": d.consumer_id,
            "rule_id": d.rule_id,
            "place_id": d.place_id,
            "at": utc(d.at),
            "outcome": d.outcome.value,
            "gate": d.gate,
            "condition": d.condition,
            "moment_id": None if d.moment is None else d.moment.id,
            "record": decision_record(d),
            "created_at": created_at,
            "key": decision_key(d),
        }
        for d in decisions
    ]
    statement = upsert_insert(conn, decisions_table).on_conflict_do_nothing(
        index_elements=[decisions_table.c.key]
    )
    conn.execute(statement, rows)


def load_decisions(
    conn: Connection,
    *,
    consumer_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The records of one consumer's decisions with ``start <= at < end`` (either bound may be
    left out), by event time and then in the order they were stored."""
    table = decisions_table
    query = select(table.c.record).where(table.c.consumer_id == consumer_id)
    if start is not None:
        query = query.where(table.c.at >= utc(start))
    if end is not None:
        query = query.where(table.c.at < utc(end))
    return list(conn.execute(query.order_by(table.c.at, table.c.id)).scalars())


def prune_decisions(conn: Connection, *, before: dt.datetime) -> int:
    """Delete the decisions stored before ``before`` (one stored exactly then stays); how many."""
    table = decisions_table
    return conn.execute(delete(table).where(table.c.created_at < utc(before))).rowcount
