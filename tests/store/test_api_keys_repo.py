"""API keys in the database: made, checked, revoked, listed; the row keeps no secret; the
cache in front of it answers from memory and lets a revoked key go within its TTL. On SQLite
and on real PostGIS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from geotrigger.auth import ApiKeyError, Scope, hash_secret, split_key
from geotrigger.store.api_keys import (
    KeyCache,
    create_key,
    get_key,
    list_keys,
    revoke_key,
    verify_key,
)
from geotrigger.store.tables import api_keys

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)


def _other_secret(full_key: str) -> str:
    """The same key id with a secret that differs in its last character only."""
    return full_key[:-1] + ("A" if full_key[-1] != "A" else "B")


def test_a_created_key_verifies_and_keeps_its_fields(engine: Engine) -> None:
    with engine.begin() as conn:
        key, full_key = create_key(
            conn, name="ingest-eu", scopes=["read", "ingest"], rate_per_s=7.5, now=NOW
        )
    parts = split_key(full_key)
    assert parts is not None and parts[0] == key.id
    assert key.scopes == {Scope.INGEST, Scope.READ} and key.rate_per_s == 7.5
    assert key.created_at == NOW and key.revoked_at is None and key.last_used_at is None
    with engine.begin() as conn:
        verified = verify_key(conn, full_key, now=LATER)
    assert verified is not None
    assert (verified.id, verified.name, verified.scopes) == (key.id, "ingest-eu", key.scopes)
    assert verified.rate_per_s == 7.5 and verified.created_at == NOW
    assert verified.last_used_at == LATER


def test_the_row_holds_the_hash_and_never_the_secret(engine: Engine) -> None:
    with engine.begin() as conn:
        key, full_key = create_key(conn, name="n", scopes=["ingest"], now=NOW)
    _, secret = split_key(full_key) or ("", "")
    with engine.connect() as conn:
        row = conn.execute(select(api_keys)).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    assert secret not in stored and full_key not in stored
    assert row["secret_hash"] == hash_secret(secret)
    assert row["id"] == key.id and row["scopes"] == ["ingest"] and row["rate_per_s"] is None


@pytest.mark.parametrize(
    "presented",
    [
        _other_secret,  # a wrong secret for a real id
        lambda full: "gk_0123456789ab_" + full.split("_", 2)[2],  # the secret under another id
        lambda full: full[:-3],  # cut short: still well-formed, but not the secret
        lambda full: full + "\n",  # malformed
        lambda full: "",
    ],
)
def test_wrong_unknown_and_malformed_keys_verify_to_none(
    engine: Engine, presented: Callable[[str], str]
) -> None:
    with engine.begin() as conn:
        _, full_key = create_key(conn, name="n", scopes=["ingest"], now=NOW)
    with engine.begin() as conn:
        assert verify_key(conn, presented(full_key), now=LATER) is None
        assert verify_key(conn, full_key, now=LATER) is not None  # the real one still works


def test_a_revoked_key_fails_and_revoking_twice_keeps_the_first_time(engine: Engine) -> None:
    with engine.begin() as conn:
        key, full_key = create_key(conn, name="n", scopes=["admin"], now=NOW)
        _, other = create_key(conn, name="other", scopes=["admin"], now=NOW)
    with engine.begin() as conn:
        assert revoke_key(conn, key.id, now=LATER) is True
        assert revoke_key(conn, key.id, now=LATER + dt.timedelta(hours=1)) is False
        assert revoke_key(conn, "0123456789ab", now=LATER) is False  # no such key
    with engine.begin() as conn:
        assert verify_key(conn, full_key, now=LATER) is None
        assert verify_key(conn, other, now=LATER) is not None  # only the one revoked
        revoked = get_key(conn, key.id)
    assert revoked is not None and revoked.revoked_at == LATER and revoked.revoked


def test_last_used_is_written_at_most_once_a_minute(engine: Engine) -> None:
    with engine.begin() as conn:
        key, full_key = create_key(conn, name="n", scopes=["read"], now=NOW)
    for seconds in (0, 30, 59):
        with engine.begin() as conn:
            verify_key(conn, full_key, now=NOW + dt.timedelta(seconds=seconds))
    with engine.connect() as conn:
        assert (stored := get_key(conn, key.id)) is not None
    assert stored.last_used_at == NOW  # 30 and 59 s later: not written again
    with engine.begin() as conn:
        verify_key(conn, full_key, now=NOW + dt.timedelta(seconds=61))
        stored = get_key(conn, key.id)
    assert stored is not None and stored.last_used_at == NOW + dt.timedelta(seconds=61)


def test_list_shows_every_key_oldest_first(engine: Engine) -> None:
    with engine.begin() as conn:
        second, _ = create_key(conn, name="b", scopes=["read"], now=LATER)
        first, _ = create_key(conn, name="a", scopes=["ingest", "admin"], rate_per_s=1, now=NOW)
        revoke_key(conn, second.id, now=LATER)
    with engine.connect() as conn:
        listed = list_keys(conn)
    assert [(k.id, k.name) for k in listed] == [(first.id, "a"), (second.id, "b")]
    assert listed[0].scopes == {Scope.INGEST, Scope.ADMIN} and listed[0].rate_per_s == 1.0
    assert listed[1].revoked_at == LATER and listed[0].revoked_at is None
    assert all(k.created_at.tzinfo is not None for k in listed)


def test_a_bad_key_request_stores_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        for bad in (
            {"name": "", "scopes": ["read"]},
            {"name": "n", "scopes": []},
            {"name": "n", "scopes": ["read", "root"]},
            {"name": "n", "scopes": ["read"], "rate_per_s": 0.0},
        ):
            with pytest.raises(ApiKeyError):
                create_key(conn, now=NOW, **bad)  # type: ignore[arg-type]
        assert list_keys(conn) == []


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_answers_from_memory_and_drops_a_revoked_key_within_its_ttl(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        key, full_key = create_key(conn, name="n", scopes=["ingest"], now=NOW)
    clock = _Clock()
    cache = KeyCache(engine, ttl_s=30, clock=clock, now=lambda: LATER)
    cached = cache.get(full_key)
    assert cached is not None and cached.id == key.id and cached.last_used_at == LATER
    assert cache.get(_other_secret(full_key)) is None  # refused from memory
    assert cache.get("gk_0123456789ab_" + "A" * 43) is None  # unknown id
    assert cache.get("not a key") is None
    with engine.begin() as conn:
        revoke_key(conn, key.id, now=LATER)
    clock.now += 29  # within the TTL: what was read still stands
    assert cache.get(full_key) is not None
    clock.now += 1  # the TTL is over: read again, and refused
    assert cache.get(full_key) is None


def test_the_cache_sees_a_new_key_at_once_and_forgets_on_demand(engine: Engine) -> None:
    clock = _Clock()
    cache = KeyCache(engine, ttl_s=30, clock=clock, now=lambda: LATER)
    with engine.begin() as conn:
        key, full_key = create_key(conn, name="n", scopes=["read"], now=NOW)
    assert cache.get(full_key) is not None
    with engine.begin() as conn:
        revoke_key(conn, key.id, now=LATER)
    cache.forget(key.id)  # the process that revoked it need not wait for the TTL
    assert cache.get(full_key) is None


def test_the_cache_keeps_at_most_its_entries(engine: Engine) -> None:
    with engine.begin() as conn:
        made = [create_key(conn, name=f"k{i}", scopes=["read"], now=NOW) for i in range(3)]
    clock = _Clock()
    cache = KeyCache(engine, ttl_s=30, max_entries=2, clock=clock, now=lambda: LATER)
    for _, full_key in made:
        assert cache.get(full_key) is not None
    oldest = made[0][0]
    with engine.begin() as conn:
        revoke_key(conn, oldest.id, now=LATER)
    # the oldest entry was dropped for the third, so it is read again (and found revoked)
    # although its TTL is not over
    assert cache.get(made[0][1]) is None
    assert cache.get(made[2][1]) is not None
