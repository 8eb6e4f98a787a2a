"""The weather readings repository: what the sweeps fetched, kept with its validity, and the
feed that lets running engines follow new readings.

A row is one reading at one key (a place id or a weather cell key such as ``5000m:1203:448``)
from one provider: when it was observed, until when it holds, when it was fetched, and the
whole reading as a JSON document (times as RFC 3339 in UTC, the condition as its value, a
field the provider did not give as null), which is what is read back. A reading is stored once
per key, provider and observation time: saving it again inserts nothing.

Every row has a number. Writers take a lock held to the end of their transaction (an advisory
lock on PostgreSQL; SQLite has one writer), so numbers are taken in commit order and a reader
that remembers the highest number it has seen (:class:`WeatherFeed`) misses nothing. Pruning
never deletes the row with the highest number, so that the next number stays above every
position a reader holds, nor the newest reading of a key, which a rule still reads (and sees
stale).

The caller owns the transaction (``with engine.begin() as conn:``); nothing here commits,
except the feed, which reads on its own connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, and_, delete, exists, func, select

from geotrigger.errors import WeatherError, Where
from geotrigger.store.database import in_lists, upsert_insert
from geotrigger.store.tables import weather_readings
from geotrigger.store.types import utc
from geotrigger.timestamps import rfc3339
from geotrigger.weather.reading import NUMERIC_FIELDS, WeatherCondition, WeatherReading
from geotrigger.weather.timeline import WeatherTimeline

# The PostgreSQL advisory lock that orders writers of weather readings (any fixed number,
# other than the place change log's: the two logs do not wait for each other).
WEATHER_LOG_LOCK = 0x9E07_3EA7

KEY_LENGTH = 200  # the columns' widths
SOURCE_LENGTH = 64
STORED = "the database"  # the source named in errors about a stored reading

# Rows per INSERT (six values each) and keys per IN (...) list: well under SQLite's limit
# of bound parameters.
_ROWS_PER_INSERT = 100


def save_readings(
    conn: Connection, *, readings: Mapping[str, WeatherReading], fetched_at: dt.datetime
) -> int:
    """Store each key's reading, fetched at ``fetched_at``; the number of new rows (a reading
    already stored for its key, source and observation time is left as it is)."""
    fetched = utc(fetched_at)
    rows = [reading_row(key, reading, fetched) for key, reading in sorted(readings.items())]
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(WEATHER_LOG_LOCK)))
    new = 0
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        statement = (
            upsert_insert(conn, weather_readings)
            .values(rows[start : start + _ROWS_PER_INSERT])
            .on_conflict_do_nothing(index_elements=["key", "source", "observed_at"])
            .returning(weather_readings.c.id)
        )
        new += len(conn.execute(statement).all())
    return new


def load_readings(
    conn: Connection, *, since: dt.datetime | None = None, keys: Iterable[str] | None = None
) -> list[tuple[str, WeatherReading]]:
    """The stored readings (observed at or after ``since``; at ``keys`` only, when given),
    as (key, reading), in order of observation time, then key, then storing order."""
    conditions = [] if since is None else [weather_readings.c.observed_at >= utc(since)]
    if keys is None:
        return [_keyed(row) for row in _rows(conn, conditions)]
    found: list[RowMapping] = []
    for chunk in in_lists(keys):
        found.extend(_rows(conn, [*conditions, weather_readings.c.key.in_(chunk)]))
    found.sort(key=lambda row: (row["observed_at"], row["key"], row["id"]))
    return [_keyed(row) for row in found]


def latest_readings(conn: Connection, *, keys: Iterable[str]) -> dict[str, WeatherReading]:
    """The newest reading (by observation time) of each of ``keys`` that has one; of two
    providers' readings observed at the same time, the one stored last."""
    table = weather_readings
    latest: dict[str, WeatherReading] = {}
    for chunk in in_lists(keys):
        newest = (
            select(table.c.key, func.max(table.c.observed_at).label("observed_at"))
            .where(table.c.key.in_(chunk))
            .group_by(table.c.key)
            .subquery()
        )
        query = (
            select(table)
            .join(
                newest,
                and_(table.c.key == newest.c.key, table.c.observed_at == newest.c.observed_at),
            )
            .order_by(table.c.id)
        )
        latest.update(_keyed(row) for row in conn.execute(query).mappings())
    return latest


def load_timeline(
    conn: Connection, *, cell_m: float, since: dt.datetime | None = None
) -> WeatherTimeline:
    """A timeline (of ``cell_m`` metre cells) of the readings observed at or after ``since``;
    of two readings at the same key and time, the one stored last wins."""
    timeline = WeatherTimeline(cell_m)
    for key, reading in load_readings(conn, since=since):
        timeline.add(key, reading)
    return timeline


