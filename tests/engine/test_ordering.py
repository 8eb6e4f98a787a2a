"""Re-ordering by event time within the lateness, and what happens past it."""

from __future__ import annotations

import heapq
import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from geotrigger.engine import Engine, Reorderer
from geotrigger.model import Ping, Rejection, RejectReason

T0 = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)


def ping(t: float, device: str = "d") -> Ping:
    """A fix at T0 + t seconds, with its time as its id."""
    return Ping(
        device_id=device,
        lat=60.17,
        lon=24.94,
        timestamp=T0 + timedelta(seconds=t),
        id=f"{device}{t:g}",
    )


def times(pings: list[Ping]) -> list[float]:
    """Seconds after T0."""
    return [(p.timestamp - T0).total_seconds() for p in pings]


def test_late_pings_within_lateness_are_put_in_order() -> None:
    """Arrivals 0, 20, 10, 40, 35, 100 with 30 s lateness come out sorted."""
    r = Reorderer(30.0)
    released = r.push_all([ping(t) for t in (0, 20, 10, 40, 35, 100)])
    assert times(released) == [0, 10, 20, 35, 40]  # 100 is still within the window
    r.flush(released)
    assert times(released) == [0, 10, 20, 35, 40, 100]


def test_ties_keep_arrival_order() -> None:
    """Two devices at the same instant: first come, first out."""
    r = Reorderer(0.0)
    released = r.push_all([ping(5, "b"), ping(5, "a")])
    r.flush(released)
    assert [p.device_id for p in released] == ["b", "a"]


def test_ping_later_than_lateness_goes_to_the_out_of_order_filter() -> None:
    """Too late to be re-ordered: released at once, then rejected as out of order."""
    r = Reorderer(30.0)
    released = r.push_all([ping(t) for t in (0, 60, 120, 150, 50)])
    r.flush(released)
    # 50 arrives when the watermark is at 120: released at once, behind 120
    assert times(released) == [0, 60, 120, 50, 150]
    events = Engine([]).process(released)
    assert [(e.reason, e.ping_id) for e in events if isinstance(e, Rejection)] == [
        (RejectReason.OUT_OF_ORDER, "d50")
    ]


def test_one_ping_with_a_broken_clock_does_not_age_the_rest() -> None:
    """Replaying without a now: a fix dated a year ahead is 'future', the others pass."""
    bogus = Ping(device_id="x", lat=60.17, lon=24.94, timestamp=T0 + timedelta(days=365), id="x")
    pings = [ping(0), bogus, ping(10), ping(20)]
    events = Engine([]).process(pings)
    assert [(e.reason, e.ping_id) for e in events if isinstance(e, Rejection)] == [
        (RejectReason.FUTURE, "x")
    ]


def _reference_order(arrivals: list[Ping], lateness_s: float) -> list[Ping]:
    """The plain heap-and-watermark definition, for the property below."""
    heap: list[tuple[float, int, Ping]] = []
    out: list[Ping] = []
    newest = -math.inf
    for seq, p in enumerate(arrivals):
        ts = p.timestamp.timestamp()
        heapq.heappush(heap, (ts, seq, p))
        newest = max(newest, ts)
        while heap and heap[0][0] <= newest - lateness_s:
            out.append(heapq.heappop(heap)[2])
    return out + [heapq.heappop(heap)[2] for _ in range(len(heap))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=60), st.sampled_from([0.0, 10.0, 30.0]))
def test_release_order_is_the_heap_definition(offsets: list[int], lateness_s: float) -> None:
    """Whatever the arrival order, releases match the plain heap with a watermark."""
    arrivals = [ping(t, device=f"d{i}") for i, t in enumerate(offsets)]
    r = Reorderer(lateness_s)
    released = r.push_all(arrivals)
    r.flush(released)
    assert [p.device_id for p in released] == [
        p.device_id for p in _reference_order(arrivals, lateness_s)
    ]
