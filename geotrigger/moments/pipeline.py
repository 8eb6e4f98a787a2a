"""The moment engine: pings in; transitions, rejections and decisions out.

It wraps the location :class:`~geotrigger.engine.Engine` and, per micro-batch:

1. splits the batch at the times of due weather changes, so that a change at 09:30 sees each
   device's last location as of 09:30, not a later one from the same batch;
2. runs the location engine on each part, then turns its transitions and the signal crossings
   of its accepted pings into candidates, grouped into evaluations by (device, ping time), in
   time order; exits are recorded in the history first (re-eligibility reads them);
3. for each weather change that some weather rule waits for, builds candidates for every
   device whose last accepted fix is fresh enough and near a chosen place covered by the
   reading that changed (one evaluation per change);
4. hands each evaluation to the :class:`~geotrigger.moments.decider.Decider`.

**What "now" is.** With ``now`` given, every candidate is judged at that instant. Without it, a
candidate is judged when its ping was processed: the newest accepted ping time of the stream
at that point (the ping's own time, unless it arrived late, after newer pings of others). A
"signal lost" exit is judged at the ping that revealed the silence; a weather candidate at the
change's time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import numpy as np

from geotrigger.config import Settings
from geotrigger.consumers.directory import ConsumerDirectory
from geotrigger.engine import SIGNAL_LOST, Engine, Event, StateStore
from geotrigger.model import Ping, Place, Transition, TransitionKind
from geotrigger.moments.candidates import CandidateFactory, Fix, utc
from geotrigger.moments.decider import Decider
from geotrigger.moments.decision import Candidate, Decision
from geotrigger.moments.history import WritableHistory
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.moments.rulebook import RuleBook
from geotrigger.moments.signal_watch import SignalWatch
from geotrigger.moments.weather_watch import WeatherWatch
from geotrigger.rules.model import RuleSet, TriggerKind
from geotrigger.spatial import PlaceIndex
from geotrigger.weather.reading import WeatherChange, WeatherReading
from geotrigger.weather.timeline import WeatherTimeline

Record = Event | Decision
GroupKey = tuple[str, float]  # (device id, event epoch seconds)


class MomentEngine:
    """Location engine plus rules: what replay and the service feed pings to."""

    def __init__(
        self,
        places: Iterable[Place],
        rules: RuleSet,
        *,
        consumers: ConsumerDirectory,
        weather: WeatherTimeline | None = None,
        settings: Settings | None = None,
        history: WritableHistory | None = None,
        store: StateStore | None = None,
        shadows: Callable[[str], WritableHistory] | None = None,
    ) -> None:
        """Bind ``rules`` to ``places`` and build the index wide enough for every rule; device
        state lives in ``store`` and moments in ``history`` (memory by default)."""
        places = list(places)
        self.settings = settings or Settings()
        self.book = RuleBook(rules, places)
        near_m = max(self.settings.transitions.near_m, self.book.reach_m)
        index = PlaceIndex(places, near_m=near_m, settings=self.settings.index)
        self.engine = Engine(settings=self.settings, index=index, store=store)
        self.history: WritableHistory = history if history is not None else MemoryHistory()
        self.decider = Decider(rules.policy, self.history, shadows=shadows)
        self.factory = CandidateFactory(consumers, weather, key=self.settings.privacy.pseudonym_key)
        memory_s = self.settings.transitions.signal_lost_s or math.inf
        self.signals = (
            SignalWatch(self.book, self.factory, memory_s) if self.book.signal_rules else None
        )
        self.watch = WeatherWatch(self.book, weather, self.factory) if weather is not None else None
        if self.watch is not None and not self.watch.rules:
            self.watch = None
        if self.watch is not None:  # where devices were when a previous process stopped
            for ping in self.engine.store.last_pings():
                self.watch.last[ping.device_id] = Fix(ping, None)

    def add_weather(
        self,
        readings: Iterable[tuple[str, WeatherReading]],
        *,
        now: datetime | None = None,
        evaluate: bool = True,
    ) -> list[Decision]:
        """Readings as they arrive (a weather sweep), by place id or cell key: each is added
        to the weather the rules read, and, with ``evaluate``, each that is the newest at its
        key and differs in time from the one before is a weather change decided at once, for
        the devices whose last accepted location is fresh at the change (see
        :meth:`refresh_locations`). A reading already known, or older than the newest at its
        key, only fills the timeline. The engine must have been built with a timeline
        (``weather=WeatherTimeline(...)``, empty is fine)."""
        timeline = self.factory.weather
        if timeline is None:
            raise ValueError("the engine was built without a weather timeline")
        changes, added = timeline.add_arrived(readings)
        watch = self.watch
        if not evaluate or watch is None or not changes:
            return []
        out: list[Decision] = []
        try:
            for _at, group in itertools.groupby(changes, key=lambda c: c.at):
                out += self._run_weather(list(group), now, seen_at=now)
        except BaseException:  # undecided: the same readings must be changes again next time
            for key, reading in added:
                timeline.discard(key, reading.observed_at)
            raise
        return out

    def refresh_locations(self) -> int:
        """Learn where devices are from the device-state store (another process accepts
        their pings): each device's last accepted ping, when newer than the one held, and
        devices no longer stored (erased) forgotten; the number of devices updated. Only
        weather moments read these."""
        watch = self.watch
        if watch is None:
            return 0
        stored = {ping.device_id: ping for ping in self.engine.store.last_pings()}
        updated = sum(
            1
            for device_id, ping in stored.items()
            if (held := watch.last.get(device_id)) is None or held.ping.epoch_s < ping.epoch_s
        )
        # the store is the truth: a device erased there is forgotten here too
        watch.last = {
            device_id: held
            if (held := watch.last.get(device_id)) is not None and held.ping.epoch_s >= ping.epoch_s
            else Fix(ping, None)
            for device_id, ping in stored.items()
        }
        return updated

    def upsert_place(self, place: Place) -> None:
        """Add a place or replace it, live: the index, the rules that choose it, the weather
        cell it is watched in. Devices inside it enter at their next ping."""
        self.engine.upsert_place(place)
        self._place_changed(place.id)

    def remove_place(
        self, place_id: str, at: datetime, *, close_visits: bool = True
    ) -> list[Transition]:
        """Remove a place, live; the devices inside exit at ``at`` (reason "place removed"),
        unless ``close_visits`` is False (see :meth:`Engine.remove_place`). Those exits
        decide no moments: the place and its rules are gone."""
        exits = self.engine.remove_place(place_id, at, close_visits=close_visits)
        self._place_changed(place_id)
        return exits

    def place(self, place_id: str) -> Place | None:
        """The place ``place_id`` as the engine holds it, if it does."""
        return self.engine.place(place_id)

    def place_ids(self) -> set[str]:
        """The ids of the places the engine holds now."""
        return set(self.book.places)

    def _place_changed(self, place_id: str) -> None:
        place = self.engine.place(place_id)
        if place is None:
            self.book.remove(place_id)
        else:
            self.book.upsert(place)
        if self.watch is not None:
            self.watch.place_changed(place_id)

    @property
    def accepted(self) -> int:
        """Pings accepted so far (for the replay summary)."""
        return self.engine.accepted

    def process(
        self,
        pings: Sequence[Ping],
        *,
        now: datetime | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> list[Record]:
        """A micro-batch of pings (in time order) through the engine and the rules."""
        out: list[Record] = []
        start = 0
        watch = self.watch
        due = watch.next_s() if watch is not None else None
        for i, ping in enumerate(pings):
            while due is not None and due <= ping.epoch_s and watch is not None:
                out += self._run_pings(pings[start:i], now, lines, start)
                start = i
                out += self._run_weather(watch.pop_due(), now)
                due = watch.next_s()
        out += self._run_pings(pings[start:], now, lines, start)
        return out

    def finish(self, *, now: datetime | None = None) -> list[Decision]:
        """Weather changes after the last ping that still find fresh locations."""
        out: list[Decision] = []
        watch = self.watch
        if watch is None:
            return out
        horizon = self.engine.event_clock + watch.max_fresh_s
        while (due := watch.next_s()) is not None and due <= horizon:
            out += self._run_weather(watch.pop_due(), now)
        watch.drop()
        return out

    def _run_pings(
        self,
        pings: Sequence[Ping],
        now: datetime | None,
        lines: Sequence[int | None] | None,
        offset: int,
    ) -> list[Record]:
        if not pings:
            return []
        part_lines = None if lines is None else lines[offset : offset + len(pings)]
        try:
            events = self._decide_pings(pings, now, part_lines)
        except BaseException:
            self.engine.discard_states()  # nothing of this batch is durable: it runs again
            raise
        self.engine.save_states()
        return events

    def _decide_pings(
        self, pings: Sequence[Ping], now: datetime | None, part_lines: Sequence[int | None] | None
    ) -> list[Record]:
        """The batch through the engine (states left unsaved) and its candidates decided."""
        head = self.engine.event_clock
        # device states are saved only once the batch's moments are recorded: a crash in
        # between replays the batch (same moments, same ids: stored once), never loses them
        events: list[Record] = list(
            self.engine.process(pings, now=now, lines=part_lines, save=False)
        )
        accepted = self.engine.last_accepted
        fixes: dict[GroupKey, tuple[Fix, float]] = {}
        last = self.watch.last if self.watch is not None else None
        for ping, ts, _state, prev, _prev_ts in accepted:
            head = ts if ts > head else head
            fix = Fix(ping, prev)
            fixes[(ping.device_id, ts)] = (fix, head)
            if last is not None:
                last[ping.device_id] = fix
        groups = self._transition_groups(events, fixes, now)
        if self.signals is not None:
            judged = ((key, fix, ts) for key, (fix, ts) in fixes.items())
            for key, candidates in self.signals.candidates(judged, now, self._near).items():
                groups.setdefault(key, []).extend(candidates)
        for key in sorted(groups, key=lambda k: k[1]):
            events += self._evaluate(groups[key])
        return events

    def _transition_groups(
        self,
        events: Sequence[Record],
        fixes: dict[GroupKey, tuple[Fix, float]],
        now: datetime | None,
    ) -> dict[GroupKey, list[Candidate | Transition]]:
        groups: dict[GroupKey, list[Candidate | Transition]] = {}
        book, build = self.book, self.factory.for_transition
        for event in events:
            if type(event) is not Transition or event.place_id not in book.watched:
                continue
            key = (event.device_id, event.at.timestamp())
            found = fixes.get(key)
            fix = found[0] if found else None
            if found and event.reason != SIGNAL_LOST:
                judged = found[1]
            else:
                judged = self._late_now(event, fixes)
            group = groups.setdefault(key, [])
            if event.kind is TransitionKind.EXIT:
                group.append(event)  # recorded before the group is decided
            place = book.places[event.place_id]
            when = now or utc(judged)
            group += (
                build(rule, place, event, fix, when)
                for rule in book.for_transition(TriggerKind(event.kind.value), event.place_id)
            )
        return groups

    def _late_now(self, event: Transition, fixes: dict[GroupKey, tuple[Fix, float]]) -> float:
        """When an event not dated at a ping of this batch (a "signal lost" exit) was seen:
        at the device's first ping of the batch after it."""
        after = [
            judged
            for (device, ts), (_fix, judged) in fixes.items()
            if device == event.device_id and ts > event.at.timestamp()
        ]
        return min(after, default=max(self.engine.event_clock, event.at.timestamp()))

    def _near(self, fixes: Sequence[Fix]) -> list[list[tuple[str, float]]]:
        """Places (id, metres outside) within the widest rule reach of each fix."""
        index = self.engine.index
        lats = np.fromiter((f.ping.lat for f in fixes), dtype=np.float64, count=len(fixes))
        lons = np.fromiter((f.ping.lon for f in fixes), dtype=np.float64, count=len(fixes))
        matches = index.near(lats, lons, self.book.reach_m)
        offsets, ids, dists = (
            matches.offsets.tolist(),
            matches.place_ids.tolist(),
            matches.distance_m.tolist(),
        )
        return [
            list(
                zip(
                    ids[offsets[i] : offsets[i + 1]],
                    dists[offsets[i] : offsets[i + 1]],
                    strict=True,
                )
            )
            for i in range(len(fixes))
        ]

    def _run_weather(
        self,
        changes: list[WeatherChange],
        now: datetime | None,
        seen_at: datetime | None = None,
    ) -> list[Decision]:
        assert self.watch is not None
        candidates = self.watch.candidates(changes, now, self._near, seen_at=seen_at)
        return self.decider.decide(candidates) if candidates else []

    def _evaluate(self, group: list[Candidate | Transition]) -> list[Decision]:
        candidates: list[Candidate] = []
        for item in group:
            if isinstance(item, Transition):
                consumer_id, _ = self.factory.consumer(item.consumer_id, item.device_id)
                self.history.record_exit(consumer_id, item.place_id, item.at.timestamp())
            else:
                candidates.append(item)
        return self.decider.decide(candidates) if candidates else []


__all__ = ["MomentEngine", "Record"]
