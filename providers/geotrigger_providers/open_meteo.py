"""Open-Meteo: the current conditions of many cells in one request.

Endpoint: ``GET /v1/forecast`` with comma-separated ``latitude`` and ``longitude`` lists (one
pair per cell, at most ``options["batch"]`` cells per request, default 100); the answer is a
JSON list of locations in the order asked, or one object when one location was asked.

Asked: ``current=`` :data:`CURRENT_VARIABLES` (Open-Meteo documents every hourly variable as
available in ``current``, computed from its 15-minutely data), ``wind_speed_unit=ms``,
``timezone=GMT``, ``timeformat=iso8601``. A variable the answer leaves out or sends as null
becomes None.

Units are read from ``current_units`` and converted: °F to °C; km/h, mph and knots to m/s;
inches to mm. A unit not known here gives None for that field, never a guessed value.
``precipitation`` is the amount over the preceding ``current.interval`` and is scaled to
mm/h. Times without an offset are local to ``utc_offset_seconds`` (0 with ``timezone=GMT``);
``timeformat=unixtime`` answers (epoch seconds) are read as well.

Validity: ``observed_at`` is ``current.time``; ``valid_until`` is ``current.time`` plus
``current.interval`` seconds (900 when the answer does not say).

Plans (``options["plan"]``, required, no default):

* ``free``: https://api.open-meteo.com, no key, for non-commercial use only (Open-Meteo's
  terms: about 10,000 calls a day, 5,000 an hour, 600 a minute; a multi-location request
  counts as several calls). An ``api_key`` set with this plan is not sent: a warning at
  creation says so;
* ``commercial``: https://customer-api.open-meteo.com with ``apikey`` (``api_key`` required);
* ``self-hosted``: an own instance at ``base_url`` (required).

Every plan counts each location of a request as a call, so a request costs the rate limit
(``rate_per_s``) one token per location: a batch of 100 waits as long as 100 requests would.

``base_url`` overrides the plan's host in every plan. Data is CC BY 4.0: attribute
Open-Meteo wherever its data is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    ProviderResponseError,
)
from geotrigger.weather.reading import WeatherReading
from geotrigger_providers.base import (
    clamp,
    coordinate,
    epoch_time,
    fail_all,
    fetch_each,
    json_object,
    non_negative,
    number,
    unexpected,
)
from geotrigger_providers.http import HttpClient, Params
from geotrigger_providers.units import (
    INCH_TO_MM,
    KMH_TO_MPS,
    KNOT_TO_MPS,
    MPH_TO_MPS,
    fahrenheit_to_celsius,
)
from geotrigger_providers.wmo import wmo_condition

log = logging.getLogger("geotrigger.providers")

NAME = "open-meteo"
OPTIONS = frozenset({"plan", "batch"})  # GEOTRIGGER_WEATHER_OPEN_METEO_PLAN, ..._BATCH
FREE_BASE_URL = "https://api.open-meteo.com"
COMMERCIAL_BASE_URL = "https://customer-api.open-meteo.com"
DEFAULT_BASE_URL = FREE_BASE_URL
FORECAST_PATH = "/v1/forecast"

PLANS = ("free", "commercial", "self-hosted")
DEFAULT_BATCH = 100
DEFAULT_INTERVAL_S = 900
MAX_INTERVAL_S = 86_400  # an interval beyond a day is not a current-conditions interval

CURRENT_VARIABLES = (
    "temperature_2m",
    "apparent_temperature",
    "precipitation",
    "weather_code",
    "wind_speed_10m",
    "wind_gusts_10m",
    "relative_humidity_2m",
    "uv_index",
    "precipitation_probability",
)

# Units as Open-Meteo names them in ``current_units``, and how to reach ours.
_TEMPERATURE_C: Mapping[str, Callable[[float], float]] = {
    "°C": lambda value: value,
    "°F": fahrenheit_to_celsius,
}
_SPEED_MPS: Mapping[str, float] = {
    "m/s": 1.0,
    "km/h": KMH_TO_MPS,
    "mph": MPH_TO_MPS,
    "kn": KNOT_TO_MPS,
}
_AMOUNT_MM: Mapping[str, float] = {"mm": 1.0, "inch": INCH_TO_MM}
_PERCENT = "%"


def create(config: ProviderConfig) -> OpenMeteoProvider:
    """The entry point's factory. ProviderConfigError for a missing or unknown ``plan``, a
    commercial plan without ``api_key``, a self-hosted plan without ``base_url`` or a
    ``batch`` that is not a positive whole number."""
    return OpenMeteoProvider(config)


class OpenMeteoProvider:
    """Current conditions from Open-Meteo, many cells per request."""

    name = NAME

    def __init__(self, config: ProviderConfig, *, client: HttpClient | None = None) -> None:
        default_base_url, self._api_key = _plan(config)
        self._batch = _batch_size(config.options.get("batch"))
        self._client = client or HttpClient(config, default_base_url=default_base_url)

    def __repr__(self) -> str:
        return f"OpenMeteoProvider(base_url={self._client.public_base_url!r})"

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        """Readings for ``cells``, one request per batch; never raises for a bad response."""
        readings: dict[str, WeatherReading] = {}
        errors: dict[str, ProviderError] = {}
        for batch in _batches(cells, self._batch):
            result = self._fetch_batch(batch)
            readings.update(result.readings)
            errors.update(result.errors)
        return FetchResult(readings=readings, errors=errors)

    def close(self) -> None:
        self._client.close()

    def _fetch_batch(self, batch: Sequence[Cell]) -> FetchResult:
        """One request for ``batch``; a request that fails fails every cell of it."""
        try:
            locations = self._request(batch)
        except ProviderError as exc:
            log.warning(
                "provider %s: a request for %d cell(s) failed (%s)", NAME, len(batch), exc.kind
            )
            return FetchResult(errors=fail_all(batch, exc))
        except Exception as exc:  # the last resort: fetch never raises
            return FetchResult(errors=fail_all(batch, unexpected(NAME, exc)))
        by_cell = dict(zip(batch, locations, strict=True))
        return fetch_each(NAME, batch, lambda cell: parse_current(by_cell[cell]))

    def _request(self, batch: Sequence[Cell]) -> list[Any]:
        """The location documents of ``batch``, in its order."""
        cell = batch[0].key if len(batch) == 1 else None
        return self._client.get_read(
            FORECAST_PATH,
            lambda response: locations_of(response.json(), len(batch), cell=cell),
            params=self._params(batch),
            cell=cell,
            cost=len(batch),  # Open-Meteo counts every location as a call
        )

    def _params(self, batch: Sequence[Cell]) -> Params:
        params: dict[str, str] = {
            "latitude": ",".join(coordinate(cell.lat) for cell in batch),
            "longitude": ",".join(coordinate(cell.lon) for cell in batch),
            "current": ",".join(CURRENT_VARIABLES),
            "wind_speed_unit": "ms",
            "timezone": "GMT",
            "timeformat": "iso8601",
        }
        if self._api_key is not None:
            params["apikey"] = self._api_key
        return params


def _plan(config: ProviderConfig) -> tuple[str, str | None]:
    """The plan's default host and the key to send (commercial only)."""
    plan = config.options.get("plan")
    if plan == "free":
        if config.api_key:
            log.warning(
                "provider %s: api_key is set but plan is 'free': the key is not sent (set "
                "plan to 'commercial' to use it)",
                NAME,
            )
        return FREE_BASE_URL, None
    if plan == "commercial":
        if not config.api_key:
            raise ProviderConfigError(NAME, "plan 'commercial' needs api_key (Open-Meteo's key)")
        return COMMERCIAL_BASE_URL, config.api_key
    if plan == "self-hosted":
        if not config.base_url:
            raise ProviderConfigError(NAME, "plan 'self-hosted' needs base_url (your instance)")
        return config.base_url, None
    given = "missing" if plan is None else f"{plan!r} is not a plan"
    raise ProviderConfigError(
        NAME,
        f"option 'plan' {given}: choose 'free' (api.open-meteo.com, non-commercial use only), "
        "'commercial' (customer-api.open-meteo.com, needs api_key) or 'self-hosted' "
        "(needs base_url)",
    )


