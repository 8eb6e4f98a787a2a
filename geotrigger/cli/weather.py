"""``geotrigger weather now``: one provider's reading of the weather cell of a point, as JSON.

The provider is configured as a running service would configure it, from its
``GEOTRIGGER_WEATHER_<NAME>_*`` variables (see :mod:`geotrigger.weather.registry`);
``--base-url`` overrides its base URL. The cell is the weather cell of the point at the
configured cell size (``GEOTRIGGER_WEATHER_CELL_M``), read at the point itself. A provider
that cannot give a reading is an error (exit 1) with its typed message; no key is ever shown.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from datetime import datetime
from typing import Any

from geotrigger.cli.arguments import instant
from geotrigger.config import load_settings
from geotrigger.errors import ConfigError
from geotrigger.timestamps import rfc3339
from geotrigger.weather.cells import cell_of
from geotrigger.weather.provider import (
    Cell,
    Clocked,
    ProviderConfig,
    ProviderConfigError,
    WeatherProvider,
)
from geotrigger.weather.reading import WeatherCondition, WeatherReading
from geotrigger.weather.registry import create_provider, env_name, provider_config


def register(subparsers: Any) -> None:
    """Add the ``weather`` command group."""
    parser = subparsers.add_parser(
        "weather", help="read the weather from a provider", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="weather_command", metavar="COMMAND", required=True)
    now = commands.add_parser(
        "now",
        help="one provider's reading of the weather cell of a point, as JSON",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    now.add_argument("--provider", required=True, metavar="NAME", help="e.g. open-meteo, file")
    now.add_argument("--lat", required=True, type=latitude, help="degrees, -90 to 90")
    now.add_argument("--lon", required=True, type=longitude, help="degrees, -180 to 180")
    now.add_argument(
        "--base-url", metavar="URL", help="default: GEOTRIGGER_WEATHER_<NAME>_BASE_URL"
    )
    now.add_argument(
        "--at",
        type=instant,
        metavar="TIME",
        help="the 'now' of a provider that plays a recording (file), RFC 3339 or epoch seconds",
    )
    now.set_defaults(handler=run_now)


def _degrees(text: str, limit: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must be a number of degrees, got {text!r}"
        ) from None
    if not (math.isfinite(value) and -limit <= value <= limit):
        raise argparse.ArgumentTypeError(f"{what} {text} is outside [-{limit:g}, {limit:g}]")
    return value


def latitude(text: str) -> float:
    """A latitude in degrees, within [-90, 90]."""
    return _degrees(text, 90.0, "latitude")


def longitude(text: str) -> float:
    """A longitude in degrees, within [-180, 180]."""
    return _degrees(text, 180.0, "longitude")


def run_now(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger weather now``: prints the reading; a provider error is raised
    (and reported by ``main``, exit 1)."""
    config = provider_config(args.provider, os.environ)
    if args.base_url:
        config = dataclasses.replace(config, base_url=args.base_url)
    cell_m = load_settings().weather.cell_m
    cell = Cell(key=cell_of(args.lat, args.lon, cell_m), lat=args.lat, lon=args.lon)
    provider = _create(config)
    try:
        _set_now(provider, args.at)
        result = provider.fetch([cell])
    finally:
        provider.close()
    error = result.errors.get(cell.key)
    if error is not None:
        raise error
    reading = result.readings.get(cell.key)
    if reading is None:  # a provider breaking the contract: say so rather than print nothing
        raise ConfigError(f"weather provider {provider.name!r} returned nothing for {cell.key}")
    print(json.dumps(reading_json(reading, key=cell.key, provider=provider.name)))
    return 0


def _create(config: ProviderConfig) -> WeatherProvider:
    """The provider; a refusal of its settings also says where they come from."""
    try:
        return create_provider(config)
    except ProviderConfigError as exc:
        prefix = f"GEOTRIGGER_WEATHER_{env_name(config.name)}_"
        raise ConfigError(
            f"{exc} (settings and options are read from {prefix}<NAME IN CAPITALS>, "
            f"e.g. {prefix}USER_AGENT)"
        ) from exc


def _set_now(provider: WeatherProvider, at: datetime | None) -> None:
    """Give ``--at`` to a provider that plays a recording; refuse it for a live one."""
    if at is None:
        return
    if not isinstance(provider, Clocked):
        raise ConfigError(
            f"--at applies to providers that play recordings (file), not {provider.name!r}"
        )
    provider.set_clock(lambda: at)


def reading_json(reading: WeatherReading, *, key: str, provider: str) -> dict[str, Any]:
    """A reading as JSON: every field, times as ISO 8601 UTC with ``Z``, the condition by its
    value, with the cell key and the provider's name."""
    document: dict[str, Any] = {"provider": provider, "key": key}
    for field in dataclasses.fields(reading):
        document[field.name] = _json_value(getattr(reading, field.name))
    return document


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, WeatherCondition):
        return value.value
    return value
