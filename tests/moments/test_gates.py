"""The suppression gates, one table each: pass and every way to be suppressed, the reason
naming what was seen; the order of the pipeline and where it stops."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moments.helpers import (
    T0,
    make_candidate,
    make_consumer,
    make_moment,
    make_ping,
    make_rule,
)

from geotrigger.consumers.profile import LOCATION_MARKETING
from geotrigger.moments.decision import GATE_ORDER, Candidate, GateResult
from geotrigger.moments.gates import (
    CONSENT,
    AccuracyGate,
    BudgetGate,
    CapsGate,
    CooldownGate,
    ExpiredGate,
    HoldoutGate,
    MonitorGate,
    QuietHoursGate,
    SpacingGate,
    SpeedGate,
    build_gates,
    run_gates,
)
from geotrigger.moments.holdout import holdout_bucket
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.rules.model import (
    Cap,
    Mode,
    Policy,
    QuietHours,
    Reentry,
    Scope,
    Suppression,
    TriggerKind,
    Window,
    WindowKind,
)
from geotrigger.weather.reading import WeatherAt, WeatherCondition, WeatherReading

EMPTY = MemoryHistory()


def with_suppression(**fields: Any) -> dict[str, Any]:
    """Candidate overrides: a rule with these suppression settings."""
    return {"rule": make_rule(suppression=Suppression(**fields))}


def check(gate: Any, overrides: dict[str, Any], history: MemoryHistory = EMPTY) -> GateResult:
    """One gate's result for a candidate built with ``overrides``."""
    result: GateResult = gate.check(make_candidate(**overrides), history)
    assert result.gate == gate.name
    return result


def fired(*candidates: Candidate, exits: tuple[float, ...] = ()) -> MemoryHistory:
    """A history with these candidates' moments (and exits of c-1 from p-1)."""
    history = MemoryHistory()
    for candidate in candidates:
        history.record_moment(make_moment(candidate), spell_id=candidate.spell_id)
    for at_s in exits:
        history.record_exit("c-1", "p-1", at_s)
    return history


def earlier(seconds: float, **overrides: Any) -> Candidate:
    """A candidate ``seconds`` before T0 (its own event key)."""
    at = T0 - timedelta(seconds=seconds)
    return make_candidate(at=at, event_key=f"ping@{seconds}", **overrides)


@pytest.mark.parametrize(
    ("overrides", "ok", "reason"),
    [
        # consents
        ({}, True, "consent for location_marketing given"),
        # never asked
        ({"consumer": make_consumer(consent={})}, False, "no consent for location_marketing"),
        # refused
        (
            {"consumer": make_consumer(consent={LOCATION_MARKETING: False})},
            False,
            "no consent for location_marketing",
        ),
        # nothing known about the consumer
        ({"consumer": None}, False, "unknown consumer: no consent on record"),
    ],
)
def test_consent(overrides: dict[str, Any], ok: bool, reason: str) -> None:
    """Consent to location marketing, or why not."""
    result = check(CONSENT, overrides)
    assert (result.passed, result.reason) == (ok, reason)


@pytest.mark.parametrize(
    ("late_s", "ok", "reason"),
    [
        (0, True, "0 s after the event, within 600 s"),  # at once
        (600, True, "600 s after the event, within 600 s"),  # exactly the time to live
        (912, False, "late by 912 s; time to live 600 s"),  # too late
    ],
)
def test_expired(late_s: float, ok: bool, reason: str) -> None:
    """now - at beyond the rule's ttl_s is too late."""
    result = check(ExpiredGate(), {"now": T0 + timedelta(seconds=late_s)})
    assert (result.passed, result.reason) == (ok, reason)


@pytest.mark.parametrize(
    ("ping", "ok", "reason"),
    [
        (make_ping(accuracy_m=10.0), True, "fix accurate to 10 m"),  # a good fix
        (make_ping(accuracy_m=65.0), True, "fix accurate to 65 m"),  # exactly the limit
        (make_ping(accuracy_m=120.0), False, "fix accurate to 120 m, worse than 65 m"),  # Wi-Fi
        (make_ping(accuracy_m=None), True, "accuracy unknown"),  # not reported
        (None, True, "accuracy unknown"),  # no ping (weather event, no last fix)
    ],
)
def test_accuracy(ping: Any, ok: bool, reason: str) -> None:
    """A fix less accurate than max_accuracy_m is suppressed; unknown passes."""
    result = check(AccuracyGate(), {"ping": ping})
    assert (result.passed, result.reason) == (ok, reason)
    assert result.seen["accuracy_m"] == (ping.accuracy_m if ping is not None else None)


