"""Decisions in the database: every record back as a decisions file writes it, one consumer's
by event time within bounds, pruning by when they were stored with the cutoff kept, and each
candidate's decision stored once however often its batch runs. On SQLite and on real PostGIS."""

from __future__ import annotations

import dataclasses
import datetime as dt

import orjson
import pytest
from sqlalchemy import Engine, func, insert, select

from geotrigger.config import Settings
from geotrigger.moments.decision import (
    ConditionResult,
    Decision,
    Moment,
    Outcome,
    RelevanceScore,
    decision_key,
    moment_id,
)
from geotrigger.rules.model import TriggerKind
from geotrigger.store.decisions import (
    decision_record,
    load_decisions,
    prune_decisions,
    save_decisions,
)
from geotrigger.store.durable import Durable
from geotrigger.store.tables import decisions

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 6, 12, 6, 0, tzinfo=dt.UTC)


def _decision(
    consumer_id: str, at: dt.datetime, outcome: Outcome = Outcome.SUPPRESSED, **extra: object
) -> Decision:
    fields: dict[str, object] = {
        "rule_id": "coffee-morning",
        "consumer_id": consumer_id,
        "place_id": "cafe-1",
        "trigger": TriggerKind.ENTER,
        "at": at,
        "evaluated_at": at + dt.timedelta(seconds=2),
        "event_key": f"ping-{at.timestamp():.0f}",
        "outcome": outcome,
        "reason": "a reason",
    }
    return Decision(**(fields | extra))  # type: ignore[arg-type]


FIRED = _decision(
    "anna",
    T0,
    Outcome.FIRED,
    place_name="Café Yksi",
    place_zone="Europe/Helsinki",
    reason="every gate passed",
    relevance=RelevanceScore(score=0.812345, known=True, parts={"coffee": 0.5}),
    conditions=(ConditionResult(name="local_time", held=True, reason="09:00 is in 07:00-10:00"),),
    moment=Moment(
        id="a" * 32,
        rule_id="coffee-morning",
        consumer_id="anna",
        place_id="cafe-1",
        trigger=TriggerKind.ENTER,
        at=T0,
        expires_at=T0 + dt.timedelta(minutes=30, microseconds=250),
        channel="push",
        message="Coffee?",
        priority=5,
        relevance=0.81,
        data={"offer": "latte"},
    ),
)
SUPPRESSED = _decision(
    "anna",
    T0 + dt.timedelta(minutes=5),
    gate="cooldown",
    reason="fired 5 min ago",
    seen={"last_fired": T0, "cooldown_s": 3600},  # a datetime inside seen, too
)
NOT_MATCHED = _decision(
    "anna",
    T0 + dt.timedelta(minutes=10),
    Outcome.NOT_MATCHED,
    condition="open_now",
    reason="closed",
    conditions=(ConditionResult(name="open_now", held=False, reason="closed"),),
)


def _as_file_line(decision: Decision) -> dict[str, object]:
    """The decision as a replay's events file has it (cli/replay.py writes with OPT_UTC_Z)."""
    result: dict[str, object] = orjson.loads(
        orjson.dumps(decision.to_record(), option=orjson.OPT_UTC_Z)
    )
    return result


@pytest.mark.parametrize(
    "decision",
    [
        FIRED,  # with its moment, relevance, conditions, a time with microseconds
        SUPPRESSED,  # a gate, a datetime among the values it saw
        NOT_MATCHED,  # a condition
    ],
)
def test_round_trip_is_the_file_line(engine: Engine, decision: Decision) -> None:
    with engine.begin() as conn:
        save_decisions(conn, decisions=[decision], now=NOW)
    with engine.connect() as conn:
        records = load_decisions(conn, consumer_id="anna")
        row = conn.execute(select(decisions)).mappings().one()
    assert records == [_as_file_line(decision)]
    assert records[0]["at"] == decision.at.isoformat().replace("+00:00", "Z")
    assert row["outcome"] == decision.outcome.value
    assert (row["gate"], row["condition"]) == (decision.gate, decision.condition)
    assert row["moment_id"] == (None if decision.moment is None else decision.moment.id)
    created_at = row["created_at"]
    if created_at.tzinfo is None:  # SQLite gives the UTC wall time back
        created_at = created_at.replace(tzinfo=dt.UTC)
    assert created_at == NOW


