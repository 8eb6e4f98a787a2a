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
    """Suppresses a moment within ``min_spacing_s`` of the consumer's latest one."""

    min_spacing_s: float = 0.0
    name: str = "spacing"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when spacing is off, or the consumer's latest moment is far enough away."""
        spacing = self.min_spacing_s
        last = history.last_moment_s(candidate.consumer_id) if spacing > 0 else None
        seen = {"last_moment_s": last, "min_spacing_s": spacing}
        if last is None:
            return passed(self.name, "no moment to space from", seen)
        ago = candidate.at.timestamp() - last
        if abs(ago) < spacing:
            why = f"last moment {number(ago)} s ago; at least {number(spacing)} s between moments"
            return suppressed(self.name, why, seen)
        return passed(self.name, f"last moment {number(ago)} s ago", seen)