@pytest.mark.parametrize(
    ("speed", "ok", "reason"),
    [
        (1.2, True, "moving at 1.2 m/s (4 km/h), at most 7.0 m/s"),  # walking
        (9.1, False, "moving at 9.1 m/s (33 km/h): driving past"),  # in a car
        (None, True, "speed unknown"),  # no speed
    ],
)
def test_speed(speed: float | None, ok: bool, reason: str) -> None:
    """Faster than max_speed_mps is driving past; unknown passes."""
    result = check(SpeedGate(), {"speed_mps": speed})
    assert (result.passed, result.reason) == (ok, reason)


NIGHT = QuietHours(start=time(21), end=time(8))
HEL_TIME = "Europe/Helsinki"


def helsinki(text: str) -> datetime:
    """A Helsinki wall-clock time as UTC (first occurrence)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(HEL_TIME)).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "ok"),
    [
        (helsinki("2026-03-27 14:00"), True),  # afternoon
        (helsinki("2026-03-27 21:00"), False),  # quiet hours start
        (helsinki("2026-03-28 07:59"), False),  # still quiet next morning
        (helsinki("2026-03-28 08:00"), True),  # quiet hours over
        # spring forward (2026-03-29 03:00 -> 04:00): 07:30 local is 04:30 UTC, quiet
        (datetime(2026, 3, 29, 4, 30, tzinfo=UTC), False),
        # 08:30 local on the spring-forward day is 05:30 UTC: not quiet (winter offset would
        # have said 07:30)
        (datetime(2026, 3, 29, 5, 30, tzinfo=UTC), True),
        # fall back (2026-10-25 04:00 -> 03:00): 07:30 local is 05:30 UTC, quiet
        (datetime(2026, 10, 25, 5, 30, tzinfo=UTC), False),
        # 08:10 local on the fall-back day is 06:10 UTC: not quiet (summer offset would have
        # said 09:10, winter arithmetic from midnight 07:10)
        (datetime(2026, 10, 25, 6, 10, tzinfo=UTC), True),
    ],
)
def test_quiet_hours(now: datetime, ok: bool) -> None:
    """The send time on the consumer's wall clock, DST included, past midnight."""
    overrides = with_suppression(quiet_hours=NIGHT)
    result = check(QuietHoursGate(), {**overrides, "at": now, "now": now})
    assert result.passed is ok
    if not ok:
        assert result.reason.startswith("quiet hours 21:00-08:00: local time ")


def test_quiet_hours_use_the_consumer_zone_and_now() -> None:
    """The consumer's zone, not the place's; the send time, not the event time."""
    overrides = with_suppression(quiet_hours=NIGHT)
    event = helsinki("2026-03-27 20:50")
    now = event + timedelta(minutes=15)
    result = check(QuietHoursGate(), {**overrides, "at": event, "now": now})
    assert not result.passed and "21:05 Fri" in result.reason
    tokyo = check(QuietHoursGate(), {**overrides, "consumer_zone": "Asia/Tokyo"})
    assert not tokyo.passed and "21:00 Fri (Asia/Tokyo)" in tokyo.reason  # 12:00 UTC


def test_no_quiet_hours_pass() -> None:
    """A rule without quiet hours never suppresses for them."""
    assert check(QuietHoursGate(), {"now": helsinki("2026-03-28 03:00")}).passed


COOL = with_suppression(cooldown_s=1800, reentry=Reentry.ANY)
AFTER_EXIT = with_suppression(cooldown_s=0, reentry=Reentry.AFTER_EXIT)


