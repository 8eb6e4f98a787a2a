"""When each scheduled job last ran, in any process: what lets a second scheduler skip a sweep
another one has just made. The caller owns the transaction (run it under the job's lock)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from geotrigger.store.tables import job_runs


def last_run(conn: Connection, name: str) -> dt.datetime | None:
    """When ``name`` last finished (UTC), if ever."""
    found = conn.execute(select(job_runs.c.finished_at).where(job_runs.c.name == name)).scalar()
    if found is None:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=dt.UTC)


def record_run(conn: Connection, name: str, *, finished_at: dt.datetime) -> None:
    """Record that ``name`` finished at ``finished_at``."""
    updated = conn.execute(
        update(job_runs).where(job_runs.c.name == name).values(finished_at=finished_at)
    )
    if not updated.rowcount:
        conn.execute(job_runs.insert().values(name=name, finished_at=finished_at))
