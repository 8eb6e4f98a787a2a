"""Who is calling: the API key, however the client can send it, its scope and its rate.

A key is read from ``Authorization: Bearer KEY`` (geotrigger's own API, Overland's access
token), HTTP Basic with the key as the password (OwnTracks), or a ``key`` query parameter
(Traccar Client, which can only be given a URL). No key or an unknown, malformed or revoked
one: 401. A key without the scope an endpoint needs: 403. Over the key's rate: 429 with
``Retry-After``. Keys are never logged; a key's public id may be.

Checking a key whose id this process has never found to be a key reads the database; a
client that sends many of those (guessing ids) gets 429 beyond :data:`LOOKUPS_PER_S` per
address (:data:`LOOKUP_BURST` at once), before any read. Keys found once are never limited by
it, so a busy gateway's own key never is. IPv6 addresses count per /64 (what one host or
network is usually given); behind a proxy, the address is the proxy's unless the server is
told to trust its forwarded headers. Addresses are kept in memory only, never logged.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from geotrigger.api.service import service_of
from geotrigger.auth import ApiKey, Scope
from geotrigger.model import Ping, Rejection, RejectReason
from geotrigger.ratelimit import Decision

# Reads of key ids not cached, per client address: a restarted server's clients all check
# their keys at once, a guesser gets no further.
LOOKUPS_PER_S = 5.0
LOOKUP_BURST = 50.0

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="geotrigger", Basic realm="geotrigger"'}


def presented_key(request: Request) -> str | None:
    """The key the request carries, if any (the first of Bearer, Basic, ``?key=``)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, _, password = decoded.partition(":")
        return password or None
    return request.query_params.get("key") or None


def client_network(host: str) -> str:
    """What the lookup limit counts per: an IPv4 address, or an IPv6 address's /64."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address (a test client, a Unix socket): as given
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _too_many(detail: str, verdict: Decision) -> HTTPException:
    """429, with the whole seconds until a request would be allowed (at least 1)."""
    retry = str(max(1, math.ceil(verdict.retry_after_s)))
    return HTTPException(429, detail, {"Retry-After": retry})


def require(scope: Scope) -> Callable[[Request], ApiKey]:
    """A dependency: the caller's key, which must hold ``scope`` and be within its rate. A
    plain function, so that the server runs it in a worker thread: a key not yet cached is a
    database query, the shared limiter a Redis call, neither on the event loop."""

    def dependency(request: Request) -> ApiKey:
        service = service_of(request)
        text = presented_key(request)
        if text and not service.keys.knows(text):
            address = client_network(request.client.host if request.client else "")
            looked_up = service.lookups.allow(address, LOOKUPS_PER_S, LOOKUP_BURST)
            if not looked_up.allowed:
                raise _too_many("too many unknown API keys from this address", looked_up)
        key = service.keys.get(text) if text else None
        if key is None:
            detail = "an API key is required" if not text else "the API key is not valid"
            raise HTTPException(401, detail, headers=_CHALLENGE)
        if scope not in key.scopes:
            raise HTTPException(403, f"the API key {key.id} lacks the {scope.value!r} scope")
        api = service.settings.api
        rate = key.rate_per_s or api.rate_per_s
        # a key's own rate scales the default burst with it (50/s with a burst of 100: a key
        # of 1/s may send 2 at once)
        burst = max(1.0, api.burst * rate / api.rate_per_s)
        verdict = service.limiter.allow(key.id, rate, burst)
        if not verdict.allowed:
            raise _too_many("too many requests for this key", verdict)
        request.state.key_id = key.id
        return key

    return dependency


# The caller's key, checked for a scope: declare a parameter of one of these types.
IngestKey = Annotated[ApiKey, Depends(require(Scope.INGEST))]
AdminKey = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
ReadKey = Annotated[ApiKey, Depends(require(Scope.READ))]
OutcomesKey = Annotated[ApiKey, Depends(require(Scope.OUTCOMES))]


def only_own_devices(key: ApiKey, items: list[Ping | Rejection]) -> list[Ping | Rejection]:
    """``items`` with the pings of devices the key may not speak for turned into rejections
    (a key bound to a device prefix; every other key speaks for any device)."""
    if key.device_prefix is None:
        return items
    return [
        item
        if not isinstance(item, Ping) or key.speaks_for(item.device_id)
        else Rejection(
            reason=RejectReason.DEVICE_NOT_ALLOWED,
            detail=f"the API key {key.id} may not post for this device",
            ping_id=item.id,
            timestamp=item.timestamp,
        )
        for item in items
    ]
