"""The moment engine end to end: pings in, transitions and decisions out."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moments.helpers import T0, make_consumer, make_place, make_rule

from geotrigger.consumers import ConsumerDirectory
from geotrigger.model import Circle, Ping, Transition
from geotrigger.moments.candidates import event_key
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.rules.model import (
    Cap,
    Mode,
    PlaceSelector,
    PlaceTrigger,
    Policy,
    Reentry,
    RuleSet,
    Scope,
    SignalTrigger,
    Suppression,
    TriggerKind,
    WeatherTrigger,
    Window,
    WindowKind,
)
from geotrigger.weather import (
    WeatherChangeKind,
    WeatherCondition,
    WeatherReading,
    WeatherTimeline,
    cell_of_place,
)

LAT, LON = 60.1699, 24.9384  # the centre of make_place()'s tea shop, 50 m radius
M = 1 / 111_195  # degrees of latitude per metre
TEA = PlaceSelector(tags=frozenset({"tea"}))
CONSUMERS = ConsumerDirectory(
    [
        make_consumer(id="c-1", devices=frozenset({"d-1"})),
        make_consumer(id="c-2", devices=frozenset({"d-2"})),
    ]
)


def ping(device: str, n: int, north_m: float, seconds: float, **extra: object) -> Ping:
    return Ping(
        device_id=device,
        id=f"{device}-{n}",
        lat=LAT + north_m * M,
        lon=LON,
        timestamp=T0 + timedelta(seconds=seconds),
        accuracy_m=5.0,
        speed_mps=extra.pop("speed_mps", 0.5),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def engine(*rules: object, policy: Policy | None = None, **kw: object) -> MomentEngine:
    rule_set = RuleSet(rules=tuple(rules), policy=policy or Policy())  # type: ignore[arg-type]
    places = kw.pop("places", [make_place()])
    return MomentEngine(places, rule_set, consumers=CONSUMERS, **kw)  # type: ignore[arg-type]


def decisions(items: list[object]) -> list[Decision]:
    return [d for d in items if isinstance(d, Decision)]


def walk_in_and_stay(device: str = "d-1", start_s: float = 0.0, minutes: int = 8) -> list[Ping]:
    """From 200 m north into the shop, then standing inside, a fix every 30 s."""
    steps = [200.0, 120.0, 60.0] + [0.0] * (minutes * 2)
    return [ping(device, i, d, start_s + 30 * i) for i, d in enumerate(steps)]


def test_a_dwell_fires_once_with_the_ping_as_event() -> None:
    rule = make_rule(trigger=PlaceTrigger(kind=TriggerKind.DWELL, places=TEA))
    out = engine(rule).process(walk_in_and_stay())
    fired = [d for d in decisions(out) if d.outcome is Outcome.FIRED]
    assert len(fired) == 1 and fired[0].trigger is TriggerKind.DWELL
    # the event is named by a digest of the ping id, never the id (often the device id + n)
    assert fired[0].event_key.startswith("ping-") and "d-1" not in fired[0].event_key
    assert fired[0].consumer_id == "c-1"
    # the decision comes after the transition that made it, in the same output
    dwell = next(
        i for i, e in enumerate(out) if isinstance(e, Transition) and e.kind.value == "dwell"
    )
    assert out.index(fired[0]) > dwell


def test_a_signal_crossing_near_a_chosen_place_fires() -> None:
    trigger = SignalTrigger(
        places=TEA, signal="fatigue", change=WeatherChangeKind.RISES_ABOVE, threshold=0.7
    )
    rule = make_rule(id="tired", trigger=trigger)
    pings = [
        ping("d-1", 0, 150.0, 0, signals={"fatigue": 0.5}),  # 100 m outside the shop
        ping("d-1", 1, 150.0, 30, signals={"fatigue": 0.8}),  # crosses there: fires
        ping("d-2", 0, 900.0, 0, signals={"fatigue": 0.5}),
        ping("d-2", 1, 900.0, 30, signals={"fatigue": 0.9}),  # crosses far away: nothing
    ]
    pings.sort(key=lambda p: p.epoch_s)
    out = decisions(engine(rule).process(pings))
    assert [(d.consumer_id, d.outcome) for d in out] == [("c-1", Outcome.FIRED)]
    assert out[0].trigger is TriggerKind.SIGNAL
    assert out[0].event_key == event_key("d-1-1", "d-1", T0 + timedelta(seconds=30))


def test_a_signal_missing_from_some_fixes_does_not_cross_again() -> None:
    """Phones send fixes without the wearable's data in between: 0.8, none, 0.8 is one
    crossing, not two, however long the wearable takes to report again while the phone
    keeps reporting."""
    trigger = SignalTrigger(
        places=TEA, signal="fatigue", change=WeatherChangeKind.RISES_ABOVE, threshold=0.7
    )
    rule = make_rule(id="tired", trigger=trigger, suppression=Suppression(reentry=Reentry.ANY))
    values = [0.5, 0.8, None, None, None, 0.8, None, 0.9]
    pings = [
        ping("d-1", n, 150.0, 900 * n, **({"signals": {"fatigue": v}} if v is not None else {}))
        for n, v in enumerate(values)
    ]
    out = decisions(engine(rule).process(pings))
    assert [d.event_key for d in out] == [event_key("d-1-1", "d-1", pings[1].timestamp)]
    # after a silence longer than signal_lost_s the old value is forgotten: news again
    late = ping("d-1", 99, 150.0, 900 * 7 + 3 * 3600, signals={"fatigue": 0.9})
    e = engine(rule)
    e.process(pings)
    again = decisions(e.process([late]))
    assert [d.trigger for d in again] == [TriggerKind.SIGNAL]


def rain_timeline(start_min: int) -> WeatherTimeline:
    timeline = WeatherTimeline(cell_m=5000.0)
    for minutes, condition in ((0, "cloudy"), (start_min, "rain")):
        reading = WeatherReading(
            observed_at=T0 + timedelta(minutes=minutes), condition=WeatherCondition(condition)
        )
        timeline.add("p-1", reading)
    return timeline


def umbrella_rule(**suppression: object) -> object:
    trigger = WeatherTrigger(
        places=TEA, change=WeatherChangeKind.STARTS, condition="wet", within_m=200, fresh_s=900
    )
    return make_rule(
        id="umbrella",
        trigger=trigger,
        suppression=Suppression(reentry=Reentry.ANY, **suppression),  # type: ignore[arg-type]
    )


def test_rain_starting_near_a_fresh_location_fires_without_a_new_ping() -> None:
    e = engine(umbrella_rule(), weather=rain_timeline(start_min=10))
    pings = [
        ping("d-1", 0, 150.0, 0),  # near the shop, 5 min before the rain: fresh
        ping("d-2", 0, 150.0, -600),  # near, but 20 min before the rain: stale
    ]
    out = decisions(e.process(sorted(pings, key=lambda p: p.epoch_s)))
    out += e.finish()
    assert [(d.consumer_id, d.trigger, d.outcome) for d in out] == [
        ("c-1", TriggerKind.WEATHER, Outcome.FIRED)
    ]
    assert out[0].at == T0 + timedelta(minutes=10)  # dated at the change, not at a ping


@pytest.mark.parametrize(
    ("own_reading_min", "fires"),
    [
        (20, True),  # the shop's own reading comes later: until then its cell speaks for it
        (0, False),  # the shop has its own (dry) reading: the cell's rain is not its weather
    ],
)
def test_a_cell_change_covers_places_without_their_own_reading(
    own_reading_min: int, fires: bool
) -> None:
    timeline = WeatherTimeline(cell_m=5000.0)
    cell = cell_of_place(make_place(), 5000.0)
    for minutes, condition in ((0, "cloudy"), (10, "rain")):
        reading = WeatherReading(
            observed_at=T0 + timedelta(minutes=minutes), condition=WeatherCondition(condition)
        )
        timeline.add(cell, reading)
    own = WeatherReading(
        observed_at=T0 + timedelta(minutes=own_reading_min), condition=WeatherCondition.CLOUDY
    )
    timeline.add("p-1", own)
    e = engine(umbrella_rule(), weather=timeline)
    out = decisions(e.process([ping("d-1", 0, 150.0, 300)])) + e.finish()
    assert [d.trigger for d in out] == ([TriggerKind.WEATHER] if fires else [])


def test_a_weather_change_sees_locations_as_they_were_at_its_time() -> None:
    """The batch is split at the change: a ping after it does not place the consumer."""
    e = engine(umbrella_rule(), weather=rain_timeline(start_min=10))
    pings = [ping("d-1", 0, 900.0, 0), ping("d-1", 1, 150.0, 11 * 60)]  # far, then near
    assert decisions(e.process(pings)) == []


def test_a_late_ping_is_judged_when_it_arrives() -> None:
    """d-2's pings arrive after newer pings of d-1: their moment is late, and expires."""
    rule = make_rule(
        trigger=PlaceTrigger(kind=TriggerKind.DWELL, places=TEA),
        ttl_s=60.0,
    )
    e = engine(rule)
    e.process([ping("d-1", 0, 900.0, 3600.0)])  # the stream is at T0 + 1 h
    out = decisions(e.process(walk_in_and_stay("d-2")))
    assert [(d.outcome, d.gate) for d in out] == [(Outcome.SUPPRESSED, "expired")]
    assert "late by" in out[0].reason


