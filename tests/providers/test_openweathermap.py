"""The OpenWeatherMap One Call 3.0 provider: the parser on the recorded document (and variants
derived here), and fetches through a real local server serving it and the recorded errors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from typing import Any

import pytest
from geotrigger_providers import openweathermap
from geotrigger_providers.openweathermap import (
    CONDITIONS,
    OpenWeatherMapProvider,
    create,
    error_in_body,
    parse_onecall,
)

from geotrigger.weather.provider import (
    ENTRY_POINT_GROUP,
    Cell,
    ProviderConfig,
    ProviderConfigError,
    ProviderRateLimitedError,
    ProviderResponseError,
)
from geotrigger.weather.reading import WET, WeatherCondition
from tests.providers.server import FixtureServer, Reply, fixture_path

RECORDED = "openweathermap/onecall_3.0_greenwich_light_rain_trimmed.json"
API_KEY = "k3y-0f-the-test-account"
GREENWICH = Cell(key="greenwich", lat=51.4769, lon=-0.0005)

# Every condition id OpenWeatherMap documents, by group.
THUNDERSTORM_IDS = {200, 201, 202, 210, 211, 212, 221, 230, 231, 232}
DRIZZLE_IDS = {300, 301, 302, 310, 311, 312, 313, 314, 321}
RAIN_IDS = {500, 501, 502, 503, 504, 511, 520, 521, 522, 531}
SNOW_IDS = {600, 601, 602, 611, 612, 613, 615, 616, 620, 621, 622}
ATMOSPHERE_IDS = {701, 711, 721, 731, 741, 751, 761, 762, 771, 781}
CLOUD_IDS = {800, 801, 802, 803, 804}
DOCUMENTED_IDS = THUNDERSTORM_IDS | DRIZZLE_IDS | RAIN_IDS | SNOW_IDS | ATMOSPHERE_IDS | CLOUD_IDS
# Ids in which water (or sleet) falls: everything of 2xx, 3xx, 5xx, the 61x sleets, tornadoes.
WET_IDS = THUNDERSTORM_IDS | DRIZZLE_IDS | RAIN_IDS | {611, 612, 613, 615, 616, 781}


def recorded(name: str = RECORDED) -> Any:
    return json.loads(fixture_path(name).read_text())


def with_current(**changes: Any) -> Any:
    """The recorded document with some ``current`` fields replaced (None: removed)."""
    document = copy.deepcopy(recorded())
    for name, value in changes.items():
        if value is None:
            document["current"].pop(name, None)
        else:
            document["current"][name] = value
    return document


def weather(code: int) -> list[dict[str, Any]]:
    return [{"id": code, "main": "x", "description": "x", "icon": "01d"}]


# --- the parser on the recorded document --------------------------------------------------------


def test_reading_from_the_recorded_greenwich_light_rain() -> None:
    reading = parse_onecall(recorded())
    observed = datetime(2024, 10, 25, 15, 59, 18, tzinfo=UTC)  # current.dt 1729871958
    assert reading.observed_at == observed
    assert reading.valid_until == observed + timedelta(hours=1)
    assert reading.temperature_c == 14.74  # 287.89 K
    assert reading.feels_like_c == 14.62  # 287.77 K
    assert reading.humidity_pct == 90.0
    assert reading.uv_index == 0.02
    assert reading.wind_speed_mps == 4.12
    assert reading.wind_gust_mps is None  # current has no wind_gust
    assert reading.condition is WeatherCondition.RAIN  # 500 light rain
    assert reading.precipitation_mm_h == 0.29  # rain.1h
    assert reading.precipitation_probability_pct == 0.0  # hourly step 15:00, covering 15:59
    assert reading.source == "openweathermap"
    assert reading.is_wet


def test_the_chance_of_precipitation_is_that_of_the_hour_covering_the_observation() -> None:
    document = recorded()
    document["hourly"][0]["pop"] = 0.35
    assert parse_onecall(document).precipitation_probability_pct == 35.0
    document["current"]["dt"] = document["hourly"][1]["dt"] + 60  # in the next hour: pop 0.2
    assert parse_onecall(document).precipitation_probability_pct == 20.0
    document["current"]["dt"] = document["hourly"][0]["dt"] - 60  # before every step: the first
    assert parse_onecall(document).precipitation_probability_pct == 35.0


def test_no_hourly_steps_no_chance_of_precipitation() -> None:
    document = recorded()
    del document["hourly"]
    assert parse_onecall(document).precipitation_probability_pct is None
    document["hourly"] = [{"dt": 1729868400}]  # no pop
    assert parse_onecall(document).precipitation_probability_pct is None


# --- precipitation -----------------------------------------------------------------------------


def test_rain_and_snow_of_the_last_hour_add_up() -> None:
    document = with_current(rain={"1h": 0.29}, snow={"1h": 0.5}, weather=weather(616))
    reading = parse_onecall(document)
    assert reading.precipitation_mm_h == 0.79
    assert reading.condition is WeatherCondition.SLEET


def test_snow_alone_is_precipitation() -> None:
    document = with_current(rain=None, snow={"1h": 1.25}, weather=weather(601))
    assert parse_onecall(document).precipitation_mm_h == 1.25


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (800, 0.0),  # dry: OWM leaves rain out when none falls
        (804, 0.0),
        (741, 0.0),
        (500, None),  # raining but no amount: unknown
        (601, None),
        (999, None),  # unknown condition: unknown
    ],
)
def test_precipitation_without_amounts_depends_on_the_condition(
    code: int, expected: float | None
) -> None:
    document = with_current(rain=None, weather=weather(code))
    assert parse_onecall(document).precipitation_mm_h == expected


# --- conditions --------------------------------------------------------------------------------


def test_every_documented_condition_id_is_in_the_table() -> None:
    assert set(CONDITIONS) == DOCUMENTED_IDS


@pytest.mark.parametrize("code", sorted(DOCUMENTED_IDS))
def test_a_condition_is_wet_exactly_when_something_wet_falls(code: int) -> None:
    reading = parse_onecall(with_current(weather=weather(code), rain=None))
    assert reading.is_wet == (code in WET_IDS)
    assert (CONDITIONS[code] in WET) == (code in WET_IDS)


@pytest.mark.parametrize(
    ("code", "condition"),
    [
        (211, WeatherCondition.THUNDERSTORM),
        (300, WeatherCondition.DRIZZLE),
        (501, WeatherCondition.RAIN),
        (502, WeatherCondition.HEAVY_RAIN),
        (503, WeatherCondition.HEAVY_RAIN),
        (504, WeatherCondition.HEAVY_RAIN),
        (522, WeatherCondition.HEAVY_RAIN),
        (531, WeatherCondition.RAIN),  # ragged shower rain
        (511, WeatherCondition.SLEET),  # freezing rain
        (600, WeatherCondition.SNOW),
        (611, WeatherCondition.SLEET),
        (701, WeatherCondition.FOG),  # mist
        (741, WeatherCondition.FOG),
        (721, None),  # haze
        (781, WeatherCondition.THUNDERSTORM),  # tornado
        (800, WeatherCondition.CLEAR),
        (801, WeatherCondition.PARTLY_CLOUDY),
        (802, WeatherCondition.PARTLY_CLOUDY),
        (803, WeatherCondition.CLOUDY),
        (804, WeatherCondition.CLOUDY),
    ],
)
def test_condition_ids(code: int, condition: WeatherCondition | None) -> None:
    assert parse_onecall(with_current(weather=weather(code))).condition == condition


@pytest.mark.parametrize("value", [999, "500", None, True, []])
def test_an_unknown_or_odd_condition_is_none(value: Any) -> None:
    reading = parse_onecall(with_current(weather=[{"id": value}] if value != [] else []))
    assert reading.condition is None


# --- partial readings --------------------------------------------------------------------------


def test_null_missing_and_impossible_values_give_a_partial_reading() -> None:
    document = with_current(
        temp=-4.0,  # below absolute zero: not a Kelvin value
        feels_like="cold",
        humidity=None,
        uvi=-1,
        wind_speed=float("nan"),
        wind_gust=12.5,
    )
    reading = parse_onecall(document)
    assert reading.temperature_c is None
    assert reading.feels_like_c is None
    assert reading.humidity_pct is None
    assert reading.uv_index is None
    assert reading.wind_speed_mps is None
    assert reading.wind_gust_mps == 12.5
    assert reading.condition is WeatherCondition.RAIN  # the rest stands


def test_a_document_without_current_cannot_be_read() -> None:
    document = recorded()
    del document["current"]
    with pytest.raises(KeyError, match="current"):
        parse_onecall(document)


def test_a_time_that_is_not_a_number_cannot_be_read() -> None:
    with pytest.raises(ValueError, match=r"current\.dt"):
        parse_onecall(with_current(dt="2024-10-25T15:59:18Z"))


# --- error bodies ------------------------------------------------------------------------------


def test_error_bodies_with_a_string_or_an_integer_cod() -> None:
    refused = error_in_body(recorded("errors/owm_401_invalid_key_string_cod.json"), cell="c")
    assert isinstance(refused, ProviderConfigError)
    assert "Invalid API key" in str(refused)
    assert refused.cell == "c"
    blocked = error_in_body(recorded("errors/owm_429_blocked.json"))
    assert isinstance(blocked, ProviderRateLimitedError)
    assert "temporary blocked" in str(blocked)
    odd = error_in_body({"cod": "500", "message": "Internal error"})
    assert isinstance(odd, ProviderResponseError)
    assert error_in_body(recorded()) is None


# --- the factory -------------------------------------------------------------------------------


@pytest.mark.parametrize("api_key", [None, "", "  "])
def test_create_refuses_a_config_without_an_api_key(api_key: str | None) -> None:
    with pytest.raises(ProviderConfigError, match="api_key"):
        create(ProviderConfig(name="openweathermap", api_key=api_key))


def test_the_entry_point_is_this_module() -> None:
    (entry,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "openweathermap"]
    assert entry.load() is create
    assert openweathermap.DEFAULT_BASE_URL == "https://api.openweathermap.org"


# --- fetch through a real server ---------------------------------------------------------------


def config(server: FixtureServer, max_attempts: int = 1) -> ProviderConfig:
    return ProviderConfig(
        name="openweathermap",
        base_url=server.url,
        api_key=API_KEY,
        user_agent="geotrigger-tests/1.0",
        max_attempts=max_attempts,
        backoff_s=0,
        rate_per_s=1000.0,
        read_timeout_s=2.0,
    )


def fetch(server: FixtureServer, cells: list[Cell], max_attempts: int = 1) -> Any:
    provider = OpenWeatherMapProvider(config(server, max_attempts))
    try:
        return provider.fetch(cells)
    finally:
        provider.close()


def test_fetch_asks_for_standard_units_and_reads_each_cell(server: FixtureServer) -> None:
    server.route("/data/3.0/onecall", Reply.file(RECORDED))
    other = Cell(key="other", lat=51.5, lon=-0.12)
    result = fetch(server, [GREENWICH, other])
    assert result.errors == {}
    assert result.readings["greenwich"].temperature_c == 14.74
    assert result.readings["other"].precipitation_mm_h == 0.29
    first, second = server.seen("/data/3.0/onecall")
    assert first.method == "GET"
    assert first.query == {
        "lat": ["51.4769"],
        "lon": ["-0.0005"],
        "appid": [API_KEY],
        "units": ["standard"],
        "exclude": ["minutely,daily,alerts"],
    }
    assert second.query["lat"] == ["51.5"]  # as every provider spells a coordinate
    assert second.query["lon"] == ["-0.12"]


def test_an_invalid_key_is_a_config_error_that_never_shows_the_key(server: FixtureServer) -> None:
    server.route(
        "/data/3.0/onecall", Reply.file("errors/owm_401_invalid_key_string_cod.json", status=401)
    )
    result = fetch(server, [GREENWICH], max_attempts=3)
    error = result.errors["greenwich"]
    assert isinstance(error, ProviderConfigError)
    assert error.cell == "greenwich"
    assert "401" in str(error)
    assert "Invalid API key" in str(error)  # what the body says
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert len(server.seen()) == 1  # a refusal is not retried


def test_an_error_body_sent_with_status_200_is_still_an_error(server: FixtureServer) -> None:
    server.route("/data/3.0/onecall", Reply.file("errors/owm_401_invalid_key_string_cod.json"))
    result = fetch(server, [GREENWICH])
    error = result.errors["greenwich"]
    assert isinstance(error, ProviderConfigError)
    assert "Invalid API key" in str(error)
    assert API_KEY not in str(error)


def test_a_blocked_account_is_retried_then_rate_limited(server: FixtureServer) -> None:
    server.route("/data/3.0/onecall", Reply.file("errors/owm_429_blocked.json", status=429))
    result = fetch(server, [GREENWICH], max_attempts=2)
    assert result.readings == {}
    assert isinstance(result.errors["greenwich"], ProviderRateLimitedError)
    assert len(server.seen("/data/3.0/onecall")) == 2


def test_a_truncated_document_is_a_response_error(server: FixtureServer) -> None:
    server.route("/data/3.0/onecall", Reply.file(RECORDED), Reply(body=b'{"current": {"dt": 17'))
    result = fetch(server, [GREENWICH, Cell(key="second", lat=51.0, lon=0.0)])
    assert "greenwich" in result.readings
    assert isinstance(result.errors["second"], ProviderResponseError)
    assert result.errors["second"].cell == "second"


def test_the_provider_repr_never_shows_the_key(server: FixtureServer) -> None:
    provider = OpenWeatherMapProvider(config(server))
    try:
        assert API_KEY not in repr(provider)
        assert server.url in repr(provider)
    finally:
        provider.close()
