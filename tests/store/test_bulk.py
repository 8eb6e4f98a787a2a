"""Rows written by :class:`BulkInsert` read back exactly as rows SQLAlchemy wrote (documents,
times, nulls), on both databases; an upsert replaces, ``DO NOTHING`` keeps the first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select

from geotrigger.store.bulk import BulkInsert
from geotrigger.store.database import dump_json
from geotrigger.store.tables import device_state, ping_receipts

AT = datetime(2026, 6, 12, 9, 30, 15, 123456, tzinfo=UTC)
LATER = datetime(2026, 6, 12, 9, 31, tzinfo=UTC)
STATE_COLUMNS = ("device_id", "last_ping", "last_s", "visits", "pending", "recent_ids")
UPSERT = BulkInsert(
    device_state,
    (*STATE_COLUMNS, "updated_at"),
    key=("device_id",),
    update=(*STATE_COLUMNS[1:], "updated_at"),
)
KEEP_FIRST = BulkInsert(ping_receipts, ("key", "result", "received_at"), key=("key",), update=())


def _document(n: int) -> dict[str, object]:
    return {"fixes": [[1781254800.5 + n, 60.1686, 24.9412, None, 8.5, None, None, {}, None]]}


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        query = select(device_state).order_by(device_state.c.device_id)
        return [tuple(row) for row in conn.execute(query)]


def test_bulk_rows_read_back_as_rows_sqlalchemy_wrote(engine: Engine) -> None:
    values = [
        ("by-sqlalchemy", _document(1), 1.5, {"cafe": [0, 2.0, False, None, 0]}, {}, ["p", 1.5]),
        ("by-bulk", _document(1), 1.5, {"cafe": [0, 2.0, False, None, 0]}, {}, ["p", 1.5]),
        ("no-last", None, None, {}, {"kiosk": [0, 1]}, []),
    ]
    with engine.begin() as conn:
        first = dict(zip((*STATE_COLUMNS, "updated_at"), (*values[0], AT), strict=True))
        conn.execute(insert(device_state), [first])
        written = UPSERT.execute(
            conn,
            [
                (d, None if last is None else dump_json(last), s, *map(dump_json, docs), AT)
                for d, last, s, *docs in values[1:]
            ],
        )
    assert written == 2
    by_id = {row[0]: row[1:] for row in _rows(engine)}
    assert by_id["by-bulk"] == by_id["by-sqlalchemy"]
    assert by_id["by-bulk"][-1].replace(tzinfo=UTC) == AT  # the same stored text of the time
    assert by_id["no-last"][:2] == (None, None) and by_id["no-last"][3] == {"kiosk": [0, 1]}


def test_a_missing_document_is_stored_as_sqlalchemy_stores_it(engine: Engine) -> None:
    no_last = {"last_ping": None, "last_s": None, "visits": {}, "pending": {}, "recent_ids": []}
    with engine.begin() as conn:
        conn.execute(insert(device_state), [{"device_id": "a", **no_last, "updated_at": AT}])
        UPSERT.execute(conn, [("b", dump_json(None), None, "{}", "{}", "[]", AT)])
        # the stored value itself, not what the JSON type makes of it: JSON null both times
        raw = conn.exec_driver_sql(
            "SELECT device_id, last_ping IS NULL FROM device_state ORDER BY device_id"
        ).all()
    assert raw[0][1] == raw[1][1]


def test_an_upsert_replaces_the_row_and_do_nothing_keeps_the_first(engine: Engine) -> None:
    row = ("phone", dump_json(_document(1)), 1.0, "{}", "{}", "[]")
    with engine.begin() as conn:
        UPSERT.execute(conn, [(*row, AT)])
        UPSERT.execute(conn, [(*row[:1], dump_json(_document(2)), 2.0, *row[3:], LATER)])
        kept = KEEP_FIRST.execute(conn, [("r-1", '{"status": "accepted"}', AT)])
        again = KEEP_FIRST.execute(
            conn, [("r-1", '{"status": "rejected"}', LATER), ("r-2", "{}", LATER)]
        )
        results = dict(conn.execute(select(ping_receipts.c.key, ping_receipts.c.result)).all())
    assert (kept, again) == (1, 1)
    assert results == {"r-1": {"status": "accepted"}, "r-2": {}}
    (stored,) = _rows(engine)
    assert stored[1] == _document(2) and stored[2] == 2.0


def test_nothing_to_write_runs_nothing_and_unknown_columns_are_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        assert UPSERT.execute(conn, []) == 0
    with pytest.raises(ValueError, match="no column 'colour'"):
        BulkInsert(device_state, ("device_id", "colour"), key=("device_id",), update=())
