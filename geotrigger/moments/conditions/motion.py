"""The ``distance`` and ``speed`` conditions: the candidate's distance from the place's edge
(0 inside) and its speed, each within a range. An unknown value fails: a rule that asks how
far or how fast says nothing about a candidate whose distance or speed nobody measured."""

from __future__ import annotations

from geotrigger.moments.conditions.ranges import describe_range, number, range_seen
from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.rules.model import NumberRange


def check_distance(bounds: NumberRange, candidate: Candidate) -> ConditionResult:
    """Whether the distance from the place's edge is within ``bounds``."""
    return _within("distance", "distance", candidate.distance_m, bounds, "m")


def check_speed(bounds: NumberRange, candidate: Candidate) -> ConditionResult:
    """Whether the candidate's speed is within ``bounds``."""
    return _within("speed", "speed", candidate.speed_mps, bounds, "m/s")


def _within(
    name: str, label: str, value: float | None, bounds: NumberRange, unit: str
) -> ConditionResult:
    seen = {"value": value, "range": range_seen(bounds)}
    wanted = describe_range(bounds, unit)
    if value is None:
        return ConditionResult(
            name=name, held=False, reason=f"{label} unknown (needs {wanted})", seen=seen
        )
    held = bounds.contains(value)
    verdict = "within" if held else "outside"
    reason = f"{label} {number(value)} {unit} is {verdict} {wanted}"
    return ConditionResult(name=name, held=held, reason=reason, seen=seen)
