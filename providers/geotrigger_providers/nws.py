"""US National Weather Service (api.weather.gov): the latest observation at the station nearest
each cell, with the chance of precipitation from the hourly forecast.

Requests, per cell:

* ``GET /points/{lat},{lon}`` (at most 4 decimals, trailing zeros dropped, as NWS spells its
  points): the grid point's links ``observationStations`` and ``forecastHourly``;
* ``GET <observationStations>``: the stations near the point, nearest first; the first one's
  ``stationIdentifier`` is used. The station and the forecast link are cached per point for an
  hour (:data:`POINT_TTL_S`): they do not change;
* ``GET /stations/{id}/observations/latest``: the reading;
* ``GET <forecastHourly>``: the first period's ``probabilityOfPrecipitation``. The forecast is
  optional: when it fails the field stays None and the reading stands. It has its own
  :class:`HttpClient` (one try, its own circuit) so that a forecast grid NWS has let expire (a
  common 503) never opens the circuit the observations go through; it shares the rate limit of
  the main client, so that together they keep to ``rate_per_s``.

Links in NWS documents are absolute; links are followed on the configured base URL: a link
under another host than the base URL keeps its path (and query) and goes to the base URL, so a
proxy or a self-hosted mirror works.

Units: every observation value carries a ``unitCode`` (``wmoUnit:degC``, ``wmoUnit:km_h-1``,
``wmoUnit:percent``...; older responses spell it ``unit:degC``); values are converted by it to
°C, m/s, mm/h and %. A null value, or a unit not known here, gives None. Feels-like is the heat
index or the wind chill, whichever the station reports. Precipitation is the amount of the last
hour, so mm in that hour is mm/h.

Condition: from the observation's icon and text description, by
:mod:`geotrigger_providers.nws_conditions`.

Validity: ``observed_at`` is the observation's timestamp; ``valid_until`` an hour later
(stations report hourly).

Terms: US government open data, free, no key. NWS requires a User-Agent that identifies the
application with contact details (refused at :func:`create` without one). NWS publishes no
fixed rate limit but refuses excessive use; the client's ``rate_per_s`` applies. NWS covers the
US and its territories only: elsewhere ``/points`` answers 404, a
:class:`ProviderConfigError` for that cell saying so; a 403 there is a User-Agent NWS refuses.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
)
from geotrigger.weather.reading import WeatherReading
from geotrigger_providers.base import (
    PARSE_ERRORS,
    clamp,
    coordinate,
    fetch_each,
    non_negative,
    number,
    require_user_agent,
    utc_time,
)
from geotrigger_providers.http import HttpClient
from geotrigger_providers.nws_conditions import observation_condition
from geotrigger_providers.units import (
    KMH_TO_MPS,
    KNOT_TO_MPS,
    fahrenheit_to_celsius,
    kelvin_to_celsius,
)

NAME = "nws"
OPTIONS: frozenset[str] = frozenset()  # no options: the ProviderConfig fields are all it takes
DEFAULT_BASE_URL = "https://api.weather.gov"
POINT_TTL_S = 3600.0  # how long a point's station and forecast link are kept
VALIDITY = timedelta(hours=1)  # stations report hourly
GEOJSON = {"Accept": "application/geo+json"}

log = logging.getLogger("geotrigger.providers.nws")

Convert = Callable[[float], float]

# Unit codes by the quantity they measure, each with its conversion to our unit. A unit code
# is ``wmoUnit:<code>`` (or ``unit:<code>`` in older responses).
UNIT_PREFIXES = frozenset({"wmoUnit", "unit"})
TO_CELSIUS: Mapping[str, Convert] = {
    "degC": lambda value: value,
    "degF": fahrenheit_to_celsius,
    "K": kelvin_to_celsius,
}
TO_METRES_PER_SECOND: Mapping[str, Convert] = {
    "m_s-1": lambda value: value,
    "km_h-1": lambda value: value * KMH_TO_MPS,
    "kt": lambda value: value * KNOT_TO_MPS,
}
TO_MILLIMETRES: Mapping[str, Convert] = {
    "mm": lambda value: value,
    "cm": lambda value: value * 10.0,
    "m": lambda value: value * 1000.0,
}
TO_PERCENT: Mapping[str, Convert] = {"percent": lambda value: value}


def create(config: ProviderConfig) -> NwsProvider:
    """The entry point's factory; ProviderConfigError without a User-Agent."""
    require_user_agent(
        config, NAME, "NWS requires a User-Agent identifying the application with contact details"
    )
    return NwsProvider(config)


