"""HTTP for weather providers: one ``requests`` session per provider, and everything a
scheduler needs to survive a provider's bad day.

:class:`HttpClient` sends GETs with the connect and read timeouts of its
:class:`ProviderConfig` and the configured ``User-Agent``, and turns every way a request can go
wrong into one of the typed errors of :mod:`geotrigger.weather.provider`, so a provider never
lets a ``requests`` exception escape:

* **Retries.** Only timeouts, connection failures, 429 and 5xx are retried, at most
  ``max_attempts`` tries in all. Before retry ``n`` (0-based) the client waits
  ``rng() * min(max_backoff_s, backoff_s * 2**n)`` (full jitter, so that many clients do not
  retry in step), or the ``Retry-After`` (seconds or an HTTP date) when that is longer. A
  ``Retry-After`` longer than ``max_backoff_s`` is not waited for: a 429 raises
  :class:`ProviderRateLimitedError` (with ``retry_after_s``) and a 5xx
  :class:`ProviderUnavailableError` at once. A 429 or 503 given up on with a ``Retry-After``
  blocks the client for that long: until then every request fails at once without being
  sent (:class:`ProviderRateLimitedError` with the ``retry_after_s`` left after a 429,
  :class:`ProviderUnavailableError` after a 503), so the other cells of a sweep do not ask
  again what the provider has just refused. After the last try a 429 is
  :class:`ProviderRateLimitedError`, anything else :class:`ProviderUnavailableError`, named
  by its last status or failure ("read timed out after 3 attempts").
* **A body cut short.** A response whose body stops early (the connection closes before the
  ``Content-Length`` is read, a broken chunked or gzip stream) is a connection failure, not a
  bad document: it is retried like one, and ends in :class:`ProviderUnavailableError` (it
  says nothing about what the provider would send, and counts towards the breaker). A body
  that arrives whole but holds truncated or garbage JSON is
  :class:`ProviderResponseError`, raised by :meth:`HttpResponse.json`.
* **Refusals.** A 4xx other than 429 (and a 304 without a cached copy) is
  :class:`ProviderConfigError`, not retried, with the status (also as the error's ``status``,
  as on every error that ends in an HTTP answer) and what the body says
  (``message``, ``reason``, ``detail`` or ``title`` of a JSON body, else its first text),
  shortened to about 200 characters.
* **Circuit breaker.** Every request that ends in an error after its retries is one failure;
  ``breaker_failures`` consecutive ones open the circuit: requests then fail fast with
  :class:`ProviderUnavailableError` ("circuit open ...") and send nothing for
  ``breaker_reset_s``. Then the circuit is half-open: the next request is a trial; success
  closes the circuit, failure opens it again. A :class:`ProviderConfigError` is not an outage:
  the provider answered, so it counts as a success for the breaker.
* **Rate limit.** A token bucket of ``rate_per_s`` tokens per second (capacity
  ``max(1, rate_per_s)``) per client, or one :class:`TokenBucket` shared by the clients of one
  provider (``limiter``); every attempt, retries included, takes a token (or ``cost`` tokens,
  for a request a provider counts as several calls) and waits for them when there are none.
  It never fails.
* **Conditional GETs** (``conditional=True``). The last 2xx with a body per URL (query
  included; MET Norway answers 203 for a deprecated product) is kept with its
  ``Last-Modified`` and ``Expires``. Before ``Expires`` the cached response is returned
  without a request, for at most :data:`MAX_FRESH_S` whatever ``Expires`` says (a clock or a
  server that is far off must not freeze a reading); after it the request carries
  ``If-Modified-Since``, and a 304 returns the cached response (with the headers of the 304
  merged in, so a new ``Expires`` counts). Responses served from the cache have
  ``not_modified`` set.
* **No secrets.** URLs in errors, logs and :attr:`HttpResponse.url` carry no query string
  (keys travel there), and the API key's value is replaced by ``***`` in every message and in
  ``repr``. Errors are raised without the ``requests`` exception as their cause, since those
  repeat the full URL.

Retries and breaker changes are logged (logger ``geotrigger.providers.http``), one line each,
with the provider's name, the status or failure and the delay.

``clock``, ``sleep``, ``rng`` and ``now`` are injectable so tests run backoff, rate limits,
the breaker and ``Expires`` without waiting. A client is not thread-safe: one scheduler job
uses it at a time.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import requests

from geotrigger.weather.provider import (
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from geotrigger_providers.base import PARSE_ERRORS, utc_now
from geotrigger_providers.guards import BreakerState, CircuitBreaker, TokenBucket
from geotrigger_providers.responses import (
    HttpResponse,
    http_date,
    retry_after_s,
    summarise_body,
)

Params = Mapping[str, str | int | float]
_T = TypeVar("_T")

log = logging.getLogger("geotrigger.providers.http")

MASK = "***"
MAX_FRESH_S = 3600.0  # the longest a cached response is served without asking the provider
# Headers that describe a body: a 304 has none of its own, the cached body keeps its own.
_BODY_HEADERS = frozenset(
    {"content-length", "content-encoding", "content-type", "transfer-encoding"}
)
# requests' ways of saying that the body stopped early or could not be decoded.
_BODY_CUT_SHORT = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# requests' ways of saying that the URL itself is wrong: the settings, not the provider.
_BAD_URL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.URLRequired,
)


@dataclass(frozen=True, slots=True)
class _Failure:
    """One attempt that may be retried: what went wrong, and what the provider asked for."""

    what: str  # "HTTP 503", "read timed out", ...
    status: int | None = None
    retry_after_s: float | None = None
    detail: str = ""  # what the body said, briefly


@dataclass(frozen=True, slots=True)
class _Blocked:
    """A provider's ``Retry-After`` being honoured: no request before ``until`` (client clock)."""

    status: int  # 429 or 503
    until: float