def test_re_entry_fires_again_only_after_an_exit() -> None:
    rule = make_rule(suppression=Suppression(reentry=Reentry.AFTER_EXIT))
    first = walk_in_and_stay(minutes=2)
    away = [ping("d-1", 50 + i, 400.0, 600 + 30 * i) for i in range(4)]  # leaves: an exit
    second = walk_in_and_stay(start_s=900, minutes=2)
    second = [Ping(**{**_fields(p), "id": f"again-{i}"}) for i, p in enumerate(second)]
    e = engine(rule)
    fired = [d for d in decisions(e.process(first + away + second)) if d.outcome is Outcome.FIRED]
    assert len(fired) == 2


def _fields(p: Ping) -> dict[str, object]:
    return {
        "device_id": p.device_id,
        "lat": p.lat,
        "lon": p.lon,
        "timestamp": p.timestamp,
        "accuracy_m": p.accuracy_m,
        "speed_mps": p.speed_mps,
    }


def test_monitor_rules_are_decided_but_never_fire() -> None:
    watch = make_rule(id="watch", mode=Mode.MONITOR)
    out = decisions(engine(watch).process(walk_in_and_stay()))
    assert out and all(d.outcome is Outcome.SUPPRESSED and d.gate == "monitor" for d in out)
    assert all(d.would_fire and d.moment is None for d in out)


