"""One consumer record (a JSON object or a YAML mapping) to a :class:`Consumer`, or every
problem with it, each naming the field it is about so that the caller can point at its line.

The fields are those of the profile: ``id`` (required), ``devices``, ``timezone``, ``consent``,
``segments``, ``traits``, ``affinities`` and ``dayparts`` (daypart name to tag weights).
Messages never quote a device id: they are pseudonymous handles of people's phones, and load
errors end up on terminals and in logs. A device is named by its position in ``devices``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from geotrigger.consumers.profile import Affinities, Consumer, Daypart
from geotrigger.places.zones import timezone_problem
from geotrigger.suggest import did_you_mean

FIELDS = ("id", "devices", "timezone", "consent", "segments", "traits", "affinities", "dayparts")
DAYPARTS = tuple(part.value for part in Daypart)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """What is wrong with a record; ``field`` is the top-level field it is about, if any."""

    field: str | None
    reason: str


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_id(value: Any) -> tuple[str | None, list[str]]:
    if isinstance(value, str) and value.strip():
        return value, []
    return None, [f"must be a non-empty string, got {_kind(value)}"]


def _check_names(value: Any) -> tuple[frozenset[str], list[str]]:
    """A list of non-empty strings (devices, segments)."""
    if not isinstance(value, list):
        return frozenset(), [f"must be a list of strings, got {_kind(value)}"]
    bad = [
        f"item {i} must be a non-empty string, got {_kind(v)}"
        for i, v in enumerate(value)
        if not (isinstance(v, str) and v.strip())
    ]
    return frozenset(v for v in value if isinstance(v, str)), bad


def _check_timezone(value: Any) -> tuple[str | None, list[str]]:
    if value is None:
        return None, []
    problem = timezone_problem(value)
    return (value, []) if problem is None else (None, [problem])


def _mapping(value: Any) -> tuple[Mapping[str, Any], list[str]]:
    if isinstance(value, Mapping):
        return value, [f"key {k!r} must be a string" for k in value if not isinstance(k, str)]
    return {}, [f"must be a mapping, got {_kind(value)}"]


def _check_consent(value: Any) -> tuple[dict[str, bool], list[str]]:
    mapping, problems = _mapping(value)
    for purpose, given in mapping.items():
        if not isinstance(given, bool):
            problems.append(f"{purpose!r} must be true or false, got {given!r}")
    return {k: v for k, v in mapping.items() if isinstance(v, bool)}, problems


def _check_traits(value: Any) -> tuple[dict[str, Any], list[str]]:
    mapping, problems = _mapping(value)
    for name, trait in mapping.items():
        finite = not _is_number(trait) or math.isfinite(trait)
        if not (isinstance(trait, str | bool) or _is_number(trait)) or not finite:
            problems.append(
                f"{name!r} must be a string, a finite number or a boolean, got {trait!r}"
            )
    return dict(mapping), problems


def _check_weights(value: Any, prefix: str = "") -> tuple[dict[str, float], list[str]]:
    mapping, problems = _mapping(value)
    for tag, weight in mapping.items():
        if not (_is_number(weight) and math.isfinite(weight) and -1 <= weight <= 1):
            problems.append(
                f"weight of {prefix}{tag!r} must be a number in [-1, 1], got {weight!r}"
            )
    return dict(mapping), problems


def _check_dayparts(value: Any) -> tuple[dict[Daypart, dict[str, float]], list[str]]:
    mapping, problems = _mapping(value)
    parts: dict[Daypart, dict[str, float]] = {}
    for name, weights in mapping.items():
        if name not in DAYPARTS:
            hint = did_you_mean(name, DAYPARTS) or f" (expected one of {', '.join(DAYPARTS)})"
            problems.append(f"unknown daypart {name!r}{hint}")
            continue
        parts[Daypart(name)], more = _check_weights(weights, prefix=f"{name}.")
        problems.extend(more)
    return parts, problems


_CHECKS: dict[str, Callable[[Any], tuple[Any, list[str]]]] = {
    "id": _check_id,
    "devices": _check_names,
    "timezone": _check_timezone,
    "consent": _check_consent,
    "segments": _check_names,
    "traits": _check_traits,
    "affinities": _check_weights,
    "dayparts": _check_dayparts,
}


def build_consumer(record: object) -> tuple[Consumer | None, list[Problem]]:
    """The consumer of one record, or None and every problem with the record."""
    if not isinstance(record, Mapping):
        return None, [Problem(field=None, reason=f"expected an object, got {_kind(record)}")]
    problems = [
        Problem(field=str(key), reason=f"unknown field {key!r}{did_you_mean(key, FIELDS)}")
        for key in record
        if key not in FIELDS
    ]
    if "id" not in record:
        problems.append(Problem(field=None, reason="field 'id' is required"))
    values: dict[str, Any] = {}
    for name, check in _CHECKS.items():
        if name in record:
            values[name], reasons = check(record[name])
            problems.extend(Problem(field=name, reason=f"field {name!r}: {r}") for r in reasons)
    if problems:
        return None, problems
    return _consumer(values), []


def _consumer(values: Mapping[str, Any]) -> Consumer:
    affinities = Affinities(
        base=values.get("affinities", {}), by_daypart=values.get("dayparts", {})
    )
    return Consumer(
        id=values["id"],
        devices=values.get("devices", frozenset()),
        timezone=values.get("timezone"),
        consent=values.get("consent", {}),
        segments=values.get("segments", frozenset()),
        traits=values.get("traits", {}),
        affinities=affinities,
    )
