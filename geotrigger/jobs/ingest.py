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
from geotrigger.jobs.live import LiveEngine
from geotrigger.model import Ping, Rejection, Transition
from geotrigger.moments.candidates import event_key
from geotrigger.moments.decision import Decision, Outcome
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

# What a receipt keeps of a moment: enough for the client to know it was this moment.
RECEIPT_MOMENT_FIELDS = ("id", "rule_id", "channel", "expires_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class PingAnswer:
    """What became of one ping of a request."""

    status: str  # accepted, rejected
    id: str | None = None
    reason: str | None = None
    detail: str | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    moments: list[dict[str, Any]] = field(default_factory=list)
    repeated: bool = False  # the same ping again: this is the first answer

    def document(self) -> dict[str, Any]:
        """The answer as JSON-ready data (no coordinates, no device id)."""
        doc: dict[str, Any] = {"status": self.status}
        if self.id is not None:
            doc["id"] = self.id
        if self.reason is not None:
            doc["reason"] = self.reason
        if self.detail is not None:
            doc["detail"] = self.detail
        if self.status == "accepted":
            doc["transitions"] = self.transitions
            doc["moments"] = self.moments
        if self.repeated:
            doc["repeated"] = True
        return doc

    def receipt(self) -> dict[str, Any]:
        """What is kept to answer the same ping again: its status and reason, and the ids of
        the moments it fired — not where the person was (transitions, places) nor the
        messages, which erasure could not find by the receipt's digest."""
        doc = self.document()
        doc.pop("transitions", None)
        if self.moments:
            doc["moments"] = [
                {key: m[key] for key in RECEIPT_MOMENT_FIELDS if key in m} for m in self.moments
            ]
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PingAnswer:
        return cls(
            status=doc["status"],
            id=doc.get("id"),
            reason=doc.get("reason"),
            detail=doc.get("detail"),
            transitions=list(doc.get("transitions", ())),
            moments=list(doc.get("moments", ())),
            repeated=True,
        )


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
                    answers[i] = _rejected(item)
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
                for i, made in self._answers(fresh, events).items():
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

    def _answers(
        self, fresh: Sequence[tuple[int, Ping]], events: Sequence[object]
    ) -> dict[int, PingAnswer]:
        """Events back to the pings that made them."""
        by_ping = {(ping.device_id, ping.key): i for i, ping in fresh}
        rejected: dict[int, Rejection] = {}
        transitions: dict[int, list[dict[str, Any]]] = {}
        fired: list[Decision] = []
        times = _Rfc3339()
        for event in events:
            if type(event) is Rejection:
                ping_key = event.ping_id
                if ping_key is None and event.device_id and event.timestamp is not None:
                    ping_key = f"{event.device_id}@{event.timestamp.isoformat()}"
                index = by_ping.get((event.device_id or "", ping_key or ""))
                if index is not None:
                    rejected[index] = event
            elif type(event) is Transition:
                ping_key = event.ping_id or f"{event.device_id}@{event.at.isoformat()}"
                index = by_ping.get((event.device_id, ping_key))
                if index is not None:
                    transitions.setdefault(index, []).append(_transition(event, times))
            elif type(event) is Decision and event.outcome is Outcome.FIRED and event.moment:
                fired.append(event)
        moments = self._moments(fresh, fired)
        answers: dict[int, PingAnswer] = {}
        for i, ping in fresh:
            if i in rejected:
                answers[i] = _rejected(rejected[i])
            else:
                answers[i] = PingAnswer(
                    status="accepted",
                    id=ping.id,
                    transitions=transitions.get(i, []),
                    moments=moments.get(i, []),
                )
        return answers

    def _moments(
        self, fresh: Sequence[tuple[int, Ping]], fired: Sequence[Decision]
    ) -> dict[int, list[dict[str, Any]]]:
        """The fired moments by the ping they fired for (its event key is a keyed digest: made
        only when something fired)."""
        if not fired:
            return {}
        by_event = {
            event_key(ping.id, ping.device_id, ping.timestamp, self.key): i for i, ping in fresh
        }
        moments: dict[int, list[dict[str, Any]]] = {}
        for decision in fired:
            index = by_event.get(decision.event_key)
            if index is not None:
                moments.setdefault(index, []).append(_moment(decision))
        return moments


class _Rfc3339(dict[datetime, str]):
    """Times as RFC 3339 text in UTC, each written once (a ping's transitions share its time)."""

    def __missing__(self, at: datetime) -> str:
        text = self[at] = _iso(at)
        return text


def _rejected(rejection: Rejection) -> PingAnswer:
    return PingAnswer(
        status="rejected",
        id=rejection.ping_id,
        reason=rejection.reason.value,
        detail=rejection.detail,
    )


def _transition(event: Transition, times: _Rfc3339) -> dict[str, Any]:
    return {"kind": event.kind.value, "place_id": event.place_id, "at": times[event.at]}


def _moment(decision: Decision) -> dict[str, Any]:
    moment = decision.moment
    assert moment is not None
    return {
        "id": moment.id,
        "rule_id": moment.rule_id,
        "place_id": moment.place_id,
        "channel": moment.channel,
        "message": moment.message,
        "expires_at": _iso(moment.expires_at),
    }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
