"""Enter, dwell and exit with hysteresis that adapts to each fix's accuracy.

Per device and place, for each accepted ping (in time order), with ``d`` the ping's distance
outside the place (0 inside; beyond ``near_m`` counts as far outside) and
``acc = min(accuracy_m or default_accuracy_m, enter_accuracy_cap_m)``:

* a fix is **within** the place when ``d <= acc``: the place widened by the fix's accuracy, up
  to the cap, so a poor fix cannot pull a device into a place from far away.
* **enter** at the ``enter_min_fixes``-th consecutive accepted fix of the device within the
  place. Until then the enter is *pending*, and any accepted fix of the device not within the
  place cancels it, so one stray fix never makes a visit. The enter is emitted at the fix that
  confirms it, with ``entered_at`` the time of the *first* fix within: the visit (its dwell time,
  its mean speed, its duration) starts there.
* While inside, a fix counts as **outside** only when ``d > exit_margin_m + acc``; between
  the two lies a band where nothing changes. A stationary phone whose fixes jitter across the
  edge therefore neither leaves nor re-enters.
* **exit** once the device has been outside continuously for ``exit_debounce_s`` *and* for at
  least ``exit_min_fixes`` consecutive fixes: the exit is emitted at the ping that completes
  both, with ``duration_s`` the length of the visit from ``entered_at`` to the *first* outside
  ping (when the device really left). A ping back inside the band before that cancels the
  pending exit and its count.
* **dwell** once per visit, at the first ping inside (band included; the confirming fix of the
  enter counts) whose time since ``entered_at`` is at least ``dwell_s`` (the place's own, else
  the default, as it was when the enter was confirmed) and whose speed is at most
  ``dwell_max_speed_mps``: the ping's ``speed_mps``; without one, the larger of the speed
  implied from the previous accepted ping and the mean speed since the first fix of the visit,
  each after taking away the larger capped accuracy of its two fixes. A car crossing a place
  is passing through, not dwelling, even when it slows down inside.
* **signal lost** when an accepted ping of the device comes more than ``signal_lost_s`` after
  its previous accepted ping (0 turns this off). Before that ping is looked at, every open
  visit of the device exits with ``reason="signal lost"``, with the ``at`` and ``ping_id`` of
  the previous ping (the last time the device was seen) and ``duration_s`` from ``entered_at``
  to that time, or to the first outside ping when an exit was pending (as a completed exit
  would have it); its distance is unknown (``None``). Pending enters and pending exits are
  dropped. The new ping then counts from scratch: within a place (the same one included) it is
  the first fix of a new pending enter, so no enter or dwell rests on fixes from both sides of
  the silence. These exits come before anything the new ping makes.

Exits happen only at a ping of the same device: a device that falls silent inside a place
stays inside until it reports again, and its exit (when it left, or lost its signal) is emitted
then; a place that is removed closes its visits at once (and drops a pending enter there).

Pings that the filters rejected (duplicates, out-of-order, ...) never reach this module, so a
ping older than the device's last accepted one never makes a transition, nor counts towards
an enter or an exit. Everything is decided on event time (ping timestamps), never on the clock
of the machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from geotrigger.config import TransitionSettings
from geotrigger.engine.state import DeviceState, PendingEnter, Visit
from geotrigger.model import Ping, Transition, TransitionKind, transition_at_ping
from geotrigger.pings.filters import implied_speed_mps

ENTER, DWELL, EXIT = TransitionKind.ENTER, TransitionKind.DWELL, TransitionKind.EXIT
SIGNAL_LOST = "signal lost"
FloatArray = npt.NDArray[np.float64]


class Hysteresis:
    """Turns a device's accepted pings and their nearby places into transitions."""

    def __init__(self, settings: TransitionSettings, dwell_for: Callable[[str], float]) -> None:
        """``dwell_for(place_id)`` gives the dwell time of a place (its own or the default)."""
        self.settings = settings
        self.dwell_for = dwell_for
        self._default_acc = settings.default_accuracy_m
        self._cap = settings.enter_accuracy_cap_m
        self._enter_fixes = max(settings.enter_min_fixes, 1)
        self._exit_fixes = max(settings.exit_min_fixes, 1)
        self._margin = settings.exit_margin_m
        self._debounce = settings.exit_debounce_s
        # a silence longer than this loses the signal; never when the setting is 0
        self._lost_after = settings.signal_lost_s or math.inf

    def accuracy(self, ping: Ping) -> float:
        """The fix's accuracy as the hysteresis uses it: defaulted, then capped."""
        acc = ping.accuracy_m
        acc = self._default_acc if acc is None else acc
        return acc if acc < self._cap else self._cap

    def accuracies(self, accuracy_m: FloatArray) -> FloatArray:
        """:meth:`accuracy` of many fixes at once (``accuracy_m`` NaN where a fix has none)."""
        known = np.where(np.isnan(accuracy_m), self._default_acc, accuracy_m)
        return np.minimum(known, self._cap)

    @staticmethod
    def within_any(
        offsets: npt.NDArray[np.int64], distances: FloatArray, accuracy: FloatArray
    ) -> npt.NDArray[np.bool_]:
        """Per fix of a batch, whether any of its near places has it within (``d <= acc``).

        ``offsets`` / ``distances`` are the batch's near places in compressed rows (as
        :class:`~geotrigger.spatial.Matches` has them), ``accuracy`` the capped accuracies.
        """
        counts = np.diff(offsets)
        within = distances <= np.repeat(accuracy, counts)
        out = np.zeros(len(accuracy), dtype=np.bool_)
        out[np.repeat(np.arange(len(accuracy)), counts)[within]] = True
        return out

    def step(
        self,
        state: DeviceState,
        ping: Ping,
        ts: float,
        prev: Ping | None,
        prev_ts: float,
        place_ids: Sequence[str],
        distances: Sequence[float],
        acc: float,
        any_within: bool,
        out: list[Transition],
    ) -> None:
        """Advance one device by one accepted ping; append its transitions to ``out``.

        ``place_ids`` / ``distances`` are the places within ``near_m`` of the ping and the
        distance outside each; ``acc`` is the ping's :meth:`accuracy` and ``any_within`` says
        whether any of those places has the fix within (see :meth:`within_any`); ``prev`` is
        the device's accepted ping before this one.
        """
        if ts - prev_ts > self._lost_after and prev is not None:
            self._signal_lost(state, prev, prev_ts, out)
        fix = _Fix(ping, ts, prev, prev_ts, acc)
        if state.visits:
            self._open_visits(state, fix, place_ids, distances, out)
        if any_within or state.pending:
            self._approaches(state, fix, place_ids, distances, out)

    @staticmethod
    def _signal_lost(state: DeviceState, prev: Ping, prev_ts: float, out: list[Transition]) -> None:
        """Close every open visit at ``prev``, the last ping before the silence; forget what
        was pending."""
        for place_id, visit in state.visits.items():
            duration_s = visit.duration_s(prev_ts)
            out.append(
                transition_at_ping(
                    EXIT, prev, place_id, None, visit.entered_at, duration_s, SIGNAL_LOST
                )
            )
        state.visits.clear()
        state.pending.clear()

    def _approaches(
        self,
        state: DeviceState,
        fix: _Fix,
        place_ids: Sequence[str],
        distances: Sequence[float],
        out: list[Transition],
    ) -> None:
        """Count the fix towards an enter of each place it is within; cancel the others."""
        visits, pending, acc = state.visits, state.pending, fix.acc
        within: list[tuple[str, float]] = []
        for place_id, d in zip(place_ids, distances, strict=True):
            if d <= acc and place_id not in visits:
                within.append((place_id, d))
        if pending:
            keep = {place_id for place_id, _ in within}
            for place_id in [p for p in pending if p not in keep]:
                del pending[place_id]  # a fix not within: the enter was a stray fix
        for place_id, d in within:
            candidate = pending.get(place_id)
            if candidate is None:
                candidate = PendingEnter(first_fix=fix.ping)
            else:
                candidate.fixes += 1
            if candidate.fixes < self._enter_fixes:
                pending[place_id] = candidate
                continue
            pending.pop(place_id, None)
            self._enter(state, candidate, fix, place_id, d, out)

    def _enter(
        self,
        state: DeviceState,
        candidate: PendingEnter,
        fix: _Fix,
        place_id: str,
        d: float,
        out: list[Transition],
    ) -> None:
        first = candidate.first_fix
        visit = state.visits[place_id] = Visit(
            entered_fix=first, dwell_due_ts=first.epoch_s + self.dwell_for(place_id)
        )
        out.append(transition_at_ping(ENTER, fix.ping, place_id, d, visit.entered_at, None))
        if fix.ts >= visit.dwell_due_ts:  # a short dwell time, already reached
            self._maybe_dwell(visit, fix, place_id, d, out)

    def _open_visits(
        self,
        state: DeviceState,
        fix: _Fix,
        place_ids: Sequence[str],
        distances: Sequence[float],
        out: list[Transition],
    ) -> None:
        threshold = self._margin + fix.acc
        closed: list[str] = []
        for place_id, visit in state.visits.items():
            # a handful of near places: one scan of the short list beats building a dict
            try:
                d: float | None = distances[place_ids.index(place_id)]
            except ValueError:
                d = None
            if d is None or d > threshold:
                if self._outside(visit, fix, place_id, d, out):
                    closed.append(place_id)
                continue
            if visit.outside_fixes:  # back within the band: the pending exit is off
                visit.left_fix, visit.outside_fixes = None, 0
            if not visit.dwell_fired and fix.ts >= visit.dwell_due_ts:
                self._maybe_dwell(visit, fix, place_id, d, out)
        for place_id in closed:
            del state.visits[place_id]

    def _outside(
        self, visit: Visit, fix: _Fix, place_id: str, d: float | None, out: list[Transition]
    ) -> bool:
        """One more fix outside by the margin; True when it completes the exit.

        The exit lasts until the visit's first outside ping, when the device really left.
        """
        if visit.left_fix is None:
            visit.left_fix = fix.ping
        visit.outside_fixes += 1
        if (
            visit.outside_fixes < self._exit_fixes
            or fix.ts - visit.left_fix.epoch_s < self._debounce
        ):
            return False
        duration_s = visit.duration_s(fix.ts)
        out.append(transition_at_ping(EXIT, fix.ping, place_id, d, visit.entered_at, duration_s))
        return True

    def _maybe_dwell(
        self, visit: Visit, fix: _Fix, place_id: str, d: float, out: list[Transition]
    ) -> None:
        speed = fix.ping.speed_mps
        if speed is None:
            speed = self._implied_speed(visit, fix)
        if speed > self.settings.dwell_max_speed_mps:
            return
        visit.dwell_fired = True
        duration_s = fix.ts - visit.entered_ts
        out.append(transition_at_ping(DWELL, fix.ping, place_id, d, visit.entered_at, duration_s))

    def _implied_speed(self, visit: Visit, fix: _Fix) -> float:
        """The larger of the speed from the previous fix and the mean speed since the enter.

        Each leaves out the larger capped accuracy of its two fixes (not their sum, as the
        speed filter does: a receiver's consecutive fixes err together). The step from the
        previous fix catches a device that is moving now; the mean since the enter catches a
        car sampled every second, whose steps are hardly longer than its accuracy.
        """
        ping, ts, acc = fix.ping, fix.ts, fix.acc
        step = 0.0
        if fix.prev is not None:
            slack = max(self.accuracy(fix.prev), acc)
            step = implied_speed_mps(fix.prev, fix.prev_ts, ping, ts, slack, 0.0)
        first = visit.entered_fix
        slack = max(self.accuracy(first), acc)
        mean = implied_speed_mps(first, visit.entered_ts, ping, ts, slack, 0.0)
        return step if step > mean else mean


class _Fix(NamedTuple):
    """The ping a step is about, with what every rule needs to know of it."""

    ping: Ping
    ts: float  # its epoch seconds
    prev: Ping | None  # the device's accepted ping before it
    prev_ts: float
    acc: float  # its accuracy as the hysteresis uses it (defaulted, capped)
