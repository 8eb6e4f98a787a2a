"""Enter / dwell / exit with hysteresis, case by case, through the engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from geotrigger.config import Settings, TransitionSettings
from geotrigger.engine import PLACE_REMOVED, SIGNAL_LOST, Engine
from geotrigger.model import Circle, Ping, Place, Rejection, RejectReason, Transition
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT

T0 = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)
LAT, LON = 60.1699, 24.9384  # Helsinki centre; the place is a 100 m circle here
RADIUS = 100.0


def place(dwell_s: float | None = None, place_id: str = "cafe") -> Place:
    """The test place: a 100 m circle, with an optional dwell time of its own."""
    return Place(
        id=place_id,
        name="Café",
        geometry=Circle(lat=LAT, lon=LON, radius_m=RADIUS),
        dwell_s=dwell_s,
    )


def ping(
    t: float,
    north_m: float,
    acc: float | None = 5.0,
    speed: float | None = 0.0,
    pid: str | None = None,
) -> Ping:
    """A fix ``north_m`` metres north of the place's centre, ``t`` seconds after T0."""
    return Ping(
        device_id="dev-1",
        lat=LAT + north_m / METRES_PER_DEGREE_LAT,
        lon=LON,
        timestamp=T0 + timedelta(seconds=t),
        id=pid,
        accuracy_m=acc,
        speed_mps=speed,
    )


Row = tuple[str, float, float | None, float | None]  # kind, at, entered at, duration
ReasonRow = tuple[str, float, float | None, float | None, str | None]  # ... and the reason


def transitions(
    pings: list[Ping], *, dwell_s: float | None, one_batch: bool, settings: Settings | None
) -> list[Transition]:
    """The transitions of the pings fed as they arrive (one batch each, or all at once)."""
    engine = Engine([place(dwell_s)], settings=settings or Settings())
    batches = [pings] if one_batch else [[p] for p in pings]
    return [e for b in batches for e in engine.process(b) if isinstance(e, Transition)]


def row(event: Transition) -> Row:
    """(kind, seconds after T0, its entered_at in seconds after T0, duration)."""
    t = (event.at - T0).total_seconds()
    since = None if event.entered_at is None else (event.entered_at - T0).total_seconds()
    return (event.kind.value, t, since, event.duration_s)


def run(
    pings: list[Ping],
    *,
    dwell_s: float | None = None,
    one_batch: bool = False,
    settings: Settings | None = None,
) -> list[Row]:
    """Feed the pings as they arrive (one batch each, or all at once); each transition as a
    :func:`row`."""
    events = transitions(pings, dwell_s=dwell_s, one_batch=one_batch, settings=settings)
    return [row(e) for e in events]


CAP = TransitionSettings().enter_accuracy_cap_m

