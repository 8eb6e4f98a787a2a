"""One contract suite for every history: in memory, and in the database on SQLite and PostGIS.

The decider's gates read these answers; a database history must give exactly what the
in-memory one gives, and keep it across a restart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from geotrigger.moments.decision import Moment
from geotrigger.moments.history import WritableHistory
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.rules.model import TriggerKind
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.history import DatabaseHistory, key_text
from geotrigger.store.tables import cap_ledger, moments, outbox
from tests.moments.helpers import T0
from tests.store.conftest import _fresh_postgres

AT = T0.timestamp()


@pytest.fixture(params=["memory", "sqlite", "postgis"])
def history(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[WritableHistory]:
    """An empty history of each kind."""
    if request.param == "memory":
        yield MemoryHistory()
        return
    urls = (
        iter([f"sqlite:///{tmp_path}/h.sqlite3"])
        if request.param == "sqlite"
        else _fresh_postgres()
    )
    for url in urls:
        migrations.upgrade(url)
        engine = connect(url)
        yield DatabaseHistory(engine)
        engine.dispose()


def moment(
    offset_s: float, *, rule: str = "r-1", consumer: str = "c-1", place: str = "p-1"
) -> Moment:
    at = T0 + timedelta(seconds=offset_s)
    return Moment(
        id=f"{rule}-{consumer}-{place}-{offset_s}",
        rule_id=rule,
        consumer_id=consumer,
        place_id=place,
        trigger=TriggerKind.ENTER,
        at=at,
        expires_at=at + timedelta(minutes=10),
        channel="push",
        message="hello",
        priority=0,
        relevance=0.9,
    )


def test_counts_and_times_over_half_open_windows(history: WritableHistory) -> None:
    for offset in (0, 60, 120):
        history.record_moment(moment(offset), spell_id=None)
    key = ("consumer", "c-1")
    assert history.count(key, AT, AT + 120) == 2  # [start, end): 120 is out
    assert history.count(key, -math.inf, math.inf) == 3
    assert history.count(("consumer", "c-2"), -math.inf, math.inf) == 0
    assert history.times(key, AT + 1, math.inf) == [AT + 60, AT + 120]


def test_every_scope_counts_and_the_spell_only_with_one(history: WritableHistory) -> None:
    history.record_moment(moment(0), spell_id="cell:wet:x")
    history.record_moment(moment(60, rule="r-2"), spell_id=None)
    span = (-math.inf, math.inf)
    assert history.count(("consumer_rule", "c-1", "r-1"), *span) == 1
    assert history.count(("consumer_place", "c-1", "p-1"), *span) == 2
    assert history.count(("place", "p-1"), *span) == 2
    assert history.count(("rule", "r-2"), *span) == 1
    assert history.count(("weather_event", "c-1", "cell:wet:x"), *span) == 1


def test_nearest_and_neighbouring_fires(history: WritableHistory) -> None:
    for offset in (0, 600):
        history.record_moment(moment(offset), spell_id=None)
    assert history.nearest_moment_s("c-1", AT + 200) == AT
    assert history.nearest_moment_s("c-1", AT + 400) == AT + 600
    assert history.nearest_fired_s("c-1", "r-1", "p-1", AT - 50) == AT
    assert history.last_fired_before_s("c-1", "r-1", "p-1", AT + 599) == AT
    assert history.next_fired_after_s("c-1", "r-1", "p-1", AT) == AT + 600
    assert history.next_fired_after_s("c-1", "r-1", "p-1", AT + 600) is None
    assert history.nearest_moment_s("c-9", AT) is None


def test_exits_between_two_times(history: WritableHistory) -> None:
    history.record_exit("c-1", "p-1", AT + 100)
    assert history.exited_since("c-1", "p-1", AT)
    assert history.exited_since("c-1", "p-1", AT, AT + 100)
    assert not history.exited_since("c-1", "p-1", AT, AT + 99)
    assert not history.exited_since("c-1", "p-1", AT + 101)
    assert not history.exited_since("c-1", "p-2", AT)


def test_a_moment_recorded_twice_counts_once(history: WritableHistory) -> None:
    history.record_moment(moment(0), spell_id=None)
    history.record_moment(moment(0), spell_id=None)  # a retry, a replay, a second process
    assert history.count(("consumer", "c-1"), -math.inf, math.inf) == 1


def test_a_moment_its_reservations_and_its_outbox_row_are_stored_together(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/h.sqlite3"
    migrations.upgrade(url)
    engine = connect(url)
    DatabaseHistory(engine).record_moment(moment(0), spell_id=None)
    restarted = DatabaseHistory(connect(url))  # another process, after a restart
    assert restarted.count(("consumer_rule", "c-1", "r-1"), -math.inf, math.inf) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(moments)).scalar() == 1
        assert conn.execute(select(outbox.c.status)).scalars().all() == ["pending"]
        keys = set(conn.execute(select(cap_ledger.c.key)).scalars())
    assert key_text(("consumer", "c-1")) in keys and len(keys) == 6  # 5 scopes + the fire
    engine.dispose()


def test_long_keys_are_stored_as_digests() -> None:
    long_key = ("consumer_rule", "c" * 300, "r" * 300)
    stored = key_text(long_key)
    assert stored.startswith("sha256:") and len(stored) < 100
    assert key_text(("consumer", "c-1")) == "consumer\x1fc-1"