@dataclass(frozen=True, slots=True)
class _Cached:
    """The last 2xx of a URL, for conditional GETs; ``fresh_until`` is its ``Expires``, at
    most :data:`MAX_FRESH_S` after it was stored."""

    response: HttpResponse
    last_modified: str | None
    fresh_until: datetime | None

    def fresh(self, now: datetime) -> bool:
        return self.fresh_until is not None and now < self.fresh_until


def check_base_url(provider: str, base_url: str) -> None:
    """Refuse a base URL requests could not send to (a typo such as ``htps://`` or a missing
    host would otherwise fail every request, later and less clearly): http or https, a host,
    parsed by ``urlsplit``. The URL is not quoted back: it may hold credentials."""
    try:
        parts = urlsplit(base_url)
        _ = parts.port  # ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ProviderConfigError(provider, f"base_url cannot be parsed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = repr(parts.scheme) if parts.scheme else "none"
        raise ProviderConfigError(
            provider, f"base_url must start with http:// or https:// (scheme: {shown})"
        )
    if not parts.hostname:
        raise ProviderConfigError(provider, "base_url has no host (e.g. https://api.example.org)")


def check_user_agent(provider: str, user_agent: str | None) -> None:
    """Refuse a User-Agent that cannot travel as one header line: a CR or LF would split the
    header, and other control characters are refused by servers or by ``requests`` later."""
    if user_agent is None:
        return
    bad = [character for character in user_agent if not character.isprintable()]
    if bad:
        raise ProviderConfigError(
            provider,
            f"user_agent must be printable text on one line; it holds {bad[0]!r}",
        )


def _check_config(config: ProviderConfig, base_url: str) -> None:
    """Refuse settings the client cannot work with, naming the setting."""
    check_base_url(config.name, base_url)
    check_user_agent(config.name, config.user_agent)
    positive = {
        "connect_timeout_s": config.connect_timeout_s,
        "read_timeout_s": config.read_timeout_s,
        "rate_per_s": config.rate_per_s,
    }
    for name, value in positive.items():
        if not (math.isfinite(value) and value > 0):
            raise ProviderConfigError(config.name, f"{name} must be a positive number: {value!r}")
    for name, value in {
        "backoff_s": config.backoff_s,
        "max_backoff_s": config.max_backoff_s,
        "breaker_reset_s": config.breaker_reset_s,
    }.items():
        if not (math.isfinite(value) and value >= 0):
            raise ProviderConfigError(config.name, f"{name} must be 0 or more: {value!r}")
    for name, count in {
        "max_attempts": config.max_attempts,
        "breaker_failures": config.breaker_failures,
    }.items():
        if count < 1:
            raise ProviderConfigError(config.name, f"{name} must be at least 1: {count!r}")


