"""Properties over any ping sequence: duplicates change nothing, visits alternate properly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrigger.config import Settings, TransitionSettings
from geotrigger.engine import Engine
from geotrigger.model import Circle, Ping, Place, Transition
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT

T0 = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)
LAT, LON = 60.1699, 24.9384
PLACES = [
    Place(id="a", name="A", geometry=Circle(lat=LAT, lon=LON, radius_m=100.0)),
    # overlapping A, with a dwell time short enough for the sequences to reach
    Place(
        id="b",
        name="B",
        geometry=Circle(lat=LAT + 150 / METRES_PER_DEGREE_LAT, lon=LON, radius_m=80.0),
        dwell_s=30.0,
    ),
]

pings_strategy = st.lists(
    st.builds(
        lambda device, t, north, acc, speed, pid: Ping(
            device_id=device,
            lat=LAT + north / METRES_PER_DEGREE_LAT,
            lon=LON,
            timestamp=T0 + timedelta(seconds=t),
            id=None if pid is None else f"{device}-{pid}",
            accuracy_m=acc,
            speed_mps=speed,
        ),
        device=st.sampled_from(["d1", "d2"]),
        t=st.integers(0, 900),
        north=st.floats(-300, 400),
        acc=st.none() | st.floats(0, 120),
        speed=st.none() | st.floats(0, 20),
        pid=st.none() | st.integers(0, 30),
    ),
    max_size=40,
)


# The sequences span 900 s: the default signal-lost limit never applies, a short one often does.
SIGNAL_LOST = pytest.mark.parametrize("signal_lost_s", [TransitionSettings().signal_lost_s, 60.0])


def _transitions(pings: list[Ping], signal_lost_s: float, batch: int = 1000) -> list[Transition]:
    transitions = replace(TransitionSettings(), signal_lost_s=signal_lost_s)
    engine = Engine(PLACES, settings=Settings(transitions=transitions))
    out: list[Transition] = []
    for start in range(0, len(pings), batch):
        events = engine.process(pings[start : start + batch])
        out += [e for e in events if isinstance(e, Transition)]
    return out


@SIGNAL_LOST
@settings(max_examples=150, deadline=None)
@given(pings_strategy, st.integers(1, 7))
def test_duplicates_are_no_ops(signal_lost_s: float, pings: list[Ping], batch: int) -> None:
    """Every ping sent twice — right after itself, or the whole sequence again — changes
    nothing; nor does the batch size."""
    once = _transitions(pings, signal_lost_s)
    doubled = [p for ping in pings for p in (ping, ping)]
    assert _transitions(doubled, signal_lost_s) == once
    assert _transitions(pings + pings, signal_lost_s) == once
    assert _transitions(pings, signal_lost_s, batch) == once


@SIGNAL_LOST
@settings(max_examples=150, deadline=None)
@given(pings_strategy)
def test_visits_alternate_enter_dwell_exit(signal_lost_s: float, pings: list[Ping]) -> None:
    """Per device and place: enter, at most one dwell, exit, enter, ... in time order; and
    per device, every transition in time order (a signal-lost exit before what follows it)."""
    per_pair: dict[tuple[str, str], list[Transition]] = {}
    last_at: dict[str, datetime] = {}
    for t in _transitions(sorted(pings, key=lambda p: p.timestamp), signal_lost_s):
        assert t.at >= last_at.get(t.device_id, t.at)
        last_at[t.device_id] = t.at
        per_pair.setdefault((t.device_id, t.place_id), []).append(t)
    for events in per_pair.values():
        inside, dwelt = False, False
        for prev, event in zip([None, *events], events, strict=False):
            assert prev is None or prev.at <= event.at
            if event.kind.value == "enter":
                assert not inside
                inside, dwelt = True, False
            elif event.kind.value == "dwell":
                assert inside and not dwelt
                dwelt = True
            else:
                assert inside
                assert event.duration_s is not None and event.duration_s >= 0
                inside = False
