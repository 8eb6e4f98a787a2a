"""What a provider answered: a checked response, its body as JSON or a typed error, what an
error body says in one line, and the HTTP dates of ``Expires`` and ``Retry-After``."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from geotrigger.weather.provider import ProviderResponseError

SUMMARY_CHARS = 200  # how much of an error body a message quotes


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """A response that passed the checks: a 2xx status (or a cached one on 304).

    ``provider`` and ``cell`` name where it came from in the errors :meth:`json` raises.
    """

    status: int
    url: str  # without the query string (it may hold a key)
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    not_modified: bool = False  # served from the cache (304, or before Expires)
    provider: str = "http"
    cell: str | None = None

    def json(self) -> Any:
        """The body as JSON; :class:`ProviderResponseError` for HTML, truncated or garbage."""
        if not self.body.strip():
            raise self._unreadable(f"an empty body instead of JSON from {self.url}")
        if _looks_like_html(self.headers.get("content-type", ""), self.body):
            raise self._unreadable(
                f"an HTML page instead of JSON from {self.url} (HTTP {self.status}): "
                f"{summarise_body(self.body)}"
            )
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise self._unreadable(_json_problem(exc, self.url)) from None
        except ValueError as exc:  # bytes that are not UTF-8/16/32
            raise self._unreadable(f"a body that is not text from {self.url}: {exc}") from None
        except RecursionError:  # arrays or objects nested deeper than the parser's stack
            raise self._unreadable(f"JSON nested too deeply to read from {self.url}") from None

    def _unreadable(self, reason: str) -> ProviderResponseError:
        return ProviderResponseError(self.provider, reason, cell=self.cell)


def _looks_like_html(content_type: str, body: bytes) -> bool:
    """An error page from a proxy or a load balancer, whatever its status."""
    return "text/html" in content_type.lower() or body.lstrip().startswith(b"<")


def _json_problem(exc: json.JSONDecodeError, url: str) -> str:
    """Where the JSON went wrong; a document that stops early is called truncated."""
    where = f"line {exc.lineno}, column {exc.colno} (char {exc.pos})"
    if exc.pos >= len(exc.doc.rstrip()):
        return f"truncated JSON from {url}: it ends at {where}: {exc.msg}"
    return f"invalid JSON from {url} at {where}: {exc.msg}"


def summarise_body(body: bytes, limit: int = SUMMARY_CHARS) -> str:
    """What an error body says, in one short line: the ``message``, ``reason``, ``detail`` or
    ``title`` of a JSON object, else the body's text without HTML tags."""
    text = body.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in ("message", "reason", "detail", "title"):
            value = document.get(key)
            if isinstance(value, str) and value.strip():
                text = value
                break
    else:
        text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.S | re.I)
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` in seconds from ``now``: integer seconds or an HTTP date; None when
    missing or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        when = http_date(text)
        return None if when is None else max(0.0, (when - now).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (``Expires``, ``Retry-After``) as an aware UTC time, None when it is not
    one (``Expires: 0`` and ``-1`` mean already expired: the caller revalidates)."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when
