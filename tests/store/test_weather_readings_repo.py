"""The weather readings repository (SQLite and PostGIS): readings stored once with their
validity and read back exactly, the newest per key, the feed of readings stored since a
position, pruning that keeps what rules and readers still need, and timelines."""

from __future__ import annotations

import datetime as dt
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from geotrigger.errors import WeatherError
from geotrigger.store.tables import weather_readings
from geotrigger.store.weather_readings import (
    WeatherFeed,
    latest_readings,
    load_readings,
    load_timeline,
    prune_weather_readings,
    reading_document,
    reading_row,
    save_readings,
)
from geotrigger.weather.reading import WeatherCondition, WeatherReading

T0 = dt.datetime(2026, 3, 1, 9, 0, 0, 250, tzinfo=dt.UTC)  # with microseconds
FETCHED = dt.datetime(2026, 3, 1, 9, 5, tzinfo=dt.UTC)
CELL = "5000m:1203:448"
OTHER = "5000m:1203:449"

FULL = WeatherReading(
    observed_at=T0,
    valid_until=T0 + timedelta(minutes=15),
    condition=WeatherCondition.HEAVY_RAIN,
    temperature_c=-3.7,
    feels_like_c=-9.15,
    precipitation_mm_h=7.3,
    precipitation_probability_pct=96.0,
    wind_speed_mps=11.2,
    wind_gust_mps=19.45,
    uv_index=0.1,
    humidity_pct=93.0,
    source="open-meteo",
)
PARTIAL = WeatherReading(observed_at=T0.replace(microsecond=0), temperature_c=21.5, source="nws")


def _at(minutes: float, **fields: Any) -> WeatherReading:
    """A reading observed ``minutes`` after T0."""
    return WeatherReading(observed_at=T0 + timedelta(minutes=minutes), **fields)


def _utc(stored: dt.datetime) -> dt.datetime:
    """A time column as read back: SQLite gives the UTC wall time without its offset."""
    return stored.replace(tzinfo=dt.UTC) if stored.tzinfo is None else stored.astimezone(dt.UTC)


def _save(engine: Engine, readings: dict[str, WeatherReading]) -> int:
    with engine.begin() as conn:
        return save_readings(conn, readings=readings, fetched_at=FETCHED)


@pytest.mark.parametrize(
    ("reading", "document"),
    [
        (
            FULL,
            {
                "observed_at": "2026-03-01T09:00:00.000250Z",
                "valid_until": "2026-03-01T09:15:00.000250Z",
                "condition": "heavy_rain",
                "temperature_c": -3.7,
                "feels_like_c": -9.15,
                "precipitation_mm_h": 7.3,
                "precipitation_probability_pct": 96.0,
                "wind_speed_mps": 11.2,
                "wind_gust_mps": 19.45,
                "uv_index": 0.1,
                "humidity_pct": 93.0,
                "source": "open-meteo",
            },
        ),
        (
            PARTIAL,
            {
                "observed_at": "2026-03-01T09:00:00Z",
                "valid_until": None,
                "condition": None,
                "temperature_c": 21.5,
                "feels_like_c": None,
                "precipitation_mm_h": None,
                "precipitation_probability_pct": None,
                "wind_speed_mps": None,
                "wind_gust_mps": None,
                "uv_index": None,
                "humidity_pct": None,
                "source": "nws",
            },
        ),
    ],
)
def test_a_reading_comes_back_exactly(
    engine: Engine, reading: WeatherReading, document: dict[str, object]
) -> None:
    assert _save(engine, {CELL: reading}) == 1
    with engine.connect() as conn:
        assert load_readings(conn) == [(CELL, reading)]
        row = conn.execute(select(weather_readings)).mappings().one()
    assert row["reading"] == document
    assert (row["key"], row["source"]) == (CELL, reading.source)
    until = row["valid_until"]
    assert (None if until is None else _utc(until)) == reading.valid_until
    assert (_utc(row["observed_at"]), _utc(row["fetched_at"])) == (reading.observed_at, FETCHED)


def test_a_reading_saved_again_inserts_nothing(engine: Engine) -> None:
    assert _save(engine, {CELL: FULL, OTHER: PARTIAL}) == 2
    assert _save(engine, {CELL: FULL, OTHER: PARTIAL}) == 0
    # the same key and time from another provider is a reading of its own
    assert _save(engine, {CELL: _at(0, temperature_c=-3.5, source="met-norway")}) == 1
    assert _save(engine, {}) == 0
    with engine.connect() as conn:
        sources = [(k, r.source) for k, r in load_readings(conn)]
    assert sorted(sources) == [(CELL, "met-norway"), (CELL, "open-meteo"), (OTHER, "nws")]


