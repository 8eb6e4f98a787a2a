"""The API keys repository: keys made, checked, revoked and listed; only secrets' hashes kept.

A row is one key: its public id (the ``<id>`` of ``gk_<id>_<secret>``), a name, the SHA-256
digest of the secret (:func:`geotrigger.auth.hash_secret`), the scopes (a sorted list), an
optional rate, and when it was made, revoked and last used. The full key exists only in the
answer of :func:`create_key`; nothing here stores, logs or returns a secret again.

:func:`verify_key` reads the database on every call. A request should not: :class:`KeyCache`
keeps what it read for ``ttl_s`` seconds (30 by default) and checks secrets against the cached
digest, so a busy key costs one query per ``ttl_s`` per process. The price is that a revoked
key keeps working for up to ``ttl_s`` in processes that read it before the revocation (a
process that revokes a key can call :meth:`KeyCache.forget` to stop it there at once).

``last_used_at`` is written at most once a minute per key (an UPDATE only when the stored time
is a minute old), so it says when a key was last used to within a minute, plus the cache's
``ttl_s`` when the cache answers. The caller owns the transaction of the functions that take a
connection; :class:`KeyCache` runs its own.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, RowMapping, or_, select, update

from geotrigger.auth import (
    ApiKey,
    ApiKeyError,
    checked_device_prefix,
    checked_name,
    checked_rate,
    checked_scopes,
    hash_secret,
    new_key,
    parse_scopes,
    split_key,
)
from geotrigger.store.database import database_errors
from geotrigger.store.tables import api_keys
from geotrigger.store.types import stored_utc, utc

CACHE_TTL_S = 30.0  # how long KeyCache trusts what it read: a revocation's delay
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often per key
TOUCH_S = TOUCH_EVERY.total_seconds()
NEW_ID_TRIES = 5  # 48-bit ids collide about never; a few draws make "never" certain
# Compared against when a key's id is unknown, so that an unknown id costs what a known one does.
_NO_DIGEST = hash_secret("")


def create_key(
    conn: Connection,
    *,
    name: str,
    scopes: Iterable[str],
    rate_per_s: float | None = None,
    device_prefix: str | None = None,
    now: dt.datetime,
) -> tuple[ApiKey, str]:
    """Make a key: ``(the key, the full key)``. The full key is returned this once; only the
    hash of its secret is stored. ApiKeyError for an empty name, no scope, an unknown scope or
    a rate that is not a number > 0, or a blank device prefix."""
    checked = (checked_name(name), checked_scopes(scopes), checked_rate(rate_per_s))
    for _ in range(NEW_ID_TRIES):
        key_id, secret, full_key = new_key()
        if _row(conn, key_id) is None:
            break
    else:
        raise ApiKeyError(f"no free key id after {NEW_ID_TRIES} random draws")
    key = ApiKey(
        id=key_id,
        name=checked[0],
        scopes=checked[1],
        rate_per_s=checked[2],
        created_at=utc(now),
        device_prefix=checked_device_prefix(device_prefix),
    )
    conn.execute(
        api_keys.insert().values(
            id=key.id,
            name=key.name,
            secret_hash=hash_secret(secret),
            scopes=sorted(scope.value for scope in key.scopes),
            rate_per_s=key.rate_per_s,
            device_prefix=key.device_prefix,
            created_at=key.created_at,
        )
    )
    return key, full_key


def verify_key(conn: Connection, full_key: str, *, now: dt.datetime) -> ApiKey | None:
    """The key that ``full_key`` is, or None when it is malformed, unknown, revoked or its
    secret is wrong (the digests compared in constant time). Marks the key used (at most once
    a minute)."""
    parts = split_key(full_key)
    if parts is None:
        return None
    key_id, secret = parts
    found = _record(conn, key_id)
    stored = found[1] if found is not None else _NO_DIGEST
    if not hmac.compare_digest(hash_secret(secret), stored) or found is None:
        return None
    key = found[0]
    if key.revoked:
        return None
    return _touched(conn, key, now=now)


def get_key(conn: Connection, key_id: str) -> ApiKey | None:
    """The key with this id (revoked or not), or None."""
    found = _record(conn, key_id)
    return None if found is None else found[0]


def revoke_key(conn: Connection, key_id: str, *, now: dt.datetime) -> bool:
    """Revoke the key at ``now``: True when it was revoked by this call, False when there is
    no such key or it was revoked before (its first revocation time is kept)."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utc(now))
    )
    return bool(result.rowcount)


