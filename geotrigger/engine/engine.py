"""The location engine: filters, batched matching and transitions over a place index.

:meth:`Engine.process` takes a micro-batch of pings in time order (what
:class:`~geotrigger.engine.ordering.Reorderer` releases) and runs three phases:

1. the filters: coordinates and accuracy for the whole batch at once on its
   :class:`~geotrigger.engine.columns.Columns`, then ping by ping the times and each device's
   history (accepting a ping updates that history at once, so the next ping of the same
   device in the batch is checked against it);
2. one :meth:`~geotrigger.spatial.PlaceIndex.near` call for all accepted pings of the batch,
   with ``within_m = settings.transitions.near_m``: the widest distance the hysteresis needs;
3. the hysteresis, ping by ping in batch order, so every device still sees its own pings in
   time order; a ping with no open visit, no pending enter and no place within reach (found
   for the whole batch at once) is skipped, as nothing can happen to it (not even a lost
   signal, which only closes what is open or pending).

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

import numpy as np

from geotrigger.config import Settings
from geotrigger.engine.columns import Columns
from geotrigger.engine.state import DeviceState, MemoryStateStore, StateStore
from geotrigger.engine.transitions import Hysteresis
from geotrigger.model import Ping, Place, Rejection, Transition, TransitionKind
from geotrigger.pings.filters import PingFilter
from geotrigger.spatial import PlaceIndex

Event = Transition | Rejection
# An accepted ping: its epoch seconds, its device's state, and the device's previous accepted
# ping (and its epoch seconds) from before it.
Accepted = tuple[Ping, float, DeviceState, Ping | None, float]
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
        self.store = store if store is not None else MemoryStateStore()
        self.filter = PingFilter(self.settings.filters)
        self.hysteresis = Hysteresis(t, self._dwell_for)
        self.accepted = 0
        self.event_clock = -math.inf  # newest accepted event time: "now" when none is given
        # The accepted pings of the last batch, each with its device's previous accepted ping:
        # what the rule engine reads for signals and speeds, without filtering again.
        self.last_accepted: list[Accepted] = []
        self._unsaved: dict[str, DeviceState] = {}  # states of a batch processed with save=False

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
        save: bool = True,
    ) -> list[Event]:
        """Run a batch of pings (in time order) through filters, matching and transitions.

        The devices' states are saved to the store after the batch; with ``save=False`` they
        are kept for :meth:`save_states`, so that a caller who acts on the transitions (the
        rule engine records moments) saves them only once that is durable: a crash in between
        then replays the batch, rather than losing what it should have made.

        ``now`` is the processing time for the "future" and "too old" filters; without it each
        ping is judged against the newest accepted event time so far (replay of a past file),
        and only a ping more than ``max_age_s`` ahead of that is "future" (a broken clock).
        ``lines``, parallel to ``pings``, says where each came from, for their rejections.
        """
        if not pings:
            self.last_accepted = []
            return []
        self._unsaved = {}  # a batch the caller never confirmed is not saved: it runs again
        states = self.store.load_many({p.device_id for p in pings})
        events: list[Event] = []
        columns = Columns.of(pings)
        accepted, rows = self._filter(pings, columns, states, now, lines, events)
        self.last_accepted = accepted
        if accepted:
            if len(rows) < len(pings):
                columns = columns.take(np.array(rows, dtype=np.intp))
            self._transitions(accepted, columns, events)
        self._unsaved = states
        if save:
            self.save_states()
        return events

    def discard_states(self) -> None:
        """Forget the unsaved states of the last batch (what it made was not recorded: after
        a restart the batch runs again)."""
        self._unsaved = {}

    def save_states(self) -> None:
        """Save the device states of the last batch, if they are not saved yet."""
        if self._unsaved:
            self.store.save_many(self._unsaved)
            self._unsaved = {}

    def _filter(
        self,
        pings: Sequence[Ping],
        columns: Columns,
        states: dict[str, DeviceState],
        now: datetime | None,
        lines: Sequence[int | None] | None,
        events: list[Event],
    ) -> tuple[list[Accepted], list[int]]:
        """The accepted pings (with their device's state before them) and their positions."""
        static, history = self.filter.static, self.filter.history
        f = self.settings.filters
        default_acc = self.settings.transitions.default_accuracy_m
        suspects = self.filter.suspects(pings, columns.lat, columns.lon, columns.accuracy_m)
        fixed_now = None if now is None else now.timestamp()
        clock = self.event_clock
        accepted: list[Accepted] = []
        rows: list[int] = []
        # Without a given now, the clock is the newest *accepted* event time, and only a jump
        # of more than max_age_s ahead of it counts as a bad clock: one ping dated years ahead
        # must not make every later ping "too old".
        future_limit = None if fixed_now is not None else f.max_age_s
        ahead, behind = f.max_future_s if future_limit is None else future_limit, f.max_age_s
        for i, ping in enumerate(pings):
            ts = ping.epoch_s
            now_ts = fixed_now if fixed_now is not None else ts if clock == -math.inf else clock
            rejection = None
            # the columns cleared the coordinates and accuracy of all but the suspects; static
            # runs (and says why) only when a check may fail
            if i in suspects or ts > now_ts + ahead or ts < now_ts - behind:
                rejection = static(ping, ts, now_ts, future_limit)
            if rejection is None:
                state = states[ping.device_id]
                last, last_ts = state.last, state.last_ts
                rejection = history(ping, ts, last, last_ts, state.recent, default_acc)
                if rejection is None:
                    accepted.append((ping, ts, state, last, last_ts))
                    rows.append(i)
                    state.remember(ping, ts, f.recent_ids)
                    if ts > clock:
                        clock = ts
                    continue
            events.append(rejection if lines is None else replace(rejection, line=lines[i]))
        self.event_clock = clock
        self.accepted += len(accepted)
        return accepted, rows

    def _transitions(self, accepted: list[Accepted], columns: Columns, events: list[Event]) -> None:
        hysteresis = self.hysteresis
        matches = self.index.near(columns.lat, columns.lon, self.settings.transitions.near_m)
        accuracy = hysteresis.accuracies(columns.accuracy_m)
        within_any = hysteresis.within_any(matches.offsets, matches.distance_m, accuracy).tolist()
        offsets = matches.offsets.tolist()
        ids = matches.place_ids.tolist()
        dists = matches.distance_m.tolist()
        accs = accuracy.tolist()
        step = hysteresis.step
        out: list[Transition] = []
        for i, (ping, ts, state, prev, prev_ts) in enumerate(accepted):
            # nothing open or pending and no place within reach: nothing can happen
            any_within = within_any[i]
            if any_within or state.visits or state.pending:
                lo, hi = offsets[i], offsets[i + 1]
                ids_i, dists_i = ids[lo:hi], dists[lo:hi]
                step(state, ping, ts, prev, prev_ts, ids_i, dists_i, accs[i], any_within, out)
        events.extend(out)

    def place(self, place_id: str) -> Place | None:
        """The place ``place_id`` as the index holds it, if it does."""
        return self.index.get(place_id)

    def place_ids(self) -> set[str]:
        """The ids of the places the index holds."""
        return {place.id for place in self.index.places()}

    def upsert_place(self, place: Place) -> None:
        """Add a place or replace it; devices already inside start entering it at their next
        ping (the enter comes with the fix that confirms it)."""
        self.index.upsert(place)

    def remove_place(
        self, place_id: str, at: datetime, *, close_visits: bool = True
    ) -> list[Transition]:
        """Remove a place; every device inside it exits at ``at`` (reason "place removed"),
        and pending enters there are dropped. ``close_visits=False``: only the index
        forgets it (a process that reads device state but does not own it, as the scheduler:
        the process that accepts the pings closes the visits)."""
        self.index.remove(place_id)
        if not close_visits:
            return []
        at_ts = at.timestamp()
        exits: list[Transition] = []
        changed: dict[str, DeviceState] = {}
        for device_id, state in self.store.devices_inside(place_id):
            changed[device_id] = state
            state.pending.pop(place_id, None)  # not a visit yet: nothing to close
            visit = state.visits.pop(place_id, None)
            if visit is None:
                continue
            exits.append(
                Transition(
                    kind=TransitionKind.EXIT,
                    device_id=device_id,
                    place_id=place_id,
                    at=at,
                    consumer_id=state.last.consumer_id if state.last is not None else None,
                    entered_at=visit.entered_at,
                    duration_s=visit.duration_s(at_ts),
                    reason=PLACE_REMOVED,
                )
            )
        self.store.save_many(changed)
        return exits
