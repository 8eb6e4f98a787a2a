"""The conditional-GET cache of one HTTP client: the last 2xx with a body per URL (query
included), served without a request before its ``Expires`` and revalidated with
``If-Modified-Since`` after it.

``Expires`` is trusted for at most :data:`MAX_FRESH_S`: a clock or a server that is far off
must not freeze a reading. A 304 returns the cached response with the 304's headers merged in
(so a new ``Expires`` counts), except those that describe a body: a 304 has none of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from geotrigger_providers.responses import HttpResponse, http_date

MAX_FRESH_S = 3600.0  # the longest a cached response is served without asking the provider
# Headers that describe a body: a 304 has none of its own, the cached body keeps its own.
_BODY_HEADERS = frozenset(
    {"content-length", "content-encoding", "content-type", "transfer-encoding"}
)


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """The last 2xx of a URL; ``fresh_until`` is its ``Expires``, at most
    :data:`MAX_FRESH_S` after it was stored."""

    response: HttpResponse
    last_modified: str | None
    fresh_until: datetime | None

    def fresh(self, now: datetime) -> bool:
        """Whether it may be served without asking the provider."""
        return self.fresh_until is not None and now < self.fresh_until

    def served(self, cell: str | None) -> HttpResponse:
        """The response as served from the cache: ``not_modified``, for ``cell``."""
        return replace(self.response, not_modified=True, cell=cell)


class ResponseCache:
    """Cached responses by URL; ``now`` (aware UTC) is what ``Expires`` is compared with."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._entries: dict[str, CachedResponse] = {}

    def get(self, url: str) -> CachedResponse | None:
        """The cached response of ``url``, fresh or not; None when there is none."""
        return self._entries.get(url)

    def remember(self, url: str, response: HttpResponse) -> None:
        """Keep ``response`` as ``url``'s, with its ``Last-Modified`` and ``Expires``."""
        expires = http_date(response.headers.get("expires"))
        if expires is not None:
            expires = min(expires, self._now() + timedelta(seconds=MAX_FRESH_S))
        self._entries[url] = CachedResponse(
            response, response.headers.get("last-modified"), expires
        )

    def revalidated(
        self,
        url: str,
        cached: CachedResponse,
        headers: Mapping[str, str],
        cell: str | None,
    ) -> HttpResponse:
        """The cached response for a 304 whose (lower-cased) ``headers`` are merged in."""
        fresh_headers = {
            name: value for name, value in headers.items() if name not in _BODY_HEADERS
        }
        merged = replace(cached.response, headers={**cached.response.headers, **fresh_headers})
        self.remember(url, merged)
        return replace(merged, not_modified=True, cell=cell)
