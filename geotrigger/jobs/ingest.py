"""Ingestion: a batch of pings from a client through the live engine, and an answer per ping.

Each ping ends in exactly one answer: ``accepted`` (with the transitions it made and the
moments it fired), ``rejected`` (with the reason: a filter, or a record that did not parse),
or — when the same device sent the same ping id before — the answer it got the first time,
marked ``repeated``, without being processed again. Receipts are kept for a day, keyed by a
keyed digest of device and ping id; a receipt keeps the status, the reason and the ids of the
moments, not the transitions, places or messages, so a repeated answer carries no
transitions. A batch is processed in time order under one lock: the engine is one per
process. Its moments are committed as they are decided; then its device states, decisions and
receipts are written in one transaction (never the states without the moments: a crash in
between runs the batch again). If processing fails, nothing of the batch but its moments
(keyed by their deterministic ids) is kept, and the client sends it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from geotrigger.config import Settings
from geotrigger.errors import ConfigError
from geotrigger.jobs.answers import PingAnswer, answers_for, rejected_answer
from geotrigger.jobs.live import LiveEngine
from geotrigger.model import Ping, Rejection
from geotrigger.moments.decision import Decision
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.privacy import pseudonym
from geotrigger.store.consumers import erase_consumer, load_consumer
from geotrigger.store.database import database_errors, shown
from geotrigger.store.decisions import save_decisions
from geotrigger.store.device_state import collector_paused
from geotrigger.store.durable import Durable
from geotrigger.store.locks import try_lock
from geotrigger.store.receipts import load_receipts, save_receipts

# The lock of the one process that accepts pings into a database: it owns the device states
# (the API service keeps them in memory between batches; a replay writes them), so a second
# one would decide the same devices from different states and overwrite the other's.
INGEST_LOCK = "geotrigger-ingest"


@dataclass(slots=True)
class IngestStats:
    """Counters for /metrics: pings by result and reason, decisions, moments."""

    pings: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, reason)
    decisions: dict[tuple[str, str, str], int] = field(default_factory=dict)  # rule, outcome, gate
    batches: int = 0

    def count(self, answers: Sequence[PingAnswer], decisions: Sequence[Decision]) -> None:
        self.batches += 1
        for answer in answers:
            key = ("repeated" if answer.repeated else answer.status, answer.reason or "")
            self.pings[key] = self.pings.get(key, 0) + 1
        for d in decisions:
            dkey = (d.rule_id, d.outcome.value, d.gate or d.condition or "")
            self.decisions[dkey] = self.decisions.get(dkey, 0) + 1


@contextmanager
def sole_ingester(durable: Durable) -> Iterator[None]:
    """Hold the database's ingest lock for the block (see :data:`INGEST_LOCK`); a ConfigError
    at once when another process holds it."""
    with try_lock(durable.engine, INGEST_LOCK) as taken:
        if not taken:
            raise ConfigError(
                f"another process is already ingesting into {shown(durable.url)} "
                "(a geotrigger serve or a replay into it): one at a time per database"
            )
        yield


class Ingestor:
    """The live engine of a database, fed by requests."""

    def __init__(
        self,
        durable: Durable,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.durable, self.settings, self.clock = durable, settings, clock
        self.live = LiveEngine(
            durable,
            settings,
            now=clock(),
            follow_weather=True,
            owns_state=True,
            every_s=settings.database.places_poll_s,
        )
        self.lock = threading.Lock()
        self.stats = IngestStats()
        self.key = settings.privacy.pseudonym_key
        self.loaded_at = time.monotonic()

    def refresh(self) -> None:
        """Read places, consumers, rules and weather again now (the admin reload); the visits
        of places removed since are closed, and those states written."""
        with self.lock:
            self._current(self.clock(), force=True)

    def _current(self, now: datetime, *, force: bool = False) -> MomentEngine:
        """The live engine, refreshed when due (or ``force``); the states a refresh changes
        (visits of removed places closed) are committed here, before any batch, so that a
        batch that fails cannot take them with it. Under the lock."""
        with self.durable.state.deferred():
            engine = self.live.current(now, force=force)
            self._keep((), {})
        return engine

    def erase(self, consumer_id: str) -> dict[str, int]:
        """Delete everything stored about a consumer (rows deleted, per table), between two
        batches: no batch in flight writes their devices' states back afterwards, and the
        states held in memory go too."""
        durable = self.durable
        with self.lock:
            with database_errors(durable.url), durable.engine.begin() as conn:
                held = load_consumer(conn, consumer_id=consumer_id)
                deleted = erase_consumer(conn, consumer_id=consumer_id)
            durable.state.forget(held.devices if held is not None else ())
            self._current(self.clock(), force=True)  # no batch sees them in between
        return deleted

    def ingest(self, items: Sequence[Ping | Rejection]) -> list[PingAnswer]:
        """One request's pings (and the records that did not parse), answered in order."""
        with self.lock:
            now = self.clock()
            answers: list[PingAnswer | None] = [None] * len(items)
            receipts = {
                i: self._receipt(p)
                for i, p in enumerate(items)
                if isinstance(p, Ping) and p.id is not None
            }
            known = self._known_receipts(receipts.values())
            fresh: list[tuple[int, Ping]] = []
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                if isinstance(item, Rejection):
                    answers[i] = rejected_answer(item)
                    continue
                key = receipts.get(i)
                if key is not None and key in known:
                    answers[i] = PingAnswer.from_document(known[key])
                elif key is not None and key in seen:  # the same ping twice in one request
                    continue  # answered as the first, below
                else:
                    if key is not None:
                        seen[key] = i
                    fresh.append((i, item))
            fresh.sort(key=lambda pair: pair[1].epoch_s)
            # the states are written in _keep; the batch's objects live as long as the
            # request, so the collector waits for its end (see collector_paused)
            engine = self._current(now)
            with self.durable.state.deferred(), collector_paused():
                events = engine.process([p for _, p in fresh], now=now)
                decisions = [e for e in events if type(e) is Decision]
                for i, made in answers_for(fresh, events, self.key).items():
                    answers[i] = made
                for i, item in enumerate(items):
                    if answers[i] is None and isinstance(item, Ping):
                        first = answers[seen[receipts[i]]]
                        assert first is not None
                        answers[i] = PingAnswer.from_document(first.document())
                new: dict[str, dict[str, Any]] = {}
                for i, _ in fresh:
                    kept = answers[i]
                    if i in receipts and kept is not None:
                        new[receipts[i]] = kept.receipt()
                self._keep(decisions, new)
            done = [a for a in answers if a is not None]
            self.stats.count(done, decisions)
            return done

    def _known_receipts(self, keys: Collection[str]) -> dict[str, dict[str, Any]]:
        """The answers kept for these receipt keys (no query when no ping has an id)."""
        if not keys:
            return {}
        with self.durable.engine.connect() as conn:
            return load_receipts(conn, keys=keys)

    def _keep(self, decisions: Sequence[Decision], receipts: dict[str, dict[str, Any]]) -> None:
        """The batch's device states, decisions and receipts in one transaction.

        Its moments were committed while it was decided, before this (so a moment is durable
        before the answer, and before the states that say its ping was seen); if this fails,
        none of the three is kept, and the batch sent again runs again as a whole.
        """
        durable = self.durable
        if not (decisions or receipts or durable.state.holds_states):
            return  # nothing to write: no transaction (a refresh that changed nothing)
        with database_errors(durable.url), durable.engine.begin() as conn:
            durable.state.write_held(conn)
            wall_clock = datetime.now(UTC)
            save_decisions(conn, decisions=decisions, now=wall_clock)
            save_receipts(conn, results=receipts, now=wall_clock)

    def _receipt(self, ping: Ping) -> str:
        return pseudonym(f"{ping.device_id}\x1f{ping.id}", key=self.key, prefix="r-", digits=32)
