"""What every provider shares: one cell at a time into a :class:`FetchResult` that never
raises, and the small conversions of values that may be missing, null or odd."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
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

log = logging.getLogger("geotrigger.providers")

COORDINATE_DECIMALS = 4  # about 11 m: finer than any provider's grid; MET Norway refuses more

# What a parser may raise on a document that lacks what it expects, or holds values past what
# Python can represent (a time in year 10,000, nesting deeper than the stack): a typed error.
PARSE_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    OverflowError,
    OSError,
    RecursionError,
)


def fetch_each(
    name: str, cells: Sequence[Cell], read: Callable[[Cell], WeatherReading]
) -> FetchResult:
    """``read`` each cell; a cell whose read fails ends in ``errors``, never as an exception."""
    readings: dict[str, WeatherReading] = {}
    errors: dict[str, ProviderError] = {}
    for cell in cells:
        try:
            readings[cell.key] = read(cell)
        except ProviderError as exc:
            errors[cell.key] = exc
        except PARSE_ERRORS as exc:
            errors[cell.key] = unreadable(name, exc, cell=cell.key)
        except Exception as exc:  # the last resort: fetch never raises (the scheduler's contract)
            errors[cell.key] = unexpected(name, exc, cell=cell.key)
    _log_errors(name, errors)
    return FetchResult(readings=readings, errors=errors)


def unexpected(name: str, exc: Exception, *, cell: str | None = None) -> ProviderError:
    """An exception no parser should raise (a bug, or a library's surprise), logged with its
    traceback and turned into a typed error. The message names only the exception's type: its
    text may repeat a URL with a key in its query."""
    where = f" (cell {cell})" if cell else ""
    log.exception("provider %s%s: unexpected %s", name, where, type(exc).__name__)
    return ProviderResponseError(
        name, f"the response cannot be read: unexpected {type(exc).__name__}", cell=cell
    )


def fail_all(cells: Iterable[Cell], error: ProviderError) -> dict[str, ProviderError]:
    """The same error for every cell of a request that failed as a whole."""
    return {cell.key: error for cell in cells}


def unreadable(name: str, exc: BaseException, *, cell: str | None = None) -> ProviderError:
    """A parser's exception as a typed error naming what was missing or wrong."""
    what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
    return ProviderResponseError(name, f"the response cannot be read: {what}", cell=cell)


def _log_errors(name: str, errors: Mapping[str, ProviderError]) -> None:
    if errors:
        kinds = sorted({e.kind for e in errors.values()})
        log.info("provider %s: %d cell(s) without a reading (%s)", name, len(errors), kinds)


def number(value: Any) -> float | None:
    """A finite float, or None for a missing, null, non-numeric or non-finite value."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def clamp(value: float | None, low: float, high: float) -> float | None:
    """``value`` kept within [low, high] (providers round past the ends), None stays None."""
    return None if value is None else min(high, max(low, value))


def non_negative(value: float | None) -> float | None:
    """None for a negative value that cannot be (a sentinel such as -1 or -9999)."""
    return None if value is None or value < 0 else value


def epoch_time(value: Any, what: str) -> datetime:
    """Epoch seconds as an aware UTC time; ValueError naming ``what`` for a value that is not
    a finite number or lies past the years Python can hold (``1e20``)."""
    seconds = number(value)
    if seconds is None:
        raise ValueError(f"{what!r} is not a time: {value!r}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"{what!r} is out of range: {value!r}") from exc


def utc_now() -> datetime:
    """The wall clock, aware UTC: the default ``now`` of clients and providers."""
    return datetime.now(UTC)


def coordinate(value: float) -> str:
    """A coordinate as providers are asked for it: at most :data:`COORDINATE_DECIMALS`
    decimals, no trailing zeros, never ``-0`` (``40.712345`` → ``40.7123``, ``10.0`` →
    ``10``)."""
    text = f"{value:.{COORDINATE_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def json_object(value: Any, what: str) -> Mapping[str, Any]:
    """A part of a document the reading needs: TypeError naming ``what`` when it is not an
    object (a parse error: the cell's error says the response cannot be read)."""
    if not isinstance(value, dict):
        raise TypeError(f"{what!r} is not an object")
    return value


def require_user_agent(config: ProviderConfig, provider: str, why: str) -> None:
    """ProviderConfigError when ``user_agent`` is not set: ``why`` says whose terms require
    one. An example of what is expected follows the reason."""
    if not (config.user_agent or "").strip():
        raise ProviderConfigError(
            provider,
            f"user_agent is required: {why} (e.g. 'acme-geotrigger/1.0 (ops@example.com)')",
        )


def utc_time(text: Any) -> datetime:
    """An ISO 8601 time as UTC; a time without an offset is taken as UTC (as providers asked
    for UTC send it). ValueError when it is not a time."""
    if not isinstance(text, str):
        raise ValueError(f"a time must be text, got {type(text).__name__}")
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)
