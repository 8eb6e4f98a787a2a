"""The settings an HTTP client cannot work with, refused when it is made (as a
:class:`ProviderConfigError` naming the setting) rather than on every request later."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from geotrigger.weather.provider import ProviderConfig, ProviderConfigError


def check_client_config(config: ProviderConfig, base_url: str) -> None:
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
