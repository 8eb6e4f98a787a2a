"""Compiling a rule's conditions (``when``). Input has passed :mod:`geotrigger.rules.format`;
what is checked here spans keys: ``min`` above ``max``, an empty trait test."""

from __future__ import annotations

from datetime import time
from typing import Any

from geotrigger.consumers.profile import TraitValue
from geotrigger.rules.durations import parse_duration
from geotrigger.rules.format import DAYS
from geotrigger.rules.located import Located
from geotrigger.rules.model import (
    Conditions,
    LocalTimeWindow,
    NumberRange,
    SegmentTest,
    TraitTest,
    WeatherTest,
)
from geotrigger.rules.report import Report
from geotrigger.rules.spec import clock_text
from geotrigger.weather.reading import NUMERIC_FIELDS


def names(loc: Located | None) -> frozenset[str]:
    """A list of names (or one name) as a set; empty when absent."""
    if loc is None:
        return frozenset()
    items = loc.value if isinstance(loc.value, list) else [loc]
    return frozenset(str(item.value) for item in items)


def number_range(loc: Located | None, path: str, report: Report) -> NumberRange | None:
    """``{min, max}`` as a range; an error when it is empty or min is above max."""
    if loc is None:
        return None
    low, high = loc.get("min"), loc.get("max")
    try:
        return NumberRange(
            min=float(low.value) if low is not None else None,
            max=float(high.value) if high is not None else None,
        )
    except ValueError as exc:
        report.error(loc.line, f"{path}: {exc}")
        return None


def compile_when(loc: Located | None, report: Report) -> Conditions:
    """The conditions of a rule; none when ``when`` is absent."""
    if loc is None:
        return Conditions()
    open_now = loc.get("open_now")
    signals = loc.get("signals")
    traits = loc.get("traits")
    return Conditions(
        distance_m=number_range(loc.get("distance_m"), "when.distance_m", report),
        speed_mps=number_range(loc.get("speed_mps"), "when.speed_mps", report),
        local_time=_local_time(loc.get("local_time")),
        open_now=bool(open_now.value) if open_now is not None else None,
        weather=_weather(loc.get("weather"), report),
        signals=_ranges(signals, "when.signals", report),
        segments=_segments(loc.get("segments")),
        traits=tuple(_trait(k, v, report) for k, v in (traits.value if traits else {}).items()),
    )


def _ranges(loc: Located | None, path: str, report: Report) -> dict[str, NumberRange]:
    found = {}
    for name, item in (loc.value if loc is not None else {}).items():
        value = number_range(item, f"{path}.{name}", report)
        if value is not None:
            found[name] = value
    return found


def _local_time(loc: Located | None) -> LocalTimeWindow | None:
    if loc is None:
        return None
    start, end = (time.fromisoformat(clock_text(loc.value[k]) or "") for k in ("from", "to"))
    days = loc.get("days")
    if days is None:
        return LocalTimeWindow(start=start, end=end)
    return LocalTimeWindow(start=start, end=end, days=frozenset(DAYS.index(d) for d in names(days)))


def _weather(loc: Located | None, report: Report) -> WeatherTest | None:
    if loc is None:
        return None
    ranges = {f: loc.get(f) for f in NUMERIC_FIELDS if loc.get(f) is not None}
    max_age = loc.get("max_age")
    return WeatherTest(
        conditions=names(loc.get("condition")),
        ranges=_ranges(Located(ranges, loc.line), "when.weather", report),
        **({"max_age_s": parse_duration(max_age.value)} if max_age is not None else {}),
    )


def _segments(loc: Located | None) -> SegmentTest | None:
    if loc is None:
        return None
    return SegmentTest(
        any_of=names(loc.get("any_of")),
        all_of=names(loc.get("all_of")),
        none_of=names(loc.get("none_of")),
    )


def _trait(name: str, loc: Located, report: Report) -> TraitTest:
    if not isinstance(loc.value, dict):
        return TraitTest(name=name, equals=loc.value)
    if not loc.value:
        report.error(loc.line, f"when.traits.{name}: say equals, one_of, none_of, min or max")
    has_range = loc.get("min") is not None or loc.get("max") is not None
    equals = loc.get("equals")
    return TraitTest(
        name=name,
        equals=equals.value if equals is not None else None,
        one_of=_values(loc.get("one_of")),
        none_of=_values(loc.get("none_of")),
        range=number_range(loc, f"when.traits.{name}", report) if has_range else None,
    )


def _values(loc: Located | None) -> frozenset[TraitValue]:
    items: list[Any] = [item.value for item in loc.value] if loc is not None else []
    return frozenset(items)
