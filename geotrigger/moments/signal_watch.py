"""Device signals as events: the crossings of a threshold, and the candidates they make.

Each device's last known value of each signal is kept: fixes without the wearable's data in
between do not erase it, a silence longer than ``signal_lost_s`` (or a fix with no accepted fix
before it) does; after a restart the device's previous ping, from its stored state, is all
that is known. A crossing (see :mod:`geotrigger.moments.triggers`) makes a candidate for every
place the rule chose within its reach of the fix, dated at the ping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from geotrigger.moments.candidates import CandidateFactory, Fix, event_key, utc
from geotrigger.moments.decision import Candidate
from geotrigger.moments.rulebook import RuleBook
from geotrigger.moments.triggers import signal_fires
from geotrigger.rules.model import Rule, SignalTrigger, TriggerKind

Near = Callable[[Sequence[Fix]], list[list[tuple[str, float]]]]
# What a fix is grouped under (device id, epoch seconds), the fix, and when it was judged.
Judged = tuple[tuple[str, float], Fix, float]


class SignalWatch:
    """Each device's last known signal values, and the candidates their crossings make."""

    def __init__(self, book: RuleBook, factory: CandidateFactory, memory_s: float) -> None:
        self.book, self.factory, self.memory_s = book, factory, memory_s
        self._triggers = [
            (r, r.trigger) for r in book.signal_rules if isinstance(r.trigger, SignalTrigger)
        ]
        self._known: dict[str, dict[str, float]] = {}  # device id -> signal -> last value

    def candidates(
        self, fixes: Iterable[Judged], now: datetime | None, near: Near
    ) -> dict[tuple[str, float], list[Candidate]]:
        """The candidates of the crossings among ``fixes`` (in time order), by group key."""
        crossings = [
            (key, fix, judged, rule)
            for key, fix, judged in fixes
            if fix.ping.signals
            for rule in self._crossed(fix)
        ]
        out: dict[tuple[str, float], list[Candidate]] = {}
        if not crossings:
            return out
        for (key, fix, judged, rule), nearby in zip(
            crossings, near([c[1] for c in crossings]), strict=True
        ):
            out.setdefault(key, []).extend(self._near_places(rule, fix, now or utc(judged), nearby))
        return out

    def _near_places(
        self, rule: Rule, fix: Fix, now: datetime, nearby: list[tuple[str, float]]
    ) -> list[Candidate]:
        assert isinstance(rule.trigger, SignalTrigger)
        chosen, reach, ping = self.book.chosen[rule.id], rule.trigger.within_m, fix.ping
        return [
            self.factory.build(
                rule,
                self.book.places[place_id],
                trigger=TriggerKind.SIGNAL,
                device_id=ping.device_id,
                consumer_id=ping.consumer_id,
                at=ping.timestamp,
                now=now,
                key=event_key(ping.id, ping.device_id, ping.timestamp, self.factory.key),
                fix=fix,
                distance_m=distance,
            )
            for place_id, distance in nearby
            if place_id in chosen and distance <= reach
        ]

    def _crossed(self, fix: Fix) -> list[Rule]:
        """The signal rules whose threshold the fix's ping crosses; remembers its values."""
        ping, prev = fix.ping, fix.prev
        if prev is None or ping.epoch_s - prev.epoch_s > self.memory_s:
            self._known.pop(ping.device_id, None)
        elif ping.device_id not in self._known:  # a restart: its previous ping is all we know
            self._known[ping.device_id] = dict(prev.signals)
        known = self._known.setdefault(ping.device_id, {})
        crossed = [
            rule
            for rule, trigger in self._triggers
            if signal_fires(trigger, known.get(trigger.signal), ping)
        ]
        known.update(ping.signals)
        return crossed
