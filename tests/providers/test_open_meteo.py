"""Open-Meteo: the parser on the recorded answer and variants of it, the plans, and fetches
through a real local server serving the recorded answer and error bodies."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from geotrigger_providers import open_meteo
from geotrigger_providers.http import HttpClient
from geotrigger_providers.open_meteo import (
    CURRENT_VARIABLES,
    FORECAST_PATH,
    create,
    locations_of,
    parse_current,
)
from geotrigger_providers.wmo import WMO_CONDITIONS, wmo_condition

from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from geotrigger.weather.reading import WET, WeatherCondition
from tests.providers.clocks import SleepingClock
from tests.providers.server import FixtureServer, Reply, fixture_path

RECORDED = "open_meteo/forecast_current_enschede_trimmed.json"
ENSCHEDE = Cell(key="c-enschede", lat=52.2760, lon=6.8730)
OSLO = Cell(key="c-oslo", lat=59.91234, lon=10.75)

# Every code Open-Meteo documents for weather_code.
DOCUMENTED_WMO_CODES = {0, 1, 2, 3, 45, 48, 51, 53, 55, 56, 57, 61, 63, 65, 66, 67, 71, 73, 75}
DOCUMENTED_WMO_CODES |= {77, 80, 81, 82, 85, 86, 95, 96, 99}
JSON = {"Content-Type": "application/json"}
WET_WMO_CODES = {51, 53, 55, 56, 57, 61, 63, 65, 66, 67, 80, 81, 82, 95, 96, 99}


def recorded() -> dict[str, Any]:
    """A fresh copy of the recorded answer (one location)."""
    document: dict[str, Any] = json.loads(fixture_path(RECORDED).read_text(encoding="utf-8"))
    return document


def variant(**current: Any) -> dict[str, Any]:
    """The recorded answer with ``current`` values replaced (None: the JSON null)."""
    document = recorded()
    document["current"].update(current)
    return document


def with_units(document: dict[str, Any], **units: str) -> dict[str, Any]:
    document["current_units"].update(units)
    return document


def error_body(name: str) -> bytes:
    return fixture_path(f"errors/{name}").read_bytes()


def config(base_url: str, plan: str = "free", **options: str) -> ProviderConfig:
    return ProviderConfig(
        name="open-meteo",
        base_url=base_url,
        max_attempts=1,
        backoff_s=0,
        options={"plan": plan, **options},
    )


# --- the parser on the recorded answer --------------------------------------------------------


def test_the_recorded_answer_reads_as_a_reading_in_our_units() -> None:
    reading = parse_current(recorded())

    assert reading.source == "open-meteo"
    assert reading.temperature_c == 17.7
    assert reading.feels_like_c == 17.6
    assert reading.condition is WeatherCondition.PARTLY_CLOUDY  # weather_code 2
    assert reading.humidity_pct == 66
    assert reading.precipitation_mm_h == 0.0
    assert reading.precipitation_probability_pct == 0
    assert reading.wind_speed_mps == pytest.approx(1.0)  # 3.6 km/h
    assert reading.wind_gust_mps == pytest.approx(11.9 / 3.6)
    assert reading.uv_index is None  # not in the recorded answer
    assert reading.is_wet is False


def test_a_local_time_is_taken_at_its_utc_offset_and_valid_for_the_interval() -> None:
    reading = parse_current(recorded())  # "2026-10-03T12:30" at utc_offset_seconds 7200

    assert reading.observed_at == datetime(2026, 10, 3, 10, 30, tzinfo=UTC)
    assert reading.valid_until == reading.observed_at + timedelta(seconds=900)


# --- variants: nulls, missing keys, odd units, other codes --------------------------------------


def test_nulls_and_missing_variables_become_none_not_errors() -> None:
    document = variant(temperature_2m=None, wind_gusts_10m=None, weather_code=None)
    del document["current"]["relative_humidity_2m"]
    del document["current"]["apparent_temperature"]

    reading = parse_current(document)

    assert reading.temperature_c is None
    assert reading.wind_gust_mps is None
    assert reading.condition is None
    assert reading.humidity_pct is None
    assert reading.feels_like_c is None
    assert reading.wind_speed_mps == pytest.approx(1.0)  # the rest still read


def test_a_unit_we_do_not_know_gives_none_never_a_guess() -> None:
    document = with_units(
        variant(uv_index=3.5),
        temperature_2m="K",
        wind_speed_10m="beaufort",
        precipitation="undefined",
        relative_humidity_2m="",
    )
    del document["current_units"]["wind_gusts_10m"]

    reading = parse_current(document)

    assert reading.temperature_c is None
    assert reading.wind_speed_mps is None
    assert reading.wind_gust_mps is None
    assert reading.precipitation_mm_h is None
    assert reading.humidity_pct is None
    assert reading.feels_like_c == 17.6
    assert reading.uv_index == 3.5  # an index has no unit to check


def test_fahrenheit_inches_and_other_speeds_are_converted() -> None:
    document = with_units(
        variant(temperature_2m=68.0, apparent_temperature=32.0, precipitation=0.1),
        temperature_2m="°F",
        apparent_temperature="°F",
        precipitation="inch",
        wind_speed_10m="mph",
        wind_gusts_10m="kn",
    )

    reading = parse_current(document)

    assert reading.temperature_c == pytest.approx(20.0)
    assert reading.feels_like_c == pytest.approx(0.0)
    assert reading.precipitation_mm_h == pytest.approx(0.1 * 25.4 * 4)  # per 15 min -> per hour
    assert reading.wind_speed_mps == pytest.approx(3.6 * 0.44704)
    assert reading.wind_gust_mps == pytest.approx(11.9 * 1852 / 3600)


def test_metres_per_second_as_asked_are_kept() -> None:
    document = with_units(variant(wind_speed_10m=4.2), wind_speed_10m="m/s")

    assert parse_current(document).wind_speed_mps == 4.2


def test_precipitation_of_the_interval_becomes_a_rate_per_hour() -> None:
    reading = parse_current(variant(precipitation=0.5, weather_code=61))

    assert reading.precipitation_mm_h == pytest.approx(2.0)
    assert reading.condition is WeatherCondition.RAIN
    assert reading.is_wet is True


def test_without_an_interval_the_default_quarter_hour_applies() -> None:
    document = variant(precipitation=1.0)
    del document["current"]["interval"]

    reading = parse_current(document)

    assert reading.valid_until == reading.observed_at + timedelta(seconds=900)
    assert reading.precipitation_mm_h == pytest.approx(4.0)


def test_an_hourly_interval_sets_validity_and_rate() -> None:
    reading = parse_current(variant(interval=3600, precipitation=1.5))

    assert reading.valid_until == reading.observed_at + timedelta(hours=1)
    assert reading.precipitation_mm_h == pytest.approx(1.5)


def test_unixtime_answers_are_read_as_utc() -> None:
    document = variant(time=1_790_000_000)
    document["current_units"]["time"] = "unixtime"

    reading = parse_current(document)

    assert reading.observed_at == datetime.fromtimestamp(1_790_000_000, UTC)


def test_an_unknown_weather_code_gives_no_condition_and_no_error() -> None:
    reading = parse_current(variant(weather_code=42))

    assert reading.condition is None
    assert reading.temperature_c == 17.7


def test_values_out_of_range_are_clamped_or_dropped() -> None:
    reading = parse_current(
        variant(relative_humidity_2m=100.4, precipitation_probability=-1, wind_speed_10m=-9999)
    )

    assert reading.humidity_pct == 100.0
    assert reading.precipitation_probability_pct == 0.0
    assert reading.wind_speed_mps is None


def test_an_answer_without_current_or_its_time_cannot_be_read() -> None:
    without_current = recorded()
    del without_current["current"]
    without_time = recorded()
    del without_time["current"]["time"]

    with pytest.raises(KeyError):
        parse_current(without_current)
    with pytest.raises(KeyError):
        parse_current(without_time)
    with pytest.raises(ValueError):
        parse_current(variant(time="yesterday"))
    with pytest.raises(TypeError):
        parse_current({"current": [1, 2]})


# --- WMO codes ------------------------------------------------------------------------------------


def test_every_documented_wmo_code_has_a_condition() -> None:
    assert set(WMO_CONDITIONS) == DOCUMENTED_WMO_CODES


def test_wetness_agrees_with_the_precipitation_codes() -> None:
    wet = {code for code, condition in WMO_CONDITIONS.items() if condition in WET}

    assert wet == WET_WMO_CODES
    assert wmo_condition(65) is WeatherCondition.HEAVY_RAIN
    assert wmo_condition(73) is WeatherCondition.SNOW
    assert wmo_condition(95) is WeatherCondition.THUNDERSTORM
    assert wmo_condition(45) is WeatherCondition.FOG


@pytest.mark.parametrize("code", [None, "61", 61.5, True, 4, -1, float("nan")])
def test_odd_or_undocumented_codes_have_no_condition(code: Any) -> None:
    assert wmo_condition(code) is None


def test_a_whole_float_code_is_read_as_its_integer() -> None:
    assert wmo_condition(61.0) is WeatherCondition.RAIN


# --- the answer's shape ---------------------------------------------------------------------------


def test_one_location_is_an_object_and_several_a_list() -> None:
    one = recorded()
    two = [recorded(), recorded()]

    assert locations_of(one, 1) == [one]
    assert locations_of(two, 2) == two
    with pytest.raises(ProviderResponseError, match="expected 3 location"):
        locations_of(two, 3)
    with pytest.raises(ProviderResponseError, match="expected 2 location"):
        locations_of(one, 2)


# --- plans and options ------------------------------------------------------------------------


def test_the_plan_is_required_and_the_error_names_the_choices() -> None:
    for options in ({}, {"plan": "enterprise"}):
        with pytest.raises(ProviderConfigError) as caught:
            create(ProviderConfig(name="open-meteo", options=options))
        message = str(caught.value)
        assert "'plan'" in message
        assert "'free'" in message and "non-commercial use only" in message
        assert "'commercial'" in message and "'self-hosted'" in message


def test_the_commercial_plan_needs_a_key_and_self_hosting_a_base_url() -> None:
    with pytest.raises(ProviderConfigError, match="api_key"):
        create(ProviderConfig(name="open-meteo", options={"plan": "commercial"}))
    with pytest.raises(ProviderConfigError, match="base_url"):
        create(ProviderConfig(name="open-meteo", options={"plan": "self-hosted"}))


@pytest.mark.parametrize("batch", ["0", "-3", "ten", "2.5"])
def test_a_batch_size_that_is_not_a_positive_whole_number_is_refused(batch: str) -> None:
    with pytest.raises(ProviderConfigError, match="'batch'"):
        create(ProviderConfig(name="open-meteo", options={"plan": "free", "batch": batch}))


def test_the_module_is_shaped_as_a_provider() -> None:
    assert open_meteo.NAME == "open-meteo"
    assert open_meteo.DEFAULT_BASE_URL == "https://api.open-meteo.com"
    assert "uv_index" in CURRENT_VARIABLES and "precipitation_probability" in CURRENT_VARIABLES


# --- fetches through a real local server ------------------------------------------------------


def fetch(provider_config: ProviderConfig, *cells: Cell) -> FetchResult:
    provider = create(provider_config)
    try:
        return provider.fetch(cells)
    finally:
        provider.close()


def two_locations() -> list[dict[str, Any]]:
    """A list answer for two locations, derived from the recorded one."""
    second = copy.deepcopy(recorded())
    second.update(latitude=59.9, longitude=10.75)
    second["current"].update(temperature_2m=3.1, weather_code=63, precipitation=0.4)
    return [recorded(), second]


def test_one_cell_one_request_with_the_documented_parameters(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.file(RECORDED))

    result = fetch(config(server.url), ENSCHEDE)

    [request] = server.seen(FORECAST_PATH)
    assert result.errors == {}
    assert result.readings[ENSCHEDE.key].temperature_c == 17.7
    assert request.method == "GET"
    assert request.query["latitude"] == ["52.276"]
    assert request.query["longitude"] == ["6.873"]
    assert request.query["current"] == [",".join(CURRENT_VARIABLES)]
    assert request.query["wind_speed_unit"] == ["ms"]
    assert request.query["timezone"] == ["GMT"]
    assert request.query["timeformat"] == ["iso8601"]
    assert "apikey" not in request.query


def test_many_cells_go_in_one_request_and_come_back_by_cell(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.json(two_locations()))

    result = fetch(config(server.url), ENSCHEDE, OSLO)

    [request] = server.seen(FORECAST_PATH)
    assert request.query["latitude"] == ["52.276,59.9123"]
    assert request.query["longitude"] == ["6.873,10.75"]
    assert result.errors == {}
    assert result.readings[ENSCHEDE.key].condition is WeatherCondition.PARTLY_CLOUDY
    assert result.readings[OSLO.key].temperature_c == 3.1
    assert result.readings[OSLO.key].condition is WeatherCondition.RAIN
    assert result.readings[OSLO.key].precipitation_mm_h == pytest.approx(1.6)


def test_cells_are_split_into_requests_of_at_most_the_batch_size(server: FixtureServer) -> None:
    third = Cell(key="c-third", lat=48.0, lon=2.0)
    server.route(FORECAST_PATH, Reply.json(two_locations()), Reply.file(RECORDED))

    result = fetch(config(server.url, batch="2"), ENSCHEDE, OSLO, third)

    requests = server.seen(FORECAST_PATH)
    assert [r.query["latitude"] for r in requests] == [["52.276,59.9123"], ["48"]]
    assert set(result.readings) == {ENSCHEDE.key, OSLO.key, third.key}
    assert result.errors == {}


def test_the_commercial_plan_sends_its_key_to_the_configured_host(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.file(RECORDED))
    commercial = ProviderConfig(
        name="open-meteo",
        base_url=server.url,
        api_key="k-123",
        max_attempts=1,
        backoff_s=0,
        options={"plan": "commercial"},
    )

    result = fetch(commercial, ENSCHEDE)

    [request] = server.seen(FORECAST_PATH)
    assert request.query["apikey"] == ["k-123"]
    assert ENSCHEDE.key in result.readings


def test_the_free_plan_never_sends_a_key(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.file(RECORDED))
    free = ProviderConfig(
        name="open-meteo",
        base_url=server.url,
        api_key="k-123",
        max_attempts=1,
        options={"plan": "free"},
    )

    fetch(free, ENSCHEDE)

    [request] = server.seen(FORECAST_PATH)
    assert "apikey" not in request.query


def test_a_400_fails_every_cell_as_a_configuration_error_with_the_reason(
    server: FixtureServer,
) -> None:
    body = error_body("open_meteo_400_invalid_variable.json")
    server.route(FORECAST_PATH, Reply(status=400, body=body, headers=JSON))

    result = fetch(config(server.url), ENSCHEDE, OSLO)

    assert result.readings == {}
    assert set(result.errors) == {ENSCHEDE.key, OSLO.key}
    for error in result.errors.values():
        assert isinstance(error, ProviderConfigError)
        assert "tempeture_2m" in str(error)


@pytest.mark.parametrize("name", ["open_meteo_429_minutely.json", "open_meteo_429_concurrent.json"])
def test_a_429_fails_every_cell_as_rate_limited(server: FixtureServer, name: str) -> None:
    server.route(FORECAST_PATH, Reply(status=429, body=error_body(name), headers=JSON))

    result = fetch(config(server.url), ENSCHEDE, OSLO)

    assert result.readings == {}
    assert {type(e) for e in result.errors.values()} == {ProviderRateLimitedError}
    assert set(result.errors) == {ENSCHEDE.key, OSLO.key}


def test_a_429_then_an_answer_is_retried_into_readings(server: FixtureServer) -> None:
    body = error_body("open_meteo_429_concurrent.json")
    server.route(FORECAST_PATH, Reply(status=429, body=body, headers=JSON), Reply.file(RECORDED))
    retrying = ProviderConfig(
        name="open-meteo",
        base_url=server.url,
        max_attempts=2,
        backoff_s=0,
        options={"plan": "free"},
    )

    result = fetch(retrying, ENSCHEDE)

    assert len(server.seen(FORECAST_PATH)) == 2
    assert result.errors == {}
    assert result.readings[ENSCHEDE.key].temperature_c == 17.7


def test_an_html_error_page_fails_every_cell_as_unavailable(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.html(502))

    result = fetch(config(server.url), ENSCHEDE, OSLO)

    assert result.readings == {}
    assert {type(e) for e in result.errors.values()} == {ProviderUnavailableError}


def test_a_list_of_the_wrong_length_fails_the_cells_of_that_request(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.file(RECORDED))  # one object for two cells

    result = fetch(config(server.url), ENSCHEDE, OSLO)

    assert result.readings == {}
    assert {type(e) for e in result.errors.values()} == {ProviderResponseError}
    assert set(result.errors) == {ENSCHEDE.key, OSLO.key}


def test_garbage_fails_the_cells_and_never_raises(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply(body=b'{"latitude": 52.2', headers=JSON))

    result = fetch(config(server.url), ENSCHEDE)

    assert result.readings == {}
    assert isinstance(result.errors[ENSCHEDE.key], ProviderResponseError)


def test_one_unreadable_location_fails_only_its_own_cell(server: FixtureServer) -> None:
    locations = two_locations()
    del locations[1]["current"]
    server.route(FORECAST_PATH, Reply.json(locations))

    result = fetch(config(server.url), ENSCHEDE, OSLO)

    assert set(result.readings) == {ENSCHEDE.key}
    error = result.errors[OSLO.key]
    assert isinstance(error, ProviderResponseError)
    assert error.cell == OSLO.key
    assert "current" in str(error)


def test_no_cells_no_request(server: FixtureServer) -> None:
    server.route(FORECAST_PATH, Reply.file(RECORDED))

    result = fetch(config(server.url))

    assert server.seen() == []
    assert result.readings == {} and result.errors == {}


def test_each_location_of_a_request_costs_a_token_of_the_rate_limit(
    server: FixtureServer,
) -> None:
    location = recorded()
    server.route(FORECAST_PATH, Reply.json([location, location, location]))
    settings = dataclasses.replace(config(server.url), rate_per_s=1.0)
    time = SleepingClock()
    client = HttpClient(settings, default_base_url="", clock=time, sleep=time.sleep)
    provider = open_meteo.OpenMeteoProvider(settings, client=client)
    cells = [Cell(key=f"c{i}", lat=52.0 + i / 10, lon=6.9) for i in range(3)]

    try:
        result = provider.fetch(cells)
    finally:
        provider.close()

    assert set(result.readings) == {"c0", "c1", "c2"}
    assert len(server.seen(FORECAST_PATH)) == 1
    # Three calls at one a second, one token in the bucket: two seconds to wait.
    assert sum(time.sleeps) == pytest.approx(2.0)


def test_a_key_with_the_free_plan_is_not_sent_and_a_warning_says_so(
    server: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.route(FORECAST_PATH, Reply.file(RECORDED))
    settings = dataclasses.replace(config(server.url), api_key="om-s3cret")

    with caplog.at_level(logging.WARNING, logger="geotrigger.providers"):
        result = fetch(settings, ENSCHEDE)

    assert ENSCHEDE.key in result.readings
    assert "apikey" not in server.seen(FORECAST_PATH)[0].query
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("api_key is set but plan is 'free'" in message for message in warnings)
    assert all("om-s3cret" not in message for message in warnings)
