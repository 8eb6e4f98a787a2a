"""The ``holdout`` gate: a stable share of consumers per rule (``suppression.holdout``) is the
control group and never gets its moments, so the lift of the rule can be measured against them.
Membership is :func:`~geotrigger.moments.holdout.holdout_bucket` below the share. It runs last:
what it suppresses would have fired (``would_fire``)."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History
from geotrigger.moments.holdout import holdout_bucket


@dataclass(frozen=True, slots=True)
class HoldoutGate:
    """Suppresses consumers in the rule's control group, marked would-fire."""

    name: str = "holdout"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass for consumers outside the control group (always, with no holdout)."""
        share = candidate.rule.suppression.holdout
        if share <= 0:
            return passed(self.name, "no holdout", {"holdout": share})
        bucket = holdout_bucket(candidate.rule.id, candidate.consumer_id)
        seen = {"holdout": share, "bucket": bucket}
        told = f"{share * 100:g} %"
        if bucket < share:
            why = f"holdout (control group, {told}): would have fired"
            return suppressed(self.name, why, seen, would_fire=True)
        return passed(self.name, f"not in the control group ({told})", seen)