def test_one_insert_many_decisions_read_back_by_time_and_consumer(engine: Engine) -> None:
    boris = _decision("boris", T0 + dt.timedelta(minutes=1))
    with engine.begin() as conn:  # stored out of time order, two consumers mixed
        save_decisions(conn, decisions=[NOT_MATCHED, boris, FIRED, SUPPRESSED], now=NOW)
    with engine.connect() as conn:
        anna = load_decisions(conn, consumer_id="anna")
        only_boris = load_decisions(conn, consumer_id="boris")
        nobody = load_decisions(conn, consumer_id="nobody")
    assert anna == [_as_file_line(d) for d in (FIRED, SUPPRESSED, NOT_MATCHED)]
    assert only_boris == [_as_file_line(boris)]
    assert nobody == []


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, [FIRED, SUPPRESSED, NOT_MATCHED]),  # no bounds: all
        (SUPPRESSED.at, None, [SUPPRESSED, NOT_MATCHED]),  # start is inclusive
        (None, SUPPRESSED.at, [FIRED]),  # end is exclusive
        (SUPPRESSED.at, NOT_MATCHED.at, [SUPPRESSED]),  # half-open window
        (T0 + dt.timedelta(microseconds=1), None, [SUPPRESSED, NOT_MATCHED]),  # just after
        (NOT_MATCHED.at + dt.timedelta(seconds=1), None, []),  # after the last
        # bounds in another zone mean the same instant
        (
            SUPPRESSED.at.astimezone(dt.timezone(dt.timedelta(hours=3))),
            None,
            [SUPPRESSED, NOT_MATCHED],
        ),
    ],
)
def test_load_between(
    engine: Engine,
    start: dt.datetime | None,
    end: dt.datetime | None,
    expected: list[Decision],
) -> None:
    with engine.begin() as conn:
        save_decisions(conn, decisions=[FIRED, SUPPRESSED, NOT_MATCHED], now=NOW)
    with engine.connect() as conn:
        records = load_decisions(conn, consumer_id="anna", start=start, end=end)
    assert records == [_as_file_line(d) for d in expected]


@pytest.mark.parametrize(
    ("before", "left"),
    [
        (NOW - dt.timedelta(days=1), ["old", "cutoff", "new"]),  # before everything
        (NOW - dt.timedelta(microseconds=1), ["cutoff", "new"]),  # only the older one goes
        (NOW, ["cutoff", "new"]),  # stored exactly at the cutoff: kept
        (NOW + dt.timedelta(microseconds=1), ["new"]),  # just after it: gone
        (NOW + dt.timedelta(days=1), []),  # after everything
    ],
)
def test_prune_by_when_stored(engine: Engine, before: dt.datetime, left: list[str]) -> None:
    stored = {
        "old": NOW - dt.timedelta(hours=1),
        "cutoff": NOW,
        "new": NOW + dt.timedelta(hours=1),
    }
    with engine.begin() as conn:
        for name, when in stored.items():
            save_decisions(conn, decisions=[_decision(name, T0)], now=when)
    with engine.begin() as conn:
        deleted = prune_decisions(conn, before=before)
    with engine.connect() as conn:
        remaining = conn.execute(select(decisions.c.consumer_id)).scalars().all()
    assert sorted(remaining) == sorted(left)
    assert deleted == len(stored) - len(left)


def test_nothing_to_save_and_naive_times_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        save_decisions(conn, decisions=[], now=NOW)
        assert load_decisions(conn, consumer_id="anna") == []
        with pytest.raises(ValueError, match="timezone-aware"):
            save_decisions(conn, decisions=[FIRED], now=NOW.replace(tzinfo=None))
        with pytest.raises(ValueError, match="timezone-aware"):
            prune_decisions(conn, before=NOW.replace(tzinfo=None))


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())


def test_the_key_is_the_id_of_the_candidates_moment(engine: Engine) -> None:
    with engine.begin() as conn:
        save_decisions(conn, decisions=[FIRED, SUPPRESSED], now=NOW)
    with engine.connect() as conn:
        keys = conn.execute(select(decisions.c.key).order_by(decisions.c.at)).scalars().all()
    assert keys == [decision_key(FIRED), decision_key(SUPPRESSED)]
    assert decision_key(FIRED) == moment_id("coffee-morning", "anna", "cafe-1", FIRED.event_key)