@dataclass(frozen=True, slots=True)
class PointLinks:
    """What ``/points`` says about a point: where its stations and hourly forecast are."""

    stations_url: str
    forecast_hourly_url: str | None  # some points (over water) have no forecast


@dataclass(frozen=True, slots=True)
class _KnownPoint:
    station: str
    forecast_hourly_url: str | None
    expires_at: float  # on the provider's clock


class NwsProvider:
    """Readings from api.weather.gov: per cell, the nearest station's latest observation."""

    name = NAME

    def __init__(
        self,
        config: ProviderConfig,
        *,
        client: HttpClient | None = None,
        forecast_client: HttpClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``forecast_client`` defaults to one try per forecast request with its own circuit
        and the main client's rate limit; ``clock`` times the point cache."""
        self._client = client or HttpClient(config, default_base_url=DEFAULT_BASE_URL)
        self._forecast_client = forecast_client or HttpClient(
            dataclasses.replace(config, max_attempts=1),
            default_base_url=DEFAULT_BASE_URL,
            limiter=self._client.limiter,
        )
        self._clock = clock
        self._points: dict[str, _KnownPoint] = {}

    def __repr__(self) -> str:
        return f"NwsProvider(base_url={self._client.public_base_url!r})"

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        """Readings for ``cells``; every cell ends in ``readings`` or in ``errors``."""
        return fetch_each(NAME, cells, self._read)

    def close(self) -> None:
        """Close both clients' connections."""
        self._client.close()
        self._forecast_client.close()

    def _read(self, cell: Cell) -> WeatherReading:
        point = self._point(cell)
        path = f"/stations/{quote(point.station, safe='')}/observations/latest"
        try:
            observation = self._client.get_json(
                path, headers=GEOJSON, cell=cell.key, conditional=True
            )
        except ProviderConfigError:
            self._points.pop(points_path(cell), None)  # the station may have gone: ask again
            raise
        probability = self._precipitation_probability(point, cell)
        return parse_observation(observation, precipitation_probability_pct=probability)

    def _point(self, cell: Cell) -> _KnownPoint:
        """The cell's station and forecast link, from the cache or from ``/points``."""
        path = points_path(cell)
        known = self._points.get(path)
        if known is not None and self._clock() < known.expires_at:
            return known
        try:
            point = self._client.get_json(path, headers=GEOJSON, cell=cell.key)
        except ProviderConfigError as exc:
            raise point_refused(exc, cell.key) from exc
        links = parse_point(point)
        stations = self._client.get_json(
            self.follow(links.stations_url), headers=GEOJSON, cell=cell.key
        )
        station = parse_stations(stations)
        known = _KnownPoint(station, links.forecast_hourly_url, self._clock() + POINT_TTL_S)
        self._points[path] = known
        return known

    def _precipitation_probability(self, point: _KnownPoint, cell: Cell) -> float | None:
        """The first hourly period's chance of precipitation; None when the forecast fails."""
        if point.forecast_hourly_url is None:
            return None
        url = self.follow(point.forecast_hourly_url)
        try:
            forecast = self._forecast_client.get_json(
                url, headers=GEOJSON, cell=cell.key, conditional=True
            )
            return parse_precipitation_probability(forecast)
        except ProviderError as exc:
            log.info("provider nws (cell %s): no hourly forecast: %s", cell.key, exc.reason)
        except PARSE_ERRORS as exc:
            log.info("provider nws (cell %s): hourly forecast unreadable: %r", cell.key, exc)
        return None

    def follow(self, link: str) -> str:
        """A link from an NWS document, on the configured base URL (see the module doc)."""
        return on_base_url(link, self._client.base_url)


def points_path(cell: Cell) -> str:
    """``/points/{lat},{lon}`` with at most 4 decimals, as NWS spells a point."""
    return f"/points/{coordinate(cell.lat)},{coordinate(cell.lon)}"


def point_refused(error: ProviderConfigError, cell: str) -> ProviderConfigError:
    """What a refused ``/points`` lookup means, by its status: a 404 is a point outside NWS's
    coverage, a 403 a User-Agent NWS does not accept; any other refusal stands as it is."""
    if error.status == 404:
        explanation = (
            "no NWS data for the cell's point (NWS covers only the US and its territories)"
        )
    elif error.status == 403:
        explanation = (
            "NWS refused the request (HTTP 403): it refuses a User-Agent it does not accept; "
            "set user_agent to identify the application with contact details"
        )
    else:
        return error
    return ProviderConfigError(
        NAME, f"{explanation}: {error.reason}", cell=cell, status=error.status
    )


def on_base_url(link: str, base_url: str) -> str:
    """``link`` as is when it is under ``base_url``'s host; otherwise its path (and query) on
    ``base_url``, so a proxy or a mirror serves what the public API's links name."""
    parts, base = urlsplit(link), urlsplit(base_url)
    if not parts.scheme or (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return link
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url.rstrip('/')}{parts.path}{query}"


def parse_point(document: Any) -> PointLinks:
    """The stations and hourly forecast links of a ``/points`` document."""
    properties = document["properties"]
    stations = properties["observationStations"]
    if not isinstance(stations, str) or not stations:
        raise ValueError("the point has no observationStations link")
    forecast = properties.get("forecastHourly")
    return PointLinks(stations, forecast if isinstance(forecast, str) and forecast else None)


def parse_stations(document: Any) -> str:
    """The identifier of the first (nearest) station of a stations FeatureCollection."""
    features = document["features"]
    if not features:
        raise ValueError("no observation station is listed for the point")
    identifier = features[0]["properties"]["stationIdentifier"]
    if not isinstance(identifier, str) or not identifier:
        raise ValueError("the nearest station has no stationIdentifier")
    return identifier


def parse_precipitation_probability(document: Any) -> float | None:
    """The first period's ``probabilityOfPrecipitation`` (%) of an hourly forecast."""
    periods = document["properties"]["periods"]
    if not periods:
        return None
    return clamp(quantity(periods[0], "probabilityOfPrecipitation", TO_PERCENT), 0.0, 100.0)


def parse_observation(
    document: Any, *, precipitation_probability_pct: float | None = None
) -> WeatherReading:
    """A reading from an observation (``/observations/latest``), or from the newest one of a
    FeatureCollection of observations (``/observations``)."""
    properties = _observation(document)["properties"]
    observed_at = utc_time(properties["timestamp"])
    feels_like = quantity(properties, "heatIndex", TO_CELSIUS)
    if feels_like is None:
        feels_like = quantity(properties, "windChill", TO_CELSIUS)
    return WeatherReading(
        observed_at=observed_at,
        valid_until=observed_at + VALIDITY,
        condition=observation_condition(properties.get("icon"), properties.get("textDescription")),
        temperature_c=quantity(properties, "temperature", TO_CELSIUS),
        feels_like_c=feels_like,
        precipitation_mm_h=non_negative(
            quantity(properties, "precipitationLastHour", TO_MILLIMETRES)
        ),
        precipitation_probability_pct=precipitation_probability_pct,
        wind_speed_mps=non_negative(quantity(properties, "windSpeed", TO_METRES_PER_SECOND)),
        wind_gust_mps=non_negative(quantity(properties, "windGust", TO_METRES_PER_SECOND)),
        humidity_pct=clamp(quantity(properties, "relativeHumidity", TO_PERCENT), 0.0, 100.0),
        source=NAME,
    )


def _observation(document: Any) -> Any:
    if document.get("type") != "FeatureCollection":
        return document
    features = document["features"]
    if not features:
        raise ValueError("the station has no observation")
    return features[0]


def quantity(properties: Any, name: str, units: Mapping[str, Convert]) -> float | None:
    """``properties[name]`` (``{"unitCode": ..., "value": ...}``) converted by its unit; None
    when missing, null, or in a unit ``units`` does not know."""
    field = properties.get(name)
    if not isinstance(field, Mapping):
        return None
    value, unit_code = number(field.get("value")), field.get("unitCode")
    if value is None or not isinstance(unit_code, str):
        return None
    prefix, _, code = unit_code.partition(":")
    convert = units.get(code) if prefix in UNIT_PREFIXES else None
    return None if convert is None else round(convert(value), 2)
