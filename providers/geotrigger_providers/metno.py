"""MET Norway Locationforecast 2.0: the forecast hour that covers now, one request per cell.

Endpoint: ``GET /weatherapi/locationforecast/2.0/compact?lat=..&lon=..`` at
https://api.met.no; coordinates are rounded to 4 decimals (MET Norway's terms: requests with
more decimals are refused or not cached).

Read: the timeseries entry that covers now (the last one whose ``time`` is not in the future;
the first entry when all are), its ``instant.details`` (``air_temperature`` °C,
``relative_humidity`` %, ``wind_speed`` and ``wind_speed_of_gust`` m/s) and its
``next_1_hours`` (``summary.symbol_code``, ``details.precipitation_amount`` mm in the hour
as mm/h, ``probability_of_precipitation`` % when given), or ``next_6_hours`` with the amount
divided by 6 when the entry has no hourly period. A unit in ``meta.units`` other than the
documented one gives None for that field. MET Norway gives no feels-like temperature: None.
``uv_index`` is None too: MET Norway gives only ``ultraviolet_index_clear_sky``, the UV index
the sky would have without clouds, an upper bound that a cloudy hour is far below; a rule on
the UV index would fire on an overcast day.

Validity: ``observed_at`` is the entry's ``time``; ``valid_until`` is an hour later, or the
response's ``Expires`` when that is sooner (and after ``observed_at``).

Terms: an identifying ``User-Agent`` with contact details is required (requests without one
are refused with 403), so ``user_agent`` is required here. Responses are fetched as
conditional GETs: before ``Expires`` the cached answer is used with no request, after it
``If-Modified-Since`` is sent; MET Norway throttles clients that ignore these (and above about
20 requests per second per application). A product MET Norway has deprecated is answered
with 203 instead of 200: it is read as usual, and a warning is logged once per provider (the
product will go away: upgrade the provider). Data is CC BY 4.0: credit MET Norway wherever it
is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from geotrigger.weather.provider import Cell, FetchResult, ProviderConfig
from geotrigger.weather.reading import WeatherCondition, WeatherReading
from geotrigger_providers.base import (
    clamp,
    coordinate,
    fetch_each,
    json_object,
    non_negative,
    number,
    require_user_agent,
    utc_now,
    utc_time,
)
from geotrigger_providers.http import HttpClient
from geotrigger_providers.responses import HttpResponse, http_date

NAME = "metno"
OPTIONS: frozenset[str] = frozenset()  # no options: the ProviderConfig fields are all it takes
DEFAULT_BASE_URL = "https://api.met.no"
COMPACT_PATH = "/weatherapi/locationforecast/2.0/compact"
STEP = timedelta(hours=1)
DEPRECATED = 203  # MET Norway's status for a product that will be withdrawn

log = logging.getLogger("geotrigger.providers.metno")

# The units the compact format documents, by variable; another unit means None, not a guess.
EXPECTED_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "air_temperature": "celsius",
        "relative_humidity": "%",
        "wind_speed": "m/s",
        "wind_speed_of_gust": "m/s",
        "precipitation_amount": "mm",
        "probability_of_precipitation": "%",
    }
)

_C = WeatherCondition

# Every symbol MET Norway documents (weathericon 2.0), without its _day/_night/_polartwilight
# suffix. Light rain is rain (MET has no drizzle symbol); anything with thunder is a
# thunderstorm; sleet of any strength is sleet; snow of any strength is snow. The spellings
# "lightssleet..." and "lightssnow..." are MET's own.
SYMBOL_CONDITIONS: Mapping[str, WeatherCondition] = MappingProxyType(
    {
        "clearsky": _C.CLEAR,
        "fair": _C.CLEAR,
        "partlycloudy": _C.PARTLY_CLOUDY,
        "cloudy": _C.CLOUDY,
        "fog": _C.FOG,
        "lightrain": _C.RAIN,
        "rain": _C.RAIN,
        "heavyrain": _C.HEAVY_RAIN,
        "lightrainshowers": _C.RAIN,
        "rainshowers": _C.RAIN,
        "heavyrainshowers": _C.HEAVY_RAIN,
        "lightrainandthunder": _C.THUNDERSTORM,
        "rainandthunder": _C.THUNDERSTORM,
        "heavyrainandthunder": _C.THUNDERSTORM,
        "lightrainshowersandthunder": _C.THUNDERSTORM,
        "rainshowersandthunder": _C.THUNDERSTORM,
        "heavyrainshowersandthunder": _C.THUNDERSTORM,
        "lightsleet": _C.SLEET,
        "sleet": _C.SLEET,
        "heavysleet": _C.SLEET,
        "lightsleetshowers": _C.SLEET,
        "sleetshowers": _C.SLEET,
        "heavysleetshowers": _C.SLEET,
        "lightsleetandthunder": _C.THUNDERSTORM,
        "sleetandthunder": _C.THUNDERSTORM,
        "heavysleetandthunder": _C.THUNDERSTORM,
        "lightssleetshowersandthunder": _C.THUNDERSTORM,
        "sleetshowersandthunder": _C.THUNDERSTORM,
        "heavysleetshowersandthunder": _C.THUNDERSTORM,
        "lightsnow": _C.SNOW,
        "snow": _C.SNOW,
        "heavysnow": _C.SNOW,
        "lightsnowshowers": _C.SNOW,
        "snowshowers": _C.SNOW,
        "heavysnowshowers": _C.SNOW,
        "lightsnowandthunder": _C.THUNDERSTORM,
        "snowandthunder": _C.THUNDERSTORM,
        "heavysnowandthunder": _C.THUNDERSTORM,
        "lightssnowshowersandthunder": _C.THUNDERSTORM,
        "snowshowersandthunder": _C.THUNDERSTORM,
        "heavysnowshowersandthunder": _C.THUNDERSTORM,
    }
)
SYMBOL_SUFFIXES = ("_day", "_night", "_polartwilight")


def create(config: ProviderConfig) -> MetNoProvider:
    """The entry point's factory; ProviderConfigError without ``user_agent``."""
    return MetNoProvider(config)


