"""A replay stopped mid-stream and started again continues exactly where it was: device state
and the history of moments live in the database. On SQLite and on PostGIS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from geotrigger.consumers import ConsumerDirectory
from geotrigger.model import Ping
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.memory_history import MemoryHistory
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.rules.model import (
    PlaceSelector,
    PlaceTrigger,
    Reentry,
    RuleSet,
    Suppression,
    TriggerKind,
)
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.device_state import DatabaseStateStore
from geotrigger.store.history import DatabaseHistory
from geotrigger.store.tables import moments, outbox
from tests.moments.helpers import T0, make_consumer, make_place, make_rule

LAT, LON = 60.1699, 24.9384
M = 1 / 111_195
TEA = PlaceSelector(tags=frozenset({"tea"}))
RULES = RuleSet(
    rules=(
        make_rule(
            id="dwell",
            trigger=PlaceTrigger(kind=TriggerKind.DWELL, places=TEA),
            suppression=Suppression(reentry=Reentry.AFTER_EXIT),
        ),
        make_rule(id="enter", trigger=PlaceTrigger(kind=TriggerKind.ENTER, places=TEA)),
    )
)
CONSUMERS = ConsumerDirectory([make_consumer(id="c-1", devices=frozenset({"d-1"}))])


def _pings() -> list[Ping]:
    """In, stay 8 minutes, away, back in and stay: two visits, each an enter and a dwell."""
    north = [200, 120, 60] + [0] * 16 + [400] * 5 + [120, 60] + [0] * 16
    return [
        Ping(
            device_id="d-1",
            id=f"p{i}",
            lat=LAT + n * M,
            lon=LON,
            timestamp=T0 + timedelta(seconds=30 * i),
            accuracy_m=5.0,
            speed_mps=0.5,
        )
        for i, n in enumerate(north)
    ]


def _fired(items: list[object]) -> list[str]:
    return [
        d.moment.id
        for d in items
        if isinstance(d, Decision) and d.outcome is Outcome.FIRED and d.moment is not None
    ]


def _durable(url: str) -> MomentEngine:
    engine = connect(url)
    return MomentEngine(
        [make_place()],
        RULES,
        consumers=CONSUMERS,
        history=DatabaseHistory(engine),
        store=DatabaseStateStore(engine),
    )


def test_a_restarted_replay_continues_where_it_was(database_url: str) -> None:
    pings = _pings()
    whole = MomentEngine([make_place()], RULES, consumers=CONSUMERS, history=MemoryHistory())
    expected = _fired(whole.process(pings))
    assert len(expected) >= 3  # enter, dwell, and the second visit's moments

    migrations.upgrade(database_url)
    cut = 8  # inside the shop, entered, not dwelling yet
    first = _fired(_durable(database_url).process(pings[:cut]))
    second = _fired(_durable(database_url).process(pings[cut:]))  # a new process
    assert first + second == expected

    # started again over pings it had already seen: nothing fires twice
    again = _durable(database_url).process(pings[cut:])
    assert _fired(again) == []
    engine = connect(database_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(moments.c.id)).scalars())
        assert stored == set(expected)
        assert conn.execute(select(func.count()).select_from(outbox)).scalar() == len(expected)
    engine.dispose()


RIVALS = RuleSet(
    rules=(
        make_rule(id="first", priority=5, trigger=PlaceTrigger(kind=TriggerKind.ENTER, places=TEA)),
        make_rule(
            id="second", priority=1, trigger=PlaceTrigger(kind=TriggerKind.ENTER, places=TEA)
        ),
    )
)


class _CrashError(RuntimeError):
    pass


def test_a_crash_after_the_moments_and_before_the_states_changes_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch runs again after the crash: the event keeps the moment it fired (no
    runner-up fires as well, though the first moment now stands in its way), and nothing is
    lost, though the crashed process had left its states unsaved."""
    pings = _pings()[:8]
    whole = MomentEngine([make_place()], RIVALS, consumers=CONSUMERS, history=MemoryHistory())
    expected = _fired(whole.process(pings))
    assert len(expected) == 1

    migrations.upgrade(database_url)
    crashing = _durable_with(database_url, RIVALS)
    original = DatabaseStateStore.save_many

    def crash(self: DatabaseStateStore, states: object) -> None:
        raise _CrashError("the process dies before the states are saved")

    monkeypatch.setattr(DatabaseStateStore, "save_many", crash)
    with pytest.raises(_CrashError):
        crashing.process(pings)
    monkeypatch.setattr(DatabaseStateStore, "save_many", original)

    again = _fired(_durable_with(database_url, RIVALS).process(pings))
    assert again == expected
    engine = connect(database_url)
    with engine.connect() as conn:
        assert set(conn.execute(select(moments.c.id)).scalars()) == set(expected)
    engine.dispose()


def _durable_with(url: str, rules: RuleSet) -> MomentEngine:
    engine = connect(url)
    return MomentEngine(
        [make_place()],
        rules,
        consumers=CONSUMERS,
        history=DatabaseHistory(engine),
        store=DatabaseStateStore(engine),
    )


def test_after_a_restart_weather_moments_still_find_where_devices_were(database_url: str) -> None:
    """Rain starts just after a restart, before the consumer's phone reports again: the last
    location stored before the restart is where the moment looks."""
    from geotrigger.rules.model import WeatherTrigger
    from geotrigger.weather import (
        WeatherChangeKind,
        WeatherCondition,
        WeatherReading,
        WeatherTimeline,
    )

    timeline = WeatherTimeline(cell_m=5000.0)
    for minutes, condition in ((0, "cloudy"), (10, "rain")):
        reading = WeatherReading(
            observed_at=T0 + timedelta(minutes=minutes), condition=WeatherCondition(condition)
        )
        timeline.add("p-1", reading)
    rain = RuleSet(
        rules=(
            make_rule(
                id="umbrella",
                trigger=WeatherTrigger(
                    places=TEA, change=WeatherChangeKind.STARTS, condition="wet", within_m=200
                ),
                suppression=Suppression(reentry=Reentry.ANY),
            ),
        )
    )
    consumers = ConsumerDirectory(
        [
            make_consumer(id="c-1", devices=frozenset({"d-1"})),
            make_consumer(id="c-2", devices=frozenset({"d-2"})),
        ]
    )

    def durable() -> MomentEngine:
        engine = connect(database_url)
        return MomentEngine(
            [make_place()],
            rain,
            consumers=consumers,
            weather=timeline,
            history=DatabaseHistory(engine),
            store=DatabaseStateStore(engine),
        )

    def ping(device: str, north_m: float, minutes: float) -> Ping:
        return Ping(
            device_id=device,
            id=f"{device}-{minutes}",
            lat=LAT + north_m * M,
            lon=LON,
            timestamp=T0 + timedelta(minutes=minutes),
            accuracy_m=5.0,
        )

    migrations.upgrade(database_url)
    durable().process([ping("d-1", 150.0, 5)])  # near the shop; then the process stops
    after = durable().process([ping("d-2", 5000.0, 11)])  # a new process; someone far away
    fired = [d for d in after if isinstance(d, Decision) and d.outcome is Outcome.FIRED]
    assert [(d.consumer_id, d.trigger) for d in fired] == [("c-1", TriggerKind.WEATHER)]
