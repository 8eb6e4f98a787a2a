"""The providers' HTTP client against a real local server: retries, typed errors, the circuit
breaker, the rate limit and conditional GETs. Waits run on a fake clock; only the read-timeout
test waits for real (a 0.1 s timeout)."""

from __future__ import annotations

import gzip
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from geotrigger_providers.http import HttpClient
from geotrigger_providers.openweathermap import OpenWeatherMapProvider

from geotrigger.weather.provider import (
    Cell,
    ProviderConfig,
    ProviderConfigError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from tests.providers.clocks import SleepingClock, WallClock
from tests.providers.server import FixtureServer, Reply, fixture_path

API_KEY = "k3y-5ecret-0123"
JSON_HEADERS = {"Content-Type": "application/json"}
METNO = "metno/locationforecast_2.0_compact_lat40.7_lon-74.0_trimmed.json"
# The recorded MET Norway response: Last-Modified 11:44:31, Expires 12:14:53 GMT.
BEFORE_EXPIRES = datetime(2020, 7, 20, 12, 0, tzinfo=UTC)
AFTER_EXPIRES = datetime(2020, 7, 20, 12, 20, tzinfo=UTC)


@pytest.fixture
def fake_time() -> SleepingClock:
    return SleepingClock()


def make_client(
    server: FixtureServer,
    fake_time: SleepingClock,
    *,
    rng: float = 0.5,
    now: datetime | None = None,
    **settings: Any,
) -> HttpClient:
    """A client of ``server`` on the fake clock, with a fixed jitter draw ``rng``."""
    config = ProviderConfig(
        name="test-provider",
        **{
            "base_url": server.url + "/",
            "rate_per_s": 1000.0,
            "backoff_s": 1.0,
            "max_backoff_s": 30.0,
            **settings,
        },
    )
    wall = WallClock(now or datetime.now(UTC))
    return HttpClient(
        config,
        default_base_url="https://unused.example",
        clock=fake_time,
        sleep=fake_time.sleep,
        rng=lambda: rng,
        now=wall,
    )


def recorded_metno() -> tuple[dict[str, str], bytes]:
    """The recorded MET Norway 200: its headers (less Content-Length, which the server sets
    for the body it sends) and its document, gzipped as the recorded Content-Encoding says."""
    recording = json.loads(fixture_path(METNO).read_text())
    assert recording["status_code"] == 200
    headers = {
        name: value
        for name, value in recording["headers"].items()
        if name not in {"Content-Length", "Connection"}
    }
    return headers, gzip.compress(json.dumps(recording["data"]).encode())


# -- success ----------------------------------------------------------------------------------


def test_a_success_sends_the_user_agent_and_the_params(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/v1/forecast", Reply.file("open_meteo/forecast_current_enschede_trimmed.json"))
    client = make_client(server, fake_time, user_agent="geotrigger/0.1 ops@example.org")

    response = client.get(
        "/v1/forecast", params={"latitude": 52.2, "current": "temperature_2m"}, cell="c1"
    )

    assert response.status == 200 and not response.not_modified
    assert response.url == server.url + "/v1/forecast"  # no query string
    assert response.headers["content-type"] == "application/json"
    assert "current" in response.json()
    (seen,) = server.seen("/v1/forecast")
    assert seen.headers["user-agent"] == "geotrigger/0.1 ops@example.org"
    assert seen.query == {"latitude": ["52.2"], "current": ["temperature_2m"]}
    assert client.base_url == server.url  # the trailing slash is dropped
    assert fake_time.sleeps == []


def test_an_absolute_url_is_fetched_as_is(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/gridpoints/OKX/33,35/forecast", Reply.file("nws/gridpoints_forecast_us.json"))
    client = make_client(server, fake_time, base_url="https://api.weather.invalid")

    response = client.get(server.url + "/gridpoints/OKX/33,35/forecast")

    assert response.json()["type"] == "Feature"
    assert len(server.seen("/gridpoints/OKX/33,35/forecast")) == 1


# -- retries ----------------------------------------------------------------------------------


def test_a_read_timeout_is_retried_then_unavailable(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/slow", Reply(delay_s=0.4, body=b"{}"))
    client = make_client(server, fake_time, read_timeout_s=0.1, max_attempts=2)

    with pytest.raises(ProviderUnavailableError) as caught:
        client.get("/slow", cell="5000m:1:2")

    assert "read timed out after 2 attempts" in str(caught.value)
    assert caught.value.cell == "5000m:1:2" and caught.value.kind == "unavailable"
    assert len(server.seen("/slow")) == 2
    assert fake_time.sleeps == [0.5]  # one backoff: rng 0.5 * backoff 1 s


def test_a_503_then_a_200_recovers_with_jittered_backoff(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route(
        "/v1/forecast",
        Reply.file("errors/nws_503_unavailable_resource.json", status=503),
        Reply.file("errors/nws_503_unavailable_resource.json", status=503),
        Reply.json({"ok": True}),
    )
    client = make_client(server, fake_time, rng=0.25, backoff_s=2.0)

    assert client.get("/v1/forecast").json() == {"ok": True}

    # rng() * backoff_s * 2**n: 0.25 * 2 and 0.25 * 4.
    assert fake_time.sleeps == [0.5, 1.0]
    assert len(server.seen("/v1/forecast")) == 3
    assert client.breaker_state == "closed"


def test_the_backoff_is_capped_at_max_backoff(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/flaky", Reply(status=500), Reply(status=500), Reply(status=500), Reply())
    client = make_client(server, fake_time, rng=1.0, backoff_s=2.0, max_backoff_s=5.0)

    client.get("/flaky")

    assert fake_time.sleeps == [2.0, 4.0, 5.0]


def test_a_429_waits_for_retry_after_then_succeeds(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route(
        "/v1/forecast",
        Reply.file("errors/open_meteo_429_minutely.json", status=429, **{"Retry-After": "2"}),
        Reply.json({"ok": True}),
    )
    client = make_client(server, fake_time, rng=0.1)

    assert client.get("/v1/forecast").json() == {"ok": True}

    assert fake_time.sleeps == [2.0]  # the Retry-After, longer than the jitter (0.1 s)


def test_a_retry_after_date_is_read_against_the_wall_clock(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    server.route(
        "/busy",
        Reply(status=503, headers={"Retry-After": "Sun, 01 Mar 2026 12:00:07 GMT"}),
        Reply(),
    )
    client = make_client(server, fake_time, rng=0.0, now=now)

    client.get("/busy")

    assert fake_time.sleeps == [7.0]


def test_a_429_with_a_long_retry_after_fails_at_once(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route(
        "/data/3.0/onecall",
        Reply.file("errors/owm_429_blocked.json", status=429, **{"Retry-After": "3600"}),
    )
    client = make_client(server, fake_time)

    with pytest.raises(ProviderRateLimitedError) as caught:
        client.get("/data/3.0/onecall", params={"appid": API_KEY})

    assert caught.value.retry_after_s == 3600.0
    assert "Retry-After 3600 s" in caught.value.reason
    assert len(server.seen("/data/3.0/onecall")) == 1
    assert fake_time.sleeps == []


def test_a_503_with_a_long_retry_after_is_unavailable_at_once(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/busy", Reply(status=503, headers={"Retry-After": "120"}))
    client = make_client(server, fake_time)

    with pytest.raises(ProviderUnavailableError, match="HTTP 503"):
        client.get("/busy")

    assert len(server.seen("/busy")) == 1 and fake_time.sleeps == []


def test_429_forever_is_rate_limited_after_the_last_attempt(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/v1/forecast", Reply.file("errors/open_meteo_429_minutely.json", status=429))
    client = make_client(server, fake_time, max_attempts=3)

    with pytest.raises(ProviderRateLimitedError) as caught:
        client.get("/v1/forecast")

    assert "HTTP 429 after 3 attempts" in caught.value.reason
    assert "Minutely API request limit exceeded" in caught.value.reason
    assert caught.value.kind == "rate_limited"
    assert len(server.seen("/v1/forecast")) == 3
    assert len(fake_time.sleeps) == 2


def test_a_dropped_connection_is_retried(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/drop", Reply(drop=True), Reply.json({"ok": True}))
    client = make_client(server, fake_time)

    assert client.get("/drop").json() == {"ok": True}
    assert len(server.seen("/drop")) == 2


def test_a_refused_connection_is_unavailable_after_the_last_attempt(
    fake_time: SleepingClock,
) -> None:
    with socket.socket() as probe:  # a free port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ProviderConfig(name="test-provider", base_url=f"http://127.0.0.1:{port}")
    client = HttpClient(config, default_base_url="", clock=fake_time, sleep=fake_time.sleep)

    with pytest.raises(ProviderUnavailableError, match="connection failed after 4 attempts"):
        client.get("/v1/forecast")

    assert len(fake_time.sleeps) == 3


# -- refusals ---------------------------------------------------------------------------------


def test_a_401_is_a_config_error_without_retry_and_the_key_is_masked(
    server: FixtureServer, fake_time: SleepingClock, caplog: pytest.LogCaptureFixture
) -> None:
    recorded = json.loads(fixture_path("errors/owm_401_invalid_key_string_cod.json").read_text())
    # Derived: a provider that echoes the key it refused.
    echoed = {**recorded, "message": f"{recorded['message']} (key {API_KEY})"}
    server.route("/data/3.0/onecall", Reply.json(echoed, status=401))
    client = make_client(server, fake_time, api_key=API_KEY)

    with (
        caplog.at_level(logging.DEBUG, logger="geotrigger.providers.http"),
        pytest.raises(ProviderConfigError) as caught,
    ):
        client.get("/data/3.0/onecall", params={"lat": 51.5, "appid": API_KEY}, cell="c9")

    message = str(caught.value)
    assert message.startswith(
        f"weather provider 'test-provider' (cell c9): HTTP 401 from {server.url}"
        "/data/3.0/onecall: Invalid API key."
    )
    assert "(key ***)" in message
    assert API_KEY not in message and API_KEY not in repr(client)
    assert API_KEY not in "".join(r.getMessage() for r in caplog.records if "geotrigger" in r.name)
    assert caught.value.__cause__ is None
    assert len(server.seen("/data/3.0/onecall")) == 1
    assert server.seen()[0].query["appid"] == [API_KEY]
    assert fake_time.sleeps == []


def test_a_key_in_the_path_is_masked(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route(f"/forecast/{API_KEY}/40.7,-74.0", Reply(status=503))
    client = make_client(server, fake_time, api_key=API_KEY, max_attempts=2)

    with pytest.raises(ProviderUnavailableError) as caught:
        client.get(f"/forecast/{API_KEY}/40.7,-74.0")

    assert API_KEY not in str(caught.value)
    assert "/forecast/***/40.7,-74.0" in str(caught.value)


def test_a_404_is_a_config_error_naming_what_the_body_says(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/points/90,120.5518", Reply.file("errors/nws_404_invalid_point.json", 404))
    client = make_client(server, fake_time)

    with pytest.raises(ProviderConfigError) as caught:
        client.get("/points/90,120.5518")

    assert "HTTP 404" in caught.value.reason
    assert "Unable to provide data for requested point" in caught.value.reason
    assert len(server.seen("/points/90,120.5518")) == 1


def test_a_long_error_body_is_shortened(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/v1/forecast", Reply.json({"reason": "bad variable " * 100}, status=400))
    client = make_client(server, fake_time)

    with pytest.raises(ProviderConfigError) as caught:
        client.get("/v1/forecast")

    said = caught.value.reason.split(": ", 1)[1]
    assert said.startswith("bad variable bad variable") and said.endswith("...")
    assert len(said) <= 200


def test_a_304_without_a_cached_copy_is_a_config_error(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/compact", Reply(status=304))
    client = make_client(server, fake_time)

    with pytest.raises(ProviderConfigError, match=r"HTTP 304 .* no cached copy"):
        client.get("/compact")


# -- bodies -----------------------------------------------------------------------------------


def test_truncated_json_is_a_response_error_naming_where(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    document = fixture_path("open_meteo/forecast_current_enschede_trimmed.json").read_bytes()
    server.route("/v1/forecast", Reply(body=document[:120]))  # whole as sent, cut as JSON
    client = make_client(server, fake_time)

    response = client.get("/v1/forecast")
    with pytest.raises(ProviderResponseError) as caught:
        response.json()

    assert f"truncated JSON from {server.url}/v1/forecast" in caught.value.reason
    assert "(char 120)" in caught.value.reason
    assert caught.value.provider == "test-provider"


def test_garbage_json_is_a_response_error(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/v1/forecast", Reply(body=b'{"current": nope}'))
    client = make_client(server, fake_time)

    with pytest.raises(ProviderResponseError, match=r"invalid JSON .* column 13"):
        client.get("/v1/forecast").json()


def test_a_body_cut_short_in_transit_is_retried(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    body = fixture_path("nws/points.json").read_bytes()
    server.route("/points", Reply(body=body, truncate=100), Reply(body=body))
    client = make_client(server, fake_time)

    assert "properties" in client.get("/points").json()
    assert len(server.seen("/points")) == 2


def test_a_body_always_cut_short_is_unavailable(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    body = fixture_path("nws/points.json").read_bytes()
    server.route("/points", Reply(body=body, truncate=100))
    client = make_client(server, fake_time, max_attempts=2)

    with pytest.raises(ProviderUnavailableError, match="body cut short after 2 attempts"):
        client.get("/points")


def test_an_html_error_page_is_retried_then_a_response_error(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route(
        "/v1/forecast",
        Reply.html(502),
        Reply.html(200, "<html><head><title>Service Maintenance</title></head></html>"),
    )
    client = make_client(server, fake_time)

    response = client.get("/v1/forecast")
    with pytest.raises(ProviderResponseError) as caught:
        response.json()

    assert "an HTML page instead of JSON" in caught.value.reason
    assert "Service Maintenance" in caught.value.reason
    assert len(server.seen("/v1/forecast")) == 2 and len(fake_time.sleeps) == 1


# -- conditional GETs -------------------------------------------------------------------------


def test_a_304_serves_the_recorded_metno_response_from_the_cache(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    headers, body = recorded_metno()
    server.route(
        "/weatherapi/locationforecast/2.0/compact",
        Reply(body=body, headers=headers),
        Reply(status=304, headers={"Expires": "Mon, 20 Jul 2020 12:44:53 GMT"}),
    )
    client = make_client(server, fake_time, now=AFTER_EXPIRES)
    params = {"lat": 40.7, "lon": -74.0}

    first = client.get("/weatherapi/locationforecast/2.0/compact", params=params, conditional=True)
    second = client.get("/weatherapi/locationforecast/2.0/compact", params=params, conditional=True)
    third = client.get("/weatherapi/locationforecast/2.0/compact", params=params, conditional=True)

    assert not first.not_modified and second.not_modified and third.not_modified
    assert second.status == 200 and second.body == first.body
    assert second.json()["properties"]["meta"]["units"]["air_temperature"] == "celsius"
    seen = server.seen("/weatherapi/locationforecast/2.0/compact")
    assert "if-modified-since" not in seen[0].headers
    assert seen[1].headers["if-modified-since"] == "Mon, 20 Jul 2020 11:44:31 GMT"
    # The 304's new Expires (12:44:53) is after now (12:20): the third is served unasked.
    assert len(seen) == 2
    assert third.headers["expires"] == "Mon, 20 Jul 2020 12:44:53 GMT"


def test_before_expires_no_request_is_sent(server: FixtureServer, fake_time: SleepingClock) -> None:
    headers, body = recorded_metno()
    server.route("/compact", Reply(body=body, headers=headers))
    wall = WallClock(BEFORE_EXPIRES)
    config = ProviderConfig(name="metno", base_url=server.url)
    client = HttpClient(config, default_base_url="", now=wall)

    first = client.get("/compact", params={"lat": 40.7}, conditional=True)
    again = client.get("/compact", params={"lat": 40.7}, conditional=True)
    other_url = client.get("/compact", params={"lat": 40.8}, conditional=True)

    assert again.not_modified and again.body == first.body
    assert not other_url.not_modified  # cached per full URL, query included
    assert len(server.seen("/compact")) == 2
    wall.now = AFTER_EXPIRES
    client.get("/compact", params={"lat": 40.7}, conditional=True)
    assert server.seen("/compact")[-1].headers["if-modified-since"] == headers["Last-Modified"]


def test_without_conditional_nothing_is_cached(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    headers, body = recorded_metno()
    server.route("/compact", Reply(body=body, headers=headers))
    client = make_client(server, fake_time, now=BEFORE_EXPIRES)

    client.get("/compact")
    client.get("/compact")

    assert len(server.seen("/compact")) == 2
    assert all("if-modified-since" not in seen.headers for seen in server.seen("/compact"))


# -- circuit breaker --------------------------------------------------------------------------


def test_the_breaker_opens_after_n_failures_and_fails_fast(
    server: FixtureServer, fake_time: SleepingClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/down", Reply(status=503))
    client = make_client(
        server, fake_time, max_attempts=1, breaker_failures=3, breaker_reset_s=60.0
    )

    with caplog.at_level(logging.INFO, logger="geotrigger.providers.http"):
        for _ in range(3):
            with pytest.raises(ProviderUnavailableError, match="HTTP 503 after 1 attempt"):
                client.get("/down")
        assert client.breaker_state == "open"
        with pytest.raises(ProviderUnavailableError, match=r"circuit open .* next trial in 60 s"):
            client.get("/down", cell="c1")

    assert len(server.seen("/down")) == 3  # the fast failure sent nothing
    assert "provider test-provider: circuit open for 60 s" in caplog.text
    fake_time.now += 59.0
    assert client.breaker_state == "open"
    fake_time.now += 1.0
    assert client.breaker_state == "half-open"


def half_open_client(server: FixtureServer, fake_time: SleepingClock) -> HttpClient:
    """A client whose circuit two failed GETs of ``/down`` opened, and whose 30 s are up."""
    client = make_client(
        server, fake_time, max_attempts=1, breaker_failures=2, breaker_reset_s=30.0
    )
    for _ in range(2):
        with pytest.raises(ProviderUnavailableError):
            client.get("/down")
    fake_time.now += 30.0
    return client


def test_a_half_open_trial_success_closes_the_circuit(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/down", Reply(status=500), Reply(status=500), Reply.json({"ok": True}))
    client = half_open_client(server, fake_time)

    assert client.get("/down").json() == {"ok": True}
    assert client.breaker_state == "closed"


def test_a_half_open_trial_failure_reopens_the_circuit(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/down", Reply(status=500))
    client = half_open_client(server, fake_time)

    with pytest.raises(ProviderUnavailableError, match="HTTP 500"):
        client.get("/down")  # the one trial request

    assert client.breaker_state == "open"
    with pytest.raises(ProviderUnavailableError, match="circuit open"):
        client.get("/down")
    assert len(server.seen("/down")) == 3


def test_a_config_error_is_not_an_outage(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/x", Reply(status=503), Reply(status=401), Reply(status=503))
    client = make_client(server, fake_time, max_attempts=1, breaker_failures=2)

    for expected in (ProviderUnavailableError, ProviderConfigError, ProviderUnavailableError):
        with pytest.raises(expected):
            client.get("/x")

    assert client.breaker_state == "closed"


# -- rate limit -------------------------------------------------------------------------------


def test_the_rate_limit_waits_for_a_token(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/v1/forecast", Reply.json({"ok": True}))
    client = make_client(server, fake_time, rate_per_s=2.0)

    for _ in range(5):
        client.get("/v1/forecast")

    # A full bucket of 2, then one token every 0.5 s.
    assert fake_time.sleeps == [0.5, 0.5, 0.5]
    assert fake_time.now == 1001.5


def test_a_slow_rate_waits_a_whole_period(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/v1/forecast", Reply.json({"ok": True}))
    client = make_client(server, fake_time, rate_per_s=0.5)

    client.get("/v1/forecast")
    fake_time.now += 0.5  # a quarter of the 2 s period has passed
    client.get("/v1/forecast")

    assert fake_time.sleeps == [1.5]


# -- logs, repr, settings ---------------------------------------------------------------------


def test_a_retry_logs_one_line_without_the_query(
    server: FixtureServer, fake_time: SleepingClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/v1/forecast", Reply(status=503), Reply.json({"ok": True}))
    client = make_client(server, fake_time, rng=0.5, api_key=API_KEY)

    with caplog.at_level(logging.INFO, logger="geotrigger.providers.http"):
        client.get("/v1/forecast", params={"latitude": 52.2, "apikey": API_KEY})

    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        f"provider test-provider: HTTP 503 from {server.url}/v1/forecast; retry 1 of 3 in 0.50 s"
    )


def test_repr_names_the_provider_but_not_the_key(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    client = make_client(server, fake_time, api_key=API_KEY)

    assert repr(client) == (
        f"HttpClient(provider='test-provider', base_url='{server.url}', breaker='closed')"
    )
    client.close()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("max_attempts", 0), ("rate_per_s", 0.0), ("read_timeout_s", -1.0), ("backoff_s", -1.0)],
)
def test_settings_it_cannot_work_with_are_refused(setting: str, value: float) -> None:
    config = ProviderConfig(name="test-provider", **{setting: value})

    with pytest.raises(ProviderConfigError, match=setting):
        HttpClient(config, default_base_url="https://api.example")


@pytest.mark.parametrize(
    ("base_url", "complaint"),
    [
        ("ftp://api.example.org", "http:// or https://"),
        ("api.example.org", "http:// or https://"),
        ("https://", "no host"),
        ("https://:8080/v1", "no host"),
        ("https://api.example.org:99999", "cannot be parsed"),
        ("http://[::1", "cannot be parsed"),
    ],
)
def test_a_base_url_requests_could_not_send_to_is_refused(base_url: str, complaint: str) -> None:
    config = ProviderConfig(name="test-provider", base_url=base_url)

    with pytest.raises(ProviderConfigError, match="base_url") as refused:
        HttpClient(config, default_base_url="https://api.example")
    assert complaint in refused.value.reason


def test_a_base_url_with_credentials_is_refused_without_quoting_them() -> None:
    config = ProviderConfig(name="test-provider", base_url="sftp://user:hunter2@api.example.org")

    with pytest.raises(ProviderConfigError) as refused:
        HttpClient(config, default_base_url="https://api.example")
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    "user_agent", ["app/1.0\r\nX-Injected: yes", "app/1.0\n", "app/1.0\x00", "app\t1.0"]
)
def test_a_user_agent_that_is_not_one_printable_line_is_refused(user_agent: str) -> None:
    config = ProviderConfig(name="test-provider", user_agent=user_agent)

    with pytest.raises(ProviderConfigError, match="user_agent"):
        HttpClient(config, default_base_url="https://api.example")


def test_json_nested_deeper_than_the_parser_goes_is_a_response_error(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/deep", Reply(body=b"[" * 200_000 + b"]" * 200_000, headers=JSON_HEADERS))
    client = make_client(server, fake_time)

    response = client.get("/deep")
    with pytest.raises(ProviderResponseError, match="nested too deeply"):
        response.json()
    client.close()


def test_a_long_retry_after_on_a_429_blocks_every_request_until_it_is_over(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route(
        "/data/3.0/onecall",
        Reply.file("errors/owm_429_blocked.json", status=429, **{"Retry-After": "3600"}),
        Reply.json({"ok": True}),
    )
    client = make_client(server, fake_time)
    with pytest.raises(ProviderRateLimitedError):
        client.get("/data/3.0/onecall", params={"appid": API_KEY})

    fake_time.now += 3000
    with pytest.raises(ProviderRateLimitedError, match="not sent") as blocked:
        client.get("/data/3.0/onecall", params={"lat": "1"}, cell="c-2")
    assert blocked.value.retry_after_s == pytest.approx(600.0)
    assert blocked.value.cell == "c-2"
    assert len(server.seen("/data/3.0/onecall")) == 1
    assert client.breaker_state == "closed"  # nothing was sent: no new failure

    fake_time.now += 600
    assert client.get("/data/3.0/onecall").json() == {"ok": True}
    assert len(server.seen("/data/3.0/onecall")) == 2
    client.close()


def test_a_long_retry_after_on_a_503_blocks_as_unavailable(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/busy", Reply(status=503, headers={"Retry-After": "120"}), Reply.json([]))
    client = make_client(server, fake_time)
    with pytest.raises(ProviderUnavailableError, match="HTTP 503"):
        client.get("/busy")

    with pytest.raises(ProviderUnavailableError, match="120 s left"):
        client.get("/busy")
    fake_time.now += 120
    assert client.get("/busy").json() == []
    assert len(server.seen("/busy")) == 2
    client.close()


def test_two_cells_after_a_long_retry_after_send_one_request(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route(
        "/data/3.0/onecall",
        Reply.file("errors/owm_429_blocked.json", status=429, **{"Retry-After": "3600"}),
    )
    client = make_client(server, fake_time, api_key=API_KEY)
    provider = OpenWeatherMapProvider(
        ProviderConfig(name="openweathermap", api_key=API_KEY), client=client
    )
    cells = [Cell(key="a", lat=51.5, lon=0.0), Cell(key="b", lat=52.5, lon=1.0)]

    result = provider.fetch(cells)

    assert set(result.errors) == {"a", "b"}
    assert all(isinstance(e, ProviderRateLimitedError) for e in result.errors.values())
    assert len(server.seen("/data/3.0/onecall")) == 1
    provider.close()


def test_a_203_is_cached_and_revalidated_like_a_200(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    headers, body = recorded_metno()
    server.route(
        "/compact",
        Reply(status=203, body=body, headers=headers),
        Reply(status=304, headers={}),
    )
    wall = WallClock(AFTER_EXPIRES)
    config = ProviderConfig(name="metno", base_url=server.url)
    client = HttpClient(config, default_base_url="", now=wall)

    first = client.get("/compact", conditional=True)
    second = client.get("/compact", conditional=True)

    assert first.status == 203
    assert second.not_modified and second.body == first.body and second.status == 203
    assert server.seen("/compact")[1].headers["if-modified-since"] == headers["Last-Modified"]


def test_a_far_expires_is_trusted_for_an_hour_at_most(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    wall = WallClock(datetime(2026, 6, 12, 6, 0, tzinfo=UTC))
    a_year_on = "Sat, 12 Jun 2027 06:00:00 GMT"
    server.route(
        "/compact",
        Reply.json({"n": 1}, Expires=a_year_on, **{"Last-Modified": "Fri, 12 Jun 2026 05:00 GMT"}),
        Reply.json({"n": 2}, Expires=a_year_on),
    )
    config = ProviderConfig(name="metno", base_url=server.url)
    client = HttpClient(config, default_base_url="", now=wall)

    client.get("/compact", conditional=True)
    wall.now += timedelta(minutes=59)
    cached = client.get("/compact", conditional=True)
    wall.now += timedelta(minutes=2)
    asked = client.get("/compact", conditional=True)

    assert cached.not_modified and cached.json() == {"n": 1}
    assert not asked.not_modified and asked.json() == {"n": 2}
    assert len(server.seen("/compact")) == 2


def test_an_empty_2xx_is_not_cached(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/empty", Reply(status=204, headers={"Expires": "Sat, 12 Jun 2027 06:00:00 GMT"}))
    client = make_client(server, fake_time, now=datetime(2026, 6, 12, tzinfo=UTC))

    client.get("/empty", conditional=True)
    again = client.get("/empty", conditional=True)

    assert not again.not_modified
    assert len(server.seen("/empty")) == 2


def test_unreadable_200s_open_the_circuit(server: FixtureServer, fake_time: SleepingClock) -> None:
    server.route("/maintenance", Reply.html(200, "<html><body>Back soon</body></html>"))
    client = make_client(server, fake_time, breaker_failures=2)

    for _ in range(2):
        with pytest.raises(ProviderResponseError, match="HTML page"):
            client.get_json("/maintenance")
    assert client.breaker_state == "open"
    with pytest.raises(ProviderUnavailableError, match="circuit open"):
        client.get_json("/maintenance")
    assert len(server.seen("/maintenance")) == 2
    client.close()


def test_an_unreadable_200_is_not_cached(server: FixtureServer, fake_time: SleepingClock) -> None:
    expires = {"Expires": "Sat, 12 Jun 2027 06:00:00 GMT"}
    server.route(
        "/flaky", Reply(body=b"{not json", headers={**JSON_HEADERS, **expires}), Reply.json([1])
    )
    client = make_client(server, fake_time, now=datetime(2026, 6, 12, tzinfo=UTC))

    with pytest.raises(ProviderResponseError):
        client.get_json("/flaky", conditional=True)
    assert client.get_json("/flaky", conditional=True) == [1]
    assert len(server.seen("/flaky")) == 2
    client.close()


def test_a_readable_200_closes_the_count_of_failures(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/mixed", Reply.html(200), Reply.json({"ok": True}), Reply.html(200))
    client = make_client(server, fake_time, breaker_failures=2)

    with pytest.raises(ProviderResponseError):
        client.get_json("/mixed")
    assert client.get_json("/mixed") == {"ok": True}
    with pytest.raises(ProviderResponseError):
        client.get_json("/mixed")
    assert client.breaker_state == "closed"  # failures must be consecutive
    client.close()


def test_a_provider_answering_200_with_html_opens_its_circuit(
    server: FixtureServer, fake_time: SleepingClock
) -> None:
    server.route("/data/3.0/onecall", Reply.html(200, "<html><body>Maintenance</body></html>"))
    client = make_client(server, fake_time, api_key=API_KEY, breaker_failures=2)
    provider = OpenWeatherMapProvider(
        ProviderConfig(name="openweathermap", api_key=API_KEY), client=client
    )
    cells = [Cell(key=f"c{i}", lat=51.0 + i, lon=0.0) for i in range(4)]

    result = provider.fetch(cells)

    assert len(server.seen("/data/3.0/onecall")) == 2
    assert isinstance(result.errors["c0"], ProviderResponseError)
    assert isinstance(result.errors["c3"], ProviderUnavailableError)
    provider.close()


@pytest.mark.parametrize(
    ("reply", "error_type", "status"),
    [
        (Reply.json({"message": "Invalid API key"}, status=401), ProviderConfigError, 401),
        (Reply.json({"detail": "Not Found"}, status=404), ProviderConfigError, 404),
        (Reply.html(503), ProviderUnavailableError, 503),
        (Reply.json({"reason": "slow down"}, status=429), ProviderRateLimitedError, 429),
    ],
)
def test_an_error_from_an_answer_carries_its_status(
    server: FixtureServer,
    fake_time: SleepingClock,
    reply: Reply,
    error_type: type[Exception],
    status: int,
) -> None:
    server.route("/status", reply)
    client = make_client(server, fake_time, max_attempts=2)

    with pytest.raises(error_type) as caught:
        client.get("/status")

    assert getattr(caught.value, "status", None) == status
    client.close()


def test_an_error_without_an_answer_has_no_status(fake_time: SleepingClock) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    config = ProviderConfig(name="test-provider", base_url=f"http://127.0.0.1:{port}")
    client = HttpClient(config, default_base_url="", clock=fake_time, sleep=fake_time.sleep)

    with pytest.raises(ProviderUnavailableError) as caught:
        client.get("/nothing")

    assert caught.value.status is None
    client.close()
