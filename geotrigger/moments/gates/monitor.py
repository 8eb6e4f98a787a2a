"""The ``monitor`` gate: a rule in ``monitor`` mode is evaluated and recorded, never fired.
It runs after every gate that could say no for another reason, so what it suppresses would
have fired (``would_fire``)."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History
from geotrigger.rules.model import Mode


@dataclass(frozen=True, slots=True)
class MonitorGate:
    """Suppresses every candidate of a monitor-mode rule, marked would-fire."""

    name: str = "monitor"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass for live rules."""
        mode = candidate.rule.mode
        seen = {"mode": mode.value}
        if mode is Mode.MONITOR:
            return suppressed(self.name, "monitor mode: would have fired", seen, would_fire=True)
        return passed(self.name, "live", seen)