class HttpClient:
    """One provider's HTTP: session, timeouts, retries, breaker, rate limit, cache."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        default_base_url: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        now: Callable[[], datetime] = utc_now,
        session: requests.Session | None = None,
        limiter: TokenBucket | None = None,
    ) -> None:
        """``config.base_url`` (without a trailing slash) or ``default_base_url``; the session
        sends ``config.user_agent`` when set. ``clock``, ``sleep`` and ``rng`` are injectable
        so tests can run backoff without waiting; ``now`` (aware UTC wall-clock time) is what
        ``Expires`` and ``Retry-After`` dates are compared with. ``limiter``: another client's
        :attr:`limiter`, to share its rate limit (its own bucket of ``rate_per_s`` when None)."""
        self._base_url = (config.base_url or default_base_url).rstrip("/")
        _check_config(config, self._base_url)
        self._config = config
        self._name = config.name
        self._clock, self._sleep, self._rng, self._now = clock, sleep, rng, now
        self._session = session if session is not None else requests.Session()
        if config.user_agent:
            self._session.headers["User-Agent"] = config.user_agent
        self._timeout = (config.connect_timeout_s, config.read_timeout_s)
        self._bucket = limiter or TokenBucket(config.rate_per_s, clock, sleep)
        self._breaker = CircuitBreaker(
            config.name, config.breaker_failures, config.breaker_reset_s, clock
        )
        self._cache: dict[str, _Cached] = {}
        self._secrets = _secret_forms(config.api_key)
        self._blocked: _Blocked | None = None

    @property
    def base_url(self) -> str:
        """The URL that relative paths are joined to, without a trailing slash."""
        return self._base_url

    @property
    def public_base_url(self) -> str:
        """The base URL fit to show (``repr``, logs): no user info, query or API key."""
        return self._public(self._base_url)

    @property
    def limiter(self) -> TokenBucket:
        """The rate limit this client takes its tokens from, for another client to share."""
        return self._bucket

    @property
    def breaker_state(self) -> BreakerState:
        """The circuit breaker's state, for metrics and tests: ``closed``, ``open`` or
        ``half-open`` (an open circuit whose time is up, waiting for its trial request)."""
        return self._breaker.state

    def get(
        self,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        cell: str | None = None,
        conditional: bool = False,
        cost: float = 1.0,
    ) -> HttpResponse:
        """GET ``base_url + path`` (``path`` may also be an absolute URL, as NWS links are);
        raises the typed errors above, naming ``cell`` when given. The body is not read: a
        provider reads it with :meth:`get_json` or :meth:`get_read`, so that a body it cannot
        read counts against the circuit breaker."""
        return self.get_read(
            path,
            _as_is,
            params=params,
            headers=headers,
            cell=cell,
            conditional=conditional,
            cost=cost,
        )

    def get_json(
        self,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        cell: str | None = None,
        conditional: bool = False,
        cost: float = 1.0,
    ) -> Any:
        """:meth:`get`, and the body as JSON: a body that is not JSON raises
        :class:`ProviderResponseError`, counts as a failed request for the circuit breaker (a
        provider answering 200 with a maintenance page is down) and is not cached."""
        return self.get_read(
            path,
            HttpResponse.json,
            params=params,
            headers=headers,
            cell=cell,
            conditional=conditional,
            cost=cost,
        )

    def get_read(
        self,
        path: str,
        read: Callable[[HttpResponse], _T],
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        cell: str | None = None,
        conditional: bool = False,
        cost: float = 1.0,
    ) -> _T:
        """:meth:`get`, and what ``read`` makes of the response. When ``read`` cannot (a
        :class:`ProviderResponseError`, or a parse error of :data:`PARSE_ERRORS`), the
        request counts as failed for the circuit breaker and the response is not cached; the
        error propagates. Each attempt takes ``cost`` tokens of the rate limit (a request the
        provider counts as several calls costs several)."""
        url = self._url(path, params)
        cached = self._cache.get(url) if conditional else None
        if cached is not None and cached.fresh(self._now()):
            return read(replace(cached.response, not_modified=True, cell=cell))
        self._refuse_while_blocked(cell)
        self._breaker.admit(cell)
        request_headers = dict(headers or {})
        if cached is not None and cached.last_modified:
            request_headers["If-Modified-Since"] = cached.last_modified
        try:
            response = self._send(url, request_headers, cell, cached, cost)
            result = read(response)
        except ProviderConfigError:
            self._breaker.succeeded()  # the provider answered: not an outage
            raise
        except ProviderError as exc:
            self._breaker.failed(exc.reason)
            raise
        except PARSE_ERRORS as exc:
            self._breaker.failed(f"an unreadable response ({type(exc).__name__})")
            raise
        self._breaker.succeeded()
        if conditional and response.body and not response.not_modified:
            self._remember(url, response)
        return result

    def close(self) -> None:
        """Close the session."""
        self._session.close()

    def __repr__(self) -> str:
        return (
            f"HttpClient(provider={self._name!r}, base_url={self.public_base_url!r}, "
            f"breaker={self.breaker_state!r})"
        )

    # -- one request, with its retries ----------------------------------------------------

    def _send(
        self,
        url: str,
        headers: Mapping[str, str],
        cell: str | None,
        cached: _Cached | None,
        cost: float,
    ) -> HttpResponse:
        """Try up to ``max_attempts`` times; the response, or the typed error of the last."""
        attempts = self._config.max_attempts
        for attempt in range(attempts):
            self._bucket.take(cost)
            outcome = self._attempt(url, headers, cell, cached)
            if isinstance(outcome, HttpResponse):
                return outcome
            delay = self._retry_delay(outcome, attempt, url, cell)
            log.info(
                "provider %s: %s from %s; retry %d of %d in %.2f s",
                self._name,
                outcome.what,
                self._public(url),
                attempt + 1,
                attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(
        self, url: str, headers: Mapping[str, str], cell: str | None, cached: _Cached | None
    ) -> HttpResponse | _Failure:
        """One GET: a response to return, a failure worth retrying, or a typed error."""
        try:
            response = self._session.get(url, headers=headers, timeout=self._timeout)
        except requests.exceptions.ConnectTimeout:
            return _Failure("connect timed out")
        except requests.exceptions.ReadTimeout:
            return _Failure("read timed out")
        except _BAD_URL as exc:
            raise ProviderConfigError(
                self._name,
                self._mask(f"bad URL {self._public(url)}: {type(exc).__name__}"),
                cell=cell,
            ) from None
        except requests.exceptions.ConnectionError:
            return _Failure("connection failed")
        except _BODY_CUT_SHORT:
            return _Failure("response body cut short")
        except requests.exceptions.RequestException as exc:
            raise ProviderUnavailableError(
                self._name, f"{type(exc).__name__} at {self._public(url)}", cell=cell
            ) from None
        return self._judge(url, response, cell, cached)

    def _judge(
        self, url: str, response: requests.Response, cell: str | None, cached: _Cached | None
    ) -> HttpResponse | _Failure:
        """A response by its status: accepted, served from the cache, retried or refused."""
        status = response.status_code
        public = self._public(response.url)
        if 200 <= status < 300:
            return HttpResponse(
                status=status,
                url=public,
                headers=_lower_cased(response.headers),
                body=response.content,
                provider=self._name,
                cell=cell,
            )
        if status == 304 and cached is not None:
            return self._revalidated(url, cached, response, cell)
        detail = self._mask(summarise_body(response.content))
        if status == 429 or status >= 500:
            wait = retry_after_s(response.headers.get("Retry-After"), self._now())
            return _Failure(f"HTTP {status}", status, wait, detail)
        if status == 304:
            detail = "not modified, but there is no cached copy to reuse"
        reason = self._mask(f"HTTP {status} from {public}: {detail}")
        if 300 <= status < 500:
            raise ProviderConfigError(self._name, reason, cell=cell, status=status)
        raise ProviderResponseError(self._name, reason, cell=cell, status=status)

    def _retry_delay(self, failure: _Failure, attempt: int, url: str, cell: str | None) -> float:
        """How long to wait before the next try; raises when there is none to wait for."""
        config = self._config
        wait = failure.retry_after_s
        if wait is not None and wait > config.max_backoff_s:
            reason = (
                f"{failure.what} from {self._public(url)}: Retry-After {wait:.0f} s is longer "
                f"than the {config.max_backoff_s:g} s this client waits"
            )
            raise self._give_up(failure, reason, cell)
        if attempt + 1 >= config.max_attempts:
            attempts = "1 attempt" if config.max_attempts == 1 else f"{attempt + 1} attempts"
            reason = f"{failure.what} after {attempts} ({self._public(url)})"
            if failure.detail:
                reason += f": {failure.detail}"
            raise self._give_up(failure, reason, cell)
        jitter = self._rng() * min(config.max_backoff_s, config.backoff_s * 2.0**attempt)
        return max(jitter, wait or 0.0)

    def _give_up(self, failure: _Failure, reason: str, cell: str | None) -> ProviderError:
        reason = self._mask(reason)
        if failure.retry_after_s is not None and failure.status in (429, 503):
            self._blocked = _Blocked(failure.status, self._clock() + failure.retry_after_s)
        if failure.status == 429:
            return ProviderRateLimitedError(
                self._name, reason, cell=cell, retry_after_s=failure.retry_after_s, status=429
            )
        return ProviderUnavailableError(self._name, reason, cell=cell, status=failure.status)

    def _refuse_while_blocked(self, cell: str | None) -> None:
        """Fail without sending while a ``Retry-After`` the client gave up on still runs."""
        if self._blocked is None:
            return
        remaining = self._blocked.until - self._clock()
        if remaining <= 0:
            self._blocked = None
            return
        reason = (
            f"not sent: the provider answered HTTP {self._blocked.status} with a Retry-After; "
            f"{remaining:.0f} s left to wait"
        )
        if self._blocked.status == 429:
            raise ProviderRateLimitedError(self._name, reason, cell=cell, retry_after_s=remaining)
        raise ProviderUnavailableError(self._name, reason, cell=cell)

    # -- the conditional-GET cache ----------------------------------------------------------

    def _remember(self, url: str, response: HttpResponse) -> None:
        expires = http_date(response.headers.get("expires"))
        if expires is not None:
            expires = min(expires, self._now() + timedelta(seconds=MAX_FRESH_S))
        self._cache[url] = _Cached(response, response.headers.get("last-modified"), expires)

    def _revalidated(
        self, url: str, cached: _Cached, response: requests.Response, cell: str | None
    ) -> HttpResponse:
        """The cached response for a 304, with the 304's headers (a new Expires) merged in."""
        fresh_headers = {
            name: value
            for name, value in _lower_cased(response.headers).items()
            if name not in _BODY_HEADERS
        }
        merged = replace(cached.response, headers={**cached.response.headers, **fresh_headers})
        self._remember(url, merged)
        return replace(merged, not_modified=True, cell=cell)

    # -- URLs and secrets -----------------------------------------------------------------

    def _url(self, path: str, params: Params | None) -> str:
        """The full URL, query included: an absolute ``path`` as is, else under the base."""
        absolute = path if re.match(r"^https?://", path, flags=re.I) else self._base_url + path
        if not params:
            return absolute
        query = urlencode([(name, str(value)) for name, value in params.items()])
        return f"{absolute}{'&' if '?' in absolute else '?'}{query}"

    def _public(self, url: str) -> str:
        """A URL fit for errors and logs: no query, no fragment, no user info, no key."""
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return self._mask(urlunsplit((parts.scheme, host, parts.path, "", "")))

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


def _as_is(response: HttpResponse) -> HttpResponse:
    return response


def _secret_forms(api_key: str | None) -> tuple[str, ...]:
    """The key as it may appear: as is, and URL-encoded (longest first)."""
    if not api_key:
        return ()
    forms = {api_key, quote(api_key, safe=""), quote(api_key)}
    return tuple(sorted(forms, key=len, reverse=True))


def _lower_cased(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