@pytest.mark.parametrize(
    ("overrides", "history", "ok", "reason"),
    [
        # never fired
        (COOL, EMPTY, True, "never fired here for this consumer"),
        # fired 5 minutes ago, cooldown 30
        (COOL, fired(earlier(300)), False, "fired here 300 s ago; cooldown 1800 s"),
        # fired 40 minutes ago
        (COOL, fired(earlier(2400)), True, "nearest fire here 2400 s ago"),
        # fired by another rule: not this rule's cooldown
        (
            COOL,
            fired(earlier(300, rule=make_rule(id="r-2"))),
            True,
            "never fired here for this consumer",
        ),
        # after_exit: fired, never left
        (AFTER_EXIT, fired(earlier(7200)), False, "fired here at 12:00 and has not left since"),
        # after_exit: fired, left, came back
        (
            AFTER_EXIT,
            fired(earlier(7200), exits=((T0 - timedelta(hours=1)).timestamp(),)),
            True,
            "nearest fire here 7200 s ago",
        ),
        # after_exit: the only exit is before the fire
        (
            AFTER_EXIT,
            fired(earlier(7200), exits=((T0 - timedelta(hours=3)).timestamp(),)),
            False,
            "fired here at 12:00 and has not left since",
        ),
        # after_exit, a late event: the only exit comes after it, so it is still the same visit
        (
            AFTER_EXIT,
            fired(earlier(7200), exits=((T0 + timedelta(minutes=10)).timestamp(),)),
            False,
            "fired here at 12:00 and has not left since",
        ),
        # after_exit, a late event: the rule already fired later in the same visit
        (
            AFTER_EXIT,
            fired(earlier(-300)),
            False,
            "fired here at 14:05 in the same visit (this event came late)",
        ),
        # a late event within the cooldown of a moment fired after it
        (COOL, fired(earlier(-300)), False, "fired here in 300 s (a later event); cooldown 1800 s"),
    ],
)
def test_cooldown(overrides: dict[str, Any], history: MemoryHistory, ok: bool, reason: str) -> None:
    """Cooldown after a fire of this rule here, and re-entry only after a leave."""
    result = check(CooldownGate(), overrides, history)
    assert (result.passed, result.reason) == (ok, reason)


def test_a_dwell_of_the_same_visit_is_covered() -> None:
    """The enter fired; the dwell five minutes later (no exit between) is suppressed."""
    enter = earlier(300)
    result = check(CooldownGate(), {"trigger": TriggerKind.DWELL}, fired(enter))
    assert not result.passed and "has not left since" in result.reason


@pytest.mark.parametrize(
    ("spacing", "history", "ok", "reason"),
    [
        (600, EMPTY, True, "no moment to space from"),  # nothing sent yet
        (
            600,
            fired(earlier(120, rule=make_rule(id="r-9"))),
            False,
            "nearest moment 120 s ago; at least 600 s between moments",
        ),  # any rule counts
        (600, fired(earlier(900)), True, "last moment 900 s ago"),  # long enough ago
        (0, fired(earlier(1)), True, "no moment to space from"),  # spacing off
    ],
)
def test_spacing(spacing: float, history: MemoryHistory, ok: bool, reason: str) -> None:
    """The policy's least time between two moments to a consumer."""
    result = check(SpacingGate(min_spacing_s=spacing), {}, history)
    assert (result.passed, result.reason) == (ok, reason)


def cap(scope: Scope, most: int, kind: WindowKind, length_s: float | None = None) -> Cap:
    """A cap with a readable label."""
    return Cap(
        scope=scope,
        max=most,
        window=Window(kind=kind, length_s=length_s),
        label=f"{scope.value} {most} per {kind.value}",
    )


DAILY = cap(Scope.CONSUMER_RULE, 1, WindowKind.CALENDAR_DAY)
HOURLY_PLACE = cap(Scope.PLACE, 2, WindowKind.ROLLING, 3600)
ONE_PER_SPELL = cap(Scope.WEATHER_EVENT, 1, WindowKind.FOREVER)
SPELL = WeatherAt(
    key="p-1",
    reading=WeatherReading(observed_at=T0, condition=WeatherCondition.RAIN),
    spell_id="p-1:wet:2026-03-27T11:00",
)
DRY_SPELL = WeatherAt(
    key="p-1",
    reading=WeatherReading(observed_at=T0, condition=WeatherCondition.CLEAR),
    spell_id="p-1:dry:2026-03-27T11:00",
)


