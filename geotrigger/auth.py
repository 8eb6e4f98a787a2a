"""API keys: their format, their scopes, and how their secrets are hashed.

A key is one string, ``gk_<id>_<secret>``:

- ``gk`` says what it is (a geotrigger key), so a key pasted in the wrong place is recognised
  and secret scanners can match it;
- ``<id>`` is 12 lowercase hex characters (48 random bits): public, the key's primary key in
  the database, and what logs, rate limits and ``geotrigger keys list`` name;
- ``<secret>`` is 43 URL-safe characters from :func:`secrets.token_urlsafe` (256 random bits):
  shown once when the key is made, never stored, never logged; only its hash is kept.

Keys are checked by hashing the secret again and comparing the digests in constant time. This
module knows nothing of HTTP or databases: the store keeps keys (``store/api_keys.py``), the API
reads them from the request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from geotrigger.errors import InputError

KEY_PREFIX = "gk"
KEY_ID_CHARS = 12  # hex characters of the id: 48 bits, unique enough to be drawn at random
SECRET_BYTES = 32  # random bytes of a new secret: 43 URL-safe characters
SECRET_MIN_CHARS = 32  # a secret shorter than this was never made here
SECRET_MAX_CHARS = 128  # longer input is refused before it is hashed
NAME_MAX_CHARS = 200  # the width of the name column
KEY_ID = re.compile(rf"[0-9a-f]{{{KEY_ID_CHARS}}}")
_SECRET = rf"[A-Za-z0-9_-]{{{SECRET_MIN_CHARS},{SECRET_MAX_CHARS}}}"
_FULL_KEY = re.compile(rf"{KEY_PREFIX}_({KEY_ID.pattern})_({_SECRET})")
_FULL_KEY_MAX_CHARS = len(KEY_PREFIX) + 1 + KEY_ID_CHARS + 1 + SECRET_MAX_CHARS
# Hashed in front of every secret: it names the scheme, so that a digest of this scheme can
# never be mistaken for one of another (a later scheme changes the label and re-issues keys).
_HASH_LABEL = b"geotrigger api key secret v1\x00"


class ApiKeyError(InputError):
    """A key that cannot be made as asked (no name, no scope, an unknown scope, a bad rate)."""

    noun = "api key"


class Scope(StrEnum):
    """What a key may do; a request needs the scope of its endpoint."""

    INGEST = "ingest"  # post pings (the key of a phone's tracker app)
    OUTCOMES = "outcomes"  # report what moments achieved (a channel's or a retailer's system)
    ADMIN = "admin"  # change places, moments, consumers; manage the service
    READ = "read"  # read decisions, moments, metrics


_SCOPES_BY_NAME = {scope.value: scope for scope in Scope}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A key as the service knows it: everything but its secret (and the secret's hash)."""

    id: str  # the public part of the key: 12 lowercase hex characters
    name: str  # who or what uses it, for people ("ingest-eu-1", "dashboard")
    scopes: frozenset[Scope]
    rate_per_s: float | None  # requests per second; None: the service's default
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None  # kept to within a minute (and the cache's TTL)
    # A key that lives on phones may be bound to the devices it speaks for: it may post pings
    # only for device ids that start with this (None: any device).
    device_prefix: str | None = None

    def speaks_for(self, device_id: str) -> bool:
        """Whether the key may post pings of ``device_id``."""
        return self.device_prefix is None or device_id.startswith(self.device_prefix)

    @property
    def revoked(self) -> bool:
        """True once the key has been revoked: it authenticates nothing any more."""
        return self.revoked_at is not None

    def allows(self, scope: Scope) -> bool:
        """True when the key is not revoked and has ``scope``."""
        return not self.revoked and scope in self.scopes


def checked_device_prefix(prefix: str | None) -> str | None:
    """A device prefix as given (None: any device); ApiKeyError for an empty or overlong one."""
    if prefix is None:
        return None
    if not prefix.strip() or len(prefix) > 200:
        raise ApiKeyError("a device prefix must be 1 to 200 characters, not blank")
    return prefix


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The scopes named (``ingest``, ``outcomes``, ``read``, ``admin``); names that are no
    scope are left out, so a key never gains a scope nobody gave it (a row written by a newer
    version)."""
    return frozenset(_SCOPES_BY_NAME[name] for name in names if name in _SCOPES_BY_NAME)


def new_key() -> tuple[str, str, str]:
    """A fresh key: ``(key_id, secret, full_key)``, all random (:mod:`secrets`)."""
    key_id = secrets.token_hex(KEY_ID_CHARS // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return key_id, secret, f"{KEY_PREFIX}_{key_id}_{secret}"


def split_key(text: object) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a full key, or None for anything that is not one (another
    prefix, a short or over-long secret, stray characters or whitespace, not a string).
    Never raises: it reads untrusted request headers."""
    if not isinstance(text, str) or len(text) > _FULL_KEY_MAX_CHARS:
        return None
    match = _FULL_KEY.fullmatch(text)
    if match is None:
        return None
    return match.group(1), match.group(2)


def hash_secret(secret: str) -> str:
    """The stored digest of a secret: SHA-256 (hex) of a fixed scheme label and the secret.

    Why a fast hash. Slow hashes (scrypt, argon2) protect secrets people choose, which can be
    guessed: they make each guess expensive. These secrets are 256 random bits; no number of
    guesses at any speed finds one, so a slow hash would add latency and protect nothing. It
    would cost a lot: ``hashlib.scrypt`` took 2.2 ms at n=2**10 and 43 ms at n=2**14 (r=8, one
    core of the development machine), against a budget of 5 ms for a whole request at p99;
    SHA-256 takes about 0.5 µs, and the constant-time comparison about 0.07 µs. A secret
    pepper would guard against guessing after a leak of the table alone, which the secrets'
    randomness already does, and it would be one more secret to distribute and rotate. The
    label only separates this scheme's digests from any other's.
    """
    return hashlib.sha256(_HASH_LABEL + secret.encode("utf-8")).hexdigest()


def checked_name(name: str) -> str:
    """The name of a new key, stripped; ApiKeyError when it is empty or too long."""
    stripped = name.strip()
    if not stripped:
        raise ApiKeyError("a key needs a name (who or what uses it)")
    if len(stripped) > NAME_MAX_CHARS:
        raise ApiKeyError(f"name {stripped[:40]!r}...: longer than {NAME_MAX_CHARS} characters")
    return stripped


def checked_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The scopes of a new key; ApiKeyError for none at all or a name that is no scope."""
    wanted = [str(name) for name in names]
    unknown = sorted({name for name in wanted if name not in _SCOPES_BY_NAME})
    choices = ", ".join(scope.value for scope in Scope)
    if unknown:
        raise ApiKeyError(f"unknown scope {', '.join(unknown)} (expected {choices})")
    if not wanted:
        raise ApiKeyError(f"a key needs at least one scope ({choices})")
    return frozenset(_SCOPES_BY_NAME[name] for name in wanted)


def checked_rate(rate_per_s: float | None) -> float | None:
    """The request rate of a new key: None (the service's default) or a finite number > 0."""
    if rate_per_s is None:
        return None
    if not (math.isfinite(rate_per_s) and rate_per_s > 0):
        raise ApiKeyError(f"rate {rate_per_s!r}: expected requests per second, a number > 0")
    return float(rate_per_s)
