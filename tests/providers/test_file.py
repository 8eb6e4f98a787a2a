"""The file provider on the shipped example day (``examples/weather/helsinki-2026-06-12.jsonl``:
one reading every 15 minutes from 05:45 to 13:00 UTC for the central Helsinki cell; rain
starts at 06:15), and on variants of it written here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from geotrigger_providers import file as file_provider
from geotrigger_providers.file import FileProvider, create

from geotrigger.weather.cells import cell_of
from geotrigger.weather.provider import (
    ENTRY_POINT_GROUP,
    Cell,
    Clocked,
    ProviderConfig,
    ProviderConfigError,
    ProviderResponseError,
    WeatherProvider,
)
from geotrigger.weather.reading import WeatherCondition
from tests.providers.clocks import WallClock

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "weather" / "helsinki-2026-06-12.jsonl"
LAT, LON = 60.1699, 24.9384  # the example cell's centre
HELSINKI = Cell(key=cell_of(LAT, LON, 5000), lat=LAT, lon=LON)
EQUATOR = Cell(key=cell_of(0.0, 0.0, 5000), lat=0.0, lon=0.0)  # nothing recorded there


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def config(path: Path | str = EXAMPLE, **options: str) -> ProviderConfig:
    return ProviderConfig(name="file", options={"path": str(path), **options})


def provider_at(when: str, **options: str) -> FileProvider:
    return create(config(at=when, **options))


def test_the_example_cell_is_the_one_the_readme_names() -> None:
    assert HELSINKI.key == "5000m:1338:554"


def test_the_reading_at_a_time_is_the_latest_observed_at_or_before_it() -> None:
    result = provider_at("2026-06-12T06:20:00Z").fetch([HELSINKI])

    assert result.errors == {}
    reading = result.readings[HELSINKI.key]
    assert reading.observed_at == at("2026-06-12T06:15:00")
    assert reading.valid_until == at("2026-06-12T07:15:00")
    assert reading.condition is WeatherCondition.RAIN
    assert reading.temperature_c == 13.0
    assert reading.feels_like_c == 11.6
    assert reading.precipitation_mm_h == 2.4
    assert reading.humidity_pct == 94.0
    assert reading.wind_gust_mps is None  # not recorded
    assert reading.source == "file"


def test_a_reading_observed_exactly_at_now_is_taken() -> None:
    reading = provider_at("2026-06-12T06:00:00Z").fetch([HELSINKI]).readings[HELSINKI.key]
    assert reading.observed_at == at("2026-06-12T06:00:00")
    assert reading.condition is WeatherCondition.CLOUDY


def test_an_offset_in_at_is_the_same_instant() -> None:
    reading = provider_at("2026-06-12T09:20:00+03:00").fetch([HELSINKI]).readings[HELSINKI.key]
    assert reading.observed_at == at("2026-06-12T06:15:00")


def test_before_the_first_reading_the_cell_is_a_response_error() -> None:
    result = provider_at("2026-06-12T05:44:59Z").fetch([HELSINKI])

    assert result.readings == {}
    error = result.errors[HELSINKI.key]
    assert isinstance(error, ProviderResponseError)
    assert error.cell == HELSINKI.key
    assert error.reason == (
        "no reading at or before 2026-06-12T05:44:59Z in helsinki-2026-06-12.jsonl"
    )


def test_a_cell_the_file_has_nothing_for_is_an_error_beside_the_reading() -> None:
    result = provider_at("2026-06-12T07:00:00Z").fetch([HELSINKI, EQUATOR])

    assert set(result.readings) == {HELSINKI.key}
    assert set(result.errors) == {EQUATOR.key}
    assert isinstance(result.errors[EQUATOR.key], ProviderResponseError)


def test_a_clock_set_later_drives_now_past_a_fixed_at() -> None:
    provider = provider_at("2026-06-12T06:20:00Z")
    clock = WallClock(at("2026-06-12T06:29:59"))
    provider.set_clock(clock)

    assert provider.fetch([HELSINKI]).readings[HELSINKI.key].observed_at == at("2026-06-12T06:15")
    clock.now = at("2026-06-12T06:30:00")
    moved = provider.fetch([HELSINKI]).readings[HELSINKI.key]
    assert moved.observed_at == at("2026-06-12T06:30:00")
    clock.now = at("2026-06-12T06:50:00")
    assert provider.fetch([HELSINKI]).readings[HELSINKI.key].condition is WeatherCondition.DRIZZLE


def test_a_clock_without_an_offset_fails_every_cell_and_never_raises() -> None:
    provider = create(config())
    provider.set_clock(lambda: datetime(2026, 6, 12, 6, 20))

    result = provider.fetch([HELSINKI, EQUATOR])

    assert result.readings == {}
    assert set(result.errors) == {HELSINKI.key, EQUATOR.key}
    assert all(isinstance(e, ProviderConfigError) for e in result.errors.values())


def test_without_at_now_is_the_wall_clock() -> None:
    reading = create(config()).fetch([HELSINKI]).readings[HELSINKI.key]
    assert datetime.now(UTC) > at("2026-06-12T13:00:00")  # the example day is past
    assert reading.observed_at == at("2026-06-12T13:00:00")  # its last reading


def write_lines(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_reading_without_a_source_is_from_file_and_another_source_is_kept(
    tmp_path: Path,
) -> None:
    path = write_lines(
        tmp_path / "two.jsonl",
        {"lat": LAT, "lon": LON, "observed_at": "2026-06-12T06:00:00Z", "temperature_c": 9.5},
        {"cell": EQUATOR.key, "observed_at": "2026-06-12T06:00:00Z", "source": "open-meteo"},
    )
    result = create(config(path, at="2026-06-12T06:00:00Z")).fetch([HELSINKI, EQUATOR])

    assert result.readings[HELSINKI.key].source == "file"
    assert result.readings[HELSINKI.key].temperature_c == 9.5
    assert result.readings[EQUATOR.key].source == "open-meteo"


def test_another_cell_size_maps_the_file_to_cells_of_that_size() -> None:
    cell = Cell(key=cell_of(LAT, LON, 2500), lat=LAT, lon=LON)
    result = provider_at("2026-06-12T06:20:00Z", cell_m="2500").fetch([cell])
    assert result.readings[cell.key].condition is WeatherCondition.RAIN


def test_a_cell_of_another_size_is_a_config_error_naming_both_settings() -> None:
    cell = Cell(key=cell_of(LAT, LON, 2500), lat=LAT, lon=LON)
    result = provider_at("2026-06-12T06:20:00Z").fetch([cell, HELSINKI])

    error = result.errors[cell.key]
    assert isinstance(error, ProviderConfigError)
    assert "a cell of 2500 m, but the file is read in cells of 5000 m" in error.reason
    assert "GEOTRIGGER_WEATHER_FILE_CELL_M" in error.reason
    assert "GEOTRIGGER_WEATHER_CELL_M" in error.reason
    assert HELSINKI.key in result.readings


def test_a_key_that_is_no_cell_is_a_config_error() -> None:
    result = provider_at("2026-06-12T06:20:00Z").fetch([Cell(key="kamppi", lat=LAT, lon=LON)])
    assert isinstance(result.errors["kamppi"], ProviderConfigError)
    assert "not a weather cell key" in result.errors["kamppi"].reason


@pytest.mark.parametrize("options", [{}, {"path": ""}, {"path": "  "}])
def test_without_a_path_create_names_the_variable(options: dict[str, str]) -> None:
    with pytest.raises(ProviderConfigError, match="GEOTRIGGER_WEATHER_FILE_PATH"):
        create(ProviderConfig(name="file", options=options))


def test_a_file_that_cannot_be_read_is_refused_at_create(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"
    with pytest.raises(ProviderConfigError, match=r"cannot read: .*nowhere\.jsonl"):
        create(config(missing))


def test_a_file_with_a_bad_line_is_refused_at_create_with_the_loaders_message(
    tmp_path: Path,
) -> None:
    good = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + good.replace('"cloudy"', '"cloudly"') + "\n", encoding="utf-8")

    with pytest.raises(ProviderConfigError) as caught:
        create(config(path))

    message = str(caught.value)
    assert "1 error(s) in the weather file" in message
    assert "bad.jsonl line 2" in message
    assert "unknown condition 'cloudly' (did you mean 'cloudy'?)" in message


@pytest.mark.parametrize("text", ["2026-06-12T06:20:00", "yesterday", "12.6.2026"])
def test_an_at_that_is_no_instant_with_an_offset_is_refused(text: str) -> None:
    with pytest.raises(ProviderConfigError, match=f"GEOTRIGGER_WEATHER_FILE_AT.*{text!r}"):
        create(config(at=text))


@pytest.mark.parametrize("text", ["0", "-5000", "wide", "nan"])
def test_a_cell_size_must_be_positive(text: str) -> None:
    with pytest.raises(ProviderConfigError, match="GEOTRIGGER_WEATHER_FILE_CELL_M"):
        create(config(cell_m=text))


def test_the_provider_is_clocked_and_closes_twice() -> None:
    provider = create(config())
    assert isinstance(provider, WeatherProvider)
    assert isinstance(provider, Clocked)
    assert provider.name == "file"
    provider.close()
    provider.close()
    assert HELSINKI.key in provider.fetch([HELSINKI]).readings  # nothing was released


def test_the_entry_point_is_this_module() -> None:
    (entry,) = entry_points(group=ENTRY_POINT_GROUP).select(name="file")
    assert entry.load() is file_provider.create
