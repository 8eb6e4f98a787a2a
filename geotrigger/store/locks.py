"""Named locks across processes, for jobs that one process at a time must run (a weather sweep).

On PostgreSQL a session-level advisory lock on a dedicated connection, taken without waiting:
a second scheduler finds it held and skips its run. On a SQLite file an exclusive ``flock`` on
a lock file beside the database, which every process on the machine sees (a SQLite database
is only shared on one machine). An in-memory SQLite database has one process: always taken.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select


@contextmanager
def try_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Take the lock ``name`` if no other process holds it: True (held until the block
    ends), or False at once when another process holds it."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name) as taken:
            yield taken
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with _file_lock(Path(f"{database}.{_safe(name)}.lock")) as taken:
        yield taken


# The class of these locks: PostgreSQL keeps two-key advisory locks apart from the one-key
# locks the history of moments takes, so a name's hash can never collide with those.
LOCK_CLASS = 0x6A0B


@contextmanager
def _advisory(engine: Engine, name: str) -> Iterator[bool]:
    key = (LOCK_CLASS, func.hashtext(name))
    with engine.connect() as conn:
        taken = bool(conn.execute(select(func.pg_try_advisory_lock(*key))).scalar_one())
        conn.commit()
        try:
            yield taken
        finally:
            if taken:
                conn.execute(select(func.pg_advisory_unlock(*key)))
                conn.commit()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
