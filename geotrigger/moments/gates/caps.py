"""The ``caps`` gate: frequency caps, the rule's first and then the policy's.

For each cap the candidate counts under the key of the cap's scope (a weather-event cap only
when the candidate has a weather spell; without one that cap does not apply), in the window of
the cap that holds the event time (see :mod:`geotrigger.moments.windows`: a rolling window is
``(at - length, at]``, calendar windows are the consumer's local day or week). When the moments
already counted there reach the cap's ``max``, the candidate is suppressed, naming the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History, cap_key
from geotrigger.moments.windows import iso_utc, window_bounds
from geotrigger.rules.model import Cap


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
            count = history.count(key, start, end)
            counted.append(_seen(cap, count, start, end))
            if count >= cap.max:
                why = f"cap {cap.label} reached: {count} of {cap.max} already"
                return suppressed(self.name, why, {"caps": counted})
        return passed(self.name, f"{len(counted)} cap(s) with room", {"caps": counted})


def _seen(cap: Cap, count: int, start: float, end: float) -> dict[str, Any]:
    return {
        "label": cap.label,
        "count": count,
        "max": cap.max,
        "window_start": iso_utc(start),
        "window_end": iso_utc(end),
    }
