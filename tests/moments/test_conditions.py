"""Conditions: each family held and failed, with the reason naming the values; the order and
the stop at the first failure."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moments.helpers import T0, make_candidate, make_consumer, make_ping, make_place

from geotrigger.moments.conditions import evaluate_conditions
from geotrigger.moments.decision import CONDITION_ORDER
from geotrigger.places.opening_hours import parse_opening_hours
from geotrigger.rules.model import (
    Conditions,
    LocalTimeWindow,
    NumberRange,
    SegmentTest,
    TraitTest,
    WeatherTest,
)
from geotrigger.weather.reading import WeatherAt, WeatherCondition, WeatherReading

WEEKDAYS = frozenset(range(5))


def only(candidate_overrides: dict[str, Any], **conditions: Any) -> tuple[bool, str]:
    """Evaluate one condition on a candidate; whether it held and its reason."""
    results = evaluate_conditions(Conditions(**conditions), make_candidate(**candidate_overrides))
    assert len(results) == 1
    return results[0].held, results[0].reason


def at_local(text: str) -> datetime:
    """A Helsinki wall-clock time (``2026-03-27 09:12``) as a UTC instant."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Helsinki"))
    return local.astimezone(UTC)


@pytest.mark.parametrize(
    ("overrides", "bounds", "held", "reason"),
    [
        # inside the place: 0 m
        ({"distance_m": 0.0}, NumberRange(max=200), True, "distance 0 m is within at most 200 m"),
        # 250 m out
        (
            {"distance_m": 250.0},
            NumberRange(max=200),
            False,
            "distance 250 m is outside at most 200 m",
        ),
        # nobody measured it
        (
            {"distance_m": None},
            NumberRange(max=200),
            False,
            "distance unknown (needs at most 200 m)",
        ),
        # a band: 50-200 m, 10 m is too close
        (
            {"distance_m": 10.0},
            NumberRange(min=50, max=200),
            False,
            "distance 10 m is outside 50-200 m",
        ),
    ],
)
def test_distance(overrides: dict[str, Any], bounds: NumberRange, held: bool, reason: str) -> None:
    """Distance from the edge within a range; unknown fails."""
    assert only(overrides, distance_m=bounds) == (held, reason)


@pytest.mark.parametrize(
    ("overrides", "held", "reason_start"),
    [
        ({"speed_mps": 1.2}, True, "speed 1.2 m/s is within at most 2 m/s"),  # walking
        ({"speed_mps": 9.0}, False, "speed 9 m/s is outside"),  # cycling fast
        ({"speed_mps": None}, False, "speed unknown"),  # no speed, none implied
    ],
)
def test_speed(overrides: dict[str, Any], held: bool, reason_start: str) -> None:
    """Speed within a range; unknown fails."""
    ok, reason = only(overrides, speed_mps=NumberRange(max=2))
    assert ok is held and reason.startswith(reason_start)


AFTERNOON = LocalTimeWindow(start=time(14), end=time(17), days=WEEKDAYS)
LATE = LocalTimeWindow(start=time(23), end=time(2), days=frozenset({4}))  # Friday night


@pytest.mark.parametrize(
    ("local", "window", "held"),
    [
        ("2026-03-27 15:00", AFTERNOON, True),  # Friday afternoon
        ("2026-03-27 09:12", AFTERNOON, False),  # Friday morning
        ("2026-03-27 17:00", AFTERNOON, False),  # the end is not inside
        ("2026-03-28 15:00", AFTERNOON, False),  # Saturday: not a weekday
        ("2026-03-27 23:30", LATE, True),  # Friday 23:30, the window's own day
        ("2026-03-28 01:00", LATE, True),  # Saturday 01:00 belongs to Friday's window
        ("2026-03-28 02:00", LATE, False),  # the window ended
        ("2026-03-28 23:30", LATE, False),  # Saturday night: not a window day
        ("2026-03-27 01:00", LATE, False),  # Friday 01:00 belongs to Thursday: not a window day
    ],
)
def test_local_time(local: str, window: LocalTimeWindow, held: bool) -> None:
    """Wall-clock windows in the place's zone, past midnight on the day they start."""
    ok, _ = only({"at": at_local(local)}, local_time=window)
    assert ok is held


