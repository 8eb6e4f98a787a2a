"""Pseudonyms: stable stand-ins for identifiers that must not be written where they would leak.

A decision names a consumer and an event, never a raw device id or a client's ping id (ping ids
are often the device id and a counter). Such values are replaced by a digest: HMAC-SHA256 with
the configured key (``GEOTRIGGER_PRIVACY_PSEUDONYM_KEY``), so that nobody without the key can
test a guessed device id against it; plain SHA-256 when no key is set (development and replays
of example files, where the digest only has to be stable).
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(value: str, *, key: str = "", prefix: str = "", digits: int = 12) -> str:
    """``prefix`` and the first ``digits`` hex digits of the keyed digest of ``value``."""
    data = value.encode("utf-8")
    if key:
        digest = hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()
    else:
        digest = hashlib.sha256(data).hexdigest()
    return prefix + digest[:digits]