# Defaults: dwell 300 s, accuracy cap CAP (20 m), exit margin 55 m, debounce 60 s, dwell ≤ 3 m/s,
# two consecutive fixes within to enter, two consecutive fixes outside (and 60 s) to exit.
CASES = [
    pytest.param(
        # two fixes well inside: the second confirms the enter, the visit starts at the first
        [ping(0, 50), ping(30, 50)],
        None,
        [("enter", 30, 0, None)],
        id="enter-at-second-fix",
    ),
    pytest.param(
        # one fix inside among fixes far outside is a stray fix, not a visit
        [ping(0, 300), ping(30, 50), ping(60, 300), ping(90, 300)],
        None,
        [],
        id="no-enter-from-single-fix",
    ),
    pytest.param(
        # a fix outside between two inside cancels the pending enter; the next two enter
        [ping(0, 50), ping(30, 300), ping(60, 50), ping(90, 50)],
        None,
        [("enter", 90, 60, None)],
        id="outside-fix-cancels-pending-enter",
    ),
    pytest.param(
        # 15 m outside with an 18 m accuracy, twice: inside the place widened by the accuracy
        [ping(0, 115, acc=18), ping(30, 115, acc=18)],
        None,
        [("enter", 30, 0, None)],
        id="enter-widened-by-accuracy",
    ),
    pytest.param(
        # 1 m beyond the cap with a 200 m accuracy: the widening is capped, so no enter
        [ping(0, RADIUS + CAP + 1, acc=200), ping(30, RADIUS + CAP + 1, acc=200)],
        None,
        [],
        id="no-enter-just-outside-capped-accuracy",
    ),
    pytest.param(
        # no accuracy and a default of 0: only a fix really inside is within
        [ping(0, 101, acc=None), ping(30, 101, acc=None)],
        None,
        [],
        id="no-enter-without-accuracy",
    ),
    pytest.param(
        # still inside 300 s after the first fix: one dwell, and only one
        [ping(0, 0), ping(150, 10), ping(300, 0), ping(450, 5)],
        None,
        [("enter", 150, 0, None), ("dwell", 300, 0, 300.0)],
        id="dwell-after-dwell_s",
    ),
    pytest.param(
        # the place's own dwell time (60 s) overrides the default
        [ping(0, 0), ping(30, 0), ping(60, 0)],
        60.0,
        [("enter", 30, 0, None), ("dwell", 60, 0, 60.0)],
        id="per-place-dwell",
    ),
    pytest.param(
        # dwell time counts from the first fix: already reached at the confirming fix
        [ping(0, 0), ping(30, 0)],
        20.0,
        [("enter", 30, 0, None), ("dwell", 30, 0, 30.0)],
        id="dwell-counts-from-first-fix",
    ),
    pytest.param(
        # long enough inside, but every fix says 15 m/s: passing through, never dwelling
        [ping(t, 0, speed=15.0) for t in range(0, 601, 60)],
        None,
        [("enter", 60, 0, None)],
        id="no-dwell-at-driving-speed",
    ),
    pytest.param(
        # no speed field: implied from the previous fix; 120 m in 10 s, less the 5 m accuracy
        # allowance, is 11.5 m/s: too fast to dwell even with a 0 s dwell time
        [ping(0, -250, speed=None), ping(10, -60, speed=None), ping(20, 60, speed=None)],
        0.0,
        [("enter", 20, 10, None)],
        id="no-dwell-at-implied-speed",
    ),
    pytest.param(
        # outside by more than margin + accuracy from t=100; exit at the ping that completes
        # 60 s and two fixes of it, the visit lasting until the first outside fix
        [ping(0, 0), ping(30, 0), ping(100, 200), ping(130, 200), ping(160, 200)],
        None,
        [("enter", 30, 0, None), ("exit", 160, 0, 100.0)],
        id="exit-after-debounce",
    ),
    pytest.param(
        # 20 m outside with a 0 m accuracy stays within the 55 m margin: never an exit
        [ping(0, 0), ping(30, 0)] + [ping(t, 120, acc=0) for t in range(60, 1000, 60)],
        None,
        [("enter", 30, 0, None), ("dwell", 300, 0, 300.0)],
        id="no-exit-within-margin-band",
    ),
    pytest.param(
        # out at 100, back in the band at 140 (resets), out again from 170: exit at 230
        [
            ping(0, 0),
            ping(30, 0),
            ping(100, 200),
            ping(140, 110),
            ping(170, 200),
            ping(200, 200),
            ping(230, 200),
        ],
        None,
        [("enter", 30, 0, None), ("exit", 230, 0, 170.0)],
        id="exit-reset-by-ping-back-inside",
    ),
    pytest.param(
        # the fix stamped t=50 arrives after t=100: out of order, it starts no pending exit
        # (else the exit would come at 110, not 260)
        [ping(0, 0), ping(100, 0), ping(50, 300), ping(110, 300), ping(200, 300), ping(260, 300)],
        None,
        [("enter", 100, 0, None), ("exit", 200, 0, 110.0)],
        id="out-of-order-ping-makes-no-transition",
    ),
    pytest.param(
        # a re-sent first fix is a duplicate: it does not confirm the enter
        [ping(0, 0, pid="a"), ping(0, 0, pid="a"), ping(60, 0, pid="a")],
        None,
        [],
        id="duplicate-does-not-confirm-enter",
    ),
    pytest.param(
        # the same ping ids again later are duplicates: they neither dwell nor exit
        [
            ping(0, 0, pid="a"),
            ping(30, 0, pid="b"),
            ping(300, 0, pid="a"),
            ping(400, 300, pid="a"),
            ping(500, 300, pid="b"),
        ],
        None,
        [("enter", 30, 0, None)],
        id="duplicate-is-a-no-op",
    ),
]