def test_local_time_reason_names_time_day_and_window() -> None:
    """The reason says the local time, its day and the window."""
    _, reason = only({"at": at_local("2026-03-27 09:12")}, local_time=AFTERNOON)
    assert reason == "local time 09:12 Fri is outside 14:00-17:00 Mon-Fri"


@pytest.mark.parametrize(
    ("at", "held", "local"),
    [
        # spring forward in Helsinki (2026-03-29 03:00 -> 04:00): 04:30 local is 01:30 UTC
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), True, "04:30"),
        # 00:59 UTC is 02:59 EET, just before the jump: outside 04:00-05:00
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), False, "02:59"),
        # fall back (2026-10-25 04:00 -> 03:00): 03:30 local happens twice, both inside 03:00-04:00
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), True, "03:30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), True, "03:30"),
        # an hour after the second 03:30 it is 04:30 local: outside
        (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), False, "04:30"),
    ],
)
def test_local_time_is_wall_clock_across_dst(at: datetime, held: bool, local: str) -> None:
    """On DST days a window keeps its wall-clock times."""
    spring = LocalTimeWindow(start=time(4), end=time(5))
    autumn = LocalTimeWindow(start=time(3), end=time(4))
    window = spring if at.month == 3 else autumn
    ok, reason = only({"at": at}, local_time=window)
    assert ok is held
    assert f"local time {local} Sun" in reason


HOURS = parse_opening_hours("Mo-Fr 08:00-20:00", "Europe/Helsinki")


@pytest.mark.parametrize(
    ("hours", "local", "want_open", "held"),
    [
        (HOURS, "2026-03-27 12:00", True, True),  # open on Friday noon
        (HOURS, "2026-03-27 21:00", True, False),  # closed in the evening
        (HOURS, "2026-03-27 21:00", False, True),  # "must be closed" holds when closed
        (HOURS, "2026-03-27 12:00", False, False),  # "must be closed" fails when open
        (None, "2026-03-27 12:00", True, False),  # no hours: unknown fails
        (None, "2026-03-27 12:00", False, False),  # ...either way
    ],
)
def test_open_now(hours: Any, local: str, want_open: bool, held: bool) -> None:
    """Open (or closed) by the place's hours; unknown hours fail."""
    place = make_place(opening_hours=hours)
    ok, reason = only({"at": at_local(local), "place": place}, open_now=want_open)
    assert ok is held
    if hours is None:
        assert reason.startswith("opening hours unknown")


def weather(age_s: float = 600.0, **fields: Any) -> WeatherAt:
    """A reading observed ``age_s`` before T0."""
    reading = WeatherReading(observed_at=T0 - timedelta(seconds=age_s), **fields)
    return WeatherAt(key="p-1", reading=reading, spell_id="p-1:wet:x")


RAIN = WeatherCondition.RAIN
CLEAR = WeatherCondition.CLEAR


