"""Weather changes and signal crossings that start a rule's evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from geotrigger.model import Ping
from geotrigger.moments.triggers import signal_fires, weather_fires
from geotrigger.rules.model import PlaceSelector, SignalTrigger, WeatherTrigger
from geotrigger.weather import WeatherChange, WeatherChangeKind, WeatherCondition, WeatherReading

T0 = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)
ANY = PlaceSelector(tags=frozenset({"outdoor"}))
STARTS, ENDS = WeatherChangeKind.STARTS, WeatherChangeKind.ENDS
RISES, FALLS = WeatherChangeKind.RISES_ABOVE, WeatherChangeKind.FALLS_BELOW


def reading(minutes: int, condition: str | None = None, **values: float) -> WeatherReading:
    return WeatherReading(
        observed_at=T0 + timedelta(minutes=minutes),
        condition=WeatherCondition(condition) if condition else None,
        **values,
    )


def change(before: WeatherReading | None, after: WeatherReading) -> WeatherChange:
    return WeatherChange(key="cell", at=after.observed_at, before=before, after=after, spell_id="s")


@pytest.mark.parametrize(
    ("trigger", "before", "after", "fires"),
    [
        # rain starts: cloudy, then rain
        (dict(change=STARTS, condition="rain"), reading(0, "cloudy"), reading(15, "rain"), True),
        # rain goes on: not a start
        (dict(change=STARTS, condition="rain"), reading(0, "rain"), reading(15, "rain"), False),
        # "wet" starts with drizzle, and with rain after drizzle it is still the same wet spell
        (dict(change=STARTS, condition="wet"), reading(0, "cloudy"), reading(15, "drizzle"), True),
        (dict(change=STARTS, condition="wet"), reading(0, "drizzle"), reading(15, "rain"), False),
        # wet by measured precipitation when no condition is given
        (
            dict(change=STARTS, condition="wet"),
            reading(0, precipitation_mm_h=0.0),
            reading(15, precipitation_mm_h=0.4),
            True,
        ),
        # the first reading ever is not a change: a restart must not look like rain starting
        (dict(change=STARTS, condition="rain"), None, reading(15, "rain"), False),
        # rain ends
        (dict(change=ENDS, condition="rain"), reading(0, "rain"), reading(15, "cloudy"), True),
        (dict(change=ENDS, condition="rain"), reading(0, "cloudy"), reading(15, "clear"), False),
        # temperature rises above 25: from below to at-or-above
        (
            dict(change=RISES, field="temperature_c", threshold=25.0),
            reading(0, temperature_c=24.9),
            reading(15, temperature_c=25.0),
            True,
        ),
        # already above: no crossing
        (
            dict(change=RISES, field="temperature_c", threshold=25.0),
            reading(0, temperature_c=26.0),
            reading(15, temperature_c=27.0),
            False,
        ),
        # an unknown value on either side is no crossing
        (
            dict(change=RISES, field="temperature_c", threshold=25.0),
            reading(0),
            reading(15, temperature_c=27.0),
            False,
        ),
        # falls below 5
        (
            dict(change=FALLS, field="temperature_c", threshold=5.0),
            reading(0, temperature_c=5.0),
            reading(15, temperature_c=4.0),
            True,
        ),
    ],
)
def test_weather_changes(
    trigger: dict[str, object],
    before: WeatherReading | None,
    after: WeatherReading,
    fires: bool,
) -> None:
    spec = WeatherTrigger(places=ANY, **trigger)  # type: ignore[arg-type]
    assert weather_fires(spec, change(before, after)) is fires


def ping(fatigue: float | None, minutes: int = 0) -> Ping:
    signals = {} if fatigue is None else {"fatigue": fatigue}
    return Ping(
        device_id="d",
        lat=60.0,
        lon=25.0,
        timestamp=T0 + timedelta(minutes=minutes),
        signals=signals,
    )


@pytest.mark.parametrize(
    ("change_kind", "before", "now", "fires"),
    [
        (RISES, 0.5, 0.75, True),  # crosses upwards
        (RISES, 0.7, 0.9, False),  # was already at the threshold
        (RISES, 0.5, 0.6, False),  # still below
        (RISES, None, 0.8, True),  # no value known before: past the threshold is news
        (RISES, 0.5, None, False),  # this ping has no such signal
        (FALLS, 0.8, 0.6, True),  # crosses downwards
        (FALLS, 0.6, 0.5, False),  # was already below
    ],
)
def test_signal_crossings(
    change_kind: WeatherChangeKind, before: float | None, now: float | None, fires: bool
) -> None:
    spec = SignalTrigger(places=ANY, signal="fatigue", change=change_kind, threshold=0.7)
    assert signal_fires(spec, before, ping(now, 1)) is fires
