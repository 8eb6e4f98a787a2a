"""A running engine follows place changes in the database (SQLite and PostGIS): the change
log, the feed that reads it, and the sync that applies it to the index, the rule book and the
visits inside a removed place."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import timedelta

from moments.helpers import T0, make_consumer, make_place, make_rule
from sqlalchemy import Engine, select

from geotrigger.consumers import ConsumerDirectory
from geotrigger.engine import PLACE_REMOVED
from geotrigger.jobs.place_sync import Following, PlaceSync
from geotrigger.model import Circle, Ping, Transition, TransitionKind
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.rules.model import PlaceSelector, PlaceTrigger, Policy, RuleSet, TriggerKind
from geotrigger.store.place_feed import PlaceFeed, prune_place_changes
from geotrigger.store.places import apply_places, delete_place, load_places, save_place
from geotrigger.store.tables import place_changes

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
M = 1 / 111_195  # degrees of latitude per metre
TEA = make_place()  # p-1, tagged "tea", 50 m radius
SHOP = make_place(
    id="p-2",
    name="Bakery",
    geometry=Circle(lat=60.1750, lon=24.9384, radius_m=50.0),
    tags=frozenset(),
)


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _apply(engine: Engine, *places: object, now: dt.datetime = NOW) -> None:
    with engine.begin() as conn:
        apply_places(conn, places=places, now=now)  # type: ignore[arg-type]


def test_the_feed_names_what_was_written_and_what_is_gone(engine: Engine) -> None:
    feed = PlaceFeed(engine)
    assert feed.position() == 0
    assert feed.since(0).is_empty
    _apply(engine, TEA, SHOP)
    first = feed.since(0)
    assert sorted(p.id for p in first.upserted) == ["p-1", "p-2"] and not first.complete
    moved = dataclasses.replace(TEA, name="Tea house")
    _apply(engine, moved)  # p-2 is not given: it is removed
    second = feed.since(first.position)
    assert [p.name for p in second.upserted] == ["Tea house"]
    assert second.removed == ("p-2",)
    assert feed.since(second.position).is_empty
    with engine.begin() as conn:
        save_place(conn, place=SHOP, now=NOW)
        assert delete_place(conn, place_id="p-1")
    third = feed.since(second.position)
    assert [p.id for p in third.upserted] == ["p-2"] and third.removed == ("p-1",)


def test_an_unchanged_apply_logs_nothing(engine: Engine) -> None:
    _apply(engine, TEA)
    feed = PlaceFeed(engine)
    position = feed.position()
    _apply(engine, TEA)
    assert feed.position() == position


def test_a_position_the_pruned_log_no_longer_reaches_gets_every_place(engine: Engine) -> None:
    _apply(engine, TEA)
    _apply(engine, TEA, SHOP, now=NOW + timedelta(days=1))
    _apply(engine, dataclasses.replace(SHOP, name="Bakery 2"), now=NOW + timedelta(days=2))
    feed = PlaceFeed(engine)
    with engine.begin() as conn:
        # four changes (p-1; p-2; p-2 renamed and p-1 removed): all but the newest go
        assert prune_place_changes(conn, before=NOW + timedelta(days=3)) == 3
        kept = conn.execute(select(place_changes.c.seq)).scalars().all()
    assert kept == [feed.position()]
    answer = feed.since(1)
    assert answer.complete and [p.name for p in answer.upserted] == ["Bakery 2"]
    assert feed.since(feed.position()).is_empty  # a reader that is up to date stays so


def test_a_reader_ahead_of_the_log_gets_every_place(engine: Engine) -> None:
    _apply(engine, TEA)
    answer = PlaceFeed(engine).since(10_000)  # another database, or a log made again
    assert answer.complete and [p.id for p in answer.upserted] == ["p-1"]


def _ping(n: int, lat: float, seconds: float) -> Ping:
    return Ping(
        device_id="d-1",
        id=f"d-1-{n}",
        lat=lat,
        lon=24.9384,
        timestamp=T0 + timedelta(seconds=seconds),
        accuracy_m=5.0,
        speed_mps=0.5,
    )


def _walk_into(lat: float, start_s: float, first: int) -> list[Ping]:
    steps = [200.0, 120.0, 60.0, 0.0, 0.0, 0.0]
    return [_ping(first + i, lat + d * M, start_s + 30 * i) for i, d in enumerate(steps)]


def _moment_engine(engine: Engine) -> tuple[MomentEngine, PlaceSync, Clock]:
    feed = PlaceFeed(engine)
    position = feed.position()
    with engine.connect() as conn:
        places = load_places(conn)
    enter_tea = make_rule(
        trigger=PlaceTrigger(kind=TriggerKind.ENTER, places=PlaceSelector(tags=frozenset({"tea"})))
    )
    moments = MomentEngine(
        places,
        RuleSet(rules=(enter_tea,), policy=Policy()),
        consumers=ConsumerDirectory([make_consumer(devices=frozenset({"d-1"}))]),
    )
    clock = Clock()
    return moments, PlaceSync(feed, moments, position=position, every_s=5.0, clock=clock), clock


def _entered(out: list[object]) -> list[str]:
    return [e.place_id for e in out if isinstance(e, Transition) and e.kind is TransitionKind.ENTER]


def test_a_place_added_while_running_is_entered_and_its_rules_fire(engine: Engine) -> None:
    _apply(engine, SHOP)
    moments, sync, clock = _moment_engine(engine)
    tagged = dataclasses.replace(SHOP, tags=frozenset({"tea"}))  # now chosen by the rule
    _apply(engine, tagged, TEA)
    assert sync.poll(T0) is None  # not time yet
    clock.now = 5.0
    synced = sync.poll(T0)
    assert synced is not None and synced.upserted == 2 and synced.removed == 0
    out = moments.process(_walk_into(60.1750, 0.0, 0))
    assert _entered(out) == ["p-2"]
    fired = [d for d in out if isinstance(d, Decision) and d.outcome is Outcome.FIRED]
    assert [d.place_id for d in fired] == ["p-2"]


def test_a_place_removed_while_running_closes_the_visits_inside(engine: Engine) -> None:
    _apply(engine, TEA)
    moments, sync, _clock = _moment_engine(engine)
    assert _entered(moments.process(_walk_into(60.1699, 0.0, 0))) == ["p-1"]
    _apply(engine, SHOP)  # TEA is not given: removed
    at = T0 + timedelta(minutes=10)
    synced = sync.poll(at, force=True)
    assert synced is not None and synced.removed == 1
    [closed] = synced.exits
    assert closed.place_id == "p-1" and closed.reason == PLACE_REMOVED and closed.at == at
    later = [_ping(10 + i, 60.1699, 900 + 30 * i) for i in range(4)]
    assert _entered(moments.process(later)) == []  # the place is gone: no new visit
    assert (
        "p-1" not in moments.place_ids()
        and moments.book.for_transition(TriggerKind.ENTER, "p-1") == ()
    )


def test_a_replay_follows_changes_between_batches(engine: Engine) -> None:
    _apply(engine, SHOP)
    moments, sync, clock = _moment_engine(engine)
    following = Following(moments, sync)
    out = following.process(_walk_into(60.1699, 0.0, 0))  # TEA is not there yet
    assert _entered(out) == []
    _apply(engine, SHOP, TEA)
    clock.now = 10.0
    out = following.process(_walk_into(60.1699, 600.0, 10))
    assert _entered(out) == ["p-1"]
    assert following.accepted == moments.accepted


def test_a_sync_the_log_no_longer_reaches_compares_every_place(engine: Engine) -> None:
    _apply(engine, TEA, SHOP)
    moments, sync, _clock = _moment_engine(engine)
    assert _entered(moments.process(_walk_into(60.1750, 0.0, 0))) == ["p-2"]
    _apply(engine, dataclasses.replace(TEA, name="Tea house"), now=NOW + timedelta(days=1))
    _apply(engine, dataclasses.replace(TEA, name="Tea house"), now=NOW + timedelta(days=2))
    with engine.begin() as conn:
        prune_place_changes(conn, before=NOW + timedelta(days=3))
    synced = sync.poll(T0 + timedelta(minutes=10), force=True)
    assert synced is not None and synced.complete
    # only what differs is applied: the renamed tea shop in, the bakery (and its visit) out
    assert synced.upserted == 1 and synced.removed == 1
    assert [e.place_id for e in synced.exits] == ["p-2"]
    assert moments.place("p-1") is not None and moments.place("p-1").name == "Tea house"  # type: ignore[union-attr]
