"""Recorded weather played back: a JSON Lines timeline as a provider, for offline demos, tests
and backtests.

The file is the format :func:`geotrigger.weather.files.load_weather_timeline` reads (see
``examples/weather/README.md``), loaded once at :func:`create`. Options:

* ``path`` (required; ``GEOTRIGGER_WEATHER_FILE_PATH``): the timeline;
* ``cell_m`` (default 5000, the default weather cell): the cell size the file's ``lat``/``lon``
  lines are mapped to. Cells asked for must be of this size (it is read from their key);
  another size is a :class:`ProviderConfigError` for that cell, naming both settings;
* ``at`` (optional; ISO 8601 with ``Z`` or an offset): a fixed "now"; else the wall clock.
  :meth:`FileProvider.set_clock` replaces either, so a sweep or a backtest drives "now".

A cell's reading is the timeline's latest reading for that cell observed at or before now,
even one past its ``valid_until`` (whether a reading is too old is for the rules to judge, as
with every provider). Readings keep their recorded ``source``; one recorded without a source
reads as ``file``.

A cell with no reading at or before now is a :class:`ProviderResponseError` for that cell: the
recording holds no reading there, as a document without the fields a reading needs would. It
is not an outage (there is nothing to retry: the file will not change) nor a configuration
error (a later "now" may have one). Nothing is sent over a network; :meth:`close` does nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from geotrigger.errors import WeatherError
from geotrigger.weather.cells import parse_cell
from geotrigger.weather.files import load_weather_timeline
from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderConfigError,
    ProviderResponseError,
)
from geotrigger.weather.reading import WeatherReading
from geotrigger.weather.timeline import WeatherTimeline
from geotrigger_providers.base import fetch_each, utc_now

NAME = "file"
OPTIONS = frozenset({"path", "cell_m", "at"})
DEFAULT_CELL_M = 5000.0
PATH_VARIABLE = "GEOTRIGGER_WEATHER_FILE_PATH"
CELL_M_VARIABLE = "GEOTRIGGER_WEATHER_FILE_CELL_M"
AT_VARIABLE = "GEOTRIGGER_WEATHER_FILE_AT"
UNKNOWN_SOURCE = "unknown"  # WeatherReading's default: the file did not say


def create(config: ProviderConfig) -> FileProvider:
    """The entry point's factory. ProviderConfigError without ``path``, for a file that cannot
    be read or holds a bad line (the loader's message), a bad ``cell_m`` or ``at``."""
    return FileProvider(config)


class FileProvider:
    """Readings from a recorded weather timeline, at a "now" that may be set."""

    name = NAME

    def __init__(self, config: ProviderConfig) -> None:
        path = (config.options.get("path") or "").strip()
        if not path:
            raise ProviderConfigError(
                NAME, f"option 'path' is required: set {PATH_VARIABLE} to a weather timeline"
            )
        self._cell_m = _cell_m(config.options.get("cell_m"))
        fixed = _instant(config.options.get("at"))
        self._now: Callable[[], datetime] = utc_now if fixed is None else (lambda: fixed)
        self._file_name = Path(path).name
        self._timeline = _load(path, self._cell_m)

    def set_clock(self, now: Callable[[], datetime]) -> None:
        """Read at ``now()`` (aware) from here on: replay time instead of the wall clock."""
        self._now = now

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        """The latest recorded reading at or before now per cell; never raises."""
        now = self._now()
        if now.tzinfo is None or now.utcoffset() is None:
            error = ProviderConfigError(NAME, f"the clock gave a time without an offset: {now}")
            return FetchResult(errors={cell.key: error for cell in cells})
        return fetch_each(NAME, cells, lambda cell: self._read(cell, now.astimezone(UTC)))

    def close(self) -> None:
        """Nothing to release: the file was read whole at creation."""

    def _read(self, cell: Cell, now: datetime) -> WeatherReading:
        self._check_size(cell)
        found = self._timeline.at_key(cell.key, now)
        if found is None:
            raise ProviderResponseError(
                NAME,
                f"no reading at or before {_iso(now)} in {self._file_name}",
                cell=cell.key,
            )
        reading = found.reading
        return replace(reading, source=NAME) if reading.source == UNKNOWN_SOURCE else reading

    def _check_size(self, cell: Cell) -> None:
        parsed = parse_cell(cell.key)
        if parsed is None:
            raise ProviderConfigError(
                NAME, "not a weather cell key (expected '<size>m:<row>:<column>')", cell=cell.key
            )
        if parsed[0] != self._cell_m:
            raise ProviderConfigError(
                NAME,
                f"a cell of {parsed[0]:g} m, but the file is read in cells of {self._cell_m:g} m:"
                f" set {CELL_M_VARIABLE} to the weather cell size (GEOTRIGGER_WEATHER_CELL_M)",
                cell=cell.key,
            )


def _load(path: str, cell_m: float) -> WeatherTimeline:
    try:
        return load_weather_timeline(path, cell_m=cell_m)
    except WeatherError as exc:
        raise ProviderConfigError(NAME, str(exc)) from exc


def _cell_m(text: str | None) -> float:
    if text is None:
        return DEFAULT_CELL_M
    try:
        size = float(text)
    except ValueError:
        size = math.nan
    if not (math.isfinite(size) and size > 0):
        raise ProviderConfigError(
            NAME, f"option 'cell_m' ({CELL_M_VARIABLE}) must be a positive number, got {text!r}"
        )
    return size


def _instant(text: str | None) -> datetime | None:
    """The fixed "now" of option ``at``, as aware UTC; None when not given."""
    if text is None or not text.strip():
        return None
    try:
        parsed: datetime | None = datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ProviderConfigError(
            NAME,
            f"option 'at' ({AT_VARIABLE}): {text!r} is not an ISO 8601 time with 'Z' or an "
            "offset (e.g. '2026-06-12T06:20:00Z')",
        )
    return parsed.astimezone(UTC)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")
