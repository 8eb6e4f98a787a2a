"""The ``expired`` gate: a moment is perishable. When the evaluation (``now``) is later than
the event (``at``) by more than the rule's time to live, the moment would arrive late, and a
late location message is spam."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.conditions.ranges import number
from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History


@dataclass(frozen=True, slots=True)
class ExpiredGate:
    """Suppresses candidates evaluated more than ``rule.ttl_s`` after their event."""

    name: str = "expired"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass while ``now - at`` is within the rule's time to live."""
        late = (candidate.now - candidate.at).total_seconds()
        ttl = candidate.rule.ttl_s
        seen = {"late_s": late, "ttl_s": ttl}
        if late > ttl:
            why = f"late by {number(late)} s; time to live {number(ttl)} s"
            return suppressed(self.name, why, seen)
        return passed(
            self.name, f"{number(max(late, 0))} s after the event, within {number(ttl)} s", seen
        )
