"""``geotrigger weather now`` through ``main``: each shipped provider configured from the
environment, reading from a real local server serving its recorded answer (the file provider
from the example day), and the errors: refusals, bad points, options that do not apply."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from geotrigger.cli import main
from geotrigger.weather.cells import cell_of
from tests.providers.server import (
    FixtureServer,
    Reply,
    fixture_path,
)

EXAMPLE_WEATHER = "examples/weather/helsinki-2026-06-12.jsonl"
USER_AGENT = "geotrigger-tests/1.0 (ops@example.org)"
OWM_KEY = "owm-test-key-5f3a9c"
METNO_RECORDED = "metno/locationforecast_2.0_compact_lat40.7_lon-74.0_trimmed.json"
OWM_RECORDED = "openweathermap/onecall_3.0_greenwich_light_rain_trimmed.json"
NWS_POINT = "/points/30,-85"


def recorded(name: str) -> Any:
    return json.loads(fixture_path(name).read_text(encoding="utf-8"))


def stations_list(*identifiers: str) -> dict[str, Any]:
    """A ``/gridpoints/.../stations`` FeatureCollection, nearest first, as NWS sends it."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"properties": {"stationIdentifier": identifier}} for identifier in identifiers
        ],
    }


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No weather variable of the machine running the tests leaks in; one try per request."""
    for name in list(os.environ):
        if name.startswith("GEOTRIGGER_WEATHER_"):
            monkeypatch.delenv(name)
    for name in ("OPEN_METEO", "METNO", "NWS", "OPENWEATHERMAP"):
        monkeypatch.setenv(f"GEOTRIGGER_WEATHER_{name}_MAX_ATTEMPTS", "1")
        monkeypatch.setenv(f"GEOTRIGGER_WEATHER_{name}_READ_TIMEOUT_S", "2")


def weather_now(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["weather", "now", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def openweathermap_now(
    server: FixtureServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reply: Reply,
) -> tuple[int, str, str]:
    """``weather now`` of OpenWeatherMap with an API key, the server answering ``reply``."""
    server.route("/data/3.0/onecall", reply)
    monkeypatch.setenv("GEOTRIGGER_WEATHER_OPENWEATHERMAP_API_KEY", OWM_KEY)
    return weather_now(
        capsys, "--provider", "openweathermap", "--lat", "51.4769", "--lon", "0.0005",
        "--base-url", server.url,
    )  # fmt: skip


def printed(out: str) -> dict[str, Any]:
    (line,) = out.splitlines()
    document: dict[str, Any] = json.loads(line)
    return document


FIELDS = {
    "provider",
    "key",
    "observed_at",
    "valid_until",
    "condition",
    "temperature_c",
    "feels_like_c",
    "precipitation_mm_h",
    "precipitation_probability_pct",
    "wind_speed_mps",
    "wind_gust_mps",
    "uv_index",
    "humidity_pct",
    "source",
}


def test_open_meteo_with_the_free_plan(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/v1/forecast", Reply.file("open_meteo/forecast_current_enschede_trimmed.json"))
    monkeypatch.setenv("GEOTRIGGER_WEATHER_OPEN_METEO_PLAN", "free")
    monkeypatch.setenv("GEOTRIGGER_WEATHER_OPEN_METEO_BASE_URL", "http://127.0.0.1:9")  # overridden

    code, out, err = weather_now(
        capsys, "--provider", "open-meteo", "--lat", "52.276", "--lon", "6.873",
        "--base-url", server.url,
    )  # fmt: skip

    assert (code, err) == (0, "")
    document = printed(out)
    assert set(document) == FIELDS
    assert document["provider"] == "open-meteo"
    assert document["key"] == cell_of(52.276, 6.873, 5000)
    assert document["observed_at"] == "2026-10-03T10:30:00Z"  # 12:30 at UTC+2
    assert document["valid_until"] == "2026-10-03T10:45:00Z"
    assert document["condition"] == "partly_cloudy"
    assert document["temperature_c"] == 17.7
    assert document["humidity_pct"] == 66
    assert document["uv_index"] is None
    assert document["source"] == "open-meteo"
    (seen,) = server.seen("/v1/forecast")
    assert seen.query["latitude"] == ["52.276"] and seen.query["longitude"] == ["6.873"]


def test_metno_with_a_user_agent(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = recorded(METNO_RECORDED)["data"]
    server.route("/weatherapi/locationforecast/2.0/compact", Reply.json(body))
    monkeypatch.setenv("GEOTRIGGER_WEATHER_METNO_USER_AGENT", USER_AGENT)

    code, out, _ = weather_now(
        capsys, "--provider", "metno", "--lat", "40.7", "--lon", "-74.0", "--base-url", server.url
    )

    assert code == 0
    document = printed(out)
    last = body["properties"]["timeseries"][-1]  # the recording is in the past: its last hour
    assert document["observed_at"] == last["time"]
    assert document["temperature_c"] == last["data"]["instant"]["details"]["air_temperature"]
    assert document["humidity_pct"] == last["data"]["instant"]["details"]["relative_humidity"]
    assert document["feels_like_c"] is None  # MET Norway gives none
    assert document["source"] == "metno"
    (seen,) = server.seen()
    assert seen.headers["user-agent"] == USER_AGENT


def test_nws_with_the_shared_user_agent(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route(NWS_POINT, Reply.file("nws/points.json"))
    server.route("/gridpoints/TAE/58,65/stations", Reply.json(stations_list("KFLL")))
    observation = recorded("nws/stations_observations.json")["features"][0]
    server.route("/stations/KFLL/observations/latest", Reply.json(observation))
    server.route(
        "/gridpoints/TAE/58,65/forecast/hourly",
        Reply.file("nws/gridpoints_forecast_hourly_us.json"),
    )
    monkeypatch.setenv("GEOTRIGGER_WEATHER_USER_AGENT", USER_AGENT)
    monkeypatch.setenv("GEOTRIGGER_WEATHER_NWS_BASE_URL", server.url)

    code, out, _ = weather_now(capsys, "--provider", "nws", "--lat", "30", "--lon", "-85")

    assert code == 0
    document = printed(out)
    assert document["observed_at"] == "2019-06-27T10:53:00Z"
    assert document["valid_until"] == "2019-06-27T11:53:00Z"
    assert document["temperature_c"] == 10.0
    assert document["precipitation_probability_pct"] == 20.0
    assert document["condition"] == "partly_cloudy"
    assert document["source"] == "nws"
    assert {seen.headers["user-agent"] for seen in server.seen()} == {USER_AGENT}


def test_openweathermap_with_an_api_key(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = openweathermap_now(server, monkeypatch, capsys, Reply.file(OWM_RECORDED))

    assert code == 0
    document = printed(out)
    assert document["observed_at"] == "2024-10-25T15:59:18Z"
    assert document["temperature_c"] == 14.74
    assert document["precipitation_mm_h"] == 0.29
    assert document["condition"] == "rain"
    assert document["source"] == "openweathermap"
    assert OWM_KEY not in out
    (seen,) = server.seen()
    assert seen.query["appid"] == [OWM_KEY]


def test_file_at_a_given_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEOTRIGGER_WEATHER_FILE_PATH", EXAMPLE_WEATHER)

    code, out, _ = weather_now(
        capsys, "--provider", "file", "--lat", "60.1699", "--lon", "24.9384",
        "--at", "2026-06-12T06:20:00Z",
    )  # fmt: skip

    assert code == 0
    assert printed(out) == {
        "provider": "file",
        "key": "5000m:1338:554",
        "observed_at": "2026-06-12T06:15:00Z",
        "valid_until": "2026-06-12T07:15:00Z",
        "condition": "rain",
        "temperature_c": 13.0,
        "feels_like_c": 11.6,
        "precipitation_mm_h": 2.4,
        "precipitation_probability_pct": 100.0,
        "wind_speed_mps": 5.8,
        "wind_gust_mps": None,
        "uv_index": 0.8,
        "humidity_pct": 94.0,
        "source": "file",
    }


def test_file_before_its_first_reading_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEOTRIGGER_WEATHER_FILE_PATH", EXAMPLE_WEATHER)

    code, out, err = weather_now(
        capsys, "--provider", "file", "--lat", "60.1699", "--lon", "24.9384", "--at", "1781236800"
    )  # 2026-06-12T04:00:00Z

    assert (code, out) == (1, "")
    assert err == (
        "geotrigger: error: weather provider 'file' (cell 5000m:1338:554): no reading at or "
        "before 2026-06-12T04:00:00Z in helsinki-2026-06-12.jsonl\n"
    )


def test_a_refused_key_fails_with_the_message_and_never_shows_the_key(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal = Reply.file("errors/owm_401_invalid_key_string_cod.json", status=401)
    code, out, err = openweathermap_now(server, monkeypatch, capsys, refusal)

    assert code == 1
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("geotrigger: error: weather provider 'openweathermap'")
    assert "401" in line and "Invalid API key" in line
    assert OWM_KEY not in err


@pytest.mark.parametrize(
    ("provider", "environ"),
    [
        ("open-meteo", {"GEOTRIGGER_WEATHER_OPEN_METEO_PLAN": "free"}),
        ("metno", {"GEOTRIGGER_WEATHER_USER_AGENT": USER_AGENT}),
        ("nws", {"GEOTRIGGER_WEATHER_USER_AGENT": USER_AGENT}),
    ],
)
def test_a_refusal_of_any_provider_exits_1_with_one_line(
    server: FixtureServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    provider: str,
    environ: dict[str, str],
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    refusal = Reply.json({"reason": "Forbidden: bad credentials"}, status=401)
    for path in ("/v1/forecast", "/weatherapi/locationforecast/2.0/compact", NWS_POINT):
        server.route(path, refusal)

    code, out, err = weather_now(
        capsys, "--provider", provider, "--lat", "30", "--lon", "-85", "--base-url", server.url
    )

    assert (code, out) == (1, "")
    (line,) = err.splitlines()
    assert line.startswith(f"geotrigger: error: weather provider {provider!r}")
    assert "401" in line and "bad credentials" in line


def test_settings_a_provider_refuses_say_where_they_come_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = weather_now(capsys, "--provider", "nws", "--lat", "30", "--lon", "-85")
    assert code == 1
    assert "User-Agent" in err and "GEOTRIGGER_WEATHER_NWS_USER_AGENT" in err


def test_an_unknown_provider_is_named_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = weather_now(capsys, "--provider", "open-meto", "--lat", "1", "--lon", "2")
    assert (code, out) == (1, "")
    assert "unknown weather provider 'open-meto' (did you mean 'open-meteo'?)" in err


def test_at_is_refused_for_a_live_provider(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEOTRIGGER_WEATHER_OPEN_METEO_PLAN", "free")
    code, _, err = weather_now(
        capsys, "--provider", "open-meteo", "--lat", "1", "--lon", "2", "--at", "2026-06-12T06:00Z"
    )
    assert code == 1
    assert "--at applies to providers that play recordings (file), not 'open-meteo'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lat", "90.5", "--lon", "0"], "argument --lat: latitude 90.5 is outside [-90, 90]"),
        (["--lat", "0", "--lon", "-181"], "argument --lon: longitude -181 is outside [-180, 180]"),
        (["--lat", "north", "--lon", "0"], "latitude must be a number of degrees, got 'north'"),
        (["--lat", "nan", "--lon", "0"], "argument --lat: latitude nan is outside [-90, 90]"),
        (["--lat", "0", "--lon", "0", "--at", "soon"], "argument --at: "),
    ],
)
def test_a_point_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["weather", "now", "--provider", "file", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bad_number_in_the_environment_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEOTRIGGER_WEATHER_METNO_READ_TIMEOUT_S", "ten")
    code, _, err = weather_now(capsys, "--provider", "metno", "--lat", "1", "--lon", "2")
    assert code == 1
    assert "GEOTRIGGER_WEATHER_METNO_READ_TIMEOUT_S='ten': expected a positive number" in err