@pytest.mark.parametrize(("pings", "dwell_s", "expected"), CASES)
def test_transitions(pings: list[Ping], dwell_s: float | None, expected: list[Row]) -> None:
    """Each case gives the same transitions ping by ping as in one batch."""
    assert run(pings, dwell_s=dwell_s) == expected
    ordered = sorted(pings, key=lambda p: p.timestamp) == pings
    if ordered:  # one batch must be in time order, as the reorderer delivers it
        assert run(pings, dwell_s=dwell_s, one_batch=True) == expected


INSIDE = [ping(0, 0), ping(30, 0)]  # a visit entered at 30 s, started at 0 s
FIX_COUNT_CASES = [
    pytest.param(
        # no debounce time: one fix outside is still one noisy fix, not a departure
        {"exit_debounce_s": 0.0},
        [*INSIDE, ping(100, 200), ping(130, 0)],
        [("enter", 30, 0, None)],
        id="one-outside-fix-does-not-exit",
    ),
    pytest.param(
        # no debounce time: the second consecutive fix outside exits
        {"exit_debounce_s": 0.0},
        [*INSIDE, ping(100, 200), ping(130, 200)],
        [("enter", 30, 0, None), ("exit", 130, 0, 100.0)],
        id="two-outside-fixes-exit",
    ),
    pytest.param(
        # the debounce time is over after two fixes, but three are asked for
        {"exit_min_fixes": 3},
        [*INSIDE, ping(100, 200), ping(200, 200), ping(230, 200)],
        [("enter", 30, 0, None), ("exit", 230, 0, 100.0)],
        id="exit-waits-for-the-fix-count",
    ),
    pytest.param(
        # three consecutive fixes within asked for; two then one outside is no enter
        {"enter_min_fixes": 3},
        [ping(0, 0), ping(30, 0), ping(60, 300), ping(90, 0), ping(120, 0), ping(150, 0)],
        [("enter", 150, 90, None)],
        id="enter-waits-for-the-fix-count",
    ),
    pytest.param(
        # one fix is enough when asked: the enter is at that fix
        {"enter_min_fixes": 1},
        [ping(0, 0)],
        [("enter", 0, 0, None)],
        id="enter-at-one-fix-when-configured",
    ),
]


@pytest.mark.parametrize(("changes", "pings", "expected"), FIX_COUNT_CASES)
def test_fix_counts(changes: dict[str, float], pings: list[Ping], expected: list[Row]) -> None:
    """Enter and exit fix counts other than the defaults, ping by ping and in one batch."""
    settings = Settings(transitions=replace(TransitionSettings(), **changes))
    assert run(pings, settings=settings) == expected
    assert run(pings, settings=settings, one_batch=True) == expected


