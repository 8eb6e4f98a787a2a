"""Signing webhooks the Standard Webhooks way (https://www.standardwebhooks.com).

Every request carries three headers:

* ``webhook-id``: the delivery's stable id, the same on every retry (the moment's id), so a
  receiver can drop a message it has already handled;
* ``webhook-timestamp``: when this attempt was signed, in integer epoch seconds, so a receiver
  can refuse a replayed old request;
* ``webhook-signature``: ``v1,`` and the base64 of HMAC-SHA256 over ``{id}.{timestamp}.{body}``
  keyed with the secret's bytes (the base64 after ``whsec_``). Several signatures may be sent,
  separated by spaces (while a secret is rotated); one that matches is enough.

:func:`verify` is the receiver's side: a constant-time comparison, and a timestamp no more
than five minutes away from the receiver's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from geotrigger.errors import GeotriggerError

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300  # five minutes either way, as the specification advises
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class SignatureError(GeotriggerError):
    """A webhook whose headers are missing, too old or too new, or signed with another key."""

    http_status = 401


def secret_key(secret: str) -> bytes:
    """The key bytes of a secret ``whsec_<base64>`` (the prefix may be left out).

    binascii.Error (a ValueError) when the rest is not base64."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(encoded, validate=True)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The signature of one message: ``v1,<base64 of the HMAC-SHA256>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed message."""
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(int(timestamp)),
        SIGNATURE_HEADER: signature(secret, message_id, int(timestamp), body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> str:
    """Check a received message; its ``webhook-id`` when it is genuine.

    ``headers`` may name the headers in any case; ``now`` is the receiver's epoch seconds.
    SignatureError when a header is missing, the timestamp is not an integer or is more than
    ``tolerance_s`` away from ``now``, or no ``v1`` signature matches."""
    found = {name.lower(): value for name, value in headers.items()}
    missing = [h for h in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) if not found.get(h)]
    if missing:
        raise SignatureError(f"webhook headers missing: {', '.join(missing)}")
    message_id = found[ID_HEADER]
    try:
        timestamp = int(found[TIMESTAMP_HEADER])
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not integer epoch seconds") from exc
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError(
            f"webhook-timestamp is {now - timestamp:+.0f} s away from now "
            f"(at most {tolerance_s:g} s either way)"
        )
    expected = signature(secret, message_id, timestamp, body).encode("ascii")
    for candidate in found[SIGNATURE_HEADER].split():
        if hmac.compare_digest(candidate.encode("ascii", "replace"), expected):
            return message_id
    raise SignatureError(f"no webhook-signature of message {message_id!r} matches the secret")
