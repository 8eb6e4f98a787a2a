"""JSON documents through the database: orjson where it gives what the standard library gives,
the standard library where it does not (NaN, keys that are not strings, tuples, datetimes)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import StatementError

from geotrigger.store.database import dump_json, load_json
from geotrigger.store.tables import raw_pings

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)


def _round_trip(engine: Engine, payload: Any) -> Any:
    with engine.begin() as conn:
        row_id = conn.execute(
            insert(raw_pings).values(device_id="d", received_at=NOW, payload=payload)
        ).inserted_primary_key
        return conn.execute(select(raw_pings.c.payload).where(raw_pings.c.id == row_id[0])).scalar()


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [1.5, None, True, "ö€😀"], "c": {"d": -0.0, "e": 2**63 - 1}},
        {"fixes": [[1795631034.989, 60.1686, 24.9412, "id", 8.0, None, None, {}]]},
        [],
        "text",
        {1: "int key", None: "none key", 2.5: "float key", False: "bool key"},
        (1, 2, (3, 4)),
        {"huge": 2**70},
        {"nan": math.nan, "inf": math.inf, "ninf": -math.inf},
        {"lone": "\ud800"},
    ],
)
def test_documents_are_written_as_the_standard_library_writes_them(value: Any) -> None:
    # the same document (orjson's spacing and escapes may differ, the value may not)
    assert _normalised(dump_json(value)) == _normalised(json.dumps(value))


def _normalised(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


def test_non_finite_numbers_keep_the_standard_library_text() -> None:
    assert dump_json({"x": math.nan, "y": [math.inf]}) == '{"x": NaN, "y": [Infinity]}'


def test_what_orjson_reads_differently_falls_back() -> None:
    assert load_json('{"a": 1, "b": [2.5, null]}') == {"a": 1, "b": [2.5, None]}
    nan = load_json('{"a": NaN}')["a"]
    assert math.isnan(nan)
    assert load_json('"\\ud800"') == "\ud800"
    assert load_json(b'{"k": "v"}') == {"k": "v"}


def test_what_the_standard_library_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        dump_json({"at": NOW})
    with pytest.raises(TypeError):
        dump_json({"s": {1, 2}})


def test_documents_round_trip_through_the_database(engine: Engine) -> None:
    value = {"a": 1, "b": [1.5, None, True, "ö€😀"], "nested": {"k": [{"x": -0.25}]}}
    assert _round_trip(engine, value) == value
    assert _round_trip(engine, {1: "one"}) == {"1": "one"}  # keys become strings, as before
    assert _round_trip(engine, (1, [2])) == [1, [2]]


def test_a_datetime_in_a_document_is_refused_as_before(engine: Engine) -> None:
    with pytest.raises(StatementError):
        _round_trip(engine, {"at": NOW})


def test_nan_is_kept_by_sqlite_and_refused_by_postgresql_as_before(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with pytest.raises(StatementError):
            _round_trip(engine, {"x": math.nan})
    else:
        assert math.isnan(_round_trip(engine, {"x": math.nan})["x"])
