"""Keeping a provider's API key out of what a client shows: URLs in errors, logs and
responses carry no query string (keys travel there) and no user info, and the key's value,
as is or URL-encoded, is replaced by :data:`MASK` in every message."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

MASK = "***"


class Redactor:
    """Masks one API key (none: only URLs are shortened)."""

    def __init__(self, api_key: str | None) -> None:
        self._secrets = _secret_forms(api_key)

    def mask(self, text: str) -> str:
        """``text`` with every form of the key replaced by :data:`MASK`."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def public_url(self, url: str) -> str:
        """A URL fit for errors and logs: no query, no fragment, no user info, no key."""
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return self.mask(urlunsplit((parts.scheme, host, parts.path, "", "")))


def _secret_forms(api_key: str | None) -> tuple[str, ...]:
    """The key as it may appear: as is, and URL-encoded (longest first)."""
    if not api_key:
        return ()
    forms = {api_key, quote(api_key, safe=""), quote(api_key)}
    return tuple(sorted(forms, key=len, reverse=True))
