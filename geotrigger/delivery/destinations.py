"""Webhook destinations, from the environment.

``GEOTRIGGER_WEBHOOKS=crm,push`` names the destinations the relay delivers fired moments to;
each is configured by ``GEOTRIGGER_WEBHOOK_<NAME>_<FIELD>`` variables, NAME being the
destination's name upper-cased with ``-`` as ``_`` (``crm-eu``: ``CRM_EU``):

* ``URL`` (required): where moments are POSTed, ``http`` or ``https``;
* ``SECRET`` (required): the signing secret in the Standard Webhooks form ``whsec_<base64>``;
* ``CHANNELS``: the moment channels it receives, comma-separated (not set: every channel);
* ``TIMEOUT_S`` (5), ``MAX_ATTEMPTS`` (8), ``BACKOFF_S`` (5), ``MAX_BACKOFF_S`` (600): how
  long one attempt may take, how many attempts a moment gets, and the retries' backoff.

Every error names the variable that is wrong; none quotes a secret or a URL's query string.
Domain code never reads the environment: callers pass it.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from geotrigger.config import COUNT, NON_NEGATIVE, POSITIVE, NumberRule, checked_number, names_list
from geotrigger.delivery.signing import SECRET_PREFIX, secret_key
from geotrigger.errors import ConfigError

WEBHOOKS_VARIABLE = "GEOTRIGGER_WEBHOOKS"
PREFIX = "GEOTRIGGER_WEBHOOK_"
NAME_LENGTH = 100  # the width of ``deliveries.destination``
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
MIN_SECRET_BYTES = 16  # Standard Webhooks asks for 24 to 64; fewer is a guessable key


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """One webhook receiver of fired moments (its secret and URL are left out of its repr: a
    URL's query string may carry a token)."""

    name: str
    url: str = field(repr=False)
    secret: str = field(repr=False)  # whsec_<base64>
    channels: frozenset[str] = frozenset()  # empty: every channel
    timeout_s: float = 5.0
    max_attempts: int = 8
    backoff_s: float = 5.0
    max_backoff_s: float = 600.0

    def receives(self, channel: str) -> bool:
        """Whether moments of ``channel`` go to this destination."""
        return not self.channels or channel in self.channels


def env_name(name: str) -> str:
    """A destination's name as it appears in variable names: ``crm-eu`` → ``CRM_EU``."""
    return name.upper().replace("-", "_")


def variable(name: str, field_name: str) -> str:
    """The variable of one setting of a destination: ``GEOTRIGGER_WEBHOOK_CRM_URL``."""
    return f"{PREFIX}{env_name(name)}_{field_name.upper()}"


def destination_names(environ: Mapping[str, str]) -> list[str]:
    """The destinations ``GEOTRIGGER_WEBHOOKS`` names, in its order (none when not set).

    ConfigError for a name that is not one (letters, digits, ``-`` and ``_``) or that is
    given twice (also as another spelling of the same variables: ``a-b`` and ``a_b``)."""
    raw = environ.get(WEBHOOKS_VARIABLE, "")
    names = names_list(raw)
    seen: dict[str, str] = {}
    for name in names:
        if not _NAME.match(name) or len(name) > NAME_LENGTH:
            raise ConfigError(
                f"{WEBHOOKS_VARIABLE}: {name!r} is not a destination name "
                f"(letters, digits, '-' and '_', at most {NAME_LENGTH})"
            )
        other = seen.setdefault(env_name(name), name)
        if other != name or names.count(name) > 1:
            raise ConfigError(
                f"{WEBHOOKS_VARIABLE}: {name!r} is given twice "
                f"(its variables are {PREFIX}{env_name(name)}_*)"
            )
    return names


def destinations_from_env(environ: Mapping[str, str]) -> list[Destination]:
    """Every destination ``GEOTRIGGER_WEBHOOKS`` names, configured from its variables."""
    return [destination(name, environ) for name in destination_names(environ)]


def destination(name: str, environ: Mapping[str, str]) -> Destination:
    """The destination ``name`` from its ``GEOTRIGGER_WEBHOOK_<NAME>_*`` variables."""
    defaults = Destination(name=name, url="", secret="")
    max_attempts = _number(name, "max_attempts", environ, defaults.max_attempts, COUNT)
    return Destination(
        name=name,
        url=_url(name, environ),
        secret=_secret(name, environ),
        channels=_channels(name, environ),
        timeout_s=float(_number(name, "timeout_s", environ, defaults.timeout_s, POSITIVE)),
        max_attempts=int(max_attempts),
        backoff_s=float(_number(name, "backoff_s", environ, defaults.backoff_s, NON_NEGATIVE)),
        max_backoff_s=float(
            _number(name, "max_backoff_s", environ, defaults.max_backoff_s, NON_NEGATIVE)
        ),
    )


def _required(name: str, field_name: str, environ: Mapping[str, str]) -> str:
    var = variable(name, field_name)
    text = environ.get(var, "").strip()
    if not text:
        raise ConfigError(f"{var} is not set: webhook destination {name!r} needs it")
    return text


def _url(name: str, environ: Mapping[str, str]) -> str:
    url = _required(name, "url", environ)
    var = variable(name, "url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is no number fails here, not at the first POST
    except ValueError as exc:
        raise ConfigError(f"{var}: not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # scheme, host and path only: user info and the query string may hold credentials
        shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme else "it"
        raise ConfigError(f"{var}: expected an http or https URL with a host, not {shown!r}")
    return url


def _secret(name: str, environ: Mapping[str, str]) -> str:
    """The secret, checked: ``whsec_`` and base64 of at least :data:`MIN_SECRET_BYTES`."""
    secret = _required(name, "secret", environ)
    var = variable(name, "secret")
    if not secret.startswith(SECRET_PREFIX):
        raise ConfigError(f"{var}: expected the form {SECRET_PREFIX}<base64> (Standard Webhooks)")
    try:
        key = secret_key(secret)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{var}: the part after {SECRET_PREFIX} is not base64") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{var}: the key is {len(key)} bytes; at least {MIN_SECRET_BYTES} are needed "
            "(Standard Webhooks: 24 to 64 random bytes)"
        )
    return secret


def _channels(name: str, environ: Mapping[str, str]) -> frozenset[str]:
    raw = environ.get(variable(name, "channels"), "")
    return frozenset(names_list(raw))


def _number(
    name: str, field_name: str, environ: Mapping[str, str], default: float, rule: NumberRule
) -> float | int:
    """A number setting of destination ``name``; ``default`` when not set or blank."""
    var = variable(name, field_name)
    text = environ.get(var)
    if text is None or not text.strip():
        return default
    return checked_number(var, text, rule)
