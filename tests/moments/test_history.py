"""The in-memory history: counting over half-open windows, every scope's key, cooldown and
spacing lookups, exits."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from moments.helpers import T0, make_candidate, make_moment, make_place

from geotrigger.moments.history import cap_key
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.rules.model import Scope

AT = T0.timestamp()


def recorded(*offsets_s: float, spell_id: str | None = "spell-1") -> MemoryHistory:
    """A history with one moment of c-1, r-1 at p-1 at each offset from T0."""
    history = MemoryHistory()
    for n, offset in enumerate(offsets_s):
        candidate = make_candidate(at=T0 + timedelta(seconds=offset), event_key=f"e{n}")
        history.record_moment(make_moment(candidate), spell_id=spell_id)
    return history


def key(scope: Scope, spell_id: str | None = "spell-1") -> tuple[str, ...]:
    """The key of c-1, r-1, p-1 for ``scope``."""
    found = cap_key(scope, consumer_id="c-1", rule_id="r-1", place_id="p-1", spell_id=spell_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (AT, AT + 1, 1),  # the start is inside
        (AT - 10, AT, 0),  # the end is not
        (AT - 10, AT + 61, 2),  # both moments
        (AT + 60, AT + 60, 0),  # an empty window
        (-math.inf, math.inf, 2),  # forever
        (AT + 100, AT, 0),  # a window backwards counts nothing
    ],
)
def test_count_is_half_open(start: float, end: float, count: int) -> None:
    """count() is over [start, end)."""
    assert recorded(0, 60).count(key(Scope.CONSUMER_RULE), start, end) == count


def test_every_scope_is_counted() -> None:
    """A moment counts under all six scopes' keys when it has a spell."""
    history = recorded(0)
    for scope in Scope:
        assert history.count(key(scope), -math.inf, math.inf) == 1, scope


def test_weather_event_scope_needs_a_spell() -> None:
    """Without a spell the weather-event scope counts nothing; the rest still count."""
    history = recorded(0, spell_id=None)
    assert history.count(key(Scope.WEATHER_EVENT, "spell-1"), -math.inf, math.inf) == 0
    assert history.count(key(Scope.CONSUMER), -math.inf, math.inf) == 1


def test_other_ids_are_other_keys() -> None:
    """A moment at another place counts for the consumer but not for this place."""
    history = recorded(0)
    elsewhere = make_candidate(place=make_place(id="p-2"), event_key="x")
    history.record_moment(make_moment(elsewhere), spell_id=None)
    assert history.count(key(Scope.CONSUMER), -math.inf, math.inf) == 2
    assert history.count(key(Scope.CONSUMER_PLACE), -math.inf, math.inf) == 1
    assert history.count(key(Scope.PLACE), -math.inf, math.inf) == 1


def test_the_same_moment_counts_once() -> None:
    """Recording a moment id again (a retry or a replay) does not use up a cap twice."""
    history = MemoryHistory()
    moment = make_moment(make_candidate())
    history.record_moment(moment, spell_id=None)
    history.record_moment(moment, spell_id=None)
    assert history.count(key(Scope.CONSUMER), -math.inf, math.inf) == 1
    assert len(history) == 1


def test_nearest_moment_and_fire_whatever_the_recording_order() -> None:
    """Lookups find the moment nearest an event time on either side, recorded in any order:
    a late event must see the moments fired after it too."""
    history = recorded(60, 0)
    assert history.nearest_moment_s("c-1", AT + 50) == AT + 60
    assert history.nearest_moment_s("c-1", AT + 20) == AT
    assert history.nearest_fired_s("c-1", "r-1", "p-1", AT - 30) == AT
    assert history.last_fired_before_s("c-1", "r-1", "p-1", AT + 59) == AT
    assert history.last_fired_before_s("c-1", "r-1", "p-1", AT - 1) is None
    assert history.nearest_fired_s("c-1", "r-1", "p-2", AT) is None
    assert history.nearest_moment_s("c-2", AT) is None
    assert history.times(("consumer", "c-1"), AT, AT + 61) == [AT, AT + 60]


@pytest.mark.parametrize(
    ("since", "left"),
    [
        (AT - 100, True),  # an exit after it
        (AT + 30, True),  # an exit exactly at it counts
        (AT + 31, False),  # no exit after it
    ],
)
def test_exited_since(since: float, left: bool) -> None:
    """Exits at or after a time; other places and consumers do not count."""
    history = MemoryHistory()
    history.record_exit("c-1", "p-1", AT + 30)
    history.record_exit("c-1", "p-1", AT - 500)
    history.record_exit("c-1", "p-2", AT + 900)
    history.record_exit("c-2", "p-1", AT + 900)
    assert history.exited_since("c-1", "p-1", since) is left
    assert not history.exited_since("c-3", "p-1", -math.inf)