class WeatherFeed:
    """Reads the readings of one database in the order they were stored."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def position(self) -> int:
        """The number of the newest reading (0 for none): where a reader that has just loaded
        every reading stands."""
        with self.engine.connect() as conn:
            return _newest(conn)

    def since(self, position: int) -> tuple[int, list[tuple[str, WeatherReading]]]:
        """The readings stored after ``position``, in the order they were stored, and the
        position of a reader that has applied them. A position beyond the newest reading
        (another database, or the table made again) gets every reading there is."""
        table = weather_readings
        with self.engine.connect() as conn, conn.begin():
            if _newest(conn) < position:
                position = 0
            query = select(table).where(table.c.id > position).order_by(table.c.id)
            rows = conn.execute(query).mappings().all()
        if not rows:
            return position, []
        return int(rows[-1]["id"]), [_keyed(row) for row in rows]


def prune_weather_readings(conn: Connection, *, before: dt.datetime) -> int:
    """Delete the readings observed before ``before`` (one observed exactly then stays), but
    never the newest reading of a key nor the reading with the highest number; how many."""
    table = weather_readings
    newer = table.alias("newer")
    superseded = exists().where(
        newer.c.key == table.c.key, newer.c.observed_at > table.c.observed_at
    )
    deleted = conn.execute(
        delete(table).where(
            table.c.observed_at < utc(before), table.c.id < _newest(conn), superseded
        )
    )
    return int(deleted.rowcount or 0)


def reading_row(key: str, reading: WeatherReading, fetched_at: dt.datetime) -> dict[str, Any]:
    """A reading at ``key`` as a row of ``weather_readings``; ValueError for a key that is
    empty or longer than its column, or a source longer than its column."""
    if not 0 < len(key) <= KEY_LENGTH:
        raise ValueError(f"weather key {key[:40]!r} must have 1 to {KEY_LENGTH} characters")
    if len(reading.source) > SOURCE_LENGTH:
        raise ValueError(
            f"weather source {reading.source[:40]!r} (at key {key!r}) is longer than "
            f"{SOURCE_LENGTH} characters"
        )
    return {
        "key": key,
        "source": reading.source,
        "observed_at": utc(reading.observed_at),
        "valid_until": None if reading.valid_until is None else utc(reading.valid_until),
        "fetched_at": fetched_at,
        "reading": reading_document(reading),
    }


def reading_document(reading: WeatherReading) -> dict[str, Any]:
    """Every field of a reading as JSON: times as RFC 3339 in UTC (``...Z``), the condition
    as its value, a field not given as null."""
    return {
        "observed_at": rfc3339(reading.observed_at),
        "valid_until": None if reading.valid_until is None else rfc3339(reading.valid_until),
        "condition": None if reading.condition is None else reading.condition.value,
        **{name: reading.value(name) for name in NUMERIC_FIELDS},
        "source": reading.source,
    }


def reading_from_document(document: Mapping[str, Any], *, key: str) -> WeatherReading:
    """The reading :func:`reading_document` wrote; WeatherError naming the key when the
    document is not one."""
    try:
        until = document["valid_until"]
        condition = document["condition"]
        return WeatherReading(
            observed_at=_parse_time(document["observed_at"]),
            valid_until=None if until is None else _parse_time(until),
            condition=None if condition is None else WeatherCondition(condition),
            source=document["source"],
            **{name: document[name] for name in NUMERIC_FIELDS},
        )
    except KeyError as exc:
        raise WeatherError(
            f"the stored reading has no field {exc.args[0]!r}",
            where=Where(source=STORED, item_id=key),
        ) from exc
    except (TypeError, ValueError) as exc:
        raise WeatherError(
            f"the stored reading is not valid: {exc}", where=Where(source=STORED, item_id=key)
        ) from exc


def _rows(conn: Connection, conditions: Sequence[Any]) -> list[RowMapping]:
    table = weather_readings
    query = select(table).where(*conditions).order_by(table.c.observed_at, table.c.key, table.c.id)
    return list(conn.execute(query).mappings())


def _keyed(row: RowMapping) -> tuple[str, WeatherReading]:
    key: str = row["key"]
    return key, reading_from_document(row["reading"], key=key)


def _newest(conn: Connection) -> int:
    query = select(func.coalesce(func.max(weather_readings.c.id), 0))
    return int(conn.execute(query).scalar_one())


def _parse_time(text: str) -> dt.datetime:
    return utc(dt.datetime.fromisoformat(text))