LOST = TransitionSettings().signal_lost_s  # 1800 s
SIGNAL_LOST_CASES = [
    pytest.param(
        # one second short of the limit: still the same visit, which dwells at the next ping
        {},
        [*INSIDE, ping(30 + LOST - 1, 0)],
        [("enter", 30, 0, None, None), ("dwell", 1829, 0, 1829.0, None)],
        id="gap-just-under-the-limit-keeps-the-visit",
    ),
    pytest.param(
        # exactly the limit is not more than it: the visit goes on
        {},
        [*INSIDE, ping(30 + LOST, 0)],
        [("enter", 30, 0, None, None), ("dwell", 1830, 0, 1830.0, None)],
        id="gap-of-exactly-the-limit-keeps-the-visit",
    ),
    pytest.param(
        # silent for over the limit, then far away: the visit ends at the last ping inside
        # (100 s), not at 1901 s, and the far ping itself makes nothing
        {},
        [*INSIDE, ping(100, 0), ping(100 + LOST + 1, 300)],
        [("enter", 30, 0, None, None), ("exit", 100, 0, 100.0, SIGNAL_LOST)],
        id="gap-over-the-limit-exits-at-the-last-ping",
    ),
    pytest.param(
        # back inside after the gap: no dwell at 1831 s on a visit nobody saw in between,
        # but the start of a new pending enter, confirmed by the next fix
        {},
        [*INSIDE, ping(30 + LOST + 1, 0), ping(30 + LOST + 31, 0)],
        [
            ("enter", 30, 0, None, None),
            ("exit", 30, 0, 30.0, SIGNAL_LOST),
            ("enter", 1861, 1831, None, None),
        ],
        id="back-inside-after-the-gap-enters-anew",
    ),
    pytest.param(
        # one fix back inside after the gap is only a pending enter
        {},
        [*INSIDE, ping(30 + LOST + 1, 0)],
        [("enter", 30, 0, None, None), ("exit", 30, 0, 30.0, SIGNAL_LOST)],
        id="one-fix-after-the-gap-is-not-an-enter",
    ),
    pytest.param(
        # with one fix to enter, the ping after the gap enters at once, after the exit
        {"enter_min_fixes": 1},
        [*INSIDE, ping(30 + LOST + 1, 0)],
        [
            ("enter", 0, 0, None, None),
            ("exit", 30, 0, 30.0, SIGNAL_LOST),
            ("enter", 1831, 1831, None, None),
        ],
        id="exit-comes-before-the-new-enter",
    ),
    pytest.param(
        # a pending exit (two fixes out, 30 s of the 60 s debounce) is dropped by the gap: the
        # visit exits at the last ping (130 s), lasting until its first outside ping, and
        # the ping after the gap does not complete that exit a second time
        {},
        [*INSIDE, ping(100, 200), ping(130, 200), ping(130 + LOST + 1, 200)],
        [("enter", 30, 0, None, None), ("exit", 130, 0, 100.0, SIGNAL_LOST)],
        id="gap-drops-a-pending-exit",
    ),
    pytest.param(
        # a pending exit, then back inside after the gap: not the old visit going on, a new one
        {},
        [*INSIDE, ping(100, 200), ping(100 + LOST + 1, 0), ping(100 + LOST + 31, 0)],
        [
            ("enter", 30, 0, None, None),
            ("exit", 100, 0, 100.0, SIGNAL_LOST),
            ("enter", 1931, 1901, None, None),
        ],
        id="gap-after-a-pending-exit-then-back-inside",
    ),
    pytest.param(
        # one fix within, then the gap: that fix no longer counts towards the enter
        {},
        [ping(0, 0), ping(LOST + 1, 0), ping(LOST + 31, 0)],
        [("enter", 1831, 1801, None, None)],
        id="gap-drops-a-pending-enter",
    ),
    pytest.param(
        # a rejected ping (poor accuracy) in the silence does not keep the signal alive
        {},
        [*INSIDE, ping(1000, 0, acc=500), ping(30 + LOST + 1, 0)],
        [("enter", 30, 0, None, None), ("exit", 30, 0, 30.0, SIGNAL_LOST)],
        id="rejected-ping-does-not-bridge-the-gap",
    ),
    pytest.param(
        # 0 turns it off: the visit lasts until the first fix outside after the gap
        {"signal_lost_s": 0.0},
        [*INSIDE, ping(30 + LOST + 1, 300), ping(30 + LOST + 100, 300)],
        [("enter", 30, 0, None, None), ("exit", 1930, 0, 1831.0, None)],
        id="zero-disables-signal-lost",
    ),
    pytest.param(
        # 0 turns it off: a fix inside after the gap keeps the visit, and dwells
        {"signal_lost_s": 0.0},
        [*INSIDE, ping(30 + LOST + 1, 0)],
        [("enter", 30, 0, None, None), ("dwell", 1831, 0, 1831.0, None)],
        id="zero-keeps-the-visit-across-a-gap",
    ),
    pytest.param(
        # a shorter limit: 10 min of silence is enough
        {"signal_lost_s": 600.0},
        [*INSIDE, ping(631, 0)],
        [("enter", 30, 0, None, None), ("exit", 30, 0, 30.0, SIGNAL_LOST)],
        id="limit-can-be-set",
    ),
]