def test_the_latest_reading_of_each_key(engine: Engine) -> None:
    _save(engine, {CELL: _at(30, temperature_c=2.0), OTHER: _at(0, temperature_c=5.0)})
    _save(engine, {CELL: _at(0, temperature_c=1.0)})  # older, stored later
    _save(engine, {CELL: _at(60, temperature_c=3.0)})
    with engine.connect() as conn:
        latest = latest_readings(conn, keys=[CELL, OTHER, "p-none"])
        assert latest_readings(conn, keys=[]) == {}
    assert {key: r.temperature_c for key, r in latest.items()} == {CELL: 3.0, OTHER: 5.0}


def test_the_latest_reading_among_more_keys_than_one_query_asks(engine: Engine) -> None:
    keys = [f"p-{i:04d}" for i in range(1200)]  # three IN (...) lists: found in the first and last
    _save(engine, {keys[-1]: _at(0, humidity_pct=40.0), keys[0]: _at(5, humidity_pct=50.0)})
    with engine.connect() as conn:
        latest = latest_readings(conn, keys=keys)
    assert {key: r.humidity_pct for key, r in latest.items()} == {keys[0]: 50.0, keys[-1]: 40.0}


def test_readings_since_a_time_and_at_some_keys(engine: Engine) -> None:
    _save(engine, {CELL: _at(0, uv_index=1.0), OTHER: _at(10, uv_index=2.0), "p-1": _at(20)})
    _save(engine, {CELL: _at(10, uv_index=3.0), OTHER: _at(-10, uv_index=4.0)})
    with engine.connect() as conn:
        everything = load_readings(conn)
        recent = load_readings(conn, since=T0 + timedelta(minutes=10))
        some = load_readings(conn, keys=[OTHER, CELL, CELL])
        some_recent = load_readings(conn, since=T0 + timedelta(minutes=5), keys=["p-1", OTHER])
    minutes = [(k, (r.observed_at - T0) / timedelta(minutes=1)) for k, r in everything]
    assert minutes == [(OTHER, -10), (CELL, 0), (CELL, 10), (OTHER, 10), ("p-1", 20)]
    assert [(k, r.uv_index) for k, r in recent] == [(CELL, 3.0), (OTHER, 2.0), ("p-1", None)]
    assert [(k, r.uv_index) for k, r in some] == [
        (OTHER, 4.0),
        (CELL, 1.0),
        (CELL, 3.0),
        (OTHER, 2.0),
    ]
    assert [k for k, _r in some_recent] == [OTHER, "p-1"]


def test_the_feed_gives_new_readings_in_the_order_they_were_stored(engine: Engine) -> None:
    feed = WeatherFeed(engine)
    assert feed.position() == 0
    assert feed.since(0) == (0, [])
    first = {CELL: _at(30, condition=WeatherCondition.RAIN), OTHER: _at(0)}
    _save(engine, first)
    position, readings = feed.since(0)
    assert readings == sorted(first.items())  # one save: in key order
    assert position == feed.position() > 0
    assert feed.since(position) == (position, [])  # up to date: nothing
    _save(engine, first)  # nothing new: the feed does not move
    assert feed.since(position) == (position, []) and feed.position() == position
    _save(engine, {OTHER: _at(-30, condition=WeatherCondition.FOG)})  # late, and old
    _save(engine, {CELL: _at(40, condition=WeatherCondition.CLEAR)})
    later, more = feed.since(position)
    assert [(k, r.condition) for k, r in more] == [
        (OTHER, WeatherCondition.FOG),
        (CELL, WeatherCondition.CLEAR),
    ]
    assert later == feed.position() > position
    # a position beyond every reading (another database): everything there is
    assert feed.since(later + 1000) == (later, [*sorted(first.items()), *more])


def test_a_writer_that_commits_later_takes_later_numbers(engine: Engine) -> None:
    """A second writer waits for the first (the lock), so a reader that has seen the second's
    readings has seen the first's: positions are never skipped."""
    feed = WeatherFeed(engine)
    second_done = threading.Event()

    def second_writer() -> None:
        _save(engine, {OTHER: _at(5, source="second")})
        second_done.set()

    with engine.begin() as first:
        save_readings(first, readings={CELL: _at(0, source="first")}, fetched_at=FETCHED)
        writer = threading.Thread(target=second_writer)
        writer.start()
        assert not second_done.wait(0.3)  # held back until the first commits
        assert feed.since(0) == (0, [])  # nothing committed yet
    writer.join(timeout=10)
    position, readings = feed.since(0)
    assert [r.source for _k, r in readings] == ["first", "second"]
    assert position == feed.position()