def _batch_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_BATCH
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise ProviderConfigError(NAME, f"option 'batch' must be a whole number >= 1, got {text!r}")
    return size


def _batches(cells: Sequence[Cell], size: int) -> Iterator[Sequence[Cell]]:
    for start in range(0, len(cells), size):
        yield cells[start : start + size]


def locations_of(document: Any, count: int, *, cell: str | None = None) -> list[Any]:
    """The per-location documents of an answer for ``count`` locations: a list of that length,
    or (for one location) one object; ProviderResponseError for any other shape."""
    if isinstance(document, list) and len(document) == count:
        return document
    if isinstance(document, dict) and count == 1:
        return [document]
    shape = f"a list of {len(document)}" if isinstance(document, list) else type(document).__name__
    raise ProviderResponseError(
        NAME, f"expected {count} location(s) in the answer, got {shape}", cell=cell
    )


def parse_current(document: Any) -> WeatherReading:
    """The reading of one location's answer (its ``current`` and ``current_units``).

    KeyError, TypeError or ValueError when ``current`` or its ``time`` is missing or malformed;
    any other field missing, null or in an unknown unit is None.
    """
    current = json_object(document["current"], "current")
    units = json_object(document.get("current_units") or {}, "current_units")
    offset_s = number(document.get("utc_offset_seconds")) or 0.0
    observed_at = _time(current["time"], offset_s)
    interval_s = _interval_s(current.get("interval"))
    precipitation_mm = _scaled(current, units, "precipitation", _AMOUNT_MM)
    return WeatherReading(
        observed_at=observed_at,
        valid_until=observed_at + timedelta(seconds=interval_s),
        condition=wmo_condition(current.get("weather_code")),
        temperature_c=_temperature_c(current, units, "temperature_2m"),
        feels_like_c=_temperature_c(current, units, "apparent_temperature"),
        precipitation_mm_h=non_negative(
            None if precipitation_mm is None else precipitation_mm * 3600.0 / interval_s
        ),
        precipitation_probability_pct=_percent(current, units, "precipitation_probability"),
        wind_speed_mps=non_negative(_scaled(current, units, "wind_speed_10m", _SPEED_MPS)),
        wind_gust_mps=non_negative(_scaled(current, units, "wind_gusts_10m", _SPEED_MPS)),
        uv_index=non_negative(number(current.get("uv_index"))),
        humidity_pct=_percent(current, units, "relative_humidity_2m"),
        source=NAME,
    )


