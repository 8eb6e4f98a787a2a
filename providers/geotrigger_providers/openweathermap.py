"""OpenWeatherMap One Call API 3.0: current weather per cell, with the chance of precipitation
of the current hour.

Request, per cell: ``GET /data/3.0/onecall?lat=..&lon=..&appid=KEY&units=standard
&exclude=minutely,daily,alerts`` (``current`` and ``hourly`` come back).

Units: ``units=standard`` is asked for explicitly, so the units never depend on the account's
defaults: temperatures in Kelvin (converted here to °C, rounded to 0.01), wind in m/s,
humidity in %, ``uvi`` as the UV index, precipitation in mm over the last hour (= mm/h),
``pop`` as 0–1 (converted to %).

Fields: ``current.dt`` (epoch seconds) is ``observed_at``; ``temp``, ``feels_like``,
``humidity``, ``uvi``, ``wind_speed``, ``wind_gust``; ``weather[0].id`` is the condition by
:data:`CONDITIONS`; ``rain.1h`` + ``snow.1h`` is the precipitation. OWM leaves ``rain`` and
``snow`` out when nothing falls, so without them the precipitation is 0 when the condition is
dry (clear, cloudy, fog...), and None (unknown) when the condition is wet or snowy or unknown.
The chance of precipitation is ``pop`` of the hourly step covering ``dt`` (the latest step
starting at or before it; the first step when none does).

Validity: ``valid_until`` is ``dt`` + 1 hour (OWM refreshes current weather every few minutes;
an hour is the longest we trust it).

Terms: an API key (a One Call 3.0 subscription) is required: ProviderConfigError at
:func:`create` without one; the key is sent as ``appid`` and never shown in errors, logs or
``repr``. Calls are counted per day against the subscription (1,000 a day free, then billed);
a blocked or exhausted account answers 429 (a :class:`ProviderRateLimitedError` after retries),
a bad key 401 (a :class:`ProviderConfigError`). Data is subject to OpenWeather's terms
(attribution to OpenWeather where it is shown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderResponseError,
)
from geotrigger.weather.reading import WET, WeatherCondition, WeatherReading
from geotrigger_providers.base import (
    clamp,
    coordinate,
    epoch_time,
    fetch_each,
    non_negative,
    number,
)
from geotrigger_providers.http import HttpClient
from geotrigger_providers.units import kelvin_to_celsius

NAME = "openweathermap"
OPTIONS: frozenset[str] = frozenset()  # no options: the ProviderConfig fields are all it takes
DEFAULT_BASE_URL = "https://api.openweathermap.org"
ONECALL_PATH = "/data/3.0/onecall"
EXCLUDE = "minutely,daily,alerts"
VALIDITY = timedelta(hours=1)
HOUR_S = 3600

_C = WeatherCondition


def _codes(condition: WeatherCondition | None, *codes: int) -> dict[int, WeatherCondition | None]:
    return dict.fromkeys(codes, condition)


# Every documented OWM condition id (openweathermap.org/weather-conditions), by the policy at
# geotrigger.weather.reading.WET: 511 freezing rain and the 61x sleets are sleet; 531 ragged
# shower rain is rain; 701 mist and 741 fog are fog; smoke, haze, sand, dust, ash and squalls
# say nothing about the sky (None); a tornado is a storm.
CONDITIONS: Mapping[int, WeatherCondition | None] = {
    **_codes(_C.THUNDERSTORM, 200, 201, 202, 210, 211, 212, 221, 230, 231, 232),
    **_codes(_C.DRIZZLE, 300, 301, 302, 310, 311, 312, 313, 314, 321),
    **_codes(_C.RAIN, 500, 501, 520, 521, 531),
    **_codes(_C.HEAVY_RAIN, 502, 503, 504, 522),
    **_codes(_C.SLEET, 511, 611, 612, 613, 615, 616),
    **_codes(_C.SNOW, 600, 601, 602, 620, 621, 622),
    **_codes(_C.FOG, 701, 741),
    **_codes(None, 711, 721, 731, 751, 761, 762, 771),
    781: _C.THUNDERSTORM,
    800: _C.CLEAR,
    **_codes(_C.PARTLY_CLOUDY, 801, 802),
    **_codes(_C.CLOUDY, 803, 804),
}

# Conditions in which something falls: without ``rain``/``snow`` amounts, the amount is unknown.
FALLING = WET | {_C.SNOW}


def create(config: ProviderConfig) -> OpenWeatherMapProvider:
    """The entry point's factory; ProviderConfigError without an API key."""
    return OpenWeatherMapProvider(config)


