"""The ``accuracy`` gate: a fix less accurate than the rule's ``max_accuracy_m`` says too little
about where the consumer is. No ping (or no accuracy reported) passes: there is nothing to
judge, and weather-triggered candidates carry the last ping when there is one."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.conditions.ranges import number
from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History


@dataclass(frozen=True, slots=True)
class AccuracyGate:
    """Suppresses fixes with ``accuracy_m`` above the rule's ``max_accuracy_m``."""

    name: str = "accuracy"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass unless the ping's accuracy is known and worse than allowed."""
        limit = candidate.rule.suppression.max_accuracy_m
        accuracy = candidate.ping.accuracy_m if candidate.ping is not None else None
        seen = {"accuracy_m": accuracy, "max_accuracy_m": limit}
        if accuracy is None:
            return passed(self.name, "accuracy unknown", seen)
        if accuracy > limit:
            why = f"fix accurate to {number(accuracy)} m, worse than {number(limit)} m"
            return suppressed(self.name, why, seen)
        return passed(self.name, f"fix accurate to {number(accuracy)} m", seen)