@pytest.mark.parametrize(
    ("rule_caps", "policy_caps", "history", "overrides", "ok", "reason"),
    [
        # no moment yet today
        ((DAILY,), (), EMPTY, {}, True, "1 cap(s) with room"),
        # one this morning (local day)
        (
            (DAILY,),
            (),
            fired(earlier(3 * 3600)),
            {},
            False,
            "cap consumer_rule 1 per calendar_day reached: 1 of 1 already",
        ),
        # one yesterday (12:00 UTC - 13 h = 23:00 UTC Thu = 01:00 Fri local: same local day!)
        (
            (DAILY,),
            (),
            fired(earlier(13 * 3600)),
            {},
            False,
            "cap consumer_rule 1 per calendar_day reached: 1 of 1 already",
        ),
        # 15 h earlier is 23:00 Thu local: the day before
        ((DAILY,), (), fired(earlier(15 * 3600)), {}, True, "1 cap(s) with room"),
        # policy cap on the place: two other consumers within the hour
        (
            (),
            (HOURLY_PLACE,),
            fired(
                earlier(60, consumer=make_consumer(id="c-7")),
                earlier(30, consumer=make_consumer(id="c-8")),
            ),
            {},
            False,
            "cap place 2 per rolling reached: 2 of 2 already",
        ),
        # one of them an hour ago exactly: outside (at - 3600, at]
        (
            (),
            (HOURLY_PLACE,),
            fired(
                earlier(3600, consumer=make_consumer(id="c-7")),
                earlier(30, consumer=make_consumer(id="c-8")),
            ),
            {},
            True,
            "1 cap(s) with room",
        ),
        # one per rain spell: already fired in this spell
        (
            (ONE_PER_SPELL,),
            (),
            fired(earlier(600, weather=SPELL)),
            {"weather": SPELL},
            False,
            "cap weather_event 1 per forever reached: 1 of 1 already",
        ),
        # a candidate without a spell is not counted by a weather-event cap
        ((ONE_PER_SPELL,), (), fired(earlier(600, weather=SPELL)), {}, True, "0 cap(s) with room"),
        # a dry spell is no weather event: the cap does not count in it
        (
            (ONE_PER_SPELL,),
            (),
            fired(earlier(600, weather=DRY_SPELL)),
            {"weather": DRY_SPELL},
            True,
            "0 cap(s) with room",
        ),
        # rule caps first: the daily one is named although the policy's is full too
        (
            (DAILY,),
            (cap(Scope.CONSUMER, 1, WindowKind.FOREVER),),
            fired(earlier(60)),
            {},
            False,
            "cap consumer_rule 1 per calendar_day reached: 1 of 1 already",
        ),
    ],
)
def test_caps(
    rule_caps: tuple[Cap, ...],
    policy_caps: tuple[Cap, ...],
    history: MemoryHistory,
    overrides: dict[str, Any],
    ok: bool,
    reason: str,
) -> None:
    """Rule caps, then policy caps, each in its window, by its scope's key."""
    overrides = {**with_suppression(caps=rule_caps), **overrides}
    result = check(CapsGate(policy_caps=policy_caps), overrides, history)
    assert (result.passed, result.reason) == (ok, reason)


def test_caps_seen_names_counts_and_windows() -> None:
    """The trace shows each cap's count and window."""
    result = check(CapsGate(), with_suppression(caps=(DAILY,)), fired(earlier(3600)))
    (seen,) = result.seen["caps"]
    assert seen["count"] == 1 and seen["max"] == 1
    assert seen["window_start"] == "2026-03-26T22:00:00+00:00"  # Helsinki midnight


@pytest.mark.parametrize(
    ("at", "fires_before", "ok"),
    [
        # spring-forward day (23 h): a moment at 00:30 local counts on a 23:30 candidate
        (helsinki("2026-03-29 23:30"), (helsinki("2026-03-29 00:30"),), False),
        # ...but not one at 23:30 the day before
        (helsinki("2026-03-29 23:30"), (helsinki("2026-03-28 23:30"),), True),
        # fall-back day (25 h): a moment at 00:10 local counts on a 23:50 candidate
        (helsinki("2026-10-25 23:50"), (helsinki("2026-10-25 00:10"),), False),
        # ...a 24-hour day from UTC arithmetic would have missed it: 23:50 - 24 h = 00:50 local
        (helsinki("2026-10-25 23:50"), (helsinki("2026-10-24 23:55"),), True),
    ],
)
def test_calendar_day_caps_across_dst(
    at: datetime, fires_before: tuple[datetime, ...], ok: bool
) -> None:
    """A calendar-day cap counts the consumer's local day, 23 or 25 hours long."""
    history = MemoryHistory()
    for n, when in enumerate(fires_before):
        history.record_moment(
            make_moment(make_candidate(at=when, event_key=f"e{n}")), spell_id=None
        )
    result = check(CapsGate(), {**with_suppression(caps=(DAILY,)), "at": at, "now": at}, history)
    assert result.passed is ok


