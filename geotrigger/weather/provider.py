"""The weather provider contract: what a plug-in takes and returns, and the errors it raises.

A provider takes weather cells (a key and the coordinates of the cell's centre) and returns a
:class:`~geotrigger.weather.reading.WeatherReading` per cell it could read, and a typed
:class:`ProviderError` per cell it could not. Raw provider JSON never leaves the provider. A
provider never raises from :meth:`WeatherProvider.fetch` for a bad response: the scheduler
must keep running whatever a provider sends back; it raises only :class:`ProviderConfigError`
when it is built with settings it refuses.

Plug-ins register a factory in the entry-point group :data:`ENTRY_POINT_GROUP`; the factory
takes a :class:`ProviderConfig` and returns a provider (see :mod:`geotrigger.weather.registry`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from geotrigger.errors import GeotriggerError
from geotrigger.weather.reading import WeatherReading

ENTRY_POINT_GROUP = "geotrigger.weather_providers"


@dataclass(frozen=True, slots=True)
class Cell:
    """A place to read the weather at: a weather cell's key and its centre (degrees)."""

    key: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ProviderConfig:
    """What a provider is built from; every provider's base URL is configurable.

    ``options`` carries provider-specific settings by name (e.g. Open-Meteo's ``plan``, the
    file provider's ``path``), as strings from the environment or a config file.

    Its ``repr`` shows no secret: not ``api_key``, not ``options`` (a plug-in may take a token
    there), and ``base_url`` without user info, query or fragment.
    """

    name: str
    base_url: str | None = None  # None: the provider's public default
    api_key: str | None = field(default=None, repr=False)  # never shown
    user_agent: str | None = None  # identifying, with a contact (MET Norway and NWS require one)
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 10.0
    max_attempts: int = 4  # first try + retries (timeouts, 429, 5xx only)
    backoff_s: float = 0.5  # first retry's base delay; doubles each time, with full jitter
    max_backoff_s: float = 30.0
    rate_per_s: float = 5.0  # requests per second to this provider, at most
    breaker_failures: int = 5  # consecutive failed requests that open the circuit
    breaker_reset_s: float = 60.0  # how long an open circuit refuses before one trial request
    options: Mapping[str, str] = field(default_factory=dict, repr=False)  # never shown

    def __repr__(self) -> str:
        shown = {item.name: getattr(self, item.name) for item in fields(self) if item.repr}
        if self.base_url is not None:
            shown["base_url"] = shown_url(self.base_url)
        return f"ProviderConfig({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def shown_url(url: str) -> str:
    """A URL fit to show: scheme, host, port and path; no user info, query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a URL that cannot be parsed)"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class ProviderError(GeotriggerError):
    """A provider could not give a reading. ``provider`` names it; ``cell`` the cell, if one;
    ``status`` the HTTP status of the provider's last answer, when the error comes from one
    (so that callers tell a 404 from a 403 without reading the message)."""

    kind = "error"  # a short label for metrics and decision traces

    def __init__(
        self, provider: str, reason: str, *, cell: str | None = None, status: int | None = None
    ) -> None:
        self.provider, self.reason, self.cell, self.status = provider, reason, cell, status
        where = f" (cell {cell})" if cell else ""
        super().__init__(f"weather provider {provider!r}{where}: {reason}")


class ProviderConfigError(ProviderError):
    """The provider refused our request as asked (a 4xx other than 429: bad key, bad
    parameters, unknown point) or refused its settings: a configuration error, not an outage."""

    kind = "config"


class ProviderUnavailableError(ProviderError):
    """Timeouts, connection failures or 5xx after the last retry, or the circuit is open."""

    kind = "unavailable"


class ProviderRateLimitedError(ProviderError):
    """429 after the last retry (or a wait longer than we would wait)."""

    kind = "rate_limited"

    def __init__(
        self,
        provider: str,
        reason: str,
        *,
        cell: str | None = None,
        retry_after_s: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(provider, reason, cell=cell, status=status)
        self.retry_after_s = retry_after_s


class ProviderResponseError(ProviderError):
    """A response we cannot read: garbage or truncated JSON, an HTML error page, a document
    without the fields a reading needs."""

    kind = "bad_response"


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """What one fetch gave: readings by cell key, and errors by cell key for the rest."""

    readings: Mapping[str, WeatherReading] = field(default_factory=dict)
    errors: Mapping[str, ProviderError] = field(default_factory=dict)


@runtime_checkable
class WeatherProvider(Protocol):
    """A weather source. ``name`` is the registered name (``open-meteo``, ``metno``, ...)."""

    name: str

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        """Readings for ``cells``; every cell ends in ``readings`` or in ``errors``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class Clocked(Protocol):
    """Optional, for providers that play recordings (the ``file`` provider): whoever drives
    them (a sweep, a backtest, ``geotrigger weather now --at``) sets the "now" they read at,
    so a recorded day plays in replay time instead of the wall clock's."""

    def set_clock(self, now: Callable[[], datetime]) -> None:
        """Read at ``now()`` (aware) from here on, instead of the provider's own clock."""
        ...


ProviderFactory = Callable[[ProviderConfig], WeatherProvider]
