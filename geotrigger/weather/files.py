"""A weather timeline from a JSON Lines file, for replay and tests: one reading per line.

Each line names where the reading applies by exactly one of ``place`` (a place id), ``cell``
(a cell key of the timeline's size) or ``lat`` and ``lon`` (degrees, mapped to their cell),
and gives ``observed_at`` (RFC 3339 with ``Z`` or an offset), optionally ``valid_until``,
``condition`` (one of :class:`~geotrigger.weather.reading.WeatherCondition`), ``source`` and
the numeric fields of :data:`~geotrigger.weather.reading.NUMERIC_FIELDS`. Blank lines and
lines starting with ``#`` are skipped.

Loading is all or nothing: one WeatherError lists every bad line with the file, the line, the
key when known and what is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geotrigger.errors import WeatherError, Where
from geotrigger.model import Place
from geotrigger.suggest import did_you_mean
from geotrigger.weather.cells import cell_of, parse_cell
from geotrigger.weather.reading import NUMERIC_FIELDS, WeatherCondition, WeatherReading
from geotrigger.weather.timeline import WeatherTimeline

KEY_FIELDS = ("place", "cell", "lat", "lon")
FIELDS = (*KEY_FIELDS, "observed_at", "valid_until", "condition", "source", *NUMERIC_FIELDS)
CONDITIONS = tuple(c.value for c in WeatherCondition)


def load_weather_timeline(
    path: str | Path, *, cell_m: float, places: Mapping[str, Place] | None = None
) -> WeatherTimeline:
    """The timeline of a JSON Lines file of readings; WeatherError listing every bad line.

    With ``places``, a ``place`` that is not among them is an error (with a suggestion).
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WeatherError(f"cannot read: {exc}", where=Where(source=source)) from exc
    timeline = WeatherTimeline(cell_m)
    errors: list[WeatherError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        problems: list[str] = []
        key, reading = _parse_line(line, cell_m, places, problems)
        where = Where(source=source, line=number, item_id=key)
        errors.extend(WeatherError(reason, where=where) for reason in problems)
        if key is not None and reading is not None and not problems:
            timeline.add(key, reading)
    if errors:
        listed = "\n".join(f"  {e}" for e in errors)
        raise WeatherError(f"{len(errors)} error(s) in the weather file:\n{listed}")
    return timeline


def _parse_line(
    line: str, cell_m: float, places: Mapping[str, Place] | None, problems: list[str]
) -> tuple[str | None, WeatherReading | None]:
    """The key and reading of one line, adding every reason it is bad to ``problems``."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.append(f"not valid JSON: {exc.msg} (column {exc.colno})")
        return None, None
    if not isinstance(record, dict):
        problems.append(f"expected an object, got {type(record).__name__}")
        return None, None
    for name in record:
        if name not in FIELDS:
            problems.append(f"unknown field {name!r}{did_you_mean(name, FIELDS)}")
    key = _key(record, cell_m, places, problems)
    return key, _reading(record, problems)


def _key(
    record: Mapping[str, Any],
    cell_m: float,
    places: Mapping[str, Place] | None,
    problems: list[str],
) -> str | None:
    """The place id or cell key the reading is for."""
    given = [k for k in ("place", "cell") if k in record]
    if "lat" in record or "lon" in record:
        given.append("lat/lon")
    if len(given) != 1:
        which = ", ".join(given) if given else "none"
        problems.append(f"give exactly one of 'place', 'cell' or 'lat' and 'lon' (got {which})")
        return None
    if "place" in record:
        return _place_key(record["place"], places, problems)
    if "cell" in record:
        return _cell_key(record["cell"], cell_m, problems)
    return _point_key(record, cell_m, problems)


def _place_key(value: Any, places: Mapping[str, Place] | None, problems: list[str]) -> str | None:
    if not (isinstance(value, str) and value):
        problems.append(f"field 'place' must be a non-empty string, got {value!r}")
        return None
    if places is not None and value not in places:
        problems.append(f"unknown place {value!r}{did_you_mean(value, places)}")
    return value


def _cell_key(value: Any, cell_m: float, problems: list[str]) -> str | None:
    parsed = parse_cell(value) if isinstance(value, str) else None
    if parsed is None:
        problems.append(f"field 'cell': {value!r} is not a cell key like '{cell_m:g}m:1338:554'")
        return None
    if parsed[0] != cell_m:
        problems.append(
            f"field 'cell': {value!r} is a cell of {parsed[0]:g} m; this timeline uses {cell_m:g} m"
        )
        return None
    return str(value)


def _point_key(record: Mapping[str, Any], cell_m: float, problems: list[str]) -> str | None:
    lat: Any = record.get("lat")
    lon: Any = record.get("lon")
    bad = len(problems)
    for name, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if not _is_number(value):
            problems.append(f"field {name!r} must be a number, got {_kind(value)}")
        elif not (math.isfinite(value) and -limit <= value <= limit):
            problems.append(f"field {name!r} {value!r} is outside [-{limit}, {limit}]")
    return cell_of(lat, lon, cell_m) if len(problems) == bad else None


def _reading(record: Mapping[str, Any], problems: list[str]) -> WeatherReading | None:
    """The reading's own fields, checked; None if any is bad."""
    bad = len(problems)
    values: dict[str, Any] = {}
    values["observed_at"] = _time(record, "observed_at", problems, required=True)
    if record.get("valid_until") is not None:
        values["valid_until"] = _time(record, "valid_until", problems, required=False)
    values.update(_labels(record, problems))
    for name in NUMERIC_FIELDS:
        value = record.get(name)
        if value is not None and not _is_number(value):
            problems.append(f"field {name!r} must be a number, got {_kind(value)}")
        elif value is not None:
            values[name] = float(value)
    if len(problems) > bad:
        return None
    try:
        return WeatherReading(**values)
    except ValueError as exc:  # the reading's own invariants, said in its words
        problems.append(str(exc))
        return None


def _labels(record: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """The condition and the source, when given and good."""
    values: dict[str, Any] = {}
    condition = record.get("condition")
    if condition in CONDITIONS:
        values["condition"] = WeatherCondition(condition)
    elif condition is not None:
        problems.append(f"unknown condition {condition!r}{did_you_mean(condition, CONDITIONS)}")
    source = record.get("source")
    if isinstance(source, str) and source:
        values["source"] = source
    elif "source" in record:
        problems.append(f"field 'source' must be a non-empty string, got {_kind(source)}")
    return values


def _time(record: Mapping[str, Any], name: str, problems: list[str], *, required: bool) -> Any:
    """An RFC 3339 time with an offset, as UTC; epoch numbers are not accepted here (a weather
    file is written by people and scripts that can write the time out)."""
    value = record.get(name)
    if value is None:
        if required:
            problems.append(f"field {name!r} is required")
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        problems.append(
            f"field {name!r}: {value!r} is not an RFC 3339 time with 'Z' or an offset "
            "(e.g. '2026-06-12T06:00:00Z')"
        )
        return None
    return parsed.astimezone(UTC)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