@pytest.mark.parametrize(
    ("budget", "spent", "zone", "ok"),
    [
        (None, 5, "UTC", True),  # no budget
        (3, 2, "UTC", True),  # one left
        (3, 3, "UTC", False),  # spent
        # spent in UTC since 00:00 UTC, but in Honolulu the day began at 10:00 UTC (after the
        # moments at 02:00-04:00 UTC, which were yesterday there)
        (3, 3, "Pacific/Honolulu", True),
    ],
)
def test_budget(budget: int | None, spent: int, zone: str, ok: bool) -> None:
    """The rule's daily budget across all consumers, in the policy's budget zone."""
    others = [
        make_candidate(
            consumer=make_consumer(id=f"c-{n + 10}"),
            at=datetime(2026, 3, 27, 2 + n, tzinfo=UTC),
            event_key=f"e{n}",
        )
        for n in range(spent)
    ]
    result = check(
        BudgetGate(budget_timezone=zone), with_suppression(daily_budget=budget), fired(*others)
    )
    assert result.passed is ok
    if not ok:
        assert result.reason == f"daily budget spent: {spent} of {budget} moments today ({zone})"


@pytest.mark.parametrize(
    ("mode", "ok"),
    [
        (Mode.LIVE, True),  # fires
        (Mode.MONITOR, False),  # evaluated and recorded, never fired
    ],
)
def test_monitor(mode: Mode, ok: bool) -> None:
    """A monitor-mode rule is suppressed, marked as would-fire."""
    result = check(MonitorGate(), {"rule": make_rule(mode=mode)})
    assert result.passed is ok
    assert result.would_fire is not ok
    if not ok:
        assert result.reason == "monitor mode: would have fired"


def consumer_in_bucket(share: float, inside: bool) -> str:
    """A consumer id whose bucket for r-1 is inside (or outside) a holdout share."""
    return next(
        f"c-{n}" for n in range(10_000) if (holdout_bucket("r-1", f"c-{n}") < share) is inside
    )


@pytest.mark.parametrize(
    ("share", "inside", "ok", "reason"),
    [
        (0.0, True, True, "no holdout"),  # no control group
        (0.1, True, False, "holdout (control group, 10 %): would have fired"),  # in it
        (0.1, False, True, "not in the control group (10 %)"),  # not in it
    ],
)
def test_holdout(share: float, inside: bool, ok: bool, reason: str) -> None:
    """Consumers in the rule's control group are suppressed, marked as would-fire."""
    consumer = make_consumer(id=consumer_in_bucket(share or 0.5, inside))
    result = check(HoldoutGate(), {**with_suppression(holdout=share), "consumer": consumer})
    assert (result.passed, result.reason, result.would_fire) == (ok, reason, not ok)


def test_build_gates_in_gate_order() -> None:
    """expired .. holdout, in GATE_ORDER, with the policy's settings."""
    names = [gate.name for gate in build_gates(Policy())]
    assert names == list(GATE_ORDER[1:-1])
    assert CONSENT.name == GATE_ORDER[0]


def test_run_gates_stops_at_the_first_no() -> None:
    """Every gate up to the first that says no is in the trace; none after it."""
    candidate = make_candidate(speed_mps=12.0, rule=make_rule(mode=Mode.MONITOR))
    first, results = run_gates(build_gates(Policy()), candidate, EMPTY)
    assert first is not None and first.gate == "speed"
    assert [r.gate for r in results] == ["expired", "accuracy", "speed"]


def test_run_gates_all_pass() -> None:
    """A candidate every gate lets through: no failure, every gate in the trace."""
    first, results = run_gates(build_gates(Policy(min_spacing_s=60)), make_candidate(), EMPTY)
    assert first is None
    assert [r.gate for r in results] == list(GATE_ORDER[1:-1])
    assert all(r.passed for r in results)
