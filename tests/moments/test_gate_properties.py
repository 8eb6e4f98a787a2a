"""Properties of the gates: caps are never exceeded (checked by brute force over what was
recorded), the holdout bucket is stable and uniform, and gates are pure."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moments.helpers import make_candidate, make_consumer, make_moment, make_place, make_rule

from geotrigger.moments.gates import CONSENT, CapsGate, build_gates, run_gates
from geotrigger.moments.history import cap_key
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
    Window,
    WindowKind,
)

ZONE = "Europe/Helsinki"
# Four days around the spring-forward night, so calendar days of 23 hours are crossed.
START = datetime(2026, 3, 27, 20, tzinfo=UTC)
SPAN_MIN = 4 * 24 * 60
ANCHOR = datetime(2026, 3, 27, 1, 30, tzinfo=UTC)
# holdout_bucket("r-1", "c-1"), as shipped: a change would move consumers between groups.
PINNED = 0.84503775779

windows = st.one_of(
    st.builds(lambda n: Window(kind=WindowKind.ROLLING, length_s=n * 600.0), st.integers(1, 300)),
    st.just(Window(kind=WindowKind.CALENDAR_DAY)),
    st.just(Window(kind=WindowKind.CALENDAR_WEEK)),
    st.builds(
        lambda n: Window(kind=WindowKind.FIXED, length_s=n * 900.0, anchor=ANCHOR),
        st.integers(1, 200),
    ),
    st.just(Window(kind=WindowKind.FOREVER)),
)
caps = st.builds(
    lambda scope, most, window: Cap(scope=scope, max=most, window=window, label="cap"),
    st.sampled_from([s for s in Scope if s is not Scope.WEATHER_EVENT]),
    st.integers(1, 3),
    windows,
)
# (minute offset, consumer, rule, place)
attempts = st.lists(
    st.tuples(st.integers(0, SPAN_MIN), st.integers(0, 2), st.integers(0, 1), st.integers(0, 1)),
    max_size=60,
)


def _is_rolling(cap: Cap) -> bool:
    return cap.window.kind is WindowKind.ROLLING


def _group(cap: Cap, at_s: float) -> object:
    """Which window of ``cap`` a moment at ``at_s`` is in, computed independently."""
    kind = cap.window.kind
    local = datetime.fromtimestamp(at_s, ZoneInfo(ZONE)).date()
    if kind is WindowKind.CALENDAR_DAY:
        return local
    if kind is WindowKind.CALENDAR_WEEK:
        return local.isocalendar()[:2]
    if kind is WindowKind.FIXED:
        assert cap.window.length_s is not None
        return math.floor((at_s - ANCHOR.timestamp()) / cap.window.length_s)
    return None


def _over(cap: Cap, times: list[float]) -> bool:
    """Whether any window of ``cap`` holds more than ``max`` of these moments (brute force)."""
    if _is_rolling(cap):
        length = cap.window.length_s
        assert length is not None
        return any(sum(1 for s in times if t - length < s <= t) > cap.max for t in times)
    return any(n > cap.max for n in Counter(_group(cap, t) for t in times).values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule_caps=st.lists(caps, max_size=2),
    policy_caps=st.lists(caps, max_size=2),
    tried=attempts,
    data=st.data(),
)
def test_caps_are_never_exceeded(
    rule_caps: list[Cap],
    policy_caps: list[Cap],
    tried: list[tuple[int, int, int, int]],
    data: st.DataObject,
) -> None:
    """Applying the caps gate and recording only what passed never leaves a window over its
    max, whatever the order events are decided in (a late ping is decided after newer ones)."""
    every = [*rule_caps, *policy_caps]
    gate = CapsGate(policy_caps=tuple(policy_caps))
    rules = [
        make_rule(id=f"r-{n}", suppression=Suppression(caps=tuple(rule_caps))) for n in range(2)
    ]
    history = MemoryHistory()
    recorded: list[tuple[float, str, str, str]] = []
    for n, (minute, consumer, rule, place) in enumerate(tried):
        at = START + timedelta(minutes=minute)
        candidate = make_candidate(
            rule=rules[rule],
            consumer=make_consumer(id=f"c-{consumer}"),
            place=make_place(id=f"p-{place}"),
            at=at,
            now=at,
            event_key=f"e{n}",
            consumer_zone=ZONE,
        )
        if gate.check(candidate, history).passed:
            history.record_moment(make_moment(candidate), spell_id=None)
            recorded.append((at.timestamp(), candidate.consumer_id, rules[rule].id, f"p-{place}"))
    for cap in every:
        by_key: defaultdict[object, list[float]] = defaultdict(list)
        for at_s, consumer_id, rule_id, place_id in recorded:
            key = cap_key(
                cap.scope,
                consumer_id=consumer_id,
                rule_id=rule_id,
                place_id=place_id,
                spell_id=None,
            )
            by_key[key].append(at_s)
        for key, times in by_key.items():
            assert not _over(cap, times), (cap, key, times)


def test_caps_let_through_up_to_max() -> None:
    """The property above is not vacuous: a cap of 2 per day passes exactly two a day."""
    cap = Cap(scope=Scope.CONSUMER, max=2, window=Window(kind=WindowKind.CALENDAR_DAY), label="x")
    gate = CapsGate(policy_caps=(cap,))
    history = MemoryHistory()
    passed = 0
    for n in range(5):
        candidate = make_candidate(at=START + timedelta(minutes=n), event_key=f"e{n}")
        if gate.check(candidate, history).passed:
            passed += 1
            history.record_moment(make_moment(candidate), spell_id=None)
    assert passed == 2


@given(rule_id=st.text(max_size=20), consumer_id=st.text(max_size=20))
def test_holdout_bucket_is_stable_and_in_range(rule_id: str, consumer_id: str) -> None:
    """The same ids always give the same bucket, in [0, 1)."""
    bucket = holdout_bucket(rule_id, consumer_id)
    assert 0.0 <= bucket < 1.0
    assert holdout_bucket(rule_id, consumer_id) == bucket


def test_holdout_bucket_is_pinned() -> None:
    """The bucket does not change between versions (a consumer would switch groups)."""
    assert holdout_bucket("r-1", "c-1") == holdout_bucket("r-1", "c-1")
    assert round(holdout_bucket("r-1", "c-1"), 12) == PINNED


def test_holdout_bucket_is_roughly_uniform() -> None:
    """Over 10 000 consumers, each tenth of [0, 1) gets its share (within 15 %), and a 10 %
    holdout holds about 10 % of them."""
    buckets = [holdout_bucket("r-1", f"consumer-{n}") for n in range(10_000)]
    tenths = Counter(int(b * 10) for b in buckets)
    assert all(850 <= tenths[k] <= 1150 for k in range(10)), tenths
    assert 0.085 <= sum(b < 0.1 for b in buckets) / 10_000 <= 0.115


def test_holdout_groups_differ_between_rules() -> None:
    """The control group of one rule is not the control group of another."""
    ids = [f"consumer-{n}" for n in range(2000)]
    first = {c for c in ids if holdout_bucket("r-1", c) < 0.1}
    second = {c for c in ids if holdout_bucket("r-2", c) < 0.1}
    assert len(first & second) < len(first) / 2


candidates = st.fixed_dictionaries(
    {
        "speed_mps": st.none() | st.floats(0, 40),
        "late_s": st.integers(0, 1200),
        "hour": st.integers(0, 23),
        "consented": st.booleans(),
        "mode": st.sampled_from(list(Mode)),
        "holdout": st.sampled_from([0.0, 0.5]),
        "cooldown_s": st.sampled_from([0.0, 900.0]),
        "reentry": st.sampled_from(list(Reentry)),
        "history_offsets": st.lists(st.integers(-7200, 0), max_size=4),
        "exit_offset": st.none() | st.integers(-7200, 0),
    }
)


def _candidate_and_history(p: dict[str, Any]) -> tuple[Any, MemoryHistory]:
    at = datetime(2026, 3, 27, p["hour"], tzinfo=UTC)
    rule = make_rule(
        mode=p["mode"],
        suppression=Suppression(
            quiet_hours=QuietHours(start=time(21), end=time(8)),
            cooldown_s=p["cooldown_s"],
            reentry=p["reentry"],
            holdout=p["holdout"],
            caps=(
                Cap(
                    scope=Scope.CONSUMER,
                    max=2,
                    window=Window(kind=WindowKind.CALENDAR_DAY),
                    label="consumer 2 per calendar_day",
                ),
            ),
            daily_budget=3,
        ),
    )
    consumer = make_consumer(consent={"location_marketing": p["consented"]})
    history = MemoryHistory()
    for n, offset in enumerate(p["history_offsets"]):
        past = make_candidate(rule=rule, at=at + timedelta(seconds=offset), event_key=f"h{n}")
        history.record_moment(make_moment(past), spell_id=None)
    if p["exit_offset"] is not None:
        history.record_exit("c-1", "p-1", (at + timedelta(seconds=p["exit_offset"])).timestamp())
    candidate = make_candidate(
        rule=rule,
        consumer=consumer,
        at=at,
        now=at + timedelta(seconds=p["late_s"]),
        speed_mps=p["speed_mps"],
    )
    return candidate, history


@settings(max_examples=200, deadline=None)
@given(p=candidates)
def test_gates_are_pure(p: dict[str, Any]) -> None:
    """The same candidate and history always give the same results, and no gate changes the
    history it reads."""
    candidate, history = _candidate_and_history(p)
    gates = (CONSENT, *build_gates(Policy(min_spacing_s=300, budget_timezone=ZONE)))
    before = _snapshot(history, candidate)
    first = run_gates(gates, candidate, history)
    again = run_gates(gates, candidate, history)
    assert first == again
    assert _snapshot(history, candidate) == before
    assert [g.check(candidate, history) for g in gates] == [
        g.check(candidate, history) for g in gates
    ]


def _snapshot(history: MemoryHistory, candidate: Any) -> tuple[object, ...]:
    key = ("consumer", candidate.consumer_id)
    return (
        len(history),
        history.count(key, -math.inf, math.inf),
        history.nearest_moment_s(candidate.consumer_id, candidate.at.timestamp()),
        history.exited_since(candidate.consumer_id, candidate.place.id, -math.inf),
    )
