"""Connecting to the database: the embedded SQLite file, or PostgreSQL with PostGIS.

SQLite runs in WAL mode (readers do not block the writer), with foreign keys on and a busy
timeout, so that a replay and a reader can share the file; a transaction that must not let
another process write between its reads and its writes asks for :data:`WRITE_LOCK`. The folder
of a SQLite file is made if missing. PostgreSQL connections are checked before use (a restarted
server is not an error).

JSON documents are written and read with orjson (several times faster than the standard
library, which device state, decisions and receipts pay per row): :func:`dump_json` keeps
orjson's text only when it reads back as the value given, and otherwise writes what the
standard library writes (NaN and infinities, keys that are not strings, tuples, integers beyond
64 bits), or raises what it raises (datetimes, unknown types); :func:`load_json` reads what
orjson refuses (NaN, lone surrogates, deep nesting) with the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from geotrigger.errors import ConfigError, DatabaseError

_PASSWORD = re.compile(r"(//[^:/@\s]*:)[^@\s]*@")
SQLITE_BUSY_TIMEOUT_MS = 5000
# An execution option: a transaction that reads and then writes what it read (a moment's cap
# check and its reservation) takes SQLite's write lock at its start, so no other process can
# write in between. PostgreSQL uses advisory locks for the same.
WRITE_LOCK = "geotrigger_write_lock"


def parse_url(url: str) -> URL:
    """``url`` parsed, or a ConfigError that names it without its password."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is no number fails here, not later
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"database URL {redacted(url)!r} is not a URL") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database URL {redacted(url)!r}: only sqlite and postgresql are supported"
        )
    return parsed


def connect(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg2://...``)."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error's text never carries the values of a statement (device
        # ids, positions), wherever it is logged
        engine = create_engine(
            parsed, hide_parameters=True, json_serializer=dump_json, json_deserializer=load_json
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        return create_engine(
            parsed,
            pool_pre_ping=True,
            hide_parameters=True,
            json_serializer=dump_json,
            json_deserializer=load_json,
        )
    raise ConfigError(
        f"database URL {parsed.render_as_string(hide_password=True)!r}: "
        "only sqlite and postgresql are supported"
    )


# Datetimes and dataclasses go to the standard library, as before, which refuses them.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dump_json(value: Any) -> str:
    """``value`` as JSON text, as the standard library's ``json.dumps`` would give it.

    orjson's text is kept when reading it back gives the value again; otherwise (a NaN or
    infinity, which orjson writes as null; a tuple; a type orjson refuses) the standard
    library writes it, so a document is stored as it always was, or refused as it always was.
    """
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: non-str keys, big integers, unknown types
        return json.dumps(value)
    if orjson.loads(text) != value:
        return json.dumps(value)
    return text.decode()


def load_json(text: str | bytes) -> Any:
    """A JSON document read with orjson, or with the standard library when orjson refuses
    it (NaN and infinities, lone surrogates, nesting deeper than orjson reads)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def shown(url: str) -> str:
    """A database URL as it may be printed or logged: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return redacted(url)


def redacted(text: str) -> str:
    """``text`` with the password of anything URL-like in it replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", text)


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of ``url`` if it does not exist yet (a SQLite file is
    made on first connection anyway); True when it was created. The extension PostGIS is the
    first migration's to create."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).scalar()
            if exists:
                return False
            name = parsed.database.replace('"', '""')
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        admin.dispose()


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Database failures inside the block become a DatabaseError naming the database (without
    its password): the edges of the program never see SQLAlchemy's exceptions."""
    try:
        yield
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise DatabaseError(f"database {shown(url)}: {redacted(str(cause)).strip()}") from exc


@contextmanager
def transaction(url: str) -> Iterator[Connection]:
    """A connection to ``url`` inside one transaction (committed when the block ends, rolled
    back on an error), for the repository functions; failures as :func:`database_errors`."""
    engine = connect(url)
    try:
        with database_errors(url), engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # the driver's own transaction handling would begin late (at the first write); SQLAlchemy
    # begins instead, in _sqlite_begin, so a writer can take the lock before it reads
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_LOCK, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def upsert_insert(conn: Connection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT on this connection's database (both have it)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def check_reachable(engine: Engine) -> None:
    """Ask the database a trivial question; its failure is raised (readiness checks)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def is_database_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the database failing (a driver error, or the DatabaseError that
    :func:`database_errors` made of one), not the program."""
    return isinstance(exc, SQLAlchemyError | DatabaseError)


# Values per IN (...) list: well under SQLite's limit of bound parameters, and one query for
# a request's batch (at most 1000 pings).
IN_LIST_SIZE = 1000


def in_lists(values: Iterable[str], size: int = IN_LIST_SIZE) -> Iterator[list[str]]:
    """The distinct ``values``, sorted, in lists of at most ``size`` (one query each)."""
    distinct = sorted(set(values))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]
