"""The history of moments in the database: caps, cooldowns and re-entry survive a restart.

:class:`DatabaseHistory` implements the decider's ``WritableHistory`` over three tables: a
fired moment, its cap reservations (one ``cap_ledger`` row per key it counts under) and its
``outbox`` row are written in **one transaction**, keyed by the moment's deterministic id. A
moment id already there (a replay restarted over pings it had seen, a retried request, a second
process deciding the same event) writes nothing: no double fire; and as the three rows commit
or roll back together, a moment is never in the ledger without its outbox row: no lost moment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from geotrigger.moments.decision import GateResult, Moment
from geotrigger.moments.history import CapKey, Verify, cap_key
from geotrigger.moments.memory_history import fired_key
from geotrigger.rules.model import Scope
from geotrigger.store.database import WRITE_LOCK
from geotrigger.store.tables import cap_ledger, exits, moments, outbox

KEY_LENGTH = 600  # the column's width; longer keys are stored as their digest


def key_text(key: CapKey) -> str:
    """A cap key as stored: its parts joined, or their digest when that is too long."""
    text = "\x1f".join(key)
    if len(text) <= KEY_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def moment_keys(moment: Moment, spell_id: str | None) -> list[CapKey]:
    """Every key a moment counts under: one per cap scope, and its rule at its place."""
    keys = [
        cap_key(
            scope,
            consumer_id=moment.consumer_id,
            rule_id=moment.rule_id,
            place_id=moment.place_id,
            spell_id=spell_id,
        )
        for scope in Scope
    ]
    return [
        *(k for k in keys if k is not None),
        fired_key(moment.consumer_id, moment.rule_id, moment.place_id),
    ]


def moment_row(moment: Moment, now: datetime) -> dict[str, object]:
    """A moment as a row of ``moments``."""
    return {
        "id": moment.id,
        "rule_id": moment.rule_id,
        "consumer_id": moment.consumer_id,
        "place_id": moment.place_id,
        "trigger": moment.trigger.value,
        "at": moment.at,
        "expires_at": moment.expires_at,
        "channel": moment.channel,
        "message": moment.message,
        "priority": moment.priority,
        "relevance": moment.relevance,
        "data": dict(moment.data),
        "created_at": now,
    }


class DatabaseHistory:
    """A ``WritableHistory`` whose every write is durable."""

    def __init__(self, engine: Engine, connection: Connection | None = None) -> None:
        """Reads open a connection of ``engine`` each, or use ``connection`` (a view of the
        history inside a transaction, for verifying a moment before it is written)."""
        self.engine = engine
        self._bound = connection
        self._ledger: Table = cap_ledger
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert_new = dialect.insert  # INSERT ... ON CONFLICT DO NOTHING on both

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Serve every read until the block ends from one connection (one evaluation's
        gates ask many small questions; a connection each would cost more than the answers).
        Writes keep their own transactions."""
        if self._bound is not None:
            yield
            return
        with self.engine.connect() as conn:
            self._bound = conn
            try:
                yield
            finally:
                self._bound = None

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        if self._bound is not None:
            yield self._bound
            return
        with self.engine.connect() as conn:
            yield conn

    def _scalar(self, query: object) -> object:
        with self._reading() as conn:
            return conn.execute(query).scalar()  # type: ignore[call-overload]

    def count(self, key: CapKey, start_s: float, end_s: float) -> int:
        """Moments counted under ``key`` with event time in ``[start_s, end_s)``."""
        if end_s <= start_s:
            return 0
        query = select(func.count()).where(*self._window(key, start_s, end_s))
        return int(self._scalar(query) or 0)  # type: ignore[call-overload]

    def times(self, key: CapKey, start_s: float, end_s: float) -> list[float]:
        """Event times of the moments counted under ``key`` in ``[start_s, end_s)``, sorted."""
        if end_s <= start_s:
            return []
        at = self._ledger.c.at_s
        query = select(at).where(*self._window(key, start_s, end_s)).order_by(at)
        with self._reading() as conn:
            return [float(t) for t in conn.execute(query).scalars()]

    def _key_is(self, key: CapKey) -> list[ColumnElement[bool]]:
        """The rows of ``key`` in this history's ledger."""
        return [self._ledger.c.key == key_text(key)]

    def _window(self, key: CapKey, start_s: float, end_s: float) -> Sequence[ColumnElement[bool]]:
        where = self._key_is(key)
        if start_s != float("-inf"):
            where.append(self._ledger.c.at_s >= start_s)
        if end_s != float("inf"):
            where.append(self._ledger.c.at_s < end_s)
        return where

    def _before(self, key: CapKey, at_s: float) -> float | None:
        at = self._ledger.c.at_s
        value = self._scalar(select(func.max(at)).where(*self._key_is(key), at <= at_s))
        return None if value is None else float(value)  # type: ignore[arg-type]

    def _after(self, key: CapKey, at_s: float, *, strictly: bool) -> float | None:
        at = self._ledger.c.at_s
        bound = at > at_s if strictly else at >= at_s
        value = self._scalar(select(func.min(at)).where(*self._key_is(key), bound))
        return None if value is None else float(value)  # type: ignore[arg-type]

    def _nearest(self, key: CapKey, at_s: float) -> float | None:
        found = [
            t
            for t in (self._before(key, at_s), self._after(key, at_s, strictly=True))
            if t is not None
        ]
        return min(found, key=lambda t: abs(t - at_s)) if found else None

    def nearest_moment_s(self, consumer_id: str, at_s: float) -> float | None:
        """Event time of the consumer's moment (any rule) nearest ``at_s``, if any."""
        return self._nearest((Scope.CONSUMER.value, consumer_id), at_s)

    def nearest_fired_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's moment for this consumer at this place nearest ``at_s``."""
        return self._nearest(fired_key(consumer_id, rule_id, place_id), at_s)

    def last_fired_before_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's latest moment for this consumer here at or before ``at_s``."""
        return self._before(fired_key(consumer_id, rule_id, place_id), at_s)

    def next_fired_after_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's first moment for this consumer here after ``at_s``."""
        return self._after(fired_key(consumer_id, rule_id, place_id), at_s, strictly=True)

    def has_moment(self, moment_id: str) -> bool:
        """Whether a moment with this id is stored."""
        return bool(self._scalar(select(exists().where(moments.c.id == moment_id))))

    def exited_since(
        self, consumer_id: str, place_id: str, since_s: float, until_s: float = float("inf")
    ) -> bool:
        """Whether the consumer left the place at or after ``since_s`` (and at or before
        ``until_s``)."""
        where = [exits.c.consumer_id == consumer_id, exits.c.place_id == place_id]
        where.append(exits.c.at_s >= since_s)
        if until_s != float("inf"):
            where.append(exits.c.at_s <= until_s)
        return bool(self._scalar(select(exists().where(and_(*where)))))

    def record_moment(
        self, moment: Moment, *, spell_id: str | None, verify: Verify | None = None
    ) -> GateResult | None:
        """The moment, its cap reservations and its outbox row, in one transaction; nothing
        when a moment with this id is already stored.

        With ``verify``, the gates are run again inside the transaction, after locking what the
        moment counts under (its consumer, rule and place, as PostgreSQL advisory locks; on
        SQLite the transaction takes the file's write lock as it begins), so that two processes
        deciding moments for one consumer at once get exactly the cap, never more. Returns the
        refusing gate, or None when the moment is stored."""
        now = datetime.now(UTC)
        with self.engine.connect() as conn, conn.execution_options(**{WRITE_LOCK: True}).begin():
            if conn.dialect.name == "postgresql":
                for lock in sorted({moment.consumer_id, moment.rule_id, moment.place_id}):
                    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(lock))))
            if conn.execute(select(moments.c.id).where(moments.c.id == moment.id)).first():
                return None  # decided before: its ledger and outbox rows are there already
            if verify is not None:
                refused = verify(DatabaseHistory(self.engine, conn))
                if refused is not None:
                    return refused
            self._write(conn, moment, spell_id, now)
        return None

    def _write(self, conn: Connection, moment: Moment, spell_id: str | None, now: datetime) -> None:
        keys = moment_keys(moment, spell_id)
        at_s = moment.at.timestamp()
        stored = conn.execute(
            self._insert_new(moments).values(moment_row(moment, now)).on_conflict_do_nothing()
        )
        if stored.rowcount == 0:
            return  # a second process stored it first
        conn.execute(
            insert(cap_ledger),
            [{"key": key_text(k), "at_s": at_s, "moment_id": moment.id} for k in keys],
        )
        conn.execute(
            insert(outbox).values(
                moment_id=moment.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                updated_at=now,
            )
        )

    def record_exit(self, consumer_id: str, place_id: str, at_s: float) -> None:
        """Remember that the consumer left the place at ``at_s``."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(exits).values(consumer_id=consumer_id, place_id=place_id, at_s=at_s)
            )
