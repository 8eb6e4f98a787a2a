"""Replay: a stream of parsed pings through the engine, as the live service would see them.

The pipeline is parse → :class:`~geotrigger.engine.ordering.Reorderer` (time order within
``lateness_s``) → micro-batches of ``batch_size`` released pings → :meth:`Engine.process`
(filters, one batched match, transitions). Records that did not parse (``malformed``) skip
the engine and are reported as they come.

**What "now" is in a replay.** With ``now`` given (``--now``), every ping is judged against that
one instant, as if the file had been posted then: pings too far before it are ``too_old``, after
it ``future``. Without it, "now" is the newest accepted event time so far, so a historical file
replays as it happened: ``too_old`` means more than ``max_age_s`` behind the stream's head, and
``future`` only a jump of more than ``max_age_s`` ahead of it (a device with a broken clock).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from geotrigger.config import Settings
from geotrigger.engine.engine import Engine, Event
from geotrigger.engine.ordering import Reorderer
from geotrigger.model import Ping, Rejection, RejectReason, Transition, TransitionKind

Sink = Callable[[list[Any]], None]


class Processor(Protocol):
    """What replay feeds: the location :class:`Engine`, or anything that wraps it (the rule
    engine adds decisions to the events it returns)."""

    @property
    def settings(self) -> Settings:
        """The settings (replay reads the lateness of re-ordering)."""
        ...

    @property
    def accepted(self) -> int:
        """Pings accepted so far."""
        ...

    def process(
        self,
        pings: Sequence[Ping],
        *,
        now: datetime | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> Sequence[Any]:
        """A micro-batch of pings in time order; its events (and anything else) out."""
        ...


class Wrapper:
    """A processor around another that does something between batches (following place
    changes, weather sweeps): settings and counts are the wrapped one's."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor

    @property
    def settings(self) -> Settings:
        return self.processor.settings

    @property
    def accepted(self) -> int:
        return self.processor.accepted


DEFAULT_BATCH = 1000  # pings per match call: most of the batch speed-up, little latency


@dataclass(slots=True)
class ReplaySummary:
    """What a replay did, for the summary table."""

    records: int = 0  # pings and malformed records read
    accepted: int = 0
    rejected: Counter[RejectReason] = field(default_factory=Counter)
    transitions: Counter[TransitionKind] = field(default_factory=Counter)
    by_place: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    @property
    def rejected_total(self) -> int:
        """Rejections of every reason."""
        return sum(self.rejected.values())

    def count(self, events: Sequence[Any]) -> None:
        """Add a batch of events to the tallies (anything but transitions and rejections is
        someone else's to count)."""
        transitions = [e for e in events if type(e) is Transition]
        if len(transitions) != len(events):
            self.rejected.update(e.reason for e in events if type(e) is Rejection)
        # Counter.update over an iterable counts in C: far cheaper than += per event
        self.transitions.update(t.kind for t in transitions)
        self.by_place.update(t.place_id for t in transitions)


def replay(
    engine: Engine | Processor,
    records: Iterable[tuple[int | None, Ping | Rejection]],
    *,
    sink: Sink | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> ReplaySummary:
    """Run (line, parsed record) pairs through ``engine``; each batch of events goes to ``sink``.

    The line travels with the ping through the re-ordering, so a rejection names its line.
    """
    started = time.perf_counter()
    summary = ReplaySummary()
    accepted_before = engine.accepted
    reorderer = Reorderer(engine.settings.transitions.lateness_s)
    released: list[Ping] = []
    push = reorderer.push
    line_of: dict[int, int | None] = {}  # by id() of the pings held in the reorderer

    def run(batch: list[Ping]) -> None:
        lines = [line_of.pop(id(p)) for p in batch]
        events = engine.process(batch, now=now, lines=lines)
        summary.count(events)
        if sink is not None and events:
            sink(list(events))

    for line, record in records:
        summary.records += 1
        if isinstance(record, Ping):
            line_of[id(record)] = line
            push(record, released)
            if len(released) >= batch_size:
                run(released)
                released = []
        else:
            summary.count([record])
            if sink is not None:
                sink([record])
    reorderer.flush(released)
    for start in range(0, len(released), batch_size):
        run(released[start : start + batch_size])
    summary.accepted = engine.accepted - accepted_before
    summary.elapsed_s = time.perf_counter() - started
    return summary


def event_record(event: Event) -> dict[str, Any]:
    """One event as a JSON-ready dict: every transition field, or the rejection's reason."""
    if isinstance(event, Transition):
        return {
            "type": "transition",
            "kind": event.kind.value,
            "device_id": event.device_id,
            "place_id": event.place_id,
            "at": event.at,
            "ping_id": event.ping_id,
            "consumer_id": event.consumer_id,
            "entered_at": event.entered_at,
            "duration_s": event.duration_s,
            "distance_m": None if event.distance_m is None else round(event.distance_m, 2),
            "reason": event.reason,
        }
    return {
        "type": "rejection",
        "reason": event.reason.value,
        "detail": event.detail,
        "line": event.line,
        "device_id": event.device_id,
        "ping_id": event.ping_id,
        "timestamp": event.timestamp,
    }