CAPS = (
    Cap(
        scope=Scope.CONSUMER_RULE,
        max=1,
        window=Window(kind=WindowKind.ROLLING, length_s=1800.0),
        label="consumer_rule 1 per rolling 30m",
    ),
    Cap(
        scope=Scope.PLACE,
        max=2,
        window=Window(kind=WindowKind.CALENDAR_DAY),
        label="place 2 per calendar_day",
    ),
)
PLACES = [
    make_place(),
    make_place(
        id="p-2", name="Second shop", geometry=Circle(lat=LAT + 300 * M, lon=LON, radius_m=40.0)
    ),
]


@settings(max_examples=40, deadline=None)
@given(
    walks=st.lists(
        st.tuples(
            st.sampled_from(["d-1", "d-2"]),
            st.sampled_from([0.0, 30.0, 150.0, 300.0, 600.0]),  # metres north: in, near, p-2, far
            st.integers(20, 400),  # seconds since the previous fix
        ),
        min_size=1,
        max_size=80,
    )
)
def test_no_cap_is_ever_exceeded_for_any_ping_sequence(walks: list[tuple[str, float, int]]) -> None:
    """Random walks of two phones between two shops: caps per consumer and rule (rolling) and
    per place (calendar day) always hold over the fired moments."""
    rules = [
        make_rule(
            id="enter",
            trigger=PlaceTrigger(kind=TriggerKind.ENTER, places=TEA),
            suppression=Suppression(reentry=Reentry.ANY, caps=CAPS),
        ),
        make_rule(
            id="dwell",
            priority=1,
            trigger=PlaceTrigger(kind=TriggerKind.DWELL, places=TEA),
            suppression=Suppression(reentry=Reentry.ANY, caps=CAPS),
        ),
    ]
    e = engine(*rules, places=PLACES)
    clock, pings = 0.0, []
    for n, (device, north, gap) in enumerate(walks):
        clock += gap
        pings.append(ping(device, n, north, clock))
    fired = [d for d in decisions(e.process(pings)) if d.outcome is Outcome.FIRED]
    times: dict[tuple[str, ...], list[datetime]] = {}
    for d in fired:
        times.setdefault(("cr", d.consumer_id, d.rule_id), []).append(d.at)
        local_day = d.at.astimezone(ZoneInfo("Europe/Helsinki")).date().isoformat()
        times.setdefault(("p", d.place_id, local_day), []).append(d.at)
    for key, ats in times.items():
        ats.sort()
        if key[0] == "cr":
            assert all((b - a).total_seconds() >= 1800 for a, b in itertools.pairwise(ats))
        else:
            assert len(ats) <= 2