class OpenWeatherMapProvider:
    """Readings from OpenWeatherMap One Call 3.0, one request per cell."""

    name = NAME

    def __init__(self, config: ProviderConfig, *, client: HttpClient | None = None) -> None:
        """ProviderConfigError without an API key."""
        if not (config.api_key or "").strip():
            raise ProviderConfigError(
                NAME, "OpenWeatherMap One Call 3.0 requires an API key: set api_key"
            )
        self._api_key = config.api_key or ""
        self._client = client or HttpClient(config, default_base_url=DEFAULT_BASE_URL)

    def __repr__(self) -> str:  # never the key
        return f"OpenWeatherMapProvider(base_url={self._client.public_base_url!r})"

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        """Readings for ``cells``; every cell ends in ``readings`` or in ``errors``."""
        return fetch_each(NAME, cells, self._read)

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def _read(self, cell: Cell) -> WeatherReading:
        params = {
            "lat": coordinate(cell.lat),
            "lon": coordinate(cell.lon),
            "appid": self._api_key,
            "units": "standard",
            "exclude": EXCLUDE,
        }
        document = self._client.get_json(ONECALL_PATH, params=params, cell=cell.key)
        error = error_in_body(document, cell=cell.key)
        if error is not None:
            raise error
        return parse_onecall(document)


def error_in_body(document: Any, *, cell: str | None = None) -> ProviderError | None:
    """The error an OWM body reports (``{"cod": 401 or "401", "message": ...}``) when it has no
    ``current``; None for a body with weather in it."""
    if not isinstance(document, Mapping) or "current" in document or "cod" not in document:
        return None
    code = str(document.get("cod")).strip()
    message = str(document.get("message") or "no message")
    reason = f"OpenWeatherMap answered cod {code}: {message}"
    if code == "429":
        return ProviderRateLimitedError(NAME, reason, cell=cell)
    if code.isdigit() and 400 <= int(code) < 500:
        return ProviderConfigError(NAME, reason, cell=cell)
    return ProviderResponseError(NAME, reason, cell=cell)


def parse_onecall(document: Any) -> WeatherReading:
    """A reading from a One Call 3.0 document asked for in standard units."""
    current = document["current"]
    observed_at = epoch_time(current["dt"], "current.dt")
    stamp = observed_at.timestamp()
    condition = condition_of(current.get("weather"))
    return WeatherReading(
        observed_at=observed_at,
        valid_until=observed_at + VALIDITY,
        condition=condition,
        temperature_c=celsius(current.get("temp")),
        feels_like_c=celsius(current.get("feels_like")),
        precipitation_mm_h=precipitation(current, condition),
        precipitation_probability_pct=precipitation_probability(document.get("hourly"), stamp),
        wind_speed_mps=non_negative(number(current.get("wind_speed"))),
        wind_gust_mps=non_negative(number(current.get("wind_gust"))),
        uv_index=non_negative(number(current.get("uvi"))),
        humidity_pct=clamp(number(current.get("humidity")), 0.0, 100.0),
        source=NAME,
    )


def celsius(kelvin: Any) -> float | None:
    """A Kelvin value in °C (0.01), None when missing, null or below absolute zero."""
    value = non_negative(number(kelvin))
    return None if value is None else round(kelvin_to_celsius(value), 2)


def condition_of(weather: Any) -> WeatherCondition | None:
    """The condition of ``weather[0].id``; None for a missing or unknown id."""
    if not isinstance(weather, list) or not weather or not isinstance(weather[0], Mapping):
        return None
    code = weather[0].get("id")
    if isinstance(code, bool) or not isinstance(code, int):
        return None
    return CONDITIONS.get(code)


def precipitation(current: Mapping[str, Any], condition: WeatherCondition | None) -> float | None:
    """``rain.1h`` + ``snow.1h`` in mm/h; 0 without them when the condition is dry, None when
    it is wet, snowy or unknown (see the module doc)."""
    amounts = [_last_hour(current.get(kind)) for kind in ("rain", "snow")]
    given = [amount for amount in amounts if amount is not None]
    if given:
        return round(sum(given), 3)
    if condition is None or condition in FALLING:
        return None
    return 0.0


def _last_hour(block: Any) -> float | None:
    return non_negative(number(block.get("1h"))) if isinstance(block, Mapping) else None


def precipitation_probability(hourly: Any, at: float) -> float | None:
    """``pop`` (0–1) of the hourly step covering ``at``, in %; None without one."""
    if not isinstance(hourly, list) or not hourly:
        return None
    steps = [step for step in hourly if isinstance(step, Mapping)]
    started = [step for step in steps if _starts_by(step, at)]
    step = started[-1] if started else (steps[0] if steps else None)
    if step is None:
        return None
    pop = number(step.get("pop"))
    return None if pop is None else clamp(round(pop * 100.0, 1), 0.0, 100.0)


def _starts_by(step: Mapping[str, Any], at: float) -> bool:
    start = number(step.get("dt"))
    return start is not None and start <= at
