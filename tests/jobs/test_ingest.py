"""The ingestor on a real database: a batch's moments are committed as they are decided, then
its device states, decisions and receipts together, or none of the three; one process at a
time ingests into a database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select, text

from geotrigger.cli import main
from geotrigger.cli.serve import prepare_examples
from geotrigger.config import DatabaseSettings, Settings
from geotrigger.consumers import LOCATION_MARKETING, Affinities, Consumer
from geotrigger.errors import ConfigError
from geotrigger.jobs.ingest import Ingestor, sole_ingester
from geotrigger.model import Ping
from geotrigger.store import consumers as consumers_repo
from geotrigger.store.database import transaction
from geotrigger.store.durable import Durable
from geotrigger.store.places import delete_place
from geotrigger.store.tables import decisions, device_state, moments, ping_receipts

NOW = datetime.now(UTC).replace(microsecond=0)
STOCKMANN = (60.1686, 24.9412)  # the demo moment fires on entering it
DEVICE = "ingest-phone"


@pytest.fixture
def durable(database_url: str) -> Iterator[Durable]:
    """The shipped examples applied, and one consenting consumer with DEVICE."""
    prepare_examples(database_url)
    consumer = Consumer(
        id="ingest-consumer",
        devices=frozenset({DEVICE}),
        consent={LOCATION_MARKETING: True},
        affinities=Affinities(base={"clothes": 0.8}),
    )
    with transaction(database_url) as conn:
        consumers_repo.save_consumer(conn, consumer=consumer, now=NOW)
    store = Durable(database_url, Settings(), owns_state=True)  # as the API service opens it
    yield store
    store.close()


def _ingestor(durable: Durable) -> Ingestor:
    return Ingestor(durable, Settings(), clock=lambda: NOW)


def _walk_in(prefix: str | None) -> list[Ping]:
    lat, lon = STOCKMANN
    return [
        Ping(
            device_id=DEVICE,
            lat=lat + n * 0.0001,
            lon=lon,
            timestamp=NOW - timedelta(seconds=20 - 20 * n),
            id=None if prefix is None else f"{prefix}{n}",
            accuracy_m=8.0,
        )
        for n in range(2)
    ]


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_batch_keeps_its_moment_states_decisions_and_receipts(durable: Durable) -> None:
    answers = _ingestor(durable).ingest(_walk_in("p"))
    assert [a.status for a in answers] == ["accepted", "accepted"]
    assert [m["rule_id"] for m in answers[1].moments] == ["api-demo-welcome"]
    engine = durable.engine
    assert _count(engine, moments) == 1 and _count(engine, device_state) == 1
    assert _count(engine, decisions) >= 1 and _count(engine, ping_receipts) == 2
    again = _ingestor(durable).ingest(_walk_in("p"))  # after a restart: the first answers
    assert [a.repeated for a in again] == [True, True]
    assert [m["id"] for m in again[1].moments] == [m["id"] for m in answers[1].moments]
    assert _count(engine, moments) == 1


# Receipts refused at their insert (read as usual): the last write of a batch fails.
_REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_receipts BEFORE INSERT ON ping_receipts "
        "BEGIN SELECT RAISE(ABORT, 'receipts refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_receipts() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'receipts refused'; END $$",
        "CREATE TRIGGER refuse_receipts BEFORE INSERT ON ping_receipts "
        "FOR EACH ROW EXECUTE FUNCTION refuse_receipts()",
    ],
}
_ON = {"sqlite": "", "postgresql": " ON ping_receipts"}  # what DROP TRIGGER names


def test_a_batch_whose_receipts_fail_keeps_its_moment_and_nothing_else(durable: Durable) -> None:
    engine = durable.engine
    with engine.begin() as conn:
        for statement in _REFUSE[engine.dialect.name]:
            conn.execute(text(statement))
    ingestor = _ingestor(durable)
    with pytest.raises(ConfigError, match="receipts refused"):
        ingestor.ingest(_walk_in("p"))
    assert _count(engine, moments) == 1  # durable before any answer
    assert _count(engine, device_state) == 0 and _count(engine, decisions) == 0
    assert _count(engine, ping_receipts) == 0
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_receipts" + _ON[engine.dialect.name]))
    # nothing said the pings were seen: sent again (to the same process, whose states in
    # memory went with the failed batch), they run again, to the same moment
    answers = ingestor.ingest(_walk_in("p"))
    assert [a.status for a in answers] == ["accepted", "accepted"]
    assert [a.repeated for a in answers] == [False, False]
    assert [m["rule_id"] for m in answers[1].moments] == ["api-demo-welcome"]
    assert _count(engine, moments) == 1 and _count(engine, device_state) == 1


def test_visits_a_place_removal_closed_are_kept_when_the_next_batch_fails(
    durable: Durable,
) -> None:
    engine = durable.engine
    settings = Settings(database=DatabaseSettings(places_poll_s=0.0))  # follow at every batch
    ingestor = Ingestor(durable, settings, clock=lambda: NOW)
    ingestor.ingest(_walk_in("p"))
    assert "stockmann-helsinki" in _stored_visits(engine)
    with engine.begin() as conn:
        assert delete_place(conn, place_id="stockmann-helsinki")
        for statement in _REFUSE[engine.dialect.name]:
            conn.execute(text(statement))
    with pytest.raises(ConfigError, match="receipts refused"):
        ingestor.ingest(_walk_in("q"))
    # the refresh before the batch closed the visit and kept that, whatever the batch did
    assert "stockmann-helsinki" not in _stored_visits(engine)


def _stored_visits(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        query = select(device_state.c.visits).where(device_state.c.device_id == DEVICE)
        return dict(conn.execute(query).scalar_one())


def test_pings_without_ids_read_no_receipts(durable: Durable) -> None:
    ingestor = _ingestor(durable)
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(durable.engine, "before_cursor_execute", seen)
    try:
        answers = ingestor.ingest(_walk_in(None))
    finally:
        event.remove(durable.engine, "before_cursor_execute", seen)
    assert [a.status for a in answers] == ["accepted", "accepted"]
    assert not [s for s in statements if "ping_receipts" in s]
    assert [s for s in statements if "device_state" in s]  # the same work otherwise


def test_one_process_at_a_time_ingests_into_a_database(
    durable: Durable, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = Durable(database_url, Settings())  # another process's connections
    pings = tmp_path / "pings.jsonl"
    pings.write_text("")
    try:
        with sole_ingester(durable):
            with pytest.raises(ConfigError, match="already ingesting"), sole_ingester(other):
                pass
            # a replay into the database while it is served is refused, and says why
            code = main(["replay", "--database-url", database_url, "--pings", str(pings)])
            assert code != 0 and "already ingesting" in capsys.readouterr().err
        with sole_ingester(other):  # free again once the first let go
            pass
    finally:
        other.close()
