"""When a weather change or a device signal starts the evaluation of a rule.

**Weather.** ``starts: C`` fires when the newer reading matches ``C`` and the one before did
not; ``ends: C`` the mirror (``C`` is a condition or ``"wet"``, which matches any reading in
which water falls). ``rises_above`` fires when the field was below the threshold and is now at
or above it; ``falls_below`` when it was at or above and is now below. The first reading ever
seen at a place or cell (no reading before it) is not a change: a restart or a new cell must
not look like rain starting.

**Signals.** ``rises_above`` fires when the device's previous accepted ping had the signal
below the threshold and this one has it at or above; ``falls_below`` the mirror. A device's
first value of the signal (no previous ping, or a previous ping without it) counts as crossing
when it is past the threshold: a wearable that starts reporting "tired" is news.
"""

from __future__ import annotations

from geotrigger.model import Ping
from geotrigger.rules.model import SignalTrigger, WeatherTrigger
from geotrigger.weather.reading import WeatherChange, WeatherChangeKind, WeatherReading

STARTS, ENDS = WeatherChangeKind.STARTS, WeatherChangeKind.ENDS
RISES, FALLS = WeatherChangeKind.RISES_ABOVE, WeatherChangeKind.FALLS_BELOW


def _is(reading: WeatherReading, condition: str | None) -> bool:
    if condition == "wet":
        return reading.is_wet
    return reading.condition is not None and reading.condition.value == condition


def _crossed(change: WeatherChangeKind, before: float | None, after: float, th: float) -> bool:
    if change is RISES:
        return after >= th and (before is None or before < th)
    return after < th and (before is None or before >= th)


def weather_fires(trigger: WeatherTrigger, change: WeatherChange) -> bool:
    """Whether ``change`` is the change ``trigger`` waits for."""
    before, after = change.before, change.after
    if before is None:
        return False
    if trigger.change is STARTS:
        return _is(after, trigger.condition) and not _is(before, trigger.condition)
    if trigger.change is ENDS:
        return _is(before, trigger.condition) and not _is(after, trigger.condition)
    if trigger.field is None or trigger.threshold is None:
        return False
    old, new = before.value(trigger.field), after.value(trigger.field)
    if old is None or new is None:
        return False  # an unknown value is not a crossing
    return _crossed(trigger.change, old, new, trigger.threshold)


def signal_fires(trigger: SignalTrigger, prev: Ping | None, ping: Ping) -> bool:
    """Whether the device's signal crossed ``trigger``'s threshold at ``ping``."""
    value = ping.signals.get(trigger.signal)
    if value is None:
        return False
    before = prev.signals.get(trigger.signal) if prev is not None else None
    return _crossed(trigger.change, before, value, trigger.threshold)