def test_a_batch_saved_again_is_stored_once(engine: Engine) -> None:
    batch = [FIRED, SUPPRESSED, NOT_MATCHED]
    for when in (NOW, NOW + dt.timedelta(minutes=1)):  # the batch runs again, later
        with engine.begin() as conn:
            save_decisions(conn, decisions=batch, now=when)
    with engine.connect() as conn:
        records = load_decisions(conn, consumer_id="anna")
        stamps = set(conn.execute(select(decisions.c.created_at)).scalars())
    assert records == [_as_file_line(d) for d in batch]
    assert len(stamps) == 1  # the rows of the first run, untouched


def test_the_decision_stored_first_stays(engine: Engine) -> None:
    """The same candidate decided otherwise the second time (and twice within one batch):
    the first decision stored is the one kept."""
    again = dataclasses.replace(SUPPRESSED, gate="caps", reason="capped", seen={})
    within = dataclasses.replace(SUPPRESSED, gate="spacing", reason="too soon", seen={})
    with engine.begin() as conn:
        save_decisions(conn, decisions=[SUPPRESSED, within], now=NOW)
    with engine.begin() as conn:
        save_decisions(conn, decisions=[again, NOT_MATCHED], now=NOW)
    with engine.connect() as conn:
        records = load_decisions(conn, consumer_id="anna")
        gates = conn.execute(select(decisions.c.gate).order_by(decisions.c.at)).scalars().all()
    assert records == [_as_file_line(SUPPRESSED), _as_file_line(NOT_MATCHED)]
    assert gates == ["cooldown", None]


@pytest.mark.parametrize(
    "differs",
    [
        {"rule_id": "coffee-evening"},
        {"consumer_id": "boris"},
        {"place_id": "cafe-2"},
        {"event_key": "ping-other"},
    ],
)
def test_two_candidates_are_two_rows(engine: Engine, differs: dict[str, str]) -> None:
    other = dataclasses.replace(SUPPRESSED, **differs)  # type: ignore[arg-type]
    assert decision_key(other) != decision_key(SUPPRESSED)
    for _ in range(2):
        with engine.begin() as conn:
            save_decisions(conn, decisions=[SUPPRESSED, other], now=NOW)
    assert _count(engine) == 2


def test_rows_stored_without_a_key_block_nothing(engine: Engine) -> None:
    """Rows from before the keys (key NULL), even two of the same candidate, stay; the same
    decision saved now is stored beside them, once."""
    old = {
        "consumer_id": SUPPRESSED.consumer_id,
        "rule_id": SUPPRESSED.rule_id,
        "place_id": SUPPRESSED.place_id,
        "at": SUPPRESSED.at,
        "outcome": SUPPRESSED.outcome.value,
        "gate": SUPPRESSED.gate,
        "condition": None,
        "moment_id": None,
        "record": decision_record(SUPPRESSED),
        "created_at": NOW - dt.timedelta(days=1),
        "key": None,
    }
    with engine.begin() as conn:
        conn.execute(insert(decisions), [old, old])
    for _ in range(2):
        with engine.begin() as conn:
            save_decisions(conn, decisions=[SUPPRESSED], now=NOW)
    with engine.connect() as conn:
        keys = conn.execute(select(decisions.c.key).order_by(decisions.c.id)).scalars().all()
    assert keys == [None, None, decision_key(SUPPRESSED)]


def test_a_replay_archiving_a_batch_again_stores_it_once(database_url: str, engine: Engine) -> None:
    """A replay killed after it archived a batch's decisions and before it saved the batch's
    device states runs the batch again when restarted, and archives its decisions again."""
    batch: list[object] = [FIRED, SUPPRESSED, NOT_MATCHED]
    for _ in range(2):  # the first process, then the restarted one
        durable = Durable(database_url, Settings())
        try:
            durable.archive_decisions(batch)
        finally:
            durable.close()
    with engine.connect() as conn:
        assert load_decisions(conn, consumer_id="anna") == [_as_file_line(d) for d in batch]
    assert _count(engine) == 3
