"""Weather as it arrives (a sweep) into the moment engine: a newer reading is a change decided
at once, a known or late one only fills the timeline, and devices' last locations can come
from the state store (pings accepted by another process)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from moments.helpers import T0, make_consumer, make_place, make_rule

from geotrigger.consumers import ConsumerDirectory
from geotrigger.engine.state import MemoryStateStore
from geotrigger.model import Ping
from geotrigger.moments.decision import Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.rules.model import PlaceSelector, Policy, RuleSet, WeatherTrigger
from geotrigger.weather import (
    WeatherChangeKind,
    WeatherCondition,
    WeatherReading,
    WeatherTimeline,
    cell_of_place,
)

SHOP = make_place()
CELL = cell_of_place(SHOP, 5000.0)
RAIN = make_rule(
    id="rain",
    trigger=WeatherTrigger(
        places=PlaceSelector(tags=frozenset({"tea"})),
        change=WeatherChangeKind.STARTS,
        condition="wet",
        within_m=200.0,
        fresh_s=900.0,
    ),
)


def _engine(store: MemoryStateStore | None = None, weather: bool = True) -> MomentEngine:
    return MomentEngine(
        [SHOP],
        RuleSet(rules=(RAIN,), policy=Policy()),
        consumers=ConsumerDirectory([make_consumer(devices=frozenset({"d-1"}))]),
        weather=WeatherTimeline(5000.0) if weather else None,
        store=store,
    )


def _reading(minute: int, condition: WeatherCondition) -> WeatherReading:
    return WeatherReading(observed_at=T0 + timedelta(minutes=minute), condition=condition)


def _pings(minutes: list[int]) -> list[Ping]:
    return [
        Ping(
            device_id="d-1",
            id=f"p-{m}",
            lat=60.1699,
            lon=24.9384,
            timestamp=T0 + timedelta(minutes=m),
            accuracy_m=5.0,
        )
        for m in minutes
    ]


def test_a_newer_wet_reading_fires_and_a_known_or_late_one_does_not() -> None:
    engine = _engine()
    engine.process(_pings([0, 1, 2]))
    assert engine.add_weather([(CELL, _reading(0, WeatherCondition.CLOUDY))]) == []
    [fired] = engine.add_weather([(CELL, _reading(5, WeatherCondition.RAIN))])
    assert fired.outcome is Outcome.FIRED and fired.at == T0 + timedelta(minutes=5)
    assert engine.add_weather([(CELL, _reading(5, WeatherCondition.RAIN))]) == []  # known
    late = engine.add_weather([(CELL, _reading(3, WeatherCondition.DRIZZLE))])
    assert late == []  # older than the newest: history only
    at = engine.factory.weather.at_key(CELL, T0 + timedelta(minutes=4))  # type: ignore[union-attr]
    assert at is not None and at.reading.condition is WeatherCondition.DRIZZLE


def test_without_evaluation_readings_only_fill_the_timeline() -> None:
    engine = _engine()
    engine.process(_pings([0, 1, 2]))
    engine.add_weather([(CELL, _reading(0, WeatherCondition.CLOUDY))])
    assert engine.add_weather([(CELL, _reading(5, WeatherCondition.RAIN))], evaluate=False) == []
    assert len(engine.factory.weather) == 2  # type: ignore[arg-type]


def test_an_engine_without_a_timeline_refuses_readings() -> None:
    with pytest.raises(ValueError, match="without a weather timeline"):
        _engine(weather=False).add_weather([(CELL, _reading(0, WeatherCondition.RAIN))])


def test_locations_accepted_elsewhere_are_learnt_from_the_store() -> None:
    store = MemoryStateStore()
    elsewhere = _engine(store)  # the process that accepts the pings
    elsewhere.process(_pings([0, 1, 2]))
    sweeper = _engine(store)  # a scheduler built before the pings came
    sweeper.watch.last.clear()  # type: ignore[union-attr]
    assert sweeper.refresh_locations() == 1
    assert sweeper.refresh_locations() == 0  # nothing newer
    sweeper.add_weather([(CELL, _reading(0, WeatherCondition.CLOUDY))])
    [fired] = sweeper.add_weather([(CELL, _reading(5, WeatherCondition.RAIN))])
    assert fired.outcome is Outcome.FIRED