@pytest.mark.parametrize(
    ("reading", "test", "held", "reason_start"),
    [
        # raining, the rule wants wet
        (weather(condition=RAIN), WeatherTest(conditions=frozenset({"wet"})), True, "weather fits"),
        # drizzle is wet too
        (
            weather(condition=WeatherCondition.DRIZZLE),
            WeatherTest(conditions=frozenset({"wet"})),
            True,
            "weather fits",
        ),
        # no condition but measured rain: wet
        (
            weather(precipitation_mm_h=1.5),
            WeatherTest(conditions=frozenset({"wet"})),
            True,
            "weather fits",
        ),
        # clear is not wet
        (
            weather(condition=CLEAR),
            WeatherTest(conditions=frozenset({"wet"})),
            False,
            "weather clear is not one of wet",
        ),
        # a named condition
        (
            weather(condition=CLEAR),
            WeatherTest(conditions=frozenset({"clear", "partly_cloudy"})),
            True,
            "weather fits",
        ),
        # no reading at all
        (None, WeatherTest(), False, "no weather reading"),
        # two hours old, at most one
        (weather(age_s=7200, condition=RAIN), WeatherTest(), False, "weather stale"),
        # fresh but no longer valid at the event
        (
            weather(condition=RAIN, valid_until=T0 - timedelta(seconds=60)),
            WeatherTest(),
            False,
            "weather stale",
        ),
        # warm enough
        (
            weather(temperature_c=22.0),
            WeatherTest(ranges={"temperature_c": NumberRange(min=20)}),
            True,
            "weather fits",
        ),
        # too cold
        (
            weather(temperature_c=12.5),
            WeatherTest(ranges={"temperature_c": NumberRange(min=20)}),
            False,
            "temperature_c 12.5 is outside at least 20",
        ),
        # temperature not given by the provider
        (
            weather(condition=CLEAR),
            WeatherTest(ranges={"temperature_c": NumberRange(min=20)}),
            False,
            "temperature_c unknown",
        ),
    ],
)
def test_weather(
    reading: WeatherAt | None, test: WeatherTest, held: bool, reason_start: str
) -> None:
    """Fresh reading, condition (``wet`` for any wet one), ranges of known fields."""
    ok, reason = only({"weather": reading}, weather=test)
    assert ok is held
    assert reason.startswith(reason_start), reason


def test_weather_stale_reason_names_ages() -> None:
    """A stale reading's reason says how old it was and what the rule allows."""
    _, reason = only({"weather": weather(age_s=5400, condition=RAIN)}, weather=WeatherTest())
    assert reason == "weather stale: reading 5400 s old at the event, at most 3600 s"


@pytest.mark.parametrize(
    ("ping", "held", "reason"),
    [
        # a tired wearer
        (make_ping(signals={"fatigue": 0.8}), True, "signals within range: fatigue 0.8"),
        # rested
        (make_ping(signals={"fatigue": 0.2}), False, "signal fatigue 0.2 is outside at least 0.7"),
        # the device does not report fatigue
        (
            make_ping(signals={"battery": 50.0}),
            False,
            "signal fatigue not reported (needs at least 0.7)",
        ),
        # no ping (a weather candidate without a last fix)
        (None, False, "no ping: signal fatigue unknown (needs at least 0.7)"),
    ],
)
def test_signals(ping: Any, held: bool, reason: str) -> None:
    """Each named signal of the ping within its range; missing fails."""
    assert only({"ping": ping}, signals={"fatigue": NumberRange(min=0.7)}) == (held, reason)


@pytest.mark.parametrize(
    ("segments", "test", "held"),
    [
        ({"tea", "vip"}, SegmentTest(any_of=frozenset({"tea", "coffee"})), True),  # one of any_of
        ({"juice"}, SegmentTest(any_of=frozenset({"tea", "coffee"})), False),  # none of any_of
        ({"tea", "vip"}, SegmentTest(all_of=frozenset({"tea", "vip"})), True),  # every all_of
        ({"tea"}, SegmentTest(all_of=frozenset({"tea", "vip"})), False),  # vip missing
        ({"tea", "staff"}, SegmentTest(none_of=frozenset({"staff"})), False),  # excluded
        (set(), SegmentTest(none_of=frozenset({"staff"})), True),  # nothing excluded
    ],
)
def test_segments(segments: set[str], test: SegmentTest, held: bool) -> None:
    """any_of / all_of / none_of against the consumer's segments."""
    consumer = make_consumer(segments=frozenset(segments))
    ok, _ = only({"consumer": consumer}, segments=test)
    assert ok is held


