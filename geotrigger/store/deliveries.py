"""The deliveries repository: one row per fired moment and webhook destination, the state the
outbox relay keeps (``geotrigger.delivery.relay``).

A fired moment arrives with its ``outbox`` row, status ``pending``, written in the moment's own
transaction (``store/history.py``). The relay then:

1. **queues** (:func:`queue_pending`): for outbox rows still pending and with no delivery yet,
   one delivery row per destination whose channels take the moment's channel (unique per
   moment and destination: queuing twice creates nothing); a moment no destination takes is
   final at once (its outbox row ``sent``, with the reason);
2. **claims** (:func:`claim_due`) the due rows (``pending``, ``next_attempt_at`` not after now)
   in a short transaction: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, under the write
   lock on SQLite, so that several relay processes never take the same row; a claimed row's
   ``next_attempt_at`` moves a lease ahead, so the row of a worker that died comes back then;
3. **records** (:func:`record_outcome`) what an attempt did: ``sent``, ``pending`` again for a
   retry (attempts + 1, the next attempt's time), ``expired`` or ``dead``; only while the claim
   still holds (a worker whose lease ran out and was taken over changes nothing). When every
   delivery of a moment is final, its outbox row is too: ``sent`` when every one was sent, else
   ``dead`` when one is dead, else ``expired``.

Deliveries go with their moments: the foreign key cascades on delete (erasure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, RowMapping, exists, select, update

from geotrigger.moments.decision import Moment
from geotrigger.rules.model import TriggerKind
from geotrigger.store.database import WRITE_LOCK, upsert_insert
from geotrigger.store.tables import deliveries, moments, outbox
from geotrigger.store.types import stored_utc, utc

PENDING, SENT, EXPIRED, DEAD = "pending", "sent", "expired", "dead"
FINAL = (SENT, EXPIRED, DEAD)
ERROR_LENGTH = 500  # last_error is a short reason, never a response body


class Routed(Protocol):
    """What the repository needs of a destination: its name and the channels it takes."""

    @property
    def name(self) -> str: ...

    def receives(self, channel: str) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A delivery taken by one relay worker until ``lease_until``, with its moment."""

    delivery_id: int
    destination: str
    attempts: int  # attempts made before this one
    lease_until: dt.datetime
    moment: Moment


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one claimed delivery came to.

    ``status`` is ``sent``, ``pending`` (retry at ``next_attempt_at``), ``expired`` or
    ``dead``; ``attempted`` says whether a request was made (it counts as an attempt)."""

    status: str
    attempted: bool
    at: dt.datetime
    next_attempt_at: dt.datetime | None = None
    http_status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Queued:
    """What :func:`queue_pending` did: delivery rows created, moments no destination takes."""

    created: int = 0
    unrouted: int = 0


def create_deliveries(
    conn: Connection,
    *,
    moment_id: str,
    channel: str,
    destinations: Iterable[Routed],
    now: dt.datetime,
) -> int:
    """A pending delivery of the moment for each destination that takes ``channel``, due at
    ``now``; the number of rows created (a row already there for a destination is kept)."""
    at = utc(now)
    rows = [
        {
            "moment_id": moment_id,
            "destination": d.name,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for d in destinations
        if d.receives(channel)
    ]
    if not rows:
        return 0
    statement = upsert_insert(conn, deliveries).values(rows).on_conflict_do_nothing()
    return max(conn.execute(statement).rowcount, 0)


def queue_pending(
    engine: Engine, destinations: Sequence[Routed], *, now: dt.datetime, limit: int = 100
) -> Queued:
    """Deliveries for up to ``limit`` moments whose outbox row is pending and that have none
    yet, oldest first; a moment no destination takes gets its outbox row ``sent`` at once."""
    at = utc(now)
    has_delivery = exists().where(deliveries.c.moment_id == outbox.c.moment_id)
    waiting = (
        select(outbox.c.moment_id, moments.c.channel)
        .join(moments, moments.c.id == outbox.c.moment_id)
        .where(outbox.c.status == PENDING, ~has_delivery)
        .order_by(outbox.c.next_attempt_at, outbox.c.moment_id)
        .limit(limit)
    )
    created = unrouted = 0
    with _writing(engine) as conn:
        for moment_id, channel in conn.execute(waiting).all():
            if any(d.receives(channel) for d in destinations):
                created += create_deliveries(
                    conn, moment_id=moment_id, channel=channel, destinations=destinations, now=at
                )
                continue
            unrouted += 1
            conn.execute(
                update(outbox)
                .where(outbox.c.moment_id == moment_id, outbox.c.status == PENDING)
                .values(
                    status=SENT,
                    last_error=f"no webhook destination takes channel {channel!r}"[:ERROR_LENGTH],
                    updated_at=at,
                )
            )
    return Queued(created=created, unrouted=unrouted)


def claim_due(
    engine: Engine,
    *,
    now: dt.datetime,
    lease_s: float,
    limit: int,
    destinations: Iterable[str] | None = None,
) -> list[Claim]:
    """Take up to ``limit`` due deliveries (of ``destinations`` only, when given), oldest due
    first, for ``lease_s`` seconds: no other worker takes them until then."""
    at = utc(now)
    lease_until = at + dt.timedelta(seconds=lease_s)
    due = (
        select(deliveries.c.id)
        .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= at)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the write lock instead
    )
    if destinations is not None:
        due = due.where(deliveries.c.destination.in_(sorted(set(destinations))))
    with _writing(engine) as conn:
        ids = list(conn.execute(due).scalars())
        if not ids:
            return []
        conn.execute(
            update(deliveries).where(deliveries.c.id.in_(ids)).values(next_attempt_at=lease_until)
        )
        rows = conn.execute(
            select(
                deliveries.c.id.label("delivery_id"),
                deliveries.c.destination,
                deliveries.c.attempts,
                *moments.c,
            )
            .join(moments, moments.c.id == deliveries.c.moment_id)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)
        ).mappings()
        return [
            Claim(
                delivery_id=row["delivery_id"],
                destination=row["destination"],
                attempts=row["attempts"],
                lease_until=lease_until,
                moment=stored_moment(row),
            )
            for row in rows
        ]


def record_outcome(engine: Engine, claim: Claim, outcome: Outcome) -> bool:
    """Store what the claimed delivery came to; False (and nothing changed) when the claim no
    longer holds (its lease ran out and another worker took the row). A final outcome that
    leaves the moment with no pending delivery makes its outbox row final too."""
    if outcome.status not in (PENDING, *FINAL):
        raise ValueError(f"unknown delivery status {outcome.status!r}")
    if outcome.status == PENDING and outcome.next_attempt_at is None:
        raise ValueError("a retry needs next_attempt_at")
    at = utc(outcome.at)
    values: dict[str, Any] = {
        "status": outcome.status,
        "attempts": claim.attempts + (1 if outcome.attempted else 0),
        "last_status": outcome.http_status,
        "last_error": outcome.error[:ERROR_LENGTH] if outcome.error else None,
        "next_attempt_at": (
            utc(outcome.next_attempt_at) if outcome.next_attempt_at is not None else at
        ),
    }
    if outcome.status == SENT:
        values["sent_at"] = at
    moment_id = claim.moment.id
    with _writing(engine) as conn:
        if conn.dialect.name == "postgresql":  # one finisher per moment at a time
            conn.execute(
                select(outbox.c.moment_id).where(outbox.c.moment_id == moment_id).with_for_update()
            )
        changed = conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == claim.delivery_id,
                deliveries.c.status == PENDING,
                deliveries.c.attempts == claim.attempts,
                deliveries.c.next_attempt_at == utc(claim.lease_until),
            )
            .values(values)
        ).rowcount
        if not changed:
            return False
        if outcome.status in FINAL:
            _finish_outbox(conn, moment_id, at)
    return True


def _finish_outbox(conn: Connection, moment_id: str, at: dt.datetime) -> None:
    """The moment's outbox row made final when none of its deliveries is pending."""
    statuses = set(
        conn.execute(
            select(deliveries.c.status).where(deliveries.c.moment_id == moment_id)
        ).scalars()
    )
    if not statuses or PENDING in statuses:
        return
    final = SENT if statuses == {SENT} else DEAD if DEAD in statuses else EXPIRED
    others = sorted(statuses - {SENT})
    conn.execute(
        update(outbox)
        .where(outbox.c.moment_id == moment_id, outbox.c.status == PENDING)
        .values(
            status=final,
            last_error=f"deliveries {', '.join(others)}" if others else None,
            updated_at=at,
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRow:
    """A stored delivery, as read back (for reports and tests)."""

    moment_id: str
    destination: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status: int | None
    last_error: str | None
    sent_at: dt.datetime | None


def load_deliveries(conn: Connection, *, moment_id: str | None = None) -> list[DeliveryRow]:
    """The deliveries (of one moment, when given), by moment and destination."""
    query = select(deliveries).order_by(deliveries.c.moment_id, deliveries.c.destination)
    if moment_id is not None:
        query = query.where(deliveries.c.moment_id == moment_id)
    return [
        DeliveryRow(
            moment_id=row["moment_id"],
            destination=row["destination"],
            status=row["status"],
            attempts=row["attempts"],
            next_attempt_at=stored_utc(row["next_attempt_at"]),
            last_status=row["last_status"],
            last_error=row["last_error"],
            sent_at=stored_utc(row["sent_at"]) if row["sent_at"] is not None else None,
        )
        for row in conn.execute(query).mappings()
    ]


def stored_moment(row: RowMapping) -> Moment:
    """A row of ``moments`` (or a join that carries its columns) back to a Moment."""
    return Moment(
        id=row["id"],
        rule_id=row["rule_id"],
        consumer_id=row["consumer_id"],
        place_id=row["place_id"],
        trigger=TriggerKind(row["trigger"]),
        at=stored_utc(row["at"]),
        expires_at=stored_utc(row["expires_at"]),
        channel=row["channel"],
        message=row["message"],
        priority=row["priority"],
        relevance=row["relevance"],
        data=dict(row["data"] or {}),
    )


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes SQLite's write lock as it begins (``BEGIN IMMEDIATE``): claims
    and outcomes read and then write what they read."""
    with engine.connect() as conn, conn.execution_options(**{WRITE_LOCK: True}).begin():
        yield conn


def cancel_pending(conn: Connection, *, consumer_id: str, reason: str, now: dt.datetime) -> int:
    """Stop every delivery of ``consumer_id``'s moments not yet made: their outbox rows and
    delivery rows still pending become ``expired`` with ``reason`` (consent withdrawn: what
    was queued is not sent afterwards). The outbox rows stopped. The caller owns the
    transaction; a relay that already holds a claim records nothing over it (its claim no
    longer matches)."""
    theirs = select(moments.c.id).where(moments.c.consumer_id == consumer_id)
    conn.execute(
        update(deliveries)
        .where(deliveries.c.moment_id.in_(theirs), deliveries.c.status == PENDING)
        .values(status=EXPIRED, last_error=reason, next_attempt_at=utc(now))
    )
    stopped = conn.execute(
        update(outbox)
        .where(outbox.c.moment_id.in_(theirs), outbox.c.status == PENDING)
        .values(status=EXPIRED, last_error=reason, updated_at=utc(now))
    )
    return int(stopped.rowcount or 0)
