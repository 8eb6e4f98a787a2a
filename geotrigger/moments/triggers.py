"""When a weather change or a device signal starts the evaluation of a rule.

**Weather.** ``starts: C`` fires when the newer reading matches ``C`` and the one before did
not; ``ends: C`` the mirror (``C`` is a condition or ``"wet"``, which matches any reading in
which water falls). ``rises_above`` fires when the field was below the threshold and is now at
or above it; ``falls_below`` when it was at or above and is now below. The first reading ever
seen at a place or cell (no reading before it) is not a change: a restart or a new cell must
not look like rain starting.

**Signals.** ``rises_above`` fires when the device's last known value of the signal was below
the threshold and this ping has it at or above; ``falls_below`` the mirror. The last known value
is the latest earlier ping that carried the signal (phones send fixes without the wearable's
data in between), forgotten after a silence; with none, the first value counts as crossing when
it is past the threshold: a wearable that starts reporting "tired" is news.
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


def signal_fires(trigger: SignalTrigger, before: float | None, ping: Ping) -> bool:
    """Whether the signal crossed ``trigger``'s threshold at ``ping``, from ``before`` (its
    last known value, None when there is none)."""
    value = ping.signals.get(trigger.signal)
    if value is None:
        return False
    return _crossed(trigger.change, before, value, trigger.threshold)
