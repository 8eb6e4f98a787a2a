"""The ``speed`` gate: faster than the rule's ``max_speed_mps`` is driving past, not visiting.
An unknown speed passes."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History


@dataclass(frozen=True, slots=True)
class SpeedGate:
    """Suppresses candidates moving faster than the rule's ``max_speed_mps``."""

    name: str = "speed"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass unless the speed is known and above the limit."""
        limit = candidate.rule.suppression.max_speed_mps
        speed = candidate.speed_mps
        seen = {"speed_mps": speed, "max_speed_mps": limit}
        if speed is None:
            return passed(self.name, "speed unknown", seen)
        told = f"moving at {speed:.1f} m/s ({speed * 3.6:.0f} km/h)"
        if speed > limit:
            return suppressed(self.name, f"{told}: driving past", seen)
        return passed(self.name, f"{told}, at most {limit:.1f} m/s", seen)
