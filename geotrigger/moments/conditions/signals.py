"""The ``signals`` condition: device signals the event's ping carries (a wearable's fatigue
score, a battery level), each by name within a range. No ping, or a ping without the signal,
fails: a signal nobody reported says nothing."""

from __future__ import annotations

from collections.abc import Mapping

from geotrigger.moments.conditions.ranges import describe_range, number
from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.rules.model import NumberRange


def check_signals(tests: Mapping[str, NumberRange], candidate: Candidate) -> ConditionResult:
    """Whether every named signal of the ping is within its range."""
    ping = candidate.ping
    reported = dict(ping.signals) if ping is not None else {}
    seen = {"signals": {name: reported.get(name) for name in tests}}
    for name, bounds in tests.items():
        wanted = describe_range(bounds)
        if ping is None:
            return _result(False, f"no ping: signal {name} unknown (needs {wanted})", seen)
        value = reported.get(name)
        if value is None:
            return _result(False, f"signal {name} not reported (needs {wanted})", seen)
        if not bounds.contains(value):
            return _result(False, f"signal {name} {number(value)} is outside {wanted}", seen)
    told = ", ".join(f"{name} {number(reported[name])}" for name in tests)
    return _result(True, f"signals within range: {told}", seen)


def _result(held: bool, reason: str, seen: Mapping[str, object]) -> ConditionResult:
    return ConditionResult(name="signals", held=held, reason=reason, seen=seen)
