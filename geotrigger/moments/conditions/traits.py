"""The ``traits`` condition: each trait test on the consumer's traits, in order.

A missing trait (or an unknown consumer) fails. Values compare with type sense: a boolean
equals only a boolean (``True`` is not ``"true"`` and not ``1``), a number only a number, text
only text. A ``range`` needs a number, and a boolean is not one.
"""

from __future__ import annotations

from collections.abc import Mapping

from geotrigger.consumers.profile import TraitValue
from geotrigger.moments.conditions.ranges import describe_range
from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.rules.model import TraitTest


def check_traits(tests: tuple[TraitTest, ...], candidate: Candidate) -> ConditionResult:
    """Whether every trait test holds for the consumer."""
    if candidate.consumer is None:
        return _result(False, "unknown consumer: traits unknown", {"traits": None})
    traits = candidate.consumer.traits
    seen = {"traits": {t.name: traits.get(t.name) for t in tests}}
    for test in tests:
        if test.name not in traits:
            return _result(False, f"trait {test.name} missing", seen)
        failure = _failure(test, traits[test.name])
        if failure is not None:
            return _result(False, failure, seen)
    told = ", ".join(f"{t.name}={traits[t.name]!r}" for t in tests)
    return _result(True, f"traits fit: {told}", seen)


def _failure(test: TraitTest, value: TraitValue) -> str | None:
    name = test.name
    if test.equals is not None and not same_value(value, test.equals):
        return f"trait {name} is {value!r}, not {test.equals!r}"
    if test.one_of and not any(same_value(value, v) for v in test.one_of):
        return f"trait {name} is {value!r}, not one of {_values(test.one_of)}"
    if test.none_of and any(same_value(value, v) for v in test.none_of):
        return f"trait {name} is {value!r}, one of the excluded {_values(test.none_of)}"
    if test.range is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"trait {name} is {value!r}, not a number (needs {describe_range(test.range)})"
        if not test.range.contains(value):
            return f"trait {name} is {value!r}, outside {describe_range(test.range)}"
    return None


def same_value(a: TraitValue, b: TraitValue) -> bool:
    """Equality with type sense: booleans, numbers and text each equal only their own kind."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return a == b


def _values(values: frozenset[TraitValue]) -> str:
    return ", ".join(sorted(repr(v) for v in values))


def _result(held: bool, reason: str, seen: Mapping[str, object]) -> ConditionResult:
    return ConditionResult(name="traits", held=held, reason=reason, seen=seen)
