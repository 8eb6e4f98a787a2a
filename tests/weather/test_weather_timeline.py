"""The weather timeline: which reading applies, spells, changes, and the places of a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrigger.model import Circle, Place
from geotrigger.weather import (
    WeatherCondition,
    WeatherReading,
    WeatherTimeline,
    cell_of_place,
)

T0 = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)
CAFE = Place(id="cafe", name="Cafe", geometry=Circle(lat=60.17, lon=24.94, radius_m=50))
KIOSK = Place(id="kiosk", name="Kiosk", geometry=Circle(lat=60.171, lon=24.941, radius_m=20))
FAR = Place(id="far", name="Far", geometry=Circle(lat=61.5, lon=23.8, radius_m=50))
CELL = cell_of_place(CAFE, 5000)


def reading(minutes: float, condition: str = "cloudy", **values: float) -> WeatherReading:
    return WeatherReading(
        observed_at=T0 + timedelta(minutes=minutes),
        condition=WeatherCondition(condition),
        **values,  # type: ignore[arg-type]
    )


def timeline(*entries: tuple[str, WeatherReading]) -> WeatherTimeline:
    weather = WeatherTimeline(5000)
    for key, r in entries:
        weather.add(key, r)
    return weather


WEATHER = timeline(
    (CELL, reading(0, "clear", temperature_c=10)),
    (CELL, reading(60, "rain", temperature_c=9)),
    ("cafe", reading(30, "cloudy", temperature_c=12)),
)


@pytest.mark.parametrize(
    ("place", "minutes", "key", "temperature"),
    [
        # before any reading at either key: nothing
        (CAFE, -1, None, None),
        # the cell's reading applies while the place's own has not been observed yet
        (CAFE, 10, CELL, 10),
        # the place's own reading beats the cell's, at and after its time
        (CAFE, 30, "cafe", 12),
        (CAFE, 90, "cafe", 12),
        # another place in the same cell gets the cell's latest
        (KIOSK, 59, CELL, 10),
        (KIOSK, 60, CELL, 9),
        # a place in another cell gets nothing
        (FAR, 90, None, None),
    ],
)
def test_which_reading_applies(
    place: Place, minutes: int, key: str | None, temperature: float | None
) -> None:
    found = WEATHER.at(place, T0 + timedelta(minutes=minutes))
    got = (found.key, found.reading.temperature_c) if found else (None, None)
    assert got == (key, temperature)


def test_a_reading_at_the_same_key_and_time_replaces_the_first() -> None:
    weather = timeline((CELL, reading(0, "clear")), (CELL, reading(0, "rain")))
    found = weather.at(KIOSK, T0)
    assert len(weather) == 1 and found is not None
    assert found.reading.condition == WeatherCondition.RAIN


def test_when_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WEATHER.at(CAFE, datetime(2026, 6, 12, 7, 0))


def test_spells_start_at_the_first_wet_reading_and_a_dry_one_ends_them() -> None:
    weather = timeline(
        (CELL, reading(0, "clear")),
        (CELL, reading(10, "drizzle")),
        (CELL, reading(20, "heavy_rain")),
        (CELL, reading(30, "cloudy")),
        (CELL, reading(40, "rain")),
    )
    spells = [weather.at(KIOSK, T0 + timedelta(minutes=m)) for m in (5, 10, 25, 30, 45)]
    assert [s.spell_id if s else None for s in spells] == [
        f"{CELL}:dry:2026-06-12T06:00:00+00:00",
        f"{CELL}:wet:2026-06-12T06:10:00+00:00",
        f"{CELL}:wet:2026-06-12T06:10:00+00:00",  # still the spell that began at 06:10
        f"{CELL}:dry:2026-06-12T06:30:00+00:00",
        f"{CELL}:wet:2026-06-12T06:40:00+00:00",  # a new spell after the dry reading
    ]
    # changes() carries the same spell ids as at()
    assert [c.spell_id for c in weather.changes()] == [s.spell_id for s in spells if s]


def test_a_reading_added_out_of_order_moves_the_spell_start() -> None:
    weather = timeline((CELL, reading(20, "rain")), (CELL, reading(10, "rain")))
    found = weather.at(KIOSK, T0 + timedelta(minutes=30))
    assert found is not None and found.spell_id.endswith("wet:2026-06-12T06:10:00+00:00")


def test_changes_pair_each_reading_with_the_one_before_in_time_then_key_order() -> None:
    changes = WEATHER.changes()
    assert [(c.at - T0, c.key) for c in changes] == [
        (timedelta(0), CELL),
        (timedelta(minutes=30), "cafe"),
        (timedelta(minutes=60), CELL),
    ]
    assert changes[0].before is None and changes[1].before is None  # first at each key
    assert changes[2].before is not None and changes[2].before.temperature_c == 10
    assert changes[2].after.temperature_c == 9
    assert changes[2].event_id == f"{CELL}@2026-06-12T07:00:00+00:00"


def test_changes_at_one_time_are_ordered_by_key() -> None:
    weather = timeline(("b", reading(0)), ("a", reading(0)), (CELL, reading(0)))
    assert [c.key for c in weather.changes()] == sorted(["a", "b", CELL])


def test_keys_and_length() -> None:
    assert WEATHER.keys() == sorted([CELL, "cafe"]) and len(WEATHER) == 3


@pytest.mark.parametrize(
    ("key", "ids"),
    [
        # a place id: that place
        ("cafe", ["cafe"]),
        # a cell key: the places whose point is in the cell
        (CELL, ["cafe", "kiosk"]),
        # a cell of another size names no place of this timeline
        (cell_of_place(CAFE, 1000), []),
        # neither a place nor a cell
        ("nowhere", []),
    ],
)
def test_places_in(key: str, ids: list[str]) -> None:
    assert [p.id for p in WEATHER.places_in(key, [CAFE, KIOSK, FAR])] == ids


# Readings at a few keys over an hour, some wet, some at the same minute (the later wins).
ENTRIES = st.lists(
    st.tuples(
        st.sampled_from(["cafe", "kiosk", CELL]),
        st.integers(0, 60),
        st.sampled_from(["clear", "rain", "cloudy", "snow", "drizzle"]),
    ),
    max_size=30,
)


def brute_force(
    entries: list[tuple[str, int, str]], place: Place, minute: int
) -> tuple[str, int, str, int] | None:
    """The reading that applies by scanning every entry, with its spell, the slow way."""
    for key in (place.id, CELL):
        latest: dict[int, str] = {}
        for k, m, condition in entries:
            if k == key:
                latest[m] = condition  # the later added wins at the same minute
        times = sorted(t for t in latest if t <= minute)
        if not times:
            continue
        wet = [reading(0, latest[t]).is_wet for t in times]
        start = len(times) - 1
        while start > 0 and wet[start - 1] == wet[-1]:
            start -= 1
        return key, times[-1], latest[times[-1]], times[start]
    return None


@settings(max_examples=200, deadline=None)
@given(ENTRIES, st.sampled_from([CAFE, KIOSK]), st.integers(-5, 65))
def test_at_agrees_with_a_brute_force_scan(
    entries: list[tuple[str, int, str]], place: Place, minute: int
) -> None:
    weather = timeline(*((k, reading(m, c)) for k, m, c in entries))
    found = weather.at(place, T0 + timedelta(minutes=minute))
    expected = brute_force(entries, place, minute)
    if expected is None:
        assert found is None
        return
    key, at, condition, start = expected
    assert found is not None and found.key == key
    assert found.reading.observed_at == T0 + timedelta(minutes=at)
    assert found.reading.condition == condition
    assert found.spell_id.endswith((T0 + timedelta(minutes=start)).isoformat())
