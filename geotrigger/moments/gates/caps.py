"""The ``caps`` gate: frequency caps, the rule's first and then the policy's.

For each cap the candidate counts under the key of the cap's scope (a weather-event cap only
when the candidate has a weather spell; without one that cap does not apply), in the window of
the cap that holds the event time (see :mod:`geotrigger.moments.windows`: calendar windows are
the consumer's local day or week). When the moments already counted there reach the cap's
``max``, the candidate is suppressed, naming the cap.

A rolling cap means "at most ``max`` in *any* window of its length". Events are not always
decided in time order (a late ping), so looking back from the event is not enough: a moment at
``at`` also falls into the windows of moments already fired after it. The gate counts, over
every window of the cap's length that holds ``at``, the moments already there, and takes the
fullest.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History, cap_key
from geotrigger.moments.windows import iso_utc, window_bounds
from geotrigger.rules.model import Cap, WindowKind


@dataclass(frozen=True, slots=True)
class CapsGate:
    """Suppresses a candidate whose rule caps or policy caps are full."""

    policy_caps: tuple[Cap, ...] = ()
    name: str = "caps"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when every cap that applies has room."""
        at_s = candidate.at.timestamp()
        counted: list[dict[str, Any]] = []
        for cap in (*candidate.rule.suppression.caps, *self.policy_caps):
            key = cap_key(
                cap.scope,
                consumer_id=candidate.consumer_id,
                rule_id=candidate.rule.id,
                place_id=candidate.place.id,
                spell_id=candidate.spell_id,
            )
            if key is None:
                continue
            start, end = window_bounds(cap.window, at_s, candidate.consumer_zone)
            if cap.window.kind is WindowKind.ROLLING and cap.window.length_s:
                count = _fullest_rolling(
                    history.times(key, start, end + cap.window.length_s), at_s, cap.window.length_s
                )
            else:
                count = history.count(key, start, end)
            counted.append(_seen(cap, count, start, end))
            if count >= cap.max:
                why = f"cap {cap.label} reached: {count} of {cap.max} already"
                return suppressed(self.name, why, {"caps": counted})
        return passed(self.name, f"{len(counted)} cap(s) with room", {"caps": counted})


def _fullest_rolling(times: list[float], at_s: float, length_s: float) -> int:
    """The most moments of ``times`` (sorted) in one window ``(s, s + length]`` holding ``at_s``.

    Such a window starts at some ``s`` in ``[at - length, at)``. Sliding ``s`` up, the count
    grows only when the window's end reaches a moment, so it is fullest either at the first
    start or when its end is exactly on a moment ``t`` with ``at <= t < at + length``.
    """
    ends = [at_s, *(t for t in times if at_s <= t < at_s + length_s)]
    return max(bisect_right(times, end) - bisect_right(times, end - length_s) for end in ends)


def _seen(cap: Cap, count: int, start: float, end: float) -> dict[str, Any]:
    return {
        "label": cap.label,
        "count": count,
        "max": cap.max,
        "window_start": iso_utc(start),
        "window_end": iso_utc(end),
    }
