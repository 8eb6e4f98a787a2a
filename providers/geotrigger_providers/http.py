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
  shortened to about 200 characters. Settings the client cannot work with are refused when
  it is made (:mod:`geotrigger_providers.client_config`).
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
  ``Last-Modified`` and ``Expires`` (:mod:`geotrigger_providers.response_cache`). Before
  ``Expires`` the cached response is returned without a request, for at most
  :data:`~geotrigger_providers.response_cache.MAX_FRESH_S` whatever ``Expires`` says (a clock or a
  server that is far off must not freeze a reading); after it the request carries
  ``If-Modified-Since``, and a 304 returns the cached response (with the headers of the 304
  merged in, so a new ``Expires`` counts). Responses served from the cache have
  ``not_modified`` set.
* **No secrets.** URLs in errors, logs and :attr:`HttpResponse.url` carry no query string
  (keys travel there), and the API key's value is replaced by ``***`` in every message and in
  ``repr`` (:mod:`geotrigger_providers.redaction`). Errors are raised without the
  ``requests`` exception as their cause, since those repeat the full URL.

Retries and breaker changes are logged (logger ``geotrigger.providers.http``), one line each,
with the provider's name, the status or failure and the delay.

``clock``, ``sleep``, ``rng`` and ``now`` are injectable so tests run backoff, rate limits,
the breaker and ``Expires`` without waiting. A client is not thread-safe: one scheduler job
uses it at a time.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode

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
from geotrigger_providers.client_config import check_client_config
from geotrigger_providers.guards import (
    BreakerState,
    CircuitBreaker,
    RetryAfterBlock,
    TokenBucket,
)
from geotrigger_providers.redaction import Redactor
from geotrigger_providers.response_cache import CachedResponse, ResponseCache
from geotrigger_providers.responses import HttpResponse, retry_after_s, summarise_body

Params = Mapping[str, str | int | float]
_T = TypeVar("_T")

log = logging.getLogger("geotrigger.providers.http")

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


