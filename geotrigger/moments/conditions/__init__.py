"""The conditions of a rule, one module per family, evaluated in :data:`CONDITION_ORDER`.

============  ============================================================================
distance      distance from the place's edge within a range; unknown fails (:mod:`.motion`)
speed         speed within a range; unknown fails (:mod:`.motion`)
local_time    event time on the place's wall clock within a window of the day (:mod:`.local_time`)
open_now      open (or closed) by the place's opening hours; unknown hours fail (:mod:`.open_now`)
weather       the reading at the place: fresh, condition, numeric ranges (:mod:`.weather`)
signals       the ping's device signals within ranges (:mod:`.signals`)
segments      any_of / all_of / none_of the consumer's segments (:mod:`.segments`)
traits        tests on the consumer's traits, with type sense (:mod:`.traits`)
============  ============================================================================

Only the conditions a rule states are evaluated. Evaluation stops at the first that fails.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from geotrigger.moments.conditions.local_time import check_local_time
from geotrigger.moments.conditions.motion import check_distance, check_speed
from geotrigger.moments.conditions.open_now import check_open_now
from geotrigger.moments.conditions.segments import check_segments
from geotrigger.moments.conditions.signals import check_signals
from geotrigger.moments.conditions.traits import check_traits
from geotrigger.moments.conditions.weather import check_weather
from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.rules.model import Conditions

Check = Callable[[Candidate], ConditionResult]


def stated_checks(conditions: Conditions) -> tuple[Check, ...]:
    """The checks of the conditions a rule states, in CONDITION_ORDER (relevance aside)."""
    c = conditions
    checks: list[Check] = []
    if c.distance_m is not None:
        checks.append(partial(check_distance, c.distance_m))
    if c.speed_mps is not None:
        checks.append(partial(check_speed, c.speed_mps))
    if c.local_time is not None:
        checks.append(partial(check_local_time, c.local_time))
    if c.open_now is not None:
        checks.append(partial(check_open_now, c.open_now))
    if c.weather is not None:
        checks.append(partial(check_weather, c.weather))
    if c.signals:
        checks.append(partial(check_signals, c.signals))
    if c.segments is not None:
        checks.append(partial(check_segments, c.segments))
    if c.traits:
        checks.append(partial(check_traits, c.traits))
    return tuple(checks)


def evaluate_conditions(
    conditions: Conditions, candidate: Candidate
) -> tuple[ConditionResult, ...]:
    """Evaluate the rule's conditions present, in CONDITION_ORDER (distance, speed, local_time,
    open_now, weather, signals, segments, traits), stopping at the first that fails; the result
    holds every evaluated one (the last is the failure when one failed)."""
    results: list[ConditionResult] = []
    for check in stated_checks(conditions):
        result = check(candidate)
        results.append(result)
        if not result.held:
            break
    return tuple(results)


__all__ = [
    "check_distance",
    "check_local_time",
    "check_open_now",
    "check_segments",
    "check_signals",
    "check_speed",
    "check_traits",
    "check_weather",
    "evaluate_conditions",
]
