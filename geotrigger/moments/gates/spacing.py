"""The ``spacing`` gate: at least ``min_spacing_s`` (the policy's) between any two moments to
one consumer, whatever the rules, counted between event times in either direction."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.conditions.ranges import number
from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History


@dataclass(frozen=True, slots=True)
class SpacingGate:
    """Suppresses a moment within ``min_spacing_s`` of the consumer's nearest one."""

    min_spacing_s: float = 0.0
    name: str = "spacing"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when spacing is off, or the consumer's nearest moment is far enough away."""
        spacing = self.min_spacing_s
        at_s = candidate.at.timestamp()
        near = history.nearest_moment_s(candidate.consumer_id, at_s) if spacing > 0 else None
        seen = {"nearest_moment_s": near, "min_spacing_s": spacing}
        if near is None:
            return passed(self.name, "no moment to space from", seen)
        ago = at_s - near
        if abs(ago) < spacing:
            when = f"{number(ago)} s ago" if ago >= 0 else f"{number(-ago)} s later"
            why = f"nearest moment {when}; at least {number(spacing)} s between moments"
            return suppressed(self.name, why, seen)
        return passed(self.name, f"last moment {number(ago)} s ago", seen)