def _time(value: Any, offset_s: float) -> datetime:
    """``current.time`` as UTC: epoch seconds, or ISO 8601 local to ``offset_s``."""
    if number(value) is not None:
        return epoch_time(value, "current.time")
    if not isinstance(value, str):
        raise ValueError(f"'current.time' is not a time: {value!r}")
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone(timedelta(seconds=offset_s)))
    return stamp.astimezone(UTC)


def _interval_s(value: Any) -> float:
    """``current.interval`` in seconds; the default when missing, null or not within a day."""
    seconds = number(value)
    if seconds is None or not 0 < seconds <= MAX_INTERVAL_S:
        return float(DEFAULT_INTERVAL_S)
    return seconds


def _temperature_c(current: Mapping[str, Any], units: Mapping[str, Any], key: str) -> float | None:
    value = number(current.get(key))
    convert = _TEMPERATURE_C.get(_unit(units, key))
    return None if value is None or convert is None else convert(value)


def _scaled(
    current: Mapping[str, Any], units: Mapping[str, Any], key: str, factors: Mapping[str, float]
) -> float | None:
    value = number(current.get(key))
    factor = factors.get(_unit(units, key))
    return None if value is None or factor is None else value * factor


def _percent(current: Mapping[str, Any], units: Mapping[str, Any], key: str) -> float | None:
    value = number(current.get(key))
    return clamp(value, 0.0, 100.0) if _unit(units, key) == _PERCENT else None


def _unit(units: Mapping[str, Any], key: str) -> str:
    """The unit of ``key`` as the answer names it; "" when it names none."""
    unit = units.get(key)
    return unit if isinstance(unit, str) else ""
