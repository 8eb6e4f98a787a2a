"""``geotrigger keys``: make, revoke and list the API keys of the HTTP API.

``keys create`` prints the new key alone on standard output (``KEY=$(geotrigger keys create
...)`` keeps it) and, on standard error, what it is and a warning that it is shown this once:
only the hash of its secret is stored. ``keys list`` shows ids, names, scopes and times, never
a secret or a hash. ``keys revoke`` stops a key (within the API's key cache time, 30 s).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from geotrigger.auth import KEY_ID, ApiKey, ApiKeyError, Scope, split_key
from geotrigger.cli.arguments import add_database_url
from geotrigger.cli.db import database_url
from geotrigger.store import api_keys as repo
from geotrigger.store.database import transaction

_SCOPES = [scope.value for scope in Scope]


def register(subparsers: Any) -> None:
    """Add the ``keys`` command group: ``create``, ``revoke``, ``list``."""
    group = subparsers.add_parser("keys", help="API keys of the HTTP API")
    sub = group.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    create = sub.add_parser("create", help="make a key (printed once, only its hash is kept)")
    create.add_argument("--name", required=True, help="who or what uses the key")
    create.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        choices=_SCOPES,
        help="what the key may do; repeat for more than one",
    )
    create.add_argument(
        "--rate",
        type=float,
        metavar="PER_S",
        help="requests per second (default: GEOTRIGGER_API_RATE_PER_S)",
    )
    create.add_argument(
        "--device-prefix",
        metavar="PREFIX",
        help="the key may post pings only for device ids starting with PREFIX (a key that "
        "lives on phones: it cannot speak for other people's devices)",
    )
    revoke = sub.add_parser("revoke", help="stop a key for good")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (as keys list shows it)")
    listed = sub.add_parser("list", help="the keys: ids, names, scopes, times; no secrets")
    for parser in (create, revoke, listed):
        add_database_url(parser)
    create.set_defaults(handler=run_create)
    revoke.set_defaults(handler=run_revoke)
    listed.set_defaults(handler=run_list)


def run_create(args: argparse.Namespace) -> int:
    """Make the key; the full key to stdout, the rest to stderr."""
    with transaction(database_url(args)) as conn:
        key, full_key = repo.create_key(
            conn,
            name=args.name,
            scopes=args.scopes,
            rate_per_s=args.rate,
            device_prefix=args.device_prefix,
            now=_now(),
        )
    rate = "default" if key.rate_per_s is None else f"{key.rate_per_s:g}/s"
    devices = "any device" if key.device_prefix is None else f"devices {key.device_prefix}*"
    print(
        f"created key {key.id} ({key.name}): scopes {_scopes(key)}, rate {rate}, {devices}",
        file=sys.stderr,
    )
    print(
        "this key is shown only now: store it where its user keeps secrets; "
        "only its hash is kept, it cannot be shown again",
        file=sys.stderr,
    )
    print(full_key)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke the key; an error for an unknown id, a note when it was revoked before."""
    key_id = _key_id(args.key_id)
    with transaction(database_url(args)) as conn:
        revoked = repo.revoke_key(conn, key_id, now=_now())
        key = repo.get_key(conn, key_id)
    if key is None:
        raise ApiKeyError(f"no key with the id {key_id}")
    if not revoked:
        print(f"key {key.id} ({key.name}) was revoked before, at {_time(key.revoked_at)}")
        return 0
    print(
        f"revoked key {key.id} ({key.name}); "
        f"API processes stop accepting it within {repo.CACHE_TTL_S:g} s"
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    """A table of the keys, oldest first."""
    with transaction(database_url(args)) as conn:
        keys = repo.list_keys(conn)
    header = ("id", "name", "scopes", "rate", "created", "revoked", "last used")
    rows = [header] + [
        (
            key.id,
            key.name,
            _scopes(key),
            "default" if key.rate_per_s is None else f"{key.rate_per_s:g}/s",
            _time(key.created_at),
            _time(key.revoked_at),
            _time(key.last_used_at),
        )
        for key in keys
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    count = f"{len(keys)} key" + ("" if len(keys) == 1 else "s")
    print(f"{count}, {sum(not key.revoked for key in keys)} active")
    return 0


def _key_id(text: str) -> str:
    """The id named: an id, or a whole key pasted by mistake (its secret is never echoed)."""
    parts = split_key(text)
    if parts is not None:
        return parts[0]
    if KEY_ID.fullmatch(text) is None:
        raise ApiKeyError("KEY_ID: expected the 12 lowercase hex characters keys list shows")
    return text


def _scopes(key: ApiKey) -> str:
    return ",".join(sorted(scope.value for scope in key.scopes))


def _time(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(UTC)
