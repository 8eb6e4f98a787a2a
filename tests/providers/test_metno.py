"""MET Norway Locationforecast 2.0: the parser on the recorded answer and variants of it, the
symbol table, and fetches through a real local server (User-Agent, rounding, conditional GETs,
errors by cell)."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from geotrigger_providers import metno
from geotrigger_providers.metno import (
    COMPACT_PATH,
    SYMBOL_CONDITIONS,
    MetNoProvider,
    create,
    current_entry,
    parse_compact,
    symbol_condition,
)

from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from geotrigger.weather.reading import WET, WeatherCondition
from tests.providers.clocks import WallClock
from tests.providers.server import FixtureServer, Reply, fixture_path

RECORDED = "metno/locationforecast_2.0_compact_lat40.7_lon-74.0_trimmed.json"
USER_AGENT = "geotrigger-tests/1.0 weather-ops@example.org"
NEW_YORK = Cell(key="c-nyc", lat=40.712345678, lon=-74.00598)
BROOKLYN = Cell(key="c-bk", lat=40.6782, lon=-73.9442)

# When the recorded answer was served (its Date header), and its Expires.
SERVED_AT = datetime(2020, 7, 20, 11, 44, 31, tzinfo=UTC)
EXPIRES_AT = datetime(2020, 7, 20, 12, 14, 53, tzinfo=UTC)

# Every symbol MET Norway documents (weathericon 2.0), without suffixes.
DOCUMENTED_SYMBOLS = {
    "clearsky",
    "fair",
    "partlycloudy",
    "cloudy",
    "fog",
    *(
        f"{strength}{kind}{showers}{thunder}"
        for strength in ("light", "", "heavy")
        for kind in ("rain", "sleet", "snow")
        for showers in ("", "showers")
        for thunder in ("", "andthunder")
        if (strength, showers, thunder) != ("light", "showers", "andthunder") or kind == "rain"
    ),
    "lightssleetshowersandthunder",
    "lightssnowshowersandthunder",
}


def recording() -> dict[str, Any]:
    """The recorded file: ``status_code``, ``headers`` and ``data`` (the answer's body)."""
    document: dict[str, Any] = json.loads(fixture_path(RECORDED).read_text(encoding="utf-8"))
    return document


def recorded() -> dict[str, Any]:
    """A fresh copy of the recorded answer's body."""
    body: dict[str, Any] = recording()["data"]
    return body


def entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    timeseries: list[dict[str, Any]] = document["properties"]["timeseries"]
    return timeseries


def first_data(document: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = entries(document)[0]["data"]
    return data


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the parser on the recorded answer --------------------------------------------------------


def test_the_recorded_answer_reads_as_the_hour_that_covers_now() -> None:
    reading = parse_compact(recorded(), now=SERVED_AT)

    assert reading.source == "metno"
    assert reading.observed_at == at("2020-07-20T11:00:00")
    assert reading.valid_until == at("2020-07-20T12:00:00")
    assert reading.temperature_c == 26.5
    assert reading.humidity_pct == 81.3
    assert reading.wind_speed_mps == 3.8
    assert reading.condition is WeatherCondition.PARTLY_CLOUDY  # partlycloudy_day
    assert reading.precipitation_mm_h == 0.0
    assert reading.is_wet is False


def test_what_met_norway_does_not_give_is_none() -> None:
    reading = parse_compact(recorded(), now=SERVED_AT)

    assert reading.feels_like_c is None
    assert reading.wind_gust_mps is None
    assert reading.uv_index is None
    assert reading.precipitation_probability_pct is None


def test_a_later_now_takes_the_entry_of_that_hour() -> None:
    reading = parse_compact(recorded(), now=at("2020-07-20T13:30:00"))

    assert reading.observed_at == at("2020-07-20T13:00:00")
    assert reading.temperature_c == 29.3
    assert reading.humidity_pct == 67.3


def test_before_the_first_entry_the_first_entry_is_taken() -> None:
    reading = parse_compact(recorded(), now=at("2020-07-20T09:00:00"))

    assert reading.observed_at == at("2020-07-20T11:00:00")
    assert reading.temperature_c == 26.5


def test_an_entry_at_exactly_now_is_not_in_the_future() -> None:
    reading = parse_compact(recorded(), now=at("2020-07-20T12:00:00"))

    assert reading.temperature_c == 27.9


def test_the_next_hour_block_gives_the_condition_when_there_is_one() -> None:
    reading = parse_compact(recorded(), now=at("2020-07-22T13:10:00"))

    assert reading.temperature_c == 26.3
    assert reading.condition is WeatherCondition.CLOUDY  # next_1_hours: cloudy


def test_without_a_next_hour_the_six_hour_block_is_used_per_hour() -> None:
    document = recorded()
    six_hours = entries(document)[5]["data"]["next_6_hours"]  # 2020-07-22T18:00, no next_1_hours
    six_hours["details"]["precipitation_amount"] = 3.0
    six_hours["summary"]["symbol_code"] = "rainshowers_day"

    reading = parse_compact(document, now=at("2020-07-22T19:00:00"))

    assert reading.temperature_c == 30.2
    assert reading.precipitation_mm_h == pytest.approx(0.5)
    assert reading.condition is WeatherCondition.RAIN
    assert reading.is_wet is True


def test_the_six_hour_block_of_the_recorded_answer() -> None:
    reading = parse_compact(recorded(), now=at("2020-07-29T03:00:00"))

    assert reading.temperature_c == 30.2
    assert reading.condition is WeatherCondition.CLEAR  # fair_night
    assert reading.precipitation_mm_h == 0.0


def test_the_last_instant_only_entry_reads_without_condition_or_precipitation() -> None:
    reading = parse_compact(recorded(), now=at("2020-08-01T00:00:00"))

    assert reading.observed_at == at("2020-07-29T06:00:00")
    assert reading.temperature_c == 24.7
    assert reading.condition is None
    assert reading.precipitation_mm_h is None


def test_an_earlier_expires_shortens_the_validity() -> None:
    sooner = at("2020-07-20T11:30:00")

    assert parse_compact(recorded(), now=SERVED_AT, expires=sooner).valid_until == sooner
    later = parse_compact(recorded(), now=SERVED_AT, expires=EXPIRES_AT)
    assert later.valid_until == at("2020-07-20T12:00:00")
    stale = parse_compact(recorded(), now=SERVED_AT, expires=at("2020-07-20T10:00:00"))
    assert stale.valid_until == at("2020-07-20T12:00:00")


# --- variants: the next hour's details, nulls, odd units, unknown symbols -----------------------


def test_rain_in_the_next_hour_with_probability_and_gust_but_no_uv_index() -> None:
    document = recorded()
    data = first_data(document)
    data["next_1_hours"] = {
        "summary": {"symbol_code": "lightrainshowers_day"},
        "details": {"precipitation_amount": 1.2, "probability_of_precipitation": 40.0},
    }
    data["instant"]["details"].update(wind_speed_of_gust=9.1, ultraviolet_index_clear_sky=6.2)

    reading = parse_compact(document, now=SERVED_AT)

    assert reading.condition is WeatherCondition.RAIN
    assert reading.precipitation_mm_h == 1.2
    assert reading.precipitation_probability_pct == 40.0
    assert reading.wind_gust_mps == 9.1
    # ultraviolet_index_clear_sky is the index under a clear sky, an upper bound: not the index.
    assert reading.uv_index is None
    assert reading.is_wet is True


def test_nulls_and_missing_values_become_none() -> None:
    document = recorded()
    data = first_data(document)
    data["instant"]["details"].update(air_temperature=None, wind_speed="fast")
    del data["instant"]["details"]["relative_humidity"]
    data["next_1_hours"]["details"] = None

    reading = parse_compact(document, now=SERVED_AT)

    assert reading.temperature_c is None
    assert reading.wind_speed_mps is None
    assert reading.humidity_pct is None
    assert reading.precipitation_mm_h is None
    assert reading.condition is WeatherCondition.PARTLY_CLOUDY


def test_a_unit_other_than_documented_gives_none() -> None:
    document = recorded()
    document["properties"]["meta"]["units"].update(air_temperature="fahrenheit", wind_speed="kn")

    reading = parse_compact(document, now=SERVED_AT)

    assert reading.temperature_c is None
    assert reading.wind_speed_mps is None
    assert reading.humidity_pct == 81.3


def test_an_unknown_symbol_gives_no_condition_and_no_error() -> None:
    document = recorded()
    first_data(document)["next_1_hours"]["summary"]["symbol_code"] = "volcanicash_day"

    reading = parse_compact(document, now=SERVED_AT)

    assert reading.condition is None
    assert reading.temperature_c == 26.5


def test_an_answer_without_what_a_reading_needs_cannot_be_read() -> None:
    no_series = recorded()
    del no_series["properties"]["timeseries"]
    empty = recorded()
    entries(empty).clear()
    no_instant = recorded()
    del first_data(no_instant)["instant"]
    bad_time = recorded()
    entries(bad_time)[0]["time"] = "soon"

    with pytest.raises(KeyError):
        parse_compact(no_series, now=SERVED_AT)
    with pytest.raises(ValueError, match="no timeseries"):
        parse_compact(empty, now=SERVED_AT)
    with pytest.raises(KeyError):
        parse_compact(no_instant, now=SERVED_AT)
    with pytest.raises(ValueError):
        parse_compact(bad_time, now=SERVED_AT)
    with pytest.raises(TypeError):
        parse_compact(["not", "a", "feature"], now=SERVED_AT)


def test_the_entry_covering_now_is_the_last_not_in_the_future() -> None:
    timeseries = entries(recorded())

    assert current_entry(timeseries, at("2020-07-22T12:59:59"))["time"] == "2020-07-22T07:00:00Z"
    assert current_entry(timeseries, at("2020-07-22T13:00:00"))["time"] == "2020-07-22T13:00:00Z"


# --- symbols ----------------------------------------------------------------------------------


def test_every_documented_symbol_has_a_condition() -> None:
    assert len(DOCUMENTED_SYMBOLS) == 41
    assert set(SYMBOL_CONDITIONS) == DOCUMENTED_SYMBOLS


def test_wetness_agrees_with_the_precipitation_symbols() -> None:
    for symbol, condition in SYMBOL_CONDITIONS.items():
        falls_wet = any(word in symbol for word in ("rain", "sleet", "thunder"))
        assert (condition in WET) is falls_wet, symbol


@pytest.mark.parametrize(
    ("symbol", "condition"),
    [
        ("lightrainshowers_day", WeatherCondition.RAIN),
        ("heavysnow", WeatherCondition.SNOW),
        ("partlycloudy_night", WeatherCondition.PARTLY_CLOUDY),
        ("rainandthunder", WeatherCondition.THUNDERSTORM),
        ("fog", WeatherCondition.FOG),
        ("clearsky_polartwilight", WeatherCondition.CLEAR),
        ("heavyrainshowers_night", WeatherCondition.HEAVY_RAIN),
        ("lightssleetshowersandthunder_day", WeatherCondition.THUNDERSTORM),
        ("sleetshowers_polartwilight", WeatherCondition.SLEET),
    ],
)
def test_symbols_map_without_their_suffix(symbol: str, condition: WeatherCondition) -> None:
    assert symbol_condition(symbol) is condition


@pytest.mark.parametrize("symbol", [None, 3, "", "_day", "rain_evening", "Rain", "drizzle"])
def test_odd_symbols_have_no_condition(symbol: Any) -> None:
    assert symbol_condition(symbol) is None


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("user_agent", [None, "", "   "])
def test_without_a_user_agent_the_provider_is_refused(user_agent: str | None) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        create(ProviderConfig(name="metno", user_agent=user_agent))

    message = str(caught.value)
    assert "user_agent" in message
    assert "MET Norway" in message and "contact" in message


def test_the_module_is_shaped_as_a_provider() -> None:
    provider = create(ProviderConfig(name="metno", user_agent=USER_AGENT))
    provider.close()

    assert metno.NAME == provider.name == "metno"
    assert metno.DEFAULT_BASE_URL == "https://api.met.no"


# --- fetches through a real local server ------------------------------------------------------


def config(server: FixtureServer, max_attempts: int = 1) -> ProviderConfig:
    return ProviderConfig(
        name="metno",
        base_url=server.url,
        user_agent=USER_AGENT,
        max_attempts=max_attempts,
        backoff_s=0,
    )


def recorded_reply(**header_overrides: str) -> Reply:
    """The recorded body with its recorded Last-Modified and Expires (not Content-Encoding:
    the body served here is not gzipped)."""
    headers = recording()["headers"]
    kept = {name: headers[name] for name in ("Last-Modified", "Expires")}
    return Reply.json(recorded(), **{**kept, **header_overrides})


def fetch(provider: MetNoProvider, *cells: Cell) -> FetchResult:
    return provider.fetch(cells)


def test_one_request_per_cell_with_rounded_coordinates_and_the_user_agent(
    server: FixtureServer,
) -> None:
    server.route(COMPACT_PATH, recorded_reply())
    provider = MetNoProvider(config(server), now=WallClock(SERVED_AT))

    result = fetch(provider, NEW_YORK, BROOKLYN)
    provider.close()

    first, second = server.seen(COMPACT_PATH)
    assert first.method == "GET"
    assert first.query == {"lat": ["40.7123"], "lon": ["-74.006"]}
    assert second.query == {"lat": ["40.6782"], "lon": ["-73.9442"]}
    assert first.headers["user-agent"] == USER_AGENT
    assert result.errors == {}
    assert result.readings[NEW_YORK.key].temperature_c == 26.5
    assert result.readings[BROOKLYN.key].condition is WeatherCondition.PARTLY_CLOUDY


def test_before_expires_the_cached_answer_is_used_without_a_request(
    server: FixtureServer,
) -> None:
    server.route(COMPACT_PATH, recorded_reply())
    clock = WallClock(SERVED_AT)
    provider = MetNoProvider(config(server), now=clock)

    fetch(provider, NEW_YORK)
    clock.now = SERVED_AT + timedelta(minutes=20)  # 12:04:31, before Expires 12:14:53
    result = fetch(provider, NEW_YORK)
    provider.close()

    assert len(server.seen(COMPACT_PATH)) == 1
    reading = result.readings[NEW_YORK.key]  # the cached answer, read at the new now
    assert reading.observed_at == at("2020-07-20T12:00:00")
    assert reading.temperature_c == 27.9


def test_after_expires_if_modified_since_is_sent_and_a_304_reuses_the_answer(
    server: FixtureServer,
) -> None:
    last_modified = recording()["headers"]["Last-Modified"]
    server.route(COMPACT_PATH, recorded_reply(), Reply(status=304))
    clock = WallClock(SERVED_AT)
    provider = MetNoProvider(config(server), now=clock)

    fetch(provider, NEW_YORK)
    clock.now = at("2020-07-20T13:05:00")  # past Expires, and in the next forecast hours
    result = fetch(provider, NEW_YORK)
    provider.close()

    first, second = server.seen(COMPACT_PATH)
    assert "if-modified-since" not in first.headers
    assert second.headers["if-modified-since"] == last_modified
    reading = result.readings[NEW_YORK.key]
    assert reading.observed_at == at("2020-07-20T13:00:00")  # the cached answer, read at now
    assert reading.temperature_c == 29.3


def test_a_refusal_fails_its_cell_as_a_configuration_error(server: FixtureServer) -> None:
    server.route(
        COMPACT_PATH,
        Reply.json({"error": "403 Forbidden: missing or prohibited User-Agent"}, status=403),
    )
    provider = MetNoProvider(config(server), now=WallClock(SERVED_AT))

    result = fetch(provider, NEW_YORK)
    provider.close()

    assert result.readings == {}
    error = result.errors[NEW_YORK.key]
    assert isinstance(error, ProviderConfigError)
    assert error.cell == NEW_YORK.key


def test_errors_stay_with_their_own_cell(server: FixtureServer) -> None:
    server.route(COMPACT_PATH, recorded_reply(), Reply.html(503))
    provider = MetNoProvider(config(server), now=WallClock(SERVED_AT))

    result = fetch(provider, NEW_YORK, BROOKLYN)
    provider.close()

    assert set(result.readings) == {NEW_YORK.key}
    error = result.errors[BROOKLYN.key]
    assert isinstance(error, ProviderUnavailableError)
    assert error.cell == BROOKLYN.key


def test_a_500_then_an_answer_is_retried_into_a_reading(server: FixtureServer) -> None:
    server.route(COMPACT_PATH, Reply.html(500), recorded_reply())
    provider = MetNoProvider(config(server, max_attempts=2), now=WallClock(SERVED_AT))

    result = fetch(provider, NEW_YORK)
    provider.close()

    assert len(server.seen(COMPACT_PATH)) == 2
    assert result.readings[NEW_YORK.key].temperature_c == 26.5


def test_garbage_and_unreadable_answers_fail_their_cell_and_never_raise(
    server: FixtureServer,
) -> None:
    without_series = copy.deepcopy(recorded())
    del without_series["properties"]["timeseries"]
    server.route(
        COMPACT_PATH,
        Reply(body=b'{"type": "Feature", "prop', headers={"Content-Type": "application/json"}),
        Reply.json(without_series),
    )
    provider = MetNoProvider(config(server), now=WallClock(SERVED_AT))

    result = fetch(provider, NEW_YORK, BROOKLYN)
    provider.close()

    assert result.readings == {}
    assert isinstance(result.errors[NEW_YORK.key], ProviderResponseError)
    missing = result.errors[BROOKLYN.key]
    assert isinstance(missing, ProviderResponseError)
    assert "timeseries" in str(missing)
    assert missing.cell == BROOKLYN.key


def test_a_203_for_a_deprecated_product_is_read_and_warned_about_once(
    server: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    reply = recorded_reply()
    server.route(COMPACT_PATH, dataclasses.replace(reply, status=203))
    provider = MetNoProvider(config(server), now=WallClock(SERVED_AT))

    with caplog.at_level(logging.WARNING, logger="geotrigger.providers.metno"):
        result = fetch(provider, NEW_YORK, BROOKLYN)
    provider.close()

    assert set(result.readings) == {NEW_YORK.key, BROOKLYN.key}
    warnings = [r for r in caplog.records if "203" in r.getMessage()]
    assert len(warnings) == 1
    assert "deprecated" in warnings[0].getMessage()