@pytest.mark.parametrize(("changes", "pings", "expected"), SIGNAL_LOST_CASES)
def test_signal_lost(
    changes: dict[str, float], pings: list[Ping], expected: list[ReasonRow]
) -> None:
    """A silence longer than signal_lost_s, ping by ping and in one batch (with reasons)."""
    settings = Settings(transitions=replace(TransitionSettings(), **changes))
    for one_batch in (False, True):
        events = transitions(pings, dwell_s=None, one_batch=one_batch, settings=settings)
        assert [(*row(e), e.reason) for e in events] == expected


def test_signal_lost_exit_is_at_the_last_ping() -> None:
    """The exit carries the last ping's time, id and consumer; its distance is not known."""
    engine = Engine([place()])
    last = replace(ping(30, 0, pid="b"), consumer_id="shop-app")
    engine.process([ping(0, 0, pid="a"), last])
    [exit_] = engine.process([ping(30 + LOST + 1, 500, pid="c")])
    assert isinstance(exit_, Transition)
    assert (exit_.kind.value, exit_.place_id, exit_.reason) == ("exit", "cafe", SIGNAL_LOST)
    assert (exit_.at, exit_.ping_id, exit_.consumer_id) == (last.timestamp, "b", "shop-app")
    assert (exit_.entered_at, exit_.duration_s, exit_.distance_m) == (T0, 30.0, None)


def test_out_of_order_ping_is_rejected_as_such() -> None:
    """The late fix is counted as out of order, not silently dropped."""
    engine = Engine([place()])
    engine.process([ping(100, 0)])
    [event] = engine.process([ping(50, 0)])
    assert isinstance(event, Rejection)
    assert event.reason is RejectReason.OUT_OF_ORDER


def test_remove_place_emits_exit_for_devices_inside() -> None:
    """Removing a place closes every open visit with reason 'place removed'."""
    engine = Engine([place(), place(place_id="other")])
    engine.process([ping(0, 0), ping(30, 0), replace(ping(0, 500), device_id="dev-2")])
    at = T0 + timedelta(seconds=120)
    [exit_] = engine.remove_place("cafe", at)
    assert (exit_.kind.value, exit_.device_id, exit_.place_id) == ("exit", "dev-1", "cafe")
    assert exit_.reason == PLACE_REMOVED
    assert exit_.at == at and exit_.duration_s == 120.0 and exit_.entered_at == T0
    assert "cafe" not in engine.index
    assert [e for e in engine.process([ping(200, 0)]) if isinstance(e, Transition)] == []


def test_remove_place_drops_pending_enters() -> None:
    """A device one fix into a removed place has nothing to exit and nothing pending."""
    engine = Engine([place()])
    engine.process([ping(0, 0)])
    assert engine.remove_place("cafe", T0 + timedelta(seconds=10)) == []
    engine.upsert_place(place())  # back again: the old fix must not count towards an enter
    [enter] = [e for e in engine.process([ping(20, 0), ping(40, 0)]) if isinstance(e, Transition)]
    assert enter.entered_at == T0 + timedelta(seconds=20)


def test_new_place_entered_from_next_pings() -> None:
    """A device already inside a new place enters it from its next ping on, not before."""
    engine = Engine([])
    assert engine.process([ping(0, 0)]) == []
    engine.upsert_place(place())
    assert engine.process([ping(60, 0)]) == []
    [enter] = engine.process([ping(90, 0)])
    assert isinstance(enter, Transition)
    assert (enter.kind.value, enter.at) == ("enter", T0 + timedelta(seconds=90))
    assert enter.entered_at == T0 + timedelta(seconds=60)
