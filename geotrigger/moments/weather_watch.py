"""Weather changes as events: which are due, and the candidates they make.

A weather change that some weather rule waits for (rain starts, a threshold is crossed) is due
at its time. Changes due at the same time (a sweep sees rain start in many cells at once) are
taken together: one scan of the devices whose last accepted fix is fresh enough, one query of
the place index for all of them, then each nearby place is matched to the change covering it.
A place is covered by a change at its own id, or at its weather cell unless the timeline has a
reading for the place itself by then (its own weather is what counts) — the same rule the
timeline follows when it tells the weather at a place. All candidates of one time go
to the decider as one evaluation: one moment per consumer, however many cells turned wet.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from datetime import datetime

from geotrigger.moments.candidates import CandidateFactory, Fix
from geotrigger.moments.decision import Candidate
from geotrigger.moments.rulebook import RuleBook
from geotrigger.moments.triggers import weather_fires
from geotrigger.rules.model import Rule, TriggerKind, WeatherTrigger
from geotrigger.weather.cells import cell_of_place
from geotrigger.weather.reading import WeatherChange
from geotrigger.weather.timeline import WeatherTimeline

Near = Callable[[Sequence[Fix]], list[list[tuple[str, float]]]]


class WeatherWatch:
    """The weather changes still to come, and each device's last accepted fix."""

    def __init__(
        self, book: RuleBook, timeline: WeatherTimeline, factory: CandidateFactory
    ) -> None:
        self.book, self.factory, self.timeline = book, factory, timeline
        self.rules = [r for r in book.weather_rules if isinstance(r.trigger, WeatherTrigger)]
        self.max_fresh_s = book.max_fresh_s
        self.last: dict[str, Fix] = {}  # by device id
        self._due = deque(c for c in timeline.changes() if self._firing(c))
        self._own = set(timeline.keys())  # places with readings of their own
        self._by_cell: dict[str, set[str]] = defaultdict(set)
        self._cell_of: dict[str, str] = {}  # place id -> its cell
        for place_id in frozenset().union(*(book.chosen[r.id] for r in self.rules)):
            self._place_in(place_id)

    def _place_in(self, place_id: str) -> None:
        cell = cell_of_place(self.book.places[place_id], self.timeline.cell_m)
        self._by_cell[cell].add(place_id)
        self._cell_of[place_id] = cell

    def place_changed(self, place_id: str) -> None:
        """Follow a place added, moved or removed in the rule book (call after the book)."""
        cell = self._cell_of.pop(place_id, None)
        if cell is not None:
            self._by_cell[cell].discard(place_id)
        if place_id in self.book.places and any(
            place_id in self.book.chosen[r.id] for r in self.rules
        ):
            self._place_in(place_id)

    def _firing(self, change: WeatherChange) -> list[Rule]:
        return [r for r in self.rules if weather_fires(r.trigger, change)]  # type: ignore[arg-type]

    def next_s(self) -> float | None:
        """Epoch seconds of the next due change, if any."""
        return self._due[0].at.timestamp() if self._due else None

    def pop_due(self) -> list[WeatherChange]:
        """Every change due at the time of the next one."""
        first = self._due.popleft()
        changes = [first]
        while self._due and self._due[0].at == first.at:
            changes.append(self._due.popleft())
        return changes

    def drop(self) -> None:
        """Forget the changes still to come (the stream has ended)."""
        self._due.clear()

    def _covered(self, changes: list[WeatherChange]) -> dict[str, tuple[WeatherChange, list[Rule]]]:
        """For each place some change covers: that change and the rules it starts."""
        covered: dict[str, tuple[WeatherChange, list[Rule]]] = {}
        for change in changes:
            firing = self._firing(change)
            if change.key in self.book.places:
                covered[change.key] = (change, firing)
                continue
            for place_id in sorted(self._by_cell.get(change.key, ())):
                if place_id in self._own and self.timeline.at_key(place_id, change.at) is not None:
                    continue  # its own readings speak for it
                covered.setdefault(place_id, (change, firing))
        return covered

    def candidates(
        self,
        changes: list[WeatherChange],
        now: datetime | None,
        near: Near,
        *,
        seen_at: datetime | None = None,
    ) -> list[Candidate]:
        """Candidates of the due ``changes`` for every fresh device near a covered place.

        Freshness is judged at ``seen_at`` when given (a live sweep: the change is seen when
        the reading arrives, and a device that pinged after the observation, up to then, is
        where it is now), else at the change's own time (a recorded timeline)."""
        at = changes[0].at
        judge_s = (seen_at if seen_at is not None and seen_at > at else at).timestamp()
        fresh = [f for f in self.last.values() if 0 <= judge_s - f.ping.epoch_s <= self.max_fresh_s]
        covered = self._covered(changes) if fresh else {}
        if not covered:
            return []
        out: list[Candidate] = []
        for fix, nearby in zip(fresh, near(fresh), strict=True):
            age = judge_s - fix.ping.epoch_s
            for place_id, distance in nearby:
                hit = covered.get(place_id)
                if hit is not None:
                    out += self._for_place(hit, place_id, distance, age, fix, now or at)
        return out

    def _for_place(
        self,
        hit: tuple[WeatherChange, list[Rule]],
        place_id: str,
        distance: float,
        age: float,
        fix: Fix,
        now: datetime,
    ) -> list[Candidate]:
        change, firing = hit
        return [
            self.factory.build(
                rule,
                self.book.places[place_id],
                trigger=TriggerKind.WEATHER,
                device_id=fix.ping.device_id,
                consumer_id=fix.ping.consumer_id,
                at=change.at,
                now=now,
                key=change.event_id,
                fix=fix,
                distance_m=distance,
                weather_event=change,
            )
            for rule in firing
            if isinstance(rule.trigger, WeatherTrigger)
            and age <= rule.trigger.fresh_s
            and distance <= rule.trigger.within_m
            and place_id in self.book.chosen[rule.id]
        ]
