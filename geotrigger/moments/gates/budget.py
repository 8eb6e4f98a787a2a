"""The ``budget`` gate: a rule's ``daily_budget`` is the most moments it fires in one calendar
day (in the policy's ``budget_timezone``), all consumers together."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History, cap_key
from geotrigger.moments.windows import iso_utc, window_bounds
from geotrigger.rules.model import Scope, Window, WindowKind

_DAY = Window(kind=WindowKind.CALENDAR_DAY)


@dataclass(frozen=True, slots=True)
class BudgetGate:
    """Suppresses a rule's moments once its daily budget is spent."""

    budget_timezone: str = "UTC"
    name: str = "budget"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when the rule has no budget or has moments left today."""
        budget = candidate.rule.suppression.daily_budget
        if budget is None:
            return passed(self.name, "no daily budget", {"daily_budget": None})
        key = cap_key(
            Scope.RULE,
            consumer_id=candidate.consumer_id,
            rule_id=candidate.rule.id,
            place_id=candidate.place.id,
            spell_id=None,
        )
        assert key is not None  # the rule scope always has a key
        start, end = window_bounds(_DAY, candidate.at.timestamp(), self.budget_timezone)
        spent = history.count(key, start, end)
        seen = {
            "daily_budget": budget,
            "spent": spent,
            "zone": self.budget_timezone,
            "day_start": iso_utc(start),
        }
        if spent >= budget:
            why = f"daily budget spent: {spent} of {budget} moments today ({self.budget_timezone})"
            return suppressed(self.name, why, seen)
        return passed(self.name, f"{spent} of {budget} moments today", seen)