def list_keys(conn: Connection) -> list[ApiKey]:
    """Every key, revoked ones too, oldest first (secrets' hashes are not part of a key)."""
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
    return [_key(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True, slots=True)
class _Cached:
    """What the cache knows of one key id: the key and its digest, or that there is none."""

    key: ApiKey | None
    secret_hash: str
    read_at: float  # the cache's clock
    touched_at: float | None  # when this process last marked the key used, on the same clock


class KeyCache:
    """Keys checked in memory, read from the database at most once per ``ttl_s`` per key id.

    A revoked key stops working within ``ttl_s`` (30 s by default) in every process; a new key
    works at once, unless its id was asked for (and found missing) within ``ttl_s`` before,
    which random ids make a non-event. Wrong secrets for a known id are refused from memory;
    unknown ids are remembered as unknown for ``ttl_s`` too, so guessing costs no queries.
    At most ``max_entries`` ids are kept, the least recently used dropped first. Thread-safe.
    ``clock`` (monotonic seconds) and ``now`` (aware UTC) are injectable for tests.
    """

    def __init__(
        self,
        engine: Engine,
        ttl_s: float = CACHE_TTL_S,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._engine, self._ttl_s, self._max_entries = engine, ttl_s, max_entries
        self._clock, self._now = clock, now
        self._entries: OrderedDict[str, _Cached] = OrderedDict()
        self._known_ids: set[str] = set()  # ids found to be keys, ever (see knows)
        self._lock = threading.Lock()
        self._where = engine.url.render_as_string(hide_password=True)

    def get(self, full_key: str) -> ApiKey | None:
        """The key that ``full_key`` is, or None when it is malformed, unknown, revoked (as of
        at most ``ttl_s`` ago) or its secret is wrong. ConfigError when the database fails."""
        parts = split_key(full_key)
        if parts is None:
            return None
        key_id, secret = parts
        digest = hash_secret(secret)
        entry = self._fresh(key_id)
        if entry is None:
            entry = self._read(key_id)
        if not hmac.compare_digest(digest, entry.secret_hash) or entry.key is None:
            return None
        if entry.key.revoked:
            return None
        return self._used(key_id, entry.key, entry)

    def knows(self, full_key: str) -> bool:
        """Whether ``full_key`` is no stranger: malformed (refused without a read), its id
        cached and fresh (as a key or as unknown), or an id this process has found to be a
        key before (its next read, every ``ttl_s``, is a key in use being checked again)."""
        parts = split_key(full_key)
        if parts is None:
            return True
        with self._lock:
            if parts[0] in self._known_ids:
                return True
        return self._fresh(parts[0]) is not None

    def forget(self, key_id: str) -> None:
        """Drop what is cached of ``key_id``: the next use reads the database (after a
        revocation in this process, say)."""
        with self._lock:
            self._entries.pop(key_id, None)

    def _fresh(self, key_id: str) -> _Cached | None:
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None or self._clock() - entry.read_at >= self._ttl_s:
                return None
            self._entries.move_to_end(key_id)
            return entry

    def _read(self, key_id: str) -> _Cached:
        with database_errors(self._where), self._engine.connect() as conn:
            found = _record(conn, key_id)
        key, digest = found if found is not None else (None, _NO_DIGEST)
        if key is not None:
            with self._lock:
                self._known_ids.add(key_id)  # ids of keys only: few, made by admins
        entry = _Cached(key, digest, self._clock(), None)
        self._store(key_id, entry)
        return entry

    def _used(self, key_id: str, key: ApiKey, entry: _Cached) -> ApiKey:
        """``key``, marked used in the database when this process has not done so for a
        minute (the UPDATE itself skips keys marked by another process within the minute)."""
        clock = self._clock()
        if entry.touched_at is not None and clock - entry.touched_at < TOUCH_S:
            return key
        with database_errors(self._where), self._engine.begin() as conn:
            key = _touched(conn, key, now=self._now())
        self._store(key_id, _Cached(key, entry.secret_hash, entry.read_at, clock))
        return key

    def _store(self, key_id: str, entry: _Cached) -> None:
        with self._lock:
            self._entries[key_id] = entry
            self._entries.move_to_end(key_id)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


def _touched(conn: Connection, key: ApiKey, *, now: dt.datetime) -> ApiKey:
    """``key`` marked used at ``now`` in the database, unless it was within the last minute."""
    at = utc(now)
    if key.last_used_at is not None and at - key.last_used_at < TOUCH_EVERY:
        return key
    result = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.id == key.id,
            or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at <= at - TOUCH_EVERY),
        )
        .values(last_used_at=at)
    )
    if not result.rowcount:
        return key
    return replace(key, last_used_at=at)


def _row(conn: Connection, key_id: str) -> RowMapping | None:
    return conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()


def _record(conn: Connection, key_id: str) -> tuple[ApiKey, str] | None:
    """The key with this id and the digest of its secret, or None."""
    row = _row(conn, key_id)
    return None if row is None else (_key(row), str(row["secret_hash"]))


def _key(row: RowMapping) -> ApiKey:
    rate = row["rate_per_s"]
    return ApiKey(
        id=row["id"],
        name=row["name"],
        scopes=parse_scopes(row["scopes"]),
        rate_per_s=None if rate is None else float(rate),
        created_at=stored_utc(row["created_at"]),
        revoked_at=None if row["revoked_at"] is None else stored_utc(row["revoked_at"]),
        last_used_at=None if row["last_used_at"] is None else stored_utc(row["last_used_at"]),
        device_prefix=row["device_prefix"],
    )