def test_pruning_keeps_the_newest_of_each_key_and_the_highest_number(engine: Engine) -> None:
    _save(engine, {CELL: _at(0), OTHER: _at(0)})  # OTHER's only reading: kept however old
    _save(engine, {CELL: _at(60)})
    _save(engine, {CELL: _at(120)})  # CELL's newest: kept
    _save(engine, {CELL: _at(30)})  # stored last, observed early: the highest number, kept
    feed = WeatherFeed(engine)
    position = feed.position()
    with engine.begin() as conn:
        assert prune_weather_readings(conn, before=T0 + timedelta(minutes=60)) == 1  # 0 goes
    with engine.begin() as conn:
        assert prune_weather_readings(conn, before=T0 + timedelta(days=1)) == 1  # 60 goes
        assert prune_weather_readings(conn, before=T0 + timedelta(days=1)) == 0
        left = [(k, (r.observed_at - T0) / timedelta(minutes=1)) for k, r in load_readings(conn)]
    assert left == [(OTHER, 0), (CELL, 30), (CELL, 120)]
    assert feed.position() == position  # a reader's position stays valid
    _save(engine, {CELL: _at(180)})
    assert [r.observed_at for _k, r in feed.since(position)[1]] == [T0 + timedelta(minutes=180)]


def test_a_timeline_of_the_stored_readings(engine: Engine) -> None:
    _save(engine, {CELL: _at(0, condition=WeatherCondition.CLEAR), "p-1": _at(5)})
    _save(engine, {CELL: _at(30, condition=WeatherCondition.RAIN)})
    # the same key and time from a second provider: the one stored last wins
    _save(engine, {CELL: _at(30, condition=WeatherCondition.SLEET, source="nws")})
    with engine.connect() as conn:
        timeline = load_timeline(conn, cell_m=5000.0)
        recent = load_timeline(conn, cell_m=5000.0, since=T0 + timedelta(minutes=10))
    at_start = timeline.at_key(CELL, T0 + timedelta(minutes=10))
    at_end = timeline.at_key(CELL, T0 + timedelta(hours=1))
    assert at_start is not None and at_start.reading.condition is WeatherCondition.CLEAR
    assert at_end is not None and at_end.reading.condition is WeatherCondition.SLEET
    assert at_end.spell_id == f"{CELL}:wet:{(T0 + timedelta(minutes=30)).isoformat()}"
    assert timeline.keys() == [CELL, "p-1"] and len(timeline) == 3
    assert recent.keys() == [CELL] and recent.at_key(CELL, T0 + timedelta(minutes=10)) is None


def test_times_must_be_aware_and_keys_fit_the_column(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="timezone-aware"):
        save_readings(conn, readings={CELL: FULL}, fetched_at=dt.datetime(2026, 3, 1))
    with engine.begin() as conn, pytest.raises(ValueError, match="1 to 200 characters"):
        save_readings(conn, readings={"x" * 201: FULL}, fetched_at=FETCHED)
    with engine.begin() as conn, pytest.raises(ValueError, match="longer than 64 characters"):
        save_readings(conn, readings={CELL: _at(0, source="s" * 65)}, fetched_at=FETCHED)
    with engine.connect() as conn:
        assert load_readings(conn) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"condition": "hail"}, "not valid: 'hail' is not a valid WeatherCondition"),
        ({"humidity_pct": 140.0}, "not valid: humidity_pct must be within"),
        ({"temperature_c": None, "observed_at": None}, "not valid"),
    ],
)
def test_a_stored_reading_that_is_not_one_names_its_key(
    engine: Engine, change: dict[str, Any], reason: str
) -> None:
    document = {**reading_document(FULL), **change}
    row = {**reading_row(CELL, FULL, FETCHED), "reading": document}
    with engine.begin() as conn:
        conn.execute(weather_readings.insert().values(row))
    with engine.connect() as conn, pytest.raises(WeatherError, match=reason) as caught:
        load_readings(conn)
    assert CELL in str(caught.value) and "the database" in str(caught.value)


def test_a_stored_reading_without_a_field_names_it(engine: Engine) -> None:
    document = reading_document(PARTIAL)
    del document["uv_index"]
    row = {**reading_row(OTHER, PARTIAL, FETCHED), "reading": document}
    with engine.begin() as conn:
        conn.execute(weather_readings.insert().values(row))
    with engine.connect() as conn, pytest.raises(WeatherError, match="no field 'uv_index'"):
        latest_readings(conn, keys=[OTHER])
