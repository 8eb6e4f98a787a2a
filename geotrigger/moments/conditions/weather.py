"""The ``weather`` condition: the reading at the place at the event time.

In order, each failure ending the test:

1. no reading: fails ``"no weather reading"``;
2. a reading older than ``max_age_s`` at the event time, or one whose ``valid_until`` is before
   it: fails with a reason starting ``"weather stale"`` (stale weather never fires);
3. ``conditions`` (when given): the reading's condition is one of them, where ``"wet"`` matches
   any reading that :attr:`~geotrigger.weather.WeatherReading.is_wet`;
4. ``ranges``: each numeric field must be known (``"temperature_c unknown"``) and within range.
"""

from __future__ import annotations

from typing import Any

from geotrigger.moments.conditions.ranges import describe_range, number
from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.rules.model import WeatherTest
from geotrigger.weather.reading import WeatherReading

WET = "wet"


def check_weather(test: WeatherTest, candidate: Candidate) -> ConditionResult:
    """Whether the weather at the place at the event time passes ``test``."""
    if candidate.weather is None:
        return _result(False, "no weather reading", {"reading": None})
    reading = candidate.weather.reading
    seen = _seen(reading, candidate)
    stale = _stale(test, reading, candidate)
    if stale is not None:
        return _result(False, stale, seen)
    if test.conditions and not _condition_matches(test.conditions, reading):
        condition = reading.condition.value if reading.condition is not None else "unknown"
        wanted = ", ".join(sorted(test.conditions))
        return _result(False, f"weather {condition} is not one of {wanted}", seen)
    for name, bounds in test.ranges.items():
        value = reading.value(name)
        if value is None:
            return _result(False, f"{name} unknown (needs {describe_range(bounds)})", seen)
        if not bounds.contains(value):
            why = f"{name} {number(value)} is outside {describe_range(bounds)}"
            return _result(False, why, seen)
    return _result(True, f"weather fits: {_summary(reading)}", seen)


def _stale(test: WeatherTest, reading: WeatherReading, candidate: Candidate) -> str | None:
    age = reading.age_s(candidate.at)
    if age > test.max_age_s:
        return (
            f"weather stale: reading {number(age)} s old at the event, "
            f"at most {number(test.max_age_s)} s"
        )
    if reading.valid_until is not None and reading.valid_until < candidate.at:
        return (
            f"weather stale: reading valid until {reading.valid_until:%Y-%m-%d %H:%M} UTC, "
            f"before the event at {candidate.at:%Y-%m-%d %H:%M} UTC"
        )
    return None


def _condition_matches(wanted: frozenset[str], reading: WeatherReading) -> bool:
    if reading.condition is not None and reading.condition.value in wanted:
        return True
    return WET in wanted and reading.is_wet


def _summary(reading: WeatherReading) -> str:
    parts = [reading.condition.value if reading.condition is not None else "condition unknown"]
    if reading.temperature_c is not None:
        parts.append(f"{number(reading.temperature_c)} °C")
    if reading.precipitation_mm_h is not None:
        parts.append(f"{number(reading.precipitation_mm_h)} mm/h")
    return ", ".join(parts)


def _seen(reading: WeatherReading, candidate: Candidate) -> dict[str, Any]:
    fields = ("temperature_c", "precipitation_mm_h", "wind_speed_mps", "uv_index")
    return {
        "condition": reading.condition.value if reading.condition is not None else None,
        "wet": reading.is_wet,
        "age_s": reading.age_s(candidate.at),
        "observed_at": reading.observed_at.isoformat(),
        "valid_until": reading.valid_until.isoformat() if reading.valid_until else None,
        "source": reading.source,
        **{name: reading.value(name) for name in fields},
    }


def _result(held: bool, reason: str, seen: dict[str, Any]) -> ConditionResult:
    return ConditionResult(name="weather", held=held, reason=reason, seen=seen)
