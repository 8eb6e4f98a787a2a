"""The location engine: filters, batched matching and transitions over a place index.

:meth:`Engine.process` takes a micro-batch of pings in time order (what
:class:`~geotrigger.engine.ordering.Reorderer` releases) and runs three phases:

1. the filters, ping by ping, against each device's history (accepting a ping updates that
   history at once, so the next ping of the same device in the batch is checked against it);
2. one :meth:`~geotrigger.spatial.PlaceIndex.near` call for all accepted pings of the batch,
   with ``within_m = settings.transitions.near_m``: the widest distance the hysteresis needs;
3. the hysteresis, ping by ping in batch order, so every device still sees its own pings in
   time order.

Rejections of a batch come first in its result, then its transitions. Place changes are
reconciled here too: :meth:`Engine.remove_place` closes the visits of every device inside (and
drops pending enters there), and :meth:`Engine.upsert_place` needs nothing more than the index
update, because a device inside a new place starts entering it at its next ping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from geotrigger.config import Settings
from geotrigger.engine.state import DeviceState, MemoryStateStore, StateStore
from geotrigger.engine.transitions import Hysteresis
from geotrigger.model import Ping, Place, Rejection, Transition, TransitionKind
from geotrigger.pings.filters import PingFilter
from geotrigger.spatial import PlaceIndex

Event = Transition | Rejection
PLACE_REMOVED = "place removed"


class Engine:
    """Pings in, transitions (and rejections) out. One instance per process and place set."""

    def __init__(
        self,
        places: Iterable[Place] = (),
        *,
        settings: Settings | None = None,
        store: StateStore | None = None,
        index: PlaceIndex | None = None,
    ) -> None:
        """Build the index of ``places`` (or use ``index``, built with ``near_m`` at least
        ``settings.transitions.near_m``); device state lives in ``store`` (memory by default)."""
        self.settings = settings or Settings()
        t = self.settings.transitions
        if index is None:
            index = PlaceIndex(places, near_m=t.near_m, settings=self.settings.index)
        self.index = index
        self.store = store or MemoryStateStore()
        self.filter = PingFilter(self.settings.filters)
        self.hysteresis = Hysteresis(t, self._dwell_for)
        self.accepted = 0
        self.event_clock = -math.inf  # newest accepted event time: "now" when none is given

    def _dwell_for(self, place_id: str) -> float:
        place = self.index.get(place_id)
        if place is not None and place.dwell_s is not None:
            return place.dwell_s
        return self.settings.transitions.dwell_s

    def process(
        self,
        pings: Sequence[Ping],
        *,
        now: datetime | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> list[Event]:
        """Run a batch of pings (in time order) through filters, matching and transitions.

        ``now`` is the processing time for the "future" and "too old" filters; without it each
        ping is judged against the newest accepted event time so far (replay of a past file),
        and only a ping more than ``max_age_s`` ahead of that is "future" (a broken clock).
        ``lines``, parallel to ``pings``, says where each came from, for their rejections.
        """
        if not pings:
            return []
        states = self.store.load_many({p.device_id for p in pings})
        events: list[Event] = []
        accepted = self._filter(pings, states, now, lines, events)
        if accepted:
            self._transitions(accepted, events)
        self.store.save_many(states)
        return events

    def _filter(
        self,
        pings: Sequence[Ping],
        states: dict[str, DeviceState],
        now: datetime | None,
        lines: Sequence[int | None] | None,
        events: list[Event],
    ) -> list[tuple[Ping, float, DeviceState, Ping | None, float]]:
        static, history = self.filter.static, self.filter.history
        keep = self.settings.filters.recent_ids
        default_acc = self.settings.transitions.default_accuracy_m
        fixed_now = None if now is None else now.timestamp()
        clock = self.event_clock
        accepted = []
        # Without a given now, the clock is the newest *accepted* event time, and only a jump
        # of more than max_age_s ahead of it counts as a bad clock: one ping dated years ahead
        # must not make every later ping "too old".
        future_limit = None if fixed_now is not None else self.settings.filters.max_age_s
        for i, ping in enumerate(pings):
            ts = ping.timestamp.timestamp()
            now_ts = fixed_now
            if now_ts is None:
                now_ts = ts if clock == -math.inf else clock
            rejection = static(ping, ts, now_ts, future_limit)
            if rejection is None:
                state = states[ping.device_id]
                rejection = history(ping, ts, state.last, state.last_ts, state.recent, default_acc)
                if rejection is None:
                    accepted.append((ping, ts, state, state.last, state.last_ts))
                    state.remember(ping, ts, keep)
                    if ts > clock:
                        clock = ts
                    continue
            if lines is not None:
                rejection = replace(rejection, line=lines[i])
            events.append(rejection)
        self.event_clock = clock
        self.accepted += len(accepted)
        return accepted

    def _transitions(
        self,
        accepted: list[tuple[Ping, float, DeviceState, Ping | None, float]],
        events: list[Event],
    ) -> None:
        matches = self.index.near(
            [a[0].lat for a in accepted],
            [a[0].lon for a in accepted],
            self.settings.transitions.near_m,
        )
        offsets = matches.offsets.tolist()
        ids = matches.place_ids.tolist()
        dists = matches.distance_m.tolist()
        step = self.hysteresis.step
        out: list[Transition] = []
        for i, (ping, ts, state, prev, prev_ts) in enumerate(accepted):
            lo, hi = offsets[i], offsets[i + 1]
            step(state, ping, ts, prev, prev_ts, ids[lo:hi], dists[lo:hi], out)
        events.extend(out)

    def upsert_place(self, place: Place) -> None:
        """Add a place or replace it; devices already inside start entering it at their next
        ping (the enter comes with the fix that confirms it)."""
        self.index.upsert(place)

    def remove_place(self, place_id: str, at: datetime) -> list[Transition]:
        """Remove a place; every device inside it exits at ``at`` (reason "place removed"),
        and pending enters there are dropped."""
        self.index.remove(place_id)
        at_ts = at.timestamp()
        exits: list[Transition] = []
        changed: dict[str, DeviceState] = {}
        for device_id, state in self.store.devices_inside(place_id):
            changed[device_id] = state
            state.pending.pop(place_id, None)  # not a visit yet: nothing to close
            visit = state.visits.pop(place_id, None)
            if visit is None:
                continue
            # A visit with an exit pending ended at its first outside ping, not now.
            end_ts = visit.outside_since_ts if visit.outside_since is not None else at_ts
            exits.append(
                Transition(
                    kind=TransitionKind.EXIT,
                    device_id=device_id,
                    place_id=place_id,
                    at=at,
                    consumer_id=state.last.consumer_id if state.last is not None else None,
                    entered_at=visit.entered_at,
                    duration_s=max(end_ts - visit.entered_ts, 0.0),
                    reason=PLACE_REMOVED,
                )
            )
        self.store.save_many(changed)
        return exits