def test_segments_of_unknown_consumer_fail() -> None:
    """No consumer: no segment is known, even for a none_of test."""
    ok, reason = only({"consumer": None}, segments=SegmentTest(none_of=frozenset({"staff"})))
    assert not ok and reason == "unknown consumer: segments unknown"


@pytest.mark.parametrize(
    ("traits", "test", "held"),
    [
        ({"member": True}, TraitTest(name="member", equals=True), True),  # bool equals bool
        ({"member": "true"}, TraitTest(name="member", equals=True), False),  # text is not a bool
        ({"level": 1.0}, TraitTest(name="level", equals=True), False),  # 1 is not True
        ({"level": 3.0}, TraitTest(name="level", equals=3.0), True),  # numbers compare
        ({"tier": "gold"}, TraitTest(name="tier", one_of=frozenset({"gold", "silver"})), True),
        ({"tier": "bronze"}, TraitTest(name="tier", one_of=frozenset({"gold", "silver"})), False),
        ({"tier": "gold"}, TraitTest(name="tier", none_of=frozenset({"gold"})), False),  # excluded
        ({"age": 34.0}, TraitTest(name="age", range=NumberRange(min=18, max=40)), True),  # in range
        ({"age": 61.0}, TraitTest(name="age", range=NumberRange(min=18, max=40)), False),  # too old
        ({"age": True}, TraitTest(name="age", range=NumberRange(min=0)), False),  # bool: no number
        ({"age": "34"}, TraitTest(name="age", range=NumberRange(min=0)), False),  # text: no number
        ({}, TraitTest(name="age", range=NumberRange(min=0)), False),  # missing trait
    ],
)
def test_traits(traits: dict[str, Any], test: TraitTest, held: bool) -> None:
    """Trait tests with type sense; a missing trait fails."""
    ok, _ = only({"consumer": make_consumer(traits=traits)}, traits=(test,))
    assert ok is held


def test_trait_reasons_name_the_values() -> None:
    """A failed trait test says the trait, its value and what was wanted."""
    _, missing = only({"consumer": make_consumer()}, traits=(TraitTest(name="age", equals=3.0),))
    _, wrong = only(
        {"consumer": make_consumer(traits={"member": "true"})},
        traits=(TraitTest(name="member", equals=True),),
    )
    assert missing == "trait age missing"
    assert wrong == "trait member is 'true', not True"


def test_order_and_stop_at_first_failure() -> None:
    """Stated conditions run in CONDITION_ORDER; the first failure ends the evaluation."""
    every = Conditions(
        traits=(TraitTest(name="member", equals=True),),
        segments=SegmentTest(any_of=frozenset({"tea"})),
        signals={"fatigue": NumberRange(min=0.5)},
        open_now=True,
        local_time=LocalTimeWindow(start=time(0), end=time(23, 59)),
        speed_mps=NumberRange(max=3),
        distance_m=NumberRange(max=100),
    )
    consumer = make_consumer(traits={"member": True}, segments=frozenset({"tea"}))
    candidate = make_candidate(
        consumer=consumer,
        ping=make_ping(signals={"fatigue": 0.9}),
        place=make_place(opening_hours=HOURS),
    )
    names = [r.name for r in evaluate_conditions(every, candidate)]
    assert names == [n for n in CONDITION_ORDER if n not in ("weather", "relevance")]
    closed = make_candidate(
        consumer=consumer, place=make_place(opening_hours=HOURS), at=at_local("2026-03-27 22:00")
    )
    results = evaluate_conditions(every, closed)
    assert [r.name for r in results] == ["distance", "speed", "local_time", "open_now"]
    assert [r.held for r in results] == [True, True, True, False]


def test_no_conditions_evaluates_nothing() -> None:
    """A rule stating no condition has no condition results (relevance is separate)."""
    assert evaluate_conditions(Conditions(), make_candidate()) == ()
