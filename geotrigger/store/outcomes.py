"""Outcomes in the database: what a moment achieved, as the channel or the retailer tells it.

An outcome is ``delivered``, ``opened`` or ``converted``, at most one of each kind per moment,
with when it happened and a small JSON object of its own (value, currency, order id...). Its
moment is either a fired one, a row of ``moments`` (cohort ``treated``), or the would-be moment
of a consumer in a rule's holdout group (cohort ``holdout``), so that the rule's lift can be
measured against the control group. A would-be moment is no row of ``moments``: it is found in
``would_be_ledger`` (which names its rule and consumer) and confirmed by the holdout decision
that made it, whose rule, consumer, place and event give the same id
(:func:`~geotrigger.moments.decision.moment_id`). A monitor rule's would-be moments take no
outcomes: nothing was sent, and nobody was held out.

Reporting an outcome again (a retried callback) changes nothing: the first is kept and given
back, marked as not new. The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, func, select

from geotrigger.errors import InputError, NotFoundError, Where
from geotrigger.moments.decision import moment_id as derive_moment_id
from geotrigger.moments.report_arithmetic import HOLDOUT_GATE, Cohort, OutcomeKind
from geotrigger.store.database import upsert_insert
from geotrigger.store.tables import decisions, moments, outcomes, would_be_ledger
from geotrigger.store.types import stored_utc, utc
from geotrigger.timestamps import rfc3339

MAX_SKEW = dt.timedelta(minutes=5)  # how far ahead of now (or before its moment) ``at`` may be
MAX_DATA_BYTES = 4096  # the outcome's own data, as compact JSON
MOMENT_ID_LENGTH = 32  # the width of the column: a longer id is no moment's
# a would-be moment's ledger time and its decision's time are one instant, kept two ways
_SAME_INSTANT = dt.timedelta(seconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeMoment:
    """The moment an outcome is of: whose, of which rule, in which cohort, and when."""

    moment_id: str
    rule_id: str
    consumer_id: str
    cohort: Cohort
    at: dt.datetime  # the moment's event time


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedOutcome:
    """An outcome as stored; ``new`` is False when it had been recorded before (this is the
    first record, kept as it was)."""

    id: int
    moment_id: str
    rule_id: str
    consumer_id: str
    cohort: Cohort
    kind: OutcomeKind
    at: dt.datetime
    data: Mapping[str, Any]
    received_at: dt.datetime
    new: bool


def record_outcome(
    conn: Connection,
    *,
    moment_id: str,
    kind: str,
    at: dt.datetime,
    data: object,
    now: dt.datetime,
) -> RecordedOutcome:
    """Store that the moment ``moment_id`` was delivered, opened or converted at ``at``.

    InputError for an unknown kind, a time without an offset, in the future beyond
    :data:`MAX_SKEW` or before the moment, or data that is not a JSON object of at most
    :data:`MAX_DATA_BYTES`; NotFoundError when no fired moment and no holdout would-be moment
    has this id. A second outcome of the same kind for the moment keeps the first."""
    where = Where(item_id=moment_id)
    checked_kind = _kind(kind, where)
    at = _aware(at, where)
    now = utc(now)
    if at > now + MAX_SKEW:
        ahead = (at - now).total_seconds()
        raise InputError(
            f"outcome time {rfc3339(at)} is {ahead:.0f} s after now (at most "
            f"{MAX_SKEW.total_seconds():.0f} s ahead is accepted)",
            where=where,
        )
    document = _data(data, where)
    moment = find_outcome_moment(conn, moment_id=moment_id)
    if moment is None:
        raise NotFoundError("moment", moment_id)
    if at < moment.at - MAX_SKEW:
        raise InputError(
            f"outcome time {rfc3339(at)} is before its moment's time {rfc3339(moment.at)}",
            where=where,
        )
    row = {
        "moment_id": moment.moment_id,
        "rule_id": moment.rule_id,
        "consumer_id": moment.consumer_id,
        "cohort": moment.cohort.value,
        "kind": checked_kind.value,
        "at": at,
        "data": document,
        "received_at": now,
    }
    insert = upsert_insert(conn, outcomes).values(row)
    stored = conn.execute(insert.on_conflict_do_nothing(index_elements=["moment_id", "kind"]))
    query = select(outcomes).where(
        outcomes.c.moment_id == moment.moment_id, outcomes.c.kind == checked_kind.value
    )
    return _recorded(conn.execute(query).mappings().one(), new=stored.rowcount == 1)


def find_outcome_moment(conn: Connection, *, moment_id: str) -> OutcomeMoment | None:
    """The fired moment with this id, else the holdout would-be moment with it, else None."""
    if not moment_id or len(moment_id) > MOMENT_ID_LENGTH:
        return None
    query = select(moments.c.rule_id, moments.c.consumer_id, moments.c.at).where(
        moments.c.id == moment_id
    )
    fired = conn.execute(query).first()
    if fired is not None:
        return OutcomeMoment(
            moment_id=moment_id,
            rule_id=fired.rule_id,
            consumer_id=fired.consumer_id,
            cohort=Cohort.TREATED,
            at=stored_utc(fired.at),
        )
    return _holdout_moment(conn, moment_id)


def _holdout_moment(conn: Connection, moment_id: str) -> OutcomeMoment | None:
    """The would-be moment with this id of a holdout decision (still kept), if any.

    The ledger names the rule, the consumer and the time; the decisions of that consumer and
    rule suppressed by the holdout gate at that time are few, and the one whose moment id
    derives to ``moment_id`` is it."""
    ledger = would_be_ledger.c
    owners = conn.execute(
        select(ledger.rule_id, ledger.consumer_id, func.min(ledger.at_s))
        .where(ledger.moment_id == moment_id)
        .group_by(ledger.rule_id, ledger.consumer_id)
    ).all()
    for rule_id, consumer_id, at_s in owners:
        at = dt.datetime.fromtimestamp(float(at_s), dt.UTC)
        query = select(decisions.c.place_id, decisions.c.at, decisions.c.record).where(
            decisions.c.consumer_id == consumer_id,
            decisions.c.rule_id == rule_id,
            decisions.c.gate == HOLDOUT_GATE,
            decisions.c.at >= at - _SAME_INSTANT,
            decisions.c.at <= at + _SAME_INSTANT,
        )
        for place_id, decided_at, record in conn.execute(query):
            event_key = str(record.get("event_key", ""))
            if derive_moment_id(rule_id, consumer_id, place_id, event_key) == moment_id:
                return OutcomeMoment(
                    moment_id=moment_id,
                    rule_id=rule_id,
                    consumer_id=consumer_id,
                    cohort=Cohort.HOLDOUT,
                    at=stored_utc(decided_at),
                )
    return None


def _kind(kind: str, where: Where) -> OutcomeKind:
    try:
        return OutcomeKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in OutcomeKind)
        raise InputError(f"outcome kind {kind!r} is not one of {kinds}", where=where) from None


def _data(data: object, where: Where) -> dict[str, Any]:
    """The outcome's data as stored: a JSON object of bounded size (None: an empty one)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise InputError(
            f"outcome data must be a JSON object with text keys, not {type(data).__name__}",
            where=where,
        )
    try:
        text = orjson.dumps(data)
    except orjson.JSONEncodeError as exc:
        raise InputError(f"outcome data is not JSON: {exc}", where=where) from None
    if len(text) > MAX_DATA_BYTES:
        raise InputError(
            f"outcome data is {len(text)} bytes as JSON (at most {MAX_DATA_BYTES})", where=where
        )
    document: dict[str, Any] = orjson.loads(text)
    return document


def _recorded(row: RowMapping, *, new: bool) -> RecordedOutcome:
    return RecordedOutcome(
        id=int(row["id"]),
        moment_id=row["moment_id"],
        rule_id=row["rule_id"],
        consumer_id=row["consumer_id"],
        cohort=Cohort(row["cohort"]),
        kind=OutcomeKind(row["kind"]),
        at=stored_utc(row["at"]),
        data=row["data"],
        received_at=stored_utc(row["received_at"]),
        new=new,
    )


def _aware(at: object, where: Where) -> dt.datetime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InputError(f"outcome time {at!r} must be a time with a UTC offset", where=where)
    return at.astimezone(dt.UTC)
