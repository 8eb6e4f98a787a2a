"""The US NWS provider: parsers on the recorded api.weather.gov documents (and variants derived
here), and fetches through a real local server serving them."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from typing import Any

import pytest
from geotrigger_providers import nws
from geotrigger_providers.http import HttpClient
from geotrigger_providers.nws import (
    create,
    on_base_url,
    parse_observation,
    parse_point,
    parse_precipitation_probability,
    parse_stations,
    points_path,
)
from geotrigger_providers.nws_conditions import (
    ICON_CONDITIONS,
    icon_condition,
    icon_name,
    observation_condition,
)

from geotrigger.weather.provider import (
    ENTRY_POINT_GROUP,
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from geotrigger.weather.reading import WET, WeatherCondition
from tests.providers.clocks import SleepingClock
from tests.providers.server import FixtureServer, Reply, fixture_path, nws_stations

USER_AGENT = "geotrigger-tests/1.0 (ops@example.org)"
TAE = Cell(key="tae", lat=30.0, lon=-85.0)  # the recorded point: /points/30,-85
POINT_PATH = "/points/30,-85"
STATIONS_PATH = "/gridpoints/TAE/58,65/stations"
FORECAST_PATH = "/gridpoints/TAE/58,65/forecast/hourly"
OBSERVATION_PATH = "/stations/KFLL/observations/latest"

# Every icon name api.weather.gov documents (GET /icons).
DOCUMENTED_ICONS = {
    "skc", "few", "sct", "bkn", "ovc",
    "wind_skc", "wind_few", "wind_sct", "wind_bkn", "wind_ovc",
    "snow", "rain_snow", "rain_sleet", "snow_sleet", "fzra", "rain_fzra", "snow_fzra", "sleet",
    "rain", "rain_showers", "rain_showers_hi", "tsra", "tsra_sct", "tsra_hi",
    "tornado", "hurricane", "tropical_storm", "dust", "smoke", "haze", "hot", "cold",
    "blizzard", "fog",
}  # fmt: skip
WET_ICONS = {
    "rain_snow", "rain_sleet", "snow_sleet", "fzra", "rain_fzra", "snow_fzra", "sleet",
    "rain", "rain_showers", "rain_showers_hi", "tsra", "tsra_sct", "tsra_hi",
    "tornado", "hurricane", "tropical_storm",
}  # fmt: skip


def recorded(name: str) -> Any:
    return json.loads(fixture_path(name).read_text())


def latest_observation(name: str = "nws/stations_observations.json") -> Any:
    """The shape of ``/observations/latest``: the newest feature of a recorded collection."""
    return recorded(name)["features"][0]


def with_properties(**changes: Any) -> Any:
    """The recorded observation with some properties replaced (None: removed)."""
    observation = copy.deepcopy(latest_observation())
    for name, value in changes.items():
        if value is None:
            observation["properties"].pop(name, None)
        else:
            observation["properties"][name] = value
    return observation


# --- parsers on the recorded documents ---------------------------------------------------------


def test_observation_from_the_recorded_station() -> None:
    reading = parse_observation(latest_observation(), precipitation_probability_pct=20.0)
    observed = datetime(2019, 6, 27, 10, 53, tzinfo=UTC)
    assert reading.observed_at == observed
    assert reading.valid_until == observed + timedelta(hours=1)
    assert reading.temperature_c == 10.0
    assert reading.feels_like_c == 10.0  # heatIndex; windChill is null
    assert reading.wind_speed_mps == 10.0
    assert reading.wind_gust_mps == 10.0
    assert reading.humidity_pct == 10.0
    assert reading.precipitation_mm_h is None  # recorded as null
    assert reading.precipitation_probability_pct == 20.0
    assert reading.condition is WeatherCondition.PARTLY_CLOUDY  # icon "few", "Mostly Clear"
    assert reading.uv_index is None
    assert reading.source == "nws"
    assert not reading.is_wet


def test_a_collection_of_observations_reads_as_its_newest() -> None:
    collection = recorded("nws/stations_observations.json")
    assert parse_observation(collection) == parse_observation(collection["features"][0])


def test_an_observation_without_properties_cannot_be_read() -> None:
    with pytest.raises(KeyError, match="timestamp"):
        parse_observation(latest_observation("nws/stations_observations_missing_value.json"))


def test_a_collection_without_observations_cannot_be_read() -> None:
    with pytest.raises(ValueError, match="no observation"):
        parse_observation(recorded("nws/stations_observations_noprop.json"))


def test_point_links_from_the_recorded_point() -> None:
    links = parse_point(recorded("nws/points.json"))
    assert links.stations_url == "https://api.weather.gov/gridpoints/TAE/58,65/stations"
    assert (
        links.forecast_hourly_url == "https://api.weather.gov/gridpoints/TAE/58,65/forecast/hourly"
    )


def test_a_point_without_a_forecast_still_has_stations() -> None:
    document = recorded("nws/points.json")
    del document["properties"]["forecastHourly"]
    assert parse_point(document).forecast_hourly_url is None


def test_precipitation_probability_from_the_recorded_hourly_forecast() -> None:
    assert (
        parse_precipitation_probability(recorded("nws/gridpoints_forecast_hourly_us.json")) == 20.0
    )


def test_precipitation_probability_null_or_absent_is_none() -> None:
    document = recorded("nws/gridpoints_forecast_hourly_us.json")
    document["properties"]["periods"][0]["probabilityOfPrecipitation"]["value"] = None
    assert parse_precipitation_probability(document) is None
    document["properties"]["periods"] = []
    assert parse_precipitation_probability(document) is None


def test_the_nearest_station_is_the_first_listed() -> None:
    assert parse_stations(nws_stations("KFLL", "KMIA")) == "KFLL"
    with pytest.raises(ValueError, match="no observation station"):
        parse_stations(nws_stations())


# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "unit_code", "value", "attribute", "expected"),
    [
        ("temperature", "wmoUnit:degC", 21.5, "temperature_c", 21.5),
        ("temperature", "wmoUnit:degF", 50, "temperature_c", 10.0),
        ("temperature", "wmoUnit:K", 283.15, "temperature_c", 10.0),
        ("temperature", "wmoUnit:Pa", 100000, "temperature_c", None),  # not a temperature
        ("temperature", "wmoUnit:furlong", 3, "temperature_c", None),  # unknown unit
        ("temperature", "other:degC", 3, "temperature_c", None),  # unknown unit vocabulary
        ("windSpeed", "wmoUnit:km_h-1", 36, "wind_speed_mps", 10.0),
        ("windSpeed", "wmoUnit:m_s-1", 4.2, "wind_speed_mps", 4.2),
        ("windSpeed", "wmoUnit:kt", 10, "wind_speed_mps", 5.14),
        ("windGust", "wmoUnit:km_h-1", 54, "wind_gust_mps", 15.0),
        ("windSpeed", "wmoUnit:km_h-1", -9999, "wind_speed_mps", None),  # a sentinel
        ("relativeHumidity", "wmoUnit:percent", 87.3, "humidity_pct", 87.3),
        ("relativeHumidity", "wmoUnit:percent", 100.4, "humidity_pct", 100.0),
        ("precipitationLastHour", "wmoUnit:mm", 2.5, "precipitation_mm_h", 2.5),
        ("precipitationLastHour", "wmoUnit:m", 0.0025, "precipitation_mm_h", 2.5),
        ("precipitationLastHour", "unit:m", 0.0005, "precipitation_mm_h", 0.5),
        ("precipitationLastHour", "wmoUnit:degC", 1, "precipitation_mm_h", None),
    ],
)
def test_values_are_converted_by_their_unit_code(
    field: str, unit_code: str, value: float, attribute: str, expected: float | None
) -> None:
    reading = parse_observation(with_properties(**{field: {"unitCode": unit_code, "value": value}}))
    assert getattr(reading, attribute) == expected


def test_null_and_missing_values_give_a_partial_reading() -> None:
    observation = with_properties(
        temperature={"unitCode": "wmoUnit:degC", "value": None},
        windSpeed=None,
        windGust="10",  # not a value object
        heatIndex={"unitCode": "wmoUnit:degC", "value": None},
        icon=None,
        textDescription=None,
    )
    reading = parse_observation(observation)
    assert reading.temperature_c is None
    assert reading.wind_speed_mps is None
    assert reading.wind_gust_mps is None
    assert reading.feels_like_c is None  # neither heat index nor wind chill
    assert reading.condition is None
    assert reading.humidity_pct == 10.0  # the rest stands


def test_feels_like_is_the_wind_chill_when_there_is_no_heat_index() -> None:
    observation = with_properties(
        heatIndex={"unitCode": "wmoUnit:degC", "value": None},
        windChill={"unitCode": "wmoUnit:degF", "value": 14},
    )
    assert parse_observation(observation).feels_like_c == -10.0


# --- conditions --------------------------------------------------------------------------------


def test_every_documented_icon_is_in_the_table() -> None:
    assert set(ICON_CONDITIONS) == DOCUMENTED_ICONS


@pytest.mark.parametrize("name", sorted(DOCUMENTED_ICONS))
def test_an_icon_is_wet_exactly_when_something_wet_falls(name: str) -> None:
    icon = f"https://api.weather.gov/icons/land/day/{name}?size=medium"
    reading = parse_observation(with_properties(icon=icon, textDescription=None))
    assert reading.is_wet == (name in WET_ICONS)
    assert (reading.condition in WET) == (name in WET_ICONS)


@pytest.mark.parametrize(
    ("icon", "name"),
    [
        ("https://api.weather.gov/icons/land/day/rain,40?size=medium", "rain"),
        ("https://api.weather.gov/icons/land/night/sct,0/rain,40?size=small", "sct"),
        ("https://api.weather.gov/icons/land/day/tsra_hi?size=medium", "tsra_hi"),
        ("/icons/land/day/few?size=medium", "few"),
        ("tsra", "tsra"),
        ("https://api.weather.gov/something/else", None),
        ("", None),
        (None, None),
    ],
)
def test_icon_names(icon: Any, name: str | None) -> None:
    assert icon_name(icon) == name


@pytest.mark.parametrize(
    ("icon", "condition"),
    [
        ("skc", WeatherCondition.CLEAR),
        ("wind_bkn", WeatherCondition.CLOUDY),
        ("ovc", WeatherCondition.CLOUDY),
        ("rain_showers", WeatherCondition.RAIN),
        ("fzra", WeatherCondition.SLEET),
        ("snow", WeatherCondition.SNOW),
        ("blizzard", WeatherCondition.SNOW),
        ("tsra_sct", WeatherCondition.THUNDERSTORM),
        ("fog", WeatherCondition.FOG),
        ("ra", WeatherCondition.RAIN),  # the older icon names
        ("sn", WeatherCondition.SNOW),
        ("fg", WeatherCondition.FOG),
        ("nskc", WeatherCondition.CLEAR),
        ("haze", None),
        ("not_an_icon", None),
    ],
)
def test_icon_conditions(icon: str, condition: WeatherCondition | None) -> None:
    assert icon_condition(f"https://api.weather.gov/icons/land/day/{icon}?size=medium") == condition


@pytest.mark.parametrize(
    ("icon", "text", "condition"),
    [
        ("rain", "Heavy Rain", WeatherCondition.HEAVY_RAIN),  # the text narrows rain
        ("rain", "Light Drizzle", WeatherCondition.DRIZZLE),
        ("rain", "Light Rain Fog/Mist", WeatherCondition.RAIN),
        ("tsra", "Heavy Rain", WeatherCondition.THUNDERSTORM),  # but never widens a storm
        (None, "Light Drizzle", WeatherCondition.DRIZZLE),  # no icon: the text decides
        ("unknown_icon", "Snow Showers", WeatherCondition.SNOW),
        ("haze", "Haze", None),
        (None, "Freezing Fog", WeatherCondition.FOG),
        (None, "Freezing Rain", WeatherCondition.SLEET),
        (None, "Partly Cloudy", WeatherCondition.PARTLY_CLOUDY),
        (None, "Mostly Cloudy", WeatherCondition.CLOUDY),
        (None, "Fair", WeatherCondition.CLEAR),
        (None, "Thunderstorms and Rain", WeatherCondition.THUNDERSTORM),
        (None, "Squiggly", None),
        (None, None, None),
    ],
)
def test_the_text_description_narrows_or_stands_in(
    icon: str | None, text: str | None, condition: WeatherCondition | None
) -> None:
    assert observation_condition(icon, text) == condition


# --- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "path"),
    [
        (30.0, -85.0, "/points/30,-85"),
        (40.123456, -74.00004, "/points/40.1235,-74"),
        (-0.00001, 151.2, "/points/0,151.2"),
    ],
)
def test_points_path_has_at_most_four_decimals(lat: float, lon: float, path: str) -> None:
    assert points_path(Cell(key="c", lat=lat, lon=lon)) == path


@pytest.mark.parametrize(
    ("link", "base", "followed"),
    [
        (
            "https://api.weather.gov/gridpoints/TAE/58,65/stations",
            "https://api.weather.gov",
            "https://api.weather.gov/gridpoints/TAE/58,65/stations",
        ),
        (
            "https://api.weather.gov/gridpoints/TAE/58,65/forecast/hourly?units=si",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/gridpoints/TAE/58,65/forecast/hourly?units=si",
        ),
        (
            "https://api.weather.gov/stations/KFLL",
            "https://proxy.example.org/nws/",
            "https://proxy.example.org/nws/stations/KFLL",
        ),
    ],
)
def test_links_are_followed_on_the_configured_base_url(link: str, base: str, followed: str) -> None:
    assert on_base_url(link, base) == followed


# --- the factory -------------------------------------------------------------------------------


@pytest.mark.parametrize("user_agent", [None, "", "   "])
def test_create_refuses_a_config_without_a_user_agent(user_agent: str | None) -> None:
    with pytest.raises(ProviderConfigError, match=r"User-Agent.*contact") as caught:
        create(ProviderConfig(name="nws", user_agent=user_agent))
    assert "user_agent" in str(caught.value)


def test_the_entry_point_is_this_module() -> None:
    (entry,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "nws"]
    assert entry.load() is create
    assert nws.NAME == "nws"
    assert nws.DEFAULT_BASE_URL == "https://api.weather.gov"


# --- fetch through a real server ---------------------------------------------------------------


def config(server: FixtureServer, max_attempts: int = 1) -> ProviderConfig:
    return ProviderConfig(
        name="nws",
        base_url=server.url,
        user_agent=USER_AGENT,
        max_attempts=max_attempts,
        backoff_s=0,
        rate_per_s=1000.0,
        read_timeout_s=2.0,
    )


def fetch(server: FixtureServer, *cells: Cell, max_attempts: int = 1) -> FetchResult:
    """``cells`` fetched by a provider of ``server``, closed after."""
    provider = nws.NwsProvider(config(server, max_attempts))
    try:
        return provider.fetch(list(cells))
    finally:
        provider.close()


def serve_recorded_point(server: FixtureServer) -> None:
    server.route(POINT_PATH, Reply.file("nws/points.json"))
    server.route(STATIONS_PATH, Reply.json(nws_stations("KFLL", "KTLH")))
    server.route(OBSERVATION_PATH, Reply.json(latest_observation()))
    server.route(FORECAST_PATH, Reply.file("nws/gridpoints_forecast_hourly_us.json"))


def test_fetch_reads_the_cell_from_its_point_station_and_forecast(server: FixtureServer) -> None:
    serve_recorded_point(server)
    result = fetch(server, TAE)
    assert result.errors == {}
    reading = result.readings["tae"]
    assert reading.temperature_c == 10.0
    assert reading.precipitation_probability_pct == 20.0
    assert reading.observed_at == datetime(2019, 6, 27, 10, 53, tzinfo=UTC)
    assert reading.source == "nws"
    # The recorded links name api.weather.gov: they were followed on the local base URL.
    assert [seen.path for seen in server.seen()] == [
        POINT_PATH,
        STATIONS_PATH,
        OBSERVATION_PATH,
        FORECAST_PATH,
    ]
    for seen in server.seen():
        assert seen.method == "GET"
        assert seen.headers["user-agent"] == USER_AGENT
        assert seen.headers["accept"] == "application/geo+json"


def test_the_point_is_looked_up_once_an_hour(server: FixtureServer) -> None:
    serve_recorded_point(server)
    clock = SleepingClock()
    provider = nws.NwsProvider(config(server), clock=clock)
    try:
        provider.fetch([TAE])
        clock.now += 3599
        second = provider.fetch([TAE])
        assert "tae" in second.readings
        assert len(server.seen(POINT_PATH)) == 1
        assert len(server.seen(STATIONS_PATH)) == 1
        assert len(server.seen(OBSERVATION_PATH)) == 2
        clock.now += 2
        provider.fetch([TAE])
        assert len(server.seen(POINT_PATH)) == 2
        assert len(server.seen(STATIONS_PATH)) == 2
    finally:
        provider.close()


def test_a_point_outside_the_us_fails_its_cell_only(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route("/points/90,120.5518", Reply.file("errors/nws_404_invalid_point.json", status=404))
    north = Cell(key="north", lat=90.0, lon=120.5517605)
    result = fetch(server, north, TAE)
    assert set(result.readings) == {"tae"}
    error = result.errors["north"]
    assert isinstance(error, ProviderConfigError)
    assert error.cell == "north"
    assert "only the US" in str(error)


def test_an_unavailable_observation_is_retried_then_fails_its_cell(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route(
        OBSERVATION_PATH, Reply.file("errors/nws_503_unavailable_resource.json", status=503)
    )
    result = fetch(server, TAE, max_attempts=2)
    assert result.readings == {}
    assert isinstance(result.errors["tae"], ProviderUnavailableError)
    assert result.errors["tae"].cell == "tae"
    assert len(server.seen(OBSERVATION_PATH)) == 2


def test_an_expired_forecast_leaves_the_reading_standing(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route(FORECAST_PATH, Reply.file("errors/nws_503_forecast_grid_expired.json", status=503))
    result = fetch(server, TAE, max_attempts=3)
    assert result.errors == {}
    assert result.readings["tae"].temperature_c == 10.0
    assert result.readings["tae"].precipitation_probability_pct is None
    assert len(server.seen(FORECAST_PATH)) == 1  # the optional forecast is tried once


@pytest.mark.parametrize(
    "observation",
    [
        pytest.param(
            latest_observation("nws/stations_observations_missing_value.json"), id="no-properties"
        ),
        pytest.param(recorded("nws/stations_observations_noprop.json"), id="no-features"),
    ],
)
def test_an_observation_without_values_is_a_response_error(
    server: FixtureServer, observation: Any
) -> None:
    serve_recorded_point(server)
    server.route(OBSERVATION_PATH, Reply.json(observation))
    result = fetch(server, TAE)
    assert result.readings == {}
    assert isinstance(result.errors["tae"], ProviderResponseError)
    assert result.errors["tae"].cell == "tae"


def test_a_point_without_stations_is_a_response_error(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route(STATIONS_PATH, Reply.json(nws_stations()))
    result = fetch(server, TAE)
    assert isinstance(result.errors["tae"], ProviderResponseError)
    assert "no observation station" in str(result.errors["tae"])
    assert server.seen(OBSERVATION_PATH) == []


def test_an_html_page_for_an_observation_is_a_response_error(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route(OBSERVATION_PATH, Reply.html(200, "<html><body>Maintenance</body></html>"))
    result = fetch(server, TAE)
    assert isinstance(result.errors["tae"], ProviderResponseError)


def test_a_refused_station_is_looked_up_again_next_time(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route(
        OBSERVATION_PATH,
        Reply.json({"title": "Not Found", "status": 404}, status=404),
        Reply.json(latest_observation()),
    )
    provider = nws.NwsProvider(config(server))
    try:
        first = provider.fetch([TAE])
        second = provider.fetch([TAE])
    finally:
        provider.close()
    assert isinstance(first.errors["tae"], ProviderConfigError)
    assert second.readings["tae"].temperature_c == 10.0
    assert len(server.seen(POINT_PATH)) == 2  # the cached station was dropped after the 404
    assert len(server.seen(STATIONS_PATH)) == 2


def test_the_forecast_requests_share_the_rate_limit(server: FixtureServer) -> None:
    serve_recorded_point(server)
    time = SleepingClock()
    settings = dataclasses.replace(config(server), rate_per_s=1.0)
    client = HttpClient(
        settings, default_base_url=nws.DEFAULT_BASE_URL, clock=time, sleep=time.sleep
    )
    provider = nws.NwsProvider(settings, client=client)
    try:
        result = provider.fetch([TAE])
    finally:
        provider.close()

    assert result.readings["tae"].precipitation_probability_pct == 20.0
    assert len(server.seen()) == 4  # point, stations, observation, forecast
    # One token per second, one in the bucket: the other three requests waited a second each.
    assert sum(time.sleeps) == pytest.approx(3.0)


def test_a_failing_forecast_opens_its_own_circuit_only(server: FixtureServer) -> None:
    serve_recorded_point(server)
    server.route(FORECAST_PATH, Reply.file("errors/nws_503_forecast_grid_expired.json", status=503))
    settings = dataclasses.replace(config(server), breaker_failures=1)
    client = HttpClient(settings, default_base_url=nws.DEFAULT_BASE_URL)
    provider = nws.NwsProvider(settings, client=client)
    try:
        first, second = provider.fetch([TAE]), provider.fetch([TAE])
    finally:
        provider.close()

    assert first.readings["tae"].precipitation_probability_pct is None
    assert "tae" in second.readings
    assert client.breaker_state == "closed"
    assert len(server.seen(OBSERVATION_PATH)) == 2
    assert len(server.seen(FORECAST_PATH)) == 1  # its circuit opened after the first 503


def test_a_point_refused_with_403_is_about_the_user_agent_not_the_coverage(
    server: FixtureServer,
) -> None:
    server.route(
        POINT_PATH,
        Reply.json({"title": "Forbidden", "detail": "Access denied: User-Agent"}, status=403),
    )
    result = fetch(server, TAE)

    error = result.errors["tae"]
    assert isinstance(error, ProviderConfigError)
    assert error.status == 403
    assert "User-Agent" in error.reason and "user_agent" in error.reason
    assert "only the US" not in error.reason


def test_a_point_outside_the_us_carries_its_404(server: FixtureServer) -> None:
    server.route(POINT_PATH, Reply.file("errors/nws_404_invalid_point.json", status=404))
    error = fetch(server, TAE).errors["tae"]

    assert error.status == 404
    assert "only the US" in error.reason


def test_another_refused_point_is_not_said_to_be_outside_the_us(server: FixtureServer) -> None:
    server.route(POINT_PATH, Reply.json({"title": "Invalid Parameter"}, status=400))
    error = fetch(server, TAE).errors["tae"]

    assert isinstance(error, ProviderConfigError)
    assert error.status == 400
    assert "only the US" not in error.reason and "Invalid Parameter" in error.reason
