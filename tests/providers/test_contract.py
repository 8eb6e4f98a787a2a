"""One contract over every registered weather provider (:mod:`geotrigger.weather.provider`).

The providers are discovered through the registry, so a new plug-in joins these tests by being
installed, and fails them until it has a :class:`Wiring` here: how to configure it (from
variables, as a service does) against a real local server serving its recorded success answer
(or, for ``file``, the example day). Each HTTP provider is then served every fault in turn,
and must turn each into the typed error expected, per cell, without raising.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from geotrigger.weather.cells import cell_of
from geotrigger.weather.provider import (
    Cell,
    ProviderConfigError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderUnavailableError,
    WeatherProvider,
)
from geotrigger.weather.reading import WeatherReading
from geotrigger.weather.registry import create_provider, provider_config, provider_names
from tests.providers.server import FixtureServer, Reply, fixture_path, nws_stations

EXAMPLE_WEATHER = Path(__file__).resolve().parents[2] / "examples/weather/helsinki-2026-06-12.jsonl"
USER_AGENT = "geotrigger-contract/1.0 (ops@example.org)"
API_KEY = "contract-key-7d1e"
READ_TIMEOUT_S = 0.3
SLOWER_THAN_THE_READ_TIMEOUT_S = 0.5

# What keeps the faults quick: two tries, no backoff, short timeouts, no rate limit to wait on.
FAST = {
    "MAX_ATTEMPTS": "2",
    "BACKOFF_S": "0",
    "CONNECT_TIMEOUT_S": "0.3",
    "READ_TIMEOUT_S": str(READ_TIMEOUT_S),
    "RATE_PER_S": "1000",
}


def recorded(name: str) -> Any:
    return json.loads(fixture_path(name).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Wiring:
    """How one provider is set up for the contract.

    ``variables`` are its own settings (``PLAN`` for ``GEOTRIGGER_WEATHER_<NAME>_PLAN``), given
    the server's URL; ``serve`` routes its recorded success answer; ``paths`` are every path
    its requests go to (a fault is served at each); ``readings`` the cells the success gives;
    ``serve_absurd_time`` routes the recording with its time moved past what a date can hold.
    """

    cells: tuple[Cell, Cell]
    variables: Callable[[str], Mapping[str, str]]
    serve: Callable[[FixtureServer], None] = lambda server: None
    paths: tuple[str, ...] = ()
    readings: frozenset[str]
    source: str
    serve_absurd_time: Callable[[FixtureServer], None] | None = None

    @property
    def http(self) -> bool:
        return bool(self.paths)


# --- Open-Meteo: both cells in one request, answered with a list of two locations -------------

OPEN_METEO_CELLS = (Cell(key="om-1", lat=52.276, lon=6.873), Cell(key="om-2", lat=52.3, lon=6.9))


# Minutes before the last time a date can hold: adding a reading's validity overflows.
END_OF_TIME = "9999-12-31T23:55:00"


def serve_open_meteo(server: FixtureServer) -> None:
    location = recorded("open_meteo/forecast_current_enschede_trimmed.json")
    server.route("/v1/forecast", Reply.json([location, location]))


def serve_open_meteo_absurd_time(server: FixtureServer) -> None:
    location = recorded("open_meteo/forecast_current_enschede_trimmed.json")
    location["current"]["time"] = END_OF_TIME
    location["utc_offset_seconds"] = 0
    server.route("/v1/forecast", Reply.json([location, location]))


# --- MET Norway: one request per cell ---------------------------------------------------------

METNO_PATH = "/weatherapi/locationforecast/2.0/compact"
METNO_CELLS = (
    Cell(key="mn-1", lat=40.7123, lon=-74.006),
    Cell(key="mn-2", lat=40.6782, lon=-73.9442),
)


def serve_metno(server: FixtureServer) -> None:
    recording = recorded("metno/locationforecast_2.0_compact_lat40.7_lon-74.0_trimmed.json")
    server.route(METNO_PATH, Reply.json(recording["data"]))


def serve_metno_absurd_time(server: FixtureServer) -> None:
    document = recorded("metno/locationforecast_2.0_compact_lat40.7_lon-74.0_trimmed.json")["data"]
    for entry in document["properties"]["timeseries"]:
        entry["time"] = END_OF_TIME + "Z"
    server.route(METNO_PATH, Reply.json(document))


# --- NWS: per cell its point, the point's stations, the nearest's latest observation ----------

NWS_CELLS = (Cell(key="nws-1", lat=30.0, lon=-85.0), Cell(key="nws-2", lat=30.5, lon=-85.0))
NWS_POINTS = ("/points/30,-85", "/points/30.5,-85")  # both answered with the recorded point
NWS_STATIONS = "/gridpoints/TAE/58,65/stations"
NWS_OBSERVATION = "/stations/KFLL/observations/latest"
NWS_FORECAST = "/gridpoints/TAE/58,65/forecast/hourly"


def serve_nws(server: FixtureServer) -> None:
    for point in NWS_POINTS:
        server.route(point, Reply.file("nws/points.json"))
    server.route(NWS_STATIONS, Reply.json(nws_stations("KFLL", "KTLH")))
    observation = recorded("nws/stations_observations.json")["features"][0]
    server.route(NWS_OBSERVATION, Reply.json(observation))
    server.route(NWS_FORECAST, Reply.file("nws/gridpoints_forecast_hourly_us.json"))


def serve_nws_absurd_time(server: FixtureServer) -> None:
    serve_nws(server)
    observation = recorded("nws/stations_observations.json")["features"][0]
    observation["properties"]["timestamp"] = END_OF_TIME + "+00:00"
    server.route(NWS_OBSERVATION, Reply.json(observation))


# --- OpenWeatherMap: one request per cell -----------------------------------------------------

OWM_PATH = "/data/3.0/onecall"
OWM_CELLS = (Cell(key="owm-1", lat=51.4769, lon=0.0005), Cell(key="owm-2", lat=51.5, lon=-0.12))


def serve_openweathermap(server: FixtureServer) -> None:
    server.route(
        OWM_PATH, Reply.file("openweathermap/onecall_3.0_greenwich_light_rain_trimmed.json")
    )


def serve_openweathermap_absurd_time(server: FixtureServer) -> None:
    document = recorded("openweathermap/onecall_3.0_greenwich_light_rain_trimmed.json")
    document["current"]["dt"] = 10**20  # epoch seconds some 3e12 years on
    server.route(OWM_PATH, Reply.json(document))


# --- file: the example day; a second cell it has nothing for ----------------------------------

HELSINKI = Cell(key=cell_of(60.1699, 24.9384, 5000), lat=60.1699, lon=24.9384)
EQUATOR = Cell(key=cell_of(0.0, 0.0, 5000), lat=0.0, lon=0.0)


WIRINGS: Mapping[str, Wiring] = {
    "open-meteo": Wiring(
        cells=OPEN_METEO_CELLS,
        variables=lambda url: {"BASE_URL": url, "PLAN": "free"},
        serve=serve_open_meteo,
        paths=("/v1/forecast",),
        readings=frozenset(c.key for c in OPEN_METEO_CELLS),
        source="open-meteo",
        serve_absurd_time=serve_open_meteo_absurd_time,
    ),
    "metno": Wiring(
        cells=METNO_CELLS,
        variables=lambda url: {"BASE_URL": url, "USER_AGENT": USER_AGENT},
        serve=serve_metno,
        paths=(METNO_PATH,),
        readings=frozenset(c.key for c in METNO_CELLS),
        source="metno",
        serve_absurd_time=serve_metno_absurd_time,
    ),
    "nws": Wiring(
        cells=NWS_CELLS,
        variables=lambda url: {"BASE_URL": url, "USER_AGENT": USER_AGENT},
        serve=serve_nws,
        paths=(*NWS_POINTS, NWS_STATIONS, NWS_OBSERVATION, NWS_FORECAST),
        readings=frozenset(c.key for c in NWS_CELLS),
        source="nws",
        serve_absurd_time=serve_nws_absurd_time,
    ),
    "openweathermap": Wiring(
        cells=OWM_CELLS,
        variables=lambda url: {"BASE_URL": url, "API_KEY": API_KEY},
        serve=serve_openweathermap,
        paths=(OWM_PATH,),
        readings=frozenset(c.key for c in OWM_CELLS),
        source="openweathermap",
        serve_absurd_time=serve_openweathermap_absurd_time,
    ),
    "file": Wiring(
        cells=(HELSINKI, EQUATOR),
        variables=lambda url: {"PATH": str(EXAMPLE_WEATHER), "AT": "2026-06-12T08:00:00Z"},
        readings=frozenset({HELSINKI.key}),
        source="file",  # what the recording says
    ),
}


def environ(name: str, wiring: Wiring, url: str, **overrides: str) -> dict[str, str]:
    """The variables a service would have for provider ``name``."""
    prefix = f"GEOTRIGGER_WEATHER_{name.upper().replace('-', '_')}_"
    settings = {**(FAST if wiring.http else {}), **wiring.variables(url), **overrides}
    return {prefix + key: value for key, value in settings.items()}


def wiring_of(name: str) -> Wiring:
    wiring = WIRINGS.get(name)
    if wiring is None:
        pytest.fail(f"weather provider {name!r} is registered but has no Wiring in {__name__}")
    return wiring


def build(name: str, server: FixtureServer, **overrides: str) -> WeatherProvider:
    """The provider as a service builds it: its config from variables, created by the registry."""
    wiring = wiring_of(name)
    return create_provider(provider_config(name, environ(name, wiring, server.url, **overrides)))


def test_every_registered_provider_is_wired_here() -> None:
    missing = sorted(set(provider_names()) - set(WIRINGS))
    assert missing == [], f"add a Wiring for {missing} to {__name__}"


def test_no_wiring_is_left_for_a_provider_that_is_gone() -> None:
    assert sorted(set(WIRINGS) - set(provider_names())) == []


# --- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", provider_names())
def test_a_provider_built_by_the_registry_reads_its_recording(
    server: FixtureServer, name: str
) -> None:
    wiring = wiring_of(name)
    wiring.serve(server)
    provider = build(name, server)
    try:
        assert isinstance(provider, WeatherProvider)
        assert provider.name == name
        result = provider.fetch(list(wiring.cells))
        empty = provider.fetch([])
    finally:
        provider.close()

    keys = {cell.key for cell in wiring.cells}
    assert set(result.readings) | set(result.errors) == keys  # every cell ends somewhere...
    assert set(result.readings) & set(result.errors) == set()  # ...in one place only
    assert set(result.readings) == wiring.readings
    for key, reading in result.readings.items():
        assert isinstance(reading, WeatherReading), key
        assert reading.observed_at.tzinfo is not None
        assert reading.observed_at.utcoffset() == timedelta(0)
        assert reading.valid_until is not None and reading.valid_until >= reading.observed_at
        assert reading.source == wiring.source
    for key, error in result.errors.items():
        assert isinstance(error, ProviderError), key
        assert error.provider == name
    assert (dict(empty.readings), dict(empty.errors)) == ({}, {})


@pytest.mark.parametrize("name", provider_names())
def test_close_may_be_called_twice(server: FixtureServer, name: str) -> None:
    wiring_of(name).serve(server)
    provider = build(name, server)
    provider.close()
    provider.close()
    assert provider.name == name


# --- faults, served to every HTTP provider in turn --------------------------------------------

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Fault:
    reply: Reply
    expected: type[ProviderError]
    overrides: Mapping[str, str]


FAULTS: Mapping[str, Fault] = {
    "503 forever": Fault(Reply.html(503), ProviderUnavailableError, {}),
    "429 forever, Retry-After 0": Fault(
        Reply.json({"reason": "Too many requests"}, status=429, **{"Retry-After": "0"}),
        ProviderRateLimitedError,
        {},
    ),
    "an HTML page with 200": Fault(
        Reply.html(200, "<html><body><h1>Maintenance</h1></body></html>"),
        ProviderResponseError,
        {},
    ),
    "truncated JSON": Fault(
        Reply(body=b'{"current": {"time": "2026-06-12T06:00", "temperat', headers=JSON),
        ProviderResponseError,
        {},
    ),
    "garbage": Fault(
        Reply(body=b"\x00\x9f\xfe garbage \x01", headers=JSON), ProviderResponseError, {}
    ),
    # One try: each one waits out the whole read timeout.
    "a read timeout": Fault(
        Reply(body=b"{}", headers=JSON, delay_s=SLOWER_THAN_THE_READ_TIMEOUT_S),
        ProviderUnavailableError,
        {"MAX_ATTEMPTS": "1"},
    ),
    "401": Fault(Reply.json({"message": "Invalid API key"}, status=401), ProviderConfigError, {}),
    # Well-formed JSON of the wrong shape: nothing a reading needs is there.
    "an empty list": Fault(Reply.json([]), ProviderResponseError, {}),
    "an empty object": Fault(Reply.json({}), ProviderResponseError, {}),
    "null": Fault(Reply.json(None), ProviderResponseError, {}),
    "a list of numbers": Fault(Reply.json([1, 2, 3]), ProviderResponseError, {}),
    "a string": Fault(Reply.json("current"), ProviderResponseError, {}),
    "arrays nested 200,000 deep": Fault(
        Reply(body=b"[" * 200_000 + b"]" * 200_000, headers=JSON), ProviderResponseError, {}
    ),
}

HTTP_PROVIDERS = [name for name in provider_names() if name in WIRINGS and WIRINGS[name].http]


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", HTTP_PROVIDERS)
def test_a_fault_is_a_typed_error_per_cell_and_never_raises(
    server: FixtureServer, name: str, fault: str
) -> None:
    wiring, served = WIRINGS[name], FAULTS[fault]
    for path in wiring.paths:
        server.route(path, served.reply)
    provider = build(name, server, **served.overrides)
    try:
        result = provider.fetch(list(wiring.cells))
    finally:
        provider.close()

    assert dict(result.readings) == {}
    assert set(result.errors) == {cell.key for cell in wiring.cells}
    for key, error in result.errors.items():
        assert isinstance(error, served.expected), f"{key}: {type(error).__name__}: {error}"
        assert error.provider == name
        assert API_KEY not in str(error)
    assert server.seen(), "the fault was never asked for"


@pytest.mark.parametrize("name", HTTP_PROVIDERS)
def test_a_time_past_what_a_date_holds_is_a_response_error(
    server: FixtureServer, name: str
) -> None:
    wiring = WIRINGS[name]
    assert wiring.serve_absurd_time is not None, f"{name} has no absurd-time variant"
    wiring.serve_absurd_time(server)
    provider = build(name, server)
    try:
        result = provider.fetch(list(wiring.cells))
    finally:
        provider.close()

    assert dict(result.readings) == {}
    assert set(result.errors) == {cell.key for cell in wiring.cells}
    for key, error in result.errors.items():
        assert isinstance(error, ProviderResponseError), f"{key}: {type(error).__name__}: {error}"


# --- NWS: a fault on one link of its chain at a time ------------------------------------------

# The cells whose reading goes through each path: a point is one cell's, the station both's; the
# hourly forecast is optional (when it fails the reading stands without its chance of rain).
NWS_CELLS_THROUGH: Mapping[str, frozenset[str]] = {
    NWS_POINTS[0]: frozenset({NWS_CELLS[0].key}),
    NWS_POINTS[1]: frozenset({NWS_CELLS[1].key}),
    NWS_STATIONS: frozenset(c.key for c in NWS_CELLS),
    NWS_OBSERVATION: frozenset(c.key for c in NWS_CELLS),
    NWS_FORECAST: frozenset(),
}
# The read timeout is left out here (it waits for real, and the all-paths test has it).
CHAIN_FAULTS = [fault for fault in FAULTS if fault != "a read timeout"]


def test_every_nws_path_has_its_cells() -> None:
    assert set(NWS_CELLS_THROUGH) == set(WIRINGS["nws"].paths)


@pytest.mark.parametrize("fault", CHAIN_FAULTS)
@pytest.mark.parametrize("path", list(NWS_CELLS_THROUGH))
def test_nws_a_fault_on_one_path_fails_only_the_cells_through_it(
    server: FixtureServer, path: str, fault: str
) -> None:
    served = FAULTS[fault]
    serve_nws(server)
    server.route(path, served.reply)
    provider = build("nws", server, **served.overrides)
    try:
        result = provider.fetch(list(NWS_CELLS))
    finally:
        provider.close()

    failed = NWS_CELLS_THROUGH[path]
    assert set(result.errors) == failed
    assert set(result.readings) == {cell.key for cell in NWS_CELLS} - failed
    for key, error in result.errors.items():
        assert isinstance(error, served.expected), f"{key}: {type(error).__name__}: {error}"
    if path == NWS_FORECAST:
        assert all(r.precipitation_probability_pct is None for r in result.readings.values())
    assert server.seen(path), "the fault was never asked for"


# --- settings refused when the provider is created ---------------------------------------------


@pytest.mark.parametrize("base_url", ["ftp://weather.example.org", "https://", "weather.example"])
@pytest.mark.parametrize("name", HTTP_PROVIDERS)
def test_a_base_url_it_cannot_send_to_is_refused_at_creation(
    server: FixtureServer, name: str, base_url: str
) -> None:
    with pytest.raises(ProviderConfigError, match="base_url"):
        build(name, server, BASE_URL=base_url)


@pytest.mark.parametrize("name", HTTP_PROVIDERS)
def test_a_user_agent_with_a_line_break_is_refused_at_creation(
    server: FixtureServer, name: str
) -> None:
    with pytest.raises(ProviderConfigError, match="user_agent"):
        build(name, server, USER_AGENT="geotrigger/1.0\r\nX-Injected: yes")


@pytest.mark.parametrize("name", HTTP_PROVIDERS)
def test_repr_shows_the_base_url_without_credentials_or_key(
    server: FixtureServer, name: str
) -> None:
    with_credentials = server.url.replace("http://", "http://proxy-user:pa55word@")
    provider = build(name, server, BASE_URL=with_credentials, API_KEY=API_KEY)
    try:
        shown = repr(provider)
    finally:
        provider.close()

    assert server.url in shown
    for secret in ("pa55word", "proxy-user", API_KEY):
        assert secret not in shown