class MetNoProvider:
    """The current forecast hour from MET Norway, one conditional request per cell."""

    name = NAME

    def __init__(
        self,
        config: ProviderConfig,
        *,
        client: HttpClient | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        """``now`` (aware UTC) picks the timeseries entry and, for a client built here, is
        what ``Expires`` is compared with."""
        require_user_agent(
            config,
            NAME,
            "MET Norway's terms of service require an identifying User-Agent with contact details",
        )
        self._now = now
        self._client = client or HttpClient(config, default_base_url=DEFAULT_BASE_URL, now=now)
        self._warned_deprecated = False

    def __repr__(self) -> str:
        return f"MetNoProvider(base_url={self._client.public_base_url!r})"

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        """A reading per cell; a cell whose request or answer fails ends in ``errors``."""
        return fetch_each(NAME, cells, self._read)

    def close(self) -> None:
        self._client.close()

    def _read(self, cell: Cell) -> WeatherReading:
        params = {"lat": coordinate(cell.lat), "lon": coordinate(cell.lon)}
        return self._client.get_read(
            COMPACT_PATH, self._reading, params=params, cell=cell.key, conditional=True
        )

    def _reading(self, response: HttpResponse) -> WeatherReading:
        """The reading of an answer; one that cannot be read counts against the breaker."""
        if response.status == DEPRECATED:
            self._warn_deprecated(response.headers)
        expires = http_date(response.headers.get("expires"))
        return parse_compact(response.json(), now=self._now(), expires=expires)

    def _warn_deprecated(self, headers: Mapping[str, str]) -> None:
        """Say once that MET Norway answered 203: the product is deprecated."""
        if self._warned_deprecated:
            return
        self._warned_deprecated = True
        log.warning(
            "provider %s: MET Norway answers HTTP 203 for %s: the product is deprecated and "
            "will be withdrawn; update geotrigger-providers%s",
            NAME,
            COMPACT_PATH,
            f" ({headers['warning']})" if headers.get("warning") else "",
        )


def symbol_condition(symbol: Any) -> WeatherCondition | None:
    """The condition of a symbol code (``lightrainshowers_day``); None for an unknown one."""
    if not isinstance(symbol, str):
        return None
    for suffix in SYMBOL_SUFFIXES:
        if symbol.endswith(suffix):
            symbol = symbol[: -len(suffix)]
            break
    return SYMBOL_CONDITIONS.get(symbol)


def parse_compact(
    document: Any, *, now: datetime, expires: datetime | None = None
) -> WeatherReading:
    """The reading of a compact answer at ``now``: the entry covering now, see the module.

    KeyError, TypeError or ValueError when the timeseries, the entry's time or its instant
    details are missing or malformed; any other field missing, null or odd is None.
    """
    properties = json_object(json_object(document, "document")["properties"], "properties")
    units = _units(properties)
    entry = current_entry(properties["timeseries"], now)
    observed_at = utc_time(entry["time"])
    data = json_object(entry["data"], "data")
    details = json_object(json_object(data["instant"], "instant")["details"], "instant.details")
    period, hours = _period(data)
    period_details = _optional_object(period.get("details"))
    amount_mm = _value(period_details, units, "precipitation_amount")
    return WeatherReading(
        observed_at=observed_at,
        valid_until=_valid_until(observed_at, expires),
        condition=symbol_condition(_optional_object(period.get("summary")).get("symbol_code")),
        temperature_c=_value(details, units, "air_temperature"),
        feels_like_c=None,
        precipitation_mm_h=non_negative(None if amount_mm is None else amount_mm / hours),
        precipitation_probability_pct=clamp(
            _value(period_details, units, "probability_of_precipitation"), 0.0, 100.0
        ),
        wind_speed_mps=non_negative(_value(details, units, "wind_speed")),
        wind_gust_mps=non_negative(_value(details, units, "wind_speed_of_gust")),
        uv_index=None,  # only the clear-sky index is given, an upper bound (see the module)
        humidity_pct=clamp(_value(details, units, "relative_humidity"), 0.0, 100.0),
        source=NAME,
    )


def current_entry(timeseries: Any, now: datetime) -> Mapping[str, Any]:
    """The entry that covers ``now``: the last one (in time order) whose time is not after
    ``now``, or the first entry when every one is in the future."""
    if not isinstance(timeseries, list) or not timeseries:
        raise ValueError("the answer has no timeseries entries")
    chosen = json_object(timeseries[0], "timeseries entry")
    for item in timeseries[1:]:
        entry = json_object(item, "timeseries entry")
        if utc_time(entry["time"]) > now:
            break
        chosen = entry
    return chosen


def _period(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], int]:
    """The next hour's block and its length in hours, else the next six hours'; an empty
    block when the entry has neither (the last entries of a forecast)."""
    for key, hours in (("next_1_hours", 1), ("next_6_hours", 6)):
        block = _optional_object(data.get(key))
        if block:
            return block, hours
    return {}, 1


def _valid_until(observed_at: datetime, expires: datetime | None) -> datetime:
    until = observed_at + STEP
    if expires is not None and observed_at < expires < until:
        return expires.astimezone(UTC)
    return until


def _units(properties: Mapping[str, Any]) -> Mapping[str, Any]:
    return _optional_object(_optional_object(properties.get("meta")).get("units"))


def _value(values: Mapping[str, Any], units: Mapping[str, Any], key: str) -> float | None:
    """``values[key]`` as a number, None when missing or in a unit other than documented."""
    unit = units.get(key)
    if unit is not None and unit != EXPECTED_UNITS[key]:
        return None
    return number(values.get(key))


def _optional_object(value: Any) -> Mapping[str, Any]:
    """A part the reading can do without: empty when it is missing or not an object."""
    return value if isinstance(value, dict) else {}
