"""Weather files: readings per place, cell or point, and every bad line named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from geotrigger.errors import WeatherError
from geotrigger.model import Circle, Place
from geotrigger.weather import WeatherCondition, cell_of, load_weather_timeline

STORE = Place(
    id="osm-node-1007416273", name="Store", geometry=Circle(lat=60.17, lon=24.94, radius_m=40)
)
PLACES = {STORE.id: STORE}
HELSINKI = cell_of(60.17, 24.94, 5000)

GOOD = [
    {
        "place": STORE.id,
        "observed_at": "2026-06-12T06:00:00Z",
        "condition": "cloudy",
        "temperature_c": 14.5,
    },
    {
        "lat": 60.17,
        "lon": 24.94,
        "observed_at": "2026-06-12T06:30:00Z",
        "valid_until": "2026-06-12T07:30:00Z",
        "condition": "rain",
        "precipitation_mm_h": 1.6,
        "temperature_c": 13.1,
        "feels_like_c": 11.0,
        "wind_speed_mps": 5.2,
        "uv_index": 0.5,
        "humidity_pct": 91,
        "precipitation_probability_pct": 90,
        "source": "file",
    },
    {"cell": HELSINKI, "observed_at": "2026-06-12T10:00:00+03:00", "condition": "clear"},
]


def write(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "weather.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_documented_lines_load(tmp_path: Path) -> None:
    path = write(tmp_path, "# a comment", GOOD[0], "", *GOOD[1:])
    weather = load_weather_timeline(path, cell_m=5000, places=PLACES)
    assert len(weather) == 3 and weather.keys() == sorted([HELSINKI, STORE.id])
    rain = weather.at_key(HELSINKI, datetime(2026, 6, 12, 6, 45, tzinfo=UTC))
    assert rain is not None and rain.reading.condition == WeatherCondition.RAIN
    assert rain.reading.valid_until == datetime(2026, 6, 12, 7, 30, tzinfo=UTC)
    assert rain.reading.humidity_pct == 91 and rain.reading.source == "file"
    # +03:00 is converted to UTC: 10:00 in Helsinki summer time is 07:00 UTC
    clear = weather.at_key(HELSINKI, datetime(2026, 6, 12, 7, 0, tzinfo=UTC))
    assert clear is not None
    assert clear.reading.observed_at == datetime(2026, 6, 12, 7, 0, tzinfo=UTC)
    assert clear.reading.observed_at.tzinfo is UTC


def at(minute: str = "00") -> str:
    return f"2026-06-12T06:{minute}:00Z"


BAD = [
    # a misspelt field
    (
        {"cell": HELSINKI, "observed_at": at(), "temprature_c": 3},
        "unknown field 'temprature_c' (did you mean 'temperature_c'?)",
    ),
    # a misspelt condition
    (
        {"cell": HELSINKI, "observed_at": at(), "condition": "rian"},
        "unknown condition 'rian' (did you mean 'rain'?)",
    ),
    # a number given as text
    (
        {"cell": HELSINKI, "observed_at": at(), "uv_index": "high"},
        "field 'uv_index' must be a number, got str",
    ),
    # a boolean is not a number
    (
        {"cell": HELSINKI, "observed_at": at(), "humidity_pct": True},
        "field 'humidity_pct' must be a number, got bool",
    ),
    # a value the reading refuses
    (
        {"cell": HELSINKI, "observed_at": at(), "humidity_pct": 120},
        "humidity_pct must be within [0, 100]",
    ),
    # valid_until before observed_at, refused by the reading
    (
        {"cell": HELSINKI, "observed_at": at("30"), "valid_until": at()},
        "valid_until is before observed_at",
    ),
    # a time without an offset
    (
        {"cell": HELSINKI, "observed_at": "2026-06-12T06:00:00"},
        "is not an RFC 3339 time with 'Z' or an offset",
    ),
    # epoch seconds are not a time here
    (
        {"cell": HELSINKI, "observed_at": 1781244000},
        "field 'observed_at': 1781244000 is not an RFC 3339",
    ),
    # no time at all
    ({"cell": HELSINKI}, "field 'observed_at' is required"),
    # an unknown place, with the place that was meant
    (
        {"place": "osm-node-1007416237", "observed_at": at()},
        "unknown place 'osm-node-1007416237' (did you mean 'osm-node-1007416273'?)",
    ),
    # a cell of another size
    (
        {"cell": cell_of(60.17, 24.94, 1000), "observed_at": at()},
        "is a cell of 1000 m; this timeline uses 5000 m",
    ),
    # not a cell key at all
    ({"cell": "helsinki", "observed_at": at()}, "field 'cell': 'helsinki' is not a cell key"),
    # latitude beyond the pole
    ({"lat": 95, "lon": 24.9, "observed_at": at()}, "field 'lat' 95 is outside [-90, 90]"),
    # longitude missing
    ({"lat": 60.1, "observed_at": at()}, "field 'lon' must be a number, got null"),
    # two keys
    (
        {"place": STORE.id, "cell": HELSINKI, "observed_at": at()},
        "give exactly one of 'place', 'cell' or 'lat' and 'lon' (got place, cell)",
    ),
    # no key
    ({"observed_at": at()}, "(got none)"),
    # not JSON
    ("{oops", "not valid JSON"),
    # JSON but not an object
    ("[1]", "expected an object, got list"),
]


@pytest.mark.parametrize(("record", "reason"), BAD)
def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path, record: object, reason: str) -> None:
    path = write(tmp_path, GOOD[0], record)
    with pytest.raises(WeatherError) as caught:
        load_weather_timeline(path, cell_m=5000, places=PLACES)
    message = str(caught.value)
    assert f"{path} line 2: " in message and reason in message
    assert f"{path} line 1" not in message  # the good line is not blamed


def test_every_bad_line_is_listed_with_its_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"place": STORE.id, "observed_at": at(), "condition": "sunny"},
        GOOD[2],
        {"cell": HELSINKI, "observed_at": at(), "wind_speed_mps": -1},
    )
    with pytest.raises(WeatherError) as caught:
        load_weather_timeline(path, cell_m=5000)
    message = str(caught.value)
    assert message.startswith("weather: 2 error(s) in the weather file")
    assert f"'{STORE.id}' in {path} line 1: unknown condition 'sunny'" in message
    assert f"'{HELSINKI}' in {path} line 3: wind_speed_mps must not be negative" in message


def test_without_places_any_place_id_is_taken(tmp_path: Path) -> None:
    path = write(tmp_path, {"place": "anything", "observed_at": at()})
    assert load_weather_timeline(path, cell_m=5000).keys() == ["anything"]


def test_a_missing_file_is_a_weather_error(tmp_path: Path) -> None:
    with pytest.raises(WeatherError, match="cannot read"):
        load_weather_timeline(tmp_path / "none.jsonl", cell_m=5000)
