"""The suppression gates: an ordered pipeline of named, pure gates, one module each.

=============  ==============================================================================
consent        run before the conditions: unknown consumer, or no consent for location marketing
expired        evaluated more than the rule's time to live after the event
accuracy       a fix less accurate than ``max_accuracy_m`` (unknown passes)
speed          moving faster than ``max_speed_mps``: driving past (unknown passes)
quiet_hours    the send time in the consumer's quiet hours, local wall clock
cooldown       the rule fired here for the consumer too recently, or (after_exit) no leave since
spacing        the consumer's nearest moment, any rule, closer than the policy's ``min_spacing_s``
caps           a rule or policy frequency cap is full in its window
budget         the rule's daily budget is spent (calendar day in the policy's budget zone)
monitor        a monitor-mode rule: would have fired
holdout        the consumer is in the rule's control group: would have fired
=============  ==============================================================================

``conflict`` is not here: the decider picks one winner among the candidates that passed.
"""

from __future__ import annotations

from collections.abc import Iterable

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.accuracy import AccuracyGate
from geotrigger.moments.gates.base import Gate
from geotrigger.moments.gates.budget import BudgetGate
from geotrigger.moments.gates.caps import CapsGate
from geotrigger.moments.gates.consent import ConsentGate
from geotrigger.moments.gates.cooldown import CooldownGate
from geotrigger.moments.gates.expired import ExpiredGate
from geotrigger.moments.gates.holdout import HoldoutGate
from geotrigger.moments.gates.monitor import MonitorGate
from geotrigger.moments.gates.quiet_hours import QuietHoursGate
from geotrigger.moments.gates.spacing import SpacingGate
from geotrigger.moments.gates.speed import SpeedGate
from geotrigger.moments.history import History
from geotrigger.rules.model import Policy

# Run by the decider before the conditions: nothing is evaluated about a consumer who did not
# consent.
CONSENT: Gate = ConsentGate()


def build_gates(policy: Policy) -> tuple[Gate, ...]:
    """The gates after the relevance score, expired to holdout, in GATE_ORDER."""
    return (
        ExpiredGate(),
        AccuracyGate(),
        SpeedGate(),
        QuietHoursGate(),
        CooldownGate(),
        SpacingGate(min_spacing_s=policy.min_spacing_s),
        CapsGate(policy_caps=policy.caps),
        BudgetGate(budget_timezone=policy.budget_timezone),
        MonitorGate(),
        HoldoutGate(),
    )


def run_gates(
    gates: Iterable[Gate], candidate: Candidate, history: History
) -> tuple[GateResult | None, tuple[GateResult, ...]]:
    """Run the gates in order until one says no: that result (or None) and every result
    evaluated, for the trace."""
    results: list[GateResult] = []
    for gate in gates:
        result = gate.check(candidate, history)
        results.append(result)
        if not result.passed:
            return result, tuple(results)
    return None, tuple(results)


__all__ = [
    "CONSENT",
    "AccuracyGate",
    "BudgetGate",
    "CapsGate",
    "ConsentGate",
    "CooldownGate",
    "ExpiredGate",
    "Gate",
    "HoldoutGate",
    "MonitorGate",
    "QuietHoursGate",
    "SpacingGate",
    "SpeedGate",
    "build_gates",
    "run_gates",
]
