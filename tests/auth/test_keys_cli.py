"""``geotrigger keys`` on a real SQLite database, as an operator runs it: the key printed once
verifies, the list shows no secret, a revoked key stops verifying."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from geotrigger.auth import Scope, split_key
from geotrigger.cli import main
from geotrigger.store.api_keys import verify_key
from geotrigger.store.database import connect
from geotrigger.store.tables import api_keys

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite database, the default of every command."""
    database_url = f"sqlite:///{tmp_path / 'geotrigger.sqlite3'}"
    monkeypatch.setenv("GEOTRIGGER_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    return database_url


def _create(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    capsys.readouterr()
    assert main(["keys", "create", *args]) == 0
    out, err = capsys.readouterr()
    return out, err


def test_create_prints_the_key_once_and_it_verifies(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _create(capsys, "--name", "ingest-eu", "--scope", "ingest", "--scope", "read")
    full_key = out.strip()
    assert out == full_key + "\n"  # the key alone on stdout: KEY=$(geotrigger keys create ...)
    parts = split_key(full_key)
    assert parts is not None
    assert "shown only now" in err and parts[0] in err and parts[1] not in err
    engine = connect(url)
    try:
        with engine.begin() as conn:
            key = verify_key(conn, full_key, now=NOW)
    finally:
        engine.dispose()
    assert key is not None and key.name == "ingest-eu" and key.rate_per_s is None
    assert key.scopes == {Scope.INGEST, Scope.READ}


def test_create_with_a_rate_and_another_database(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert main(["db", "upgrade", "--database-url", other]) == 0
    slow = _create(capsys, "--name", "slow", "--scope", "read", "--rate", "2.5")[0]
    elsewhere = _create(capsys, "--name", "x", "--scope", "admin", "--database-url", other)[0]
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert slow.split("_")[1] in listed and elsewhere.split("_")[1] not in listed
    assert "slow" in listed and "2.5/s" in listed and "1 key, 1 active" in listed
    assert main(["keys", "list", "--database-url", other]) == 0
    assert elsewhere.split("_")[1] in capsys.readouterr().out


def test_list_shows_ids_names_scopes_and_times_but_no_secret(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    full_keys = [
        _create(capsys, "--name", name, "--scope", "ingest")[0].strip() for name in ("a", "b")
    ]
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    lines = listed.splitlines()
    assert lines[0].split() == [
        "id",
        "name",
        "scopes",
        "rate",
        "created",
        "revoked",
        "last",
        "used",
    ]
    engine = connect(url)
    try:
        with engine.begin() as conn:
            hashes = conn.execute(select(api_keys.c.secret_hash)).scalars().all()
            verify_key(conn, full_keys[0], now=dt.datetime(2026, 11, 25, 18, 5, tzinfo=dt.UTC))
    finally:
        engine.dispose()
    for full_key in full_keys:
        key_id, secret = split_key(full_key) or ("", "")
        assert key_id in listed and secret not in listed
    assert not any(digest in listed for digest in hashes)
    assert "2 keys, 2 active" in listed
    assert main(["keys", "list"]) == 0
    used = {line.split()[1]: line.split()[-1] for line in capsys.readouterr().out.splitlines()}
    assert used["a"] == "2026-11-25T18:05:00Z" and used["b"] == "-"  # last used


def test_revoke_stops_the_key(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    full_key = _create(capsys, "--name", "gone", "--scope", "admin")[0].strip()
    key_id = full_key.split("_")[1]
    assert main(["keys", "revoke", key_id]) == 0
    assert f"revoked key {key_id} (gone)" in capsys.readouterr().out
    engine = connect(url)
    try:
        with engine.begin() as conn:
            assert verify_key(conn, full_key, now=NOW) is None
    finally:
        engine.dispose()
    assert main(["keys", "revoke", full_key]) == 0  # a whole key pasted: its id is used
    again = capsys.readouterr().out
    assert "revoked before" in again and full_key.split("_", 2)[2] not in again
    assert main(["keys", "list"]) == 0
    assert "1 key, 0 active" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["keys", "revoke", "0123456789ab"], "no key with the id 0123456789ab"),
        (["keys", "revoke", "not-an-id"], "12 lowercase hex characters"),
        (["keys", "create", "--name", " ", "--scope", "read"], "needs a name"),
        (["keys", "create", "--name", "n", "--scope", "read", "--rate", "0"], "rate 0.0"),
    ],
)
def test_mistakes_are_one_line_and_exit_1(
    url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("geotrigger: error: api key") and message in err


def test_an_unknown_scope_is_a_usage_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--name", "n", "--scope", "superuser"])
    assert exited.value.code == 2
    assert "invalid choice: 'superuser'" in capsys.readouterr().err
