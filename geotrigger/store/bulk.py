"""Many rows into one table in one statement, with the least work per row: the writes every
ingested batch makes (a row per device state and per ping receipt).

SQLAlchemy's executemany builds a dictionary of parameters per row and runs every value
through its column type (a JSON document through the serializer), about 10 µs a row, more
than the database spends on it. :class:`BulkInsert` takes rows as tuples whose JSON documents
are already text (:func:`~geotrigger.store.database.dump_json`) and whose times are aware
datetimes:

* on SQLite it hands them to the driver's ``executemany`` as they are, after turning the times
  into the text SQLAlchemy would have stored (the column type's own converter), so a row reads
  back through the tables exactly as one SQLAlchemy wrote;
* on PostgreSQL it runs SQLAlchemy's own INSERT, with the documents bound as text and cast
  to ``jsonb``, which SQLAlchemy sends as multi-row VALUES pages: one round trip per page,
  not per row.

The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, Connection, DateTime, Table, Text, bindparam, cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class BulkInsert:
    """``INSERT INTO table (columns) VALUES ... ON CONFLICT (key) DO UPDATE SET update`` (or
    ``DO NOTHING`` when ``update`` is empty), for rows given as tuples in ``columns`` order."""

    def __init__(
        self, table: Table, columns: Sequence[str], *, key: Sequence[str], update: Sequence[str]
    ) -> None:
        unknown = [c for c in (*columns, *key, *update) if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {unknown[0]!r}")
        self.table, self.columns = table, tuple(columns)
        self.key, self.update = tuple(key), tuple(update)
        self._documents = [_is_document(table.c[c]) for c in self.columns]

    def execute(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        """Write ``rows``; the rows the database counts as inserted or updated."""
        if not rows:
            return 0
        if conn.dialect.name == "sqlite":
            converted = self._sqlite_rows(conn.dialect, rows)
            result = conn.exec_driver_sql(self._sqlite_sql(), converted)
        else:
            names = [f"p_{c}" for c in self.columns]  # a column's own name is reserved
            params = [dict(zip(names, row, strict=True)) for row in rows]
            result = conn.execute(self._postgresql_insert(), params)
        return int(result.rowcount or 0)

    def _sqlite_rows(self, dialect: Dialect, rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        converters = [
            (i, convert)
            for i, name in enumerate(self.columns)
            if (convert := _time_converter(dialect, self.table.c[name])) is not None
        ]
        if not converters:
            return list(rows)
        # a batch's rows mostly share their times (when it was written): each converted once
        done: dict[Any, Any] = {}
        converted = []
        for row in rows:
            values = list(row)
            for i, convert in converters:
                value = values[i]
                text = done.get(value)
                if text is None:
                    text = done[value] = convert(value)
                values[i] = text
            converted.append(tuple(values))
        return converted

    @cache  # noqa: B019 - one statement per writer, which lives as long as the process
    def _sqlite_sql(self) -> str:
        names = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        target = ", ".join(f'"{c}"' for c in self.key)
        if self.update:
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in self.update)
            action = f"DO UPDATE SET {sets}"
        else:
            action = "DO NOTHING"
        return (
            f'INSERT INTO "{self.table.name}" ({names}) VALUES ({marks}) '
            f"ON CONFLICT ({target}) {action}"
        )

    @cache  # noqa: B019 - as above
    def _postgresql_insert(self) -> postgresql.Insert:
        values = {
            name: cast(bindparam(f"p_{name}", type_=Text()), JSONB)
            if document
            else bindparam(f"p_{name}", type_=self.table.c[name].type)
            for name, document in zip(self.columns, self._documents, strict=True)
        }
        insert = postgresql.insert(self.table).values(values)
        if not self.update:
            return insert.on_conflict_do_nothing(index_elements=list(self.key))
        return insert.on_conflict_do_update(
            index_elements=list(self.key), set_={c: insert.excluded[c] for c in self.update}
        )


def _is_document(column: Column[Any]) -> bool:
    """Whether the column holds a JSON document (``JSON``, ``JSONB`` on PostgreSQL)."""
    return isinstance(column.type, JSON)


def _time_converter(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any] | None:
    """How SQLAlchemy turns a datetime into what this column stores on ``dialect``."""
    if not isinstance(column.type, DateTime):
        return None
    return column.type.dialect_impl(dialect).bind_processor(dialect)
