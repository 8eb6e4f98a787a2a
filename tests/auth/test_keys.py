"""API keys without a database: the format, malformed input refused without raising, the hash
of a secret, the checks of a new key's fields, and the cost of checking a cached key."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from pathlib import Path

import pytest

from geotrigger.auth import (
    ApiKey,
    ApiKeyError,
    Scope,
    checked_name,
    checked_rate,
    checked_scopes,
    hash_secret,
    new_key,
    parse_scopes,
    split_key,
)
from geotrigger.errors import InputError
from geotrigger.store import migrations
from geotrigger.store.api_keys import KeyCache, create_key
from geotrigger.store.database import connect

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_a_new_key_is_prefix_id_and_secret() -> None:
    key_id, secret, full_key = new_key()
    assert re.fullmatch(r"[0-9a-f]{12}", key_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)  # 32 random bytes, URL-safe
    assert full_key == f"gk_{key_id}_{secret}"
    assert split_key(full_key) == (key_id, secret)


def test_new_keys_do_not_repeat() -> None:
    drawn = [new_key() for _ in range(200)]
    assert len({key_id for key_id, _, _ in drawn}) == 200
    assert len({secret for _, secret, _ in drawn}) == 200


def test_a_secret_may_hold_underscores_and_dashes() -> None:
    secret = "_-" * 20
    assert split_key(f"gk_0123456789ab_{secret}") == ("0123456789ab", secret)


SECRET = "A" * 43


@pytest.mark.parametrize(
    "text",
    [
        "",
        "gk",
        "gk_",
        "gk__" + SECRET,
        f"gk_0123456789ab_{'A' * 31}",  # secret too short
        f"gk_0123456789ab_{'A' * 129}",  # secret too long
        f"gk_0123456789AB_{SECRET}",  # upper-case id
        f"gk_0123456789a_{SECRET}",  # id one short
        f"gk_0123456789abc_{SECRET}",  # id one long: the 13th character is no separator
        f"gx_0123456789ab_{SECRET}",  # another prefix
        f"GK_0123456789ab_{SECRET}",
        f" gk_0123456789ab_{SECRET}",  # whitespace around it
        f"gk_0123456789ab_{SECRET}\n",
        f"gk_0123456789ab_{SECRET} ",
        f"gk_0123456789ab_{SECRET[:-1]}=",  # not URL-safe
        f"gk_0123456789ab_{SECRET[:-1]}é",
        f"gk_0123456789ab_{SECRET[:-1]}\x00",
        f"Bearer gk_0123456789ab_{SECRET}",
        "x" * 100_000,
    ],
)
def test_malformed_keys_split_to_none(text: str) -> None:
    assert split_key(text) is None


@pytest.mark.parametrize("value", [None, 42, b"gk_0123456789ab_" + b"A" * 43, ["gk"]])
def test_split_key_never_raises_on_what_is_no_string(value: object) -> None:
    assert split_key(value) is None


def test_hash_is_sha256_hex_of_the_labelled_secret_and_fits_the_column() -> None:
    digest = hash_secret("s3cret-" + "x" * 40)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)  # the column holds 128
    assert digest == hash_secret("s3cret-" + "x" * 40)  # deterministic: it is looked up again
    assert digest != hash_secret("s3cret-" + "x" * 39 + "y")
    assert digest != hashlib.sha256(("s3cret-" + "x" * 40).encode()).hexdigest()  # labelled


def test_hashing_costs_well_under_a_millisecond() -> None:
    secret = new_key()[1]
    start = time.perf_counter()
    for _ in range(10_000):
        hash_secret(secret)
    per_call_s = (time.perf_counter() - start) / 10_000
    assert per_call_s < 0.0001  # measured about 0.5 µs; the API's budget is 5 ms a request


def test_scopes_are_strings_and_unknown_stored_ones_are_dropped() -> None:
    assert Scope.INGEST == "ingest" and f"{Scope.ADMIN}" == "admin"
    assert parse_scopes(["read", "ingest", "superuser"]) == {Scope.READ, Scope.INGEST}


def test_a_key_allows_its_scopes_until_revoked() -> None:
    key = ApiKey(
        id="0123456789ab",
        name="n",
        scopes=frozenset({Scope.INGEST}),
        rate_per_s=None,
        created_at=NOW,
    )
    assert key.allows(Scope.INGEST) and not key.allows(Scope.ADMIN) and not key.revoked
    revoked = ApiKey(
        id=key.id,
        name=key.name,
        scopes=key.scopes,
        rate_per_s=None,
        created_at=NOW,
        revoked_at=NOW,
    )
    assert revoked.revoked and not revoked.allows(Scope.INGEST)


def test_new_key_fields_are_checked() -> None:
    assert checked_name("  ingest eu  ") == "ingest eu"
    assert checked_scopes(["read", "ingest", "read"]) == {Scope.READ, Scope.INGEST}
    assert checked_rate(None) is None and checked_rate(2) == 2.0
    with pytest.raises(ApiKeyError, match="needs a name"):
        checked_name("   ")
    with pytest.raises(ApiKeyError, match="longer than 200"):
        checked_name("x" * 201)
    with pytest.raises(ApiKeyError, match="unknown scope root, superuser"):
        checked_scopes(["read", "superuser", "root"])
    with pytest.raises(ApiKeyError, match="at least one scope"):
        checked_scopes([])
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ApiKeyError, match="rate"):
            checked_rate(bad)
    assert issubclass(ApiKeyError, InputError)  # a 400 at the API, exit 1 at the CLI


def test_a_thousand_checks_of_a_cached_key_take_well_under_a_second(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    migrations.upgrade(url)
    engine = connect(url)
    try:
        with engine.begin() as conn:
            key, full_key = create_key(conn, name="load", scopes=["ingest"], now=NOW)
        cache = KeyCache(engine)
        first = cache.get(full_key)  # read from the database, then kept
        assert first is not None and first.id == key.id and first.scopes == {Scope.INGEST}
        start = time.perf_counter()
        for _ in range(1000):
            assert cache.get(full_key) is not None
        elapsed = time.perf_counter() - start
        wrong = full_key[:-1] + ("A" if full_key[-1] != "A" else "B")
        assert cache.get(wrong) is None
    finally:
        engine.dispose()
    assert elapsed < 0.1  # ~5 µs each: a hash, a dict look-up, a constant-time comparison