class GetOptions(TypedDict, total=False):
    """The options of every GET (see :meth:`HttpClient.get_read`)."""

    params: Params | None
    headers: Mapping[str, str] | None
    cell: str | None
    conditional: bool
    cost: float


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
        check_client_config(config, self._base_url)
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
        self._blocked = RetryAfterBlock(config.name, clock)
        self._cache = ResponseCache(now)
        self._redactor = Redactor(config.api_key)

    @property
    def base_url(self) -> str:
        """The URL that relative paths are joined to, without a trailing slash."""
        return self._base_url

    @property
    def public_base_url(self) -> str:
        """The base URL fit to show (``repr``, logs): no user info, query or API key."""
        return self._redactor.public_url(self._base_url)

    @property
    def limiter(self) -> TokenBucket:
        """The rate limit this client takes its tokens from, for another client to share."""
        return self._bucket

    @property
    def breaker_state(self) -> BreakerState:
        """The circuit breaker's state, for metrics and tests: ``closed``, ``open`` or
        ``half-open`` (an open circuit whose time is up, waiting for its trial request)."""
        return self._breaker.state

    def get(self, path: str, **options: Unpack[GetOptions]) -> HttpResponse:
        """GET ``base_url + path`` (``path`` may also be an absolute URL, as NWS links are);
        raises the typed errors above, naming ``cell`` when given. The body is not read: a
        provider reads it with :meth:`get_json` or :meth:`get_read`, so that a body it cannot
        read counts against the circuit breaker."""
        return self.get_read(path, _as_is, **options)

    def get_json(self, path: str, **options: Unpack[GetOptions]) -> Any:
        """:meth:`get`, and the body as JSON: a body that is not JSON raises
        :class:`ProviderResponseError`, counts as a failed request for the circuit breaker (a
        provider answering 200 with a maintenance page is down) and is not cached."""
        return self.get_read(path, HttpResponse.json, **options)

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
            return read(cached.served(cell))
        self._blocked.admit(cell)
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
            self._cache.remember(url, response)
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
        cached: CachedResponse | None,
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
                self._redactor.public_url(url),
                attempt + 1,
                attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(
        self, url: str, headers: Mapping[str, str], cell: str | None, cached: CachedResponse | None
    ) -> HttpResponse | _Failure:
        """One GET: a response to return, a failure worth retrying, or a typed error."""
        try:
            response = self._session.get(url, headers=headers, timeout=self._timeout)
        except requests.exceptions.ConnectTimeout:
            return _Failure("connect timed out")
        except requests.exceptions.ReadTimeout:
            return _Failure("read timed out")
        except _BAD_URL as exc:
            reason = f"bad URL {self._redactor.public_url(url)}: {type(exc).__name__}"
            raise ProviderConfigError(self._name, self._redactor.mask(reason), cell=cell) from None
        except requests.exceptions.ConnectionError:
            return _Failure("connection failed")
        except _BODY_CUT_SHORT:
            return _Failure("response body cut short")
        except requests.exceptions.RequestException as exc:
            raise ProviderUnavailableError(
                self._name, f"{type(exc).__name__} at {self._redactor.public_url(url)}", cell=cell
            ) from None
        return self._judge(url, response, cell, cached)

    def _judge(
        self, url: str, response: requests.Response, cell: str | None, cached: CachedResponse | None
    ) -> HttpResponse | _Failure:
        """A response by its status: accepted, served from the cache, retried or refused."""
        status = response.status_code
        public = self._redactor.public_url(response.url)
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
            return self._cache.revalidated(url, cached, _lower_cased(response.headers), cell)
        detail = self._redactor.mask(summarise_body(response.content))
        if status == 429 or status >= 500:
            wait = retry_after_s(response.headers.get("Retry-After"), self._now())
            return _Failure(f"HTTP {status}", status, wait, detail)
        if status == 304:
            detail = "not modified, but there is no cached copy to reuse"
        reason = self._redactor.mask(f"HTTP {status} from {public}: {detail}")
        if 300 <= status < 500:
            raise ProviderConfigError(self._name, reason, cell=cell, status=status)
        raise ProviderResponseError(self._name, reason, cell=cell, status=status)

    def _retry_delay(self, failure: _Failure, attempt: int, url: str, cell: str | None) -> float:
        """How long to wait before the next try; raises when there is none to wait for."""
        config = self._config
        public = self._redactor.public_url(url)
        wait = failure.retry_after_s
        if wait is not None and wait > config.max_backoff_s:
            reason = (
                f"{failure.what} from {public}: Retry-After {wait:.0f} s is longer "
                f"than the {config.max_backoff_s:g} s this client waits"
            )
            raise self._give_up(failure, reason, cell)
        if attempt + 1 >= config.max_attempts:
            attempts = "1 attempt" if config.max_attempts == 1 else f"{attempt + 1} attempts"
            reason = f"{failure.what} after {attempts} ({public})"
            if failure.detail:
                reason += f": {failure.detail}"
            raise self._give_up(failure, reason, cell)
        jitter = self._rng() * min(config.max_backoff_s, config.backoff_s * 2.0**attempt)
        return max(jitter, wait or 0.0)

    def _give_up(self, failure: _Failure, reason: str, cell: str | None) -> ProviderError:
        reason = self._redactor.mask(reason)
        if failure.retry_after_s is not None and failure.status in (429, 503):
            self._blocked.block(failure.status, failure.retry_after_s)
        if failure.status == 429:
            return ProviderRateLimitedError(
                self._name, reason, cell=cell, retry_after_s=failure.retry_after_s, status=429
            )
        return ProviderUnavailableError(self._name, reason, cell=cell, status=failure.status)

    # -- URLs ---------------------------------------------------------------------------------

    def _url(self, path: str, params: Params | None) -> str:
        """The full URL, query included: an absolute ``path`` as is, else under the base."""
        absolute = path if re.match(r"^https?://", path, flags=re.I) else self._base_url + path
        if not params:
            return absolute
        query = urlencode([(name, str(value)) for name, value in params.items()])
        return f"{absolute}{'&' if '?' in absolute else '?'}{query}"


def _as_is(response: HttpResponse) -> HttpResponse:
    return response


def _lower_cased(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
