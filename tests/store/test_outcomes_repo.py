"""Outcomes in the database: reported for fired moments (treated) and for the would-be moments
of a holdout group (holdout), once per kind, refused for unknown moments and bad input, and
erased with their consumer. On SQLite and on real PostGIS, into which the shipped examples are
replayed once per module with a rule that holds half of its consumers out; every test works on
its own copy of that database."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from geotrigger.config import Settings
from geotrigger.consumers import load_consumers
from geotrigger.engine.replay import replay
from geotrigger.errors import InputError, NotFoundError
from geotrigger.moments.decision import Decision, Outcome, moment_id
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.moments.report_arithmetic import Cohort, OutcomeKind
from geotrigger.pings import read_numbered
from geotrigger.places import load_places_strict
from geotrigger.rules.loading import load_rules_texts
from geotrigger.store import migrations
from geotrigger.store.consumers import erase_consumer
from geotrigger.store.database import connect
from geotrigger.store.durable import Durable
from geotrigger.store.outcomes import MAX_DATA_BYTES, find_outcome_moment, record_outcome
from geotrigger.store.tables import outcomes
from geotrigger.weather.files import load_weather_timeline
from tests.store.conftest import _fresh_postgres

ROOT = Path(__file__).resolve().parents[2]
HOLDOUT_RULE_ID = "any-enter-holdout"
# Beside the shipped moments: a welcome on entering a café, restaurant, shop or pub that
# holds half of its consumers out (of the example consumers, the shopper and the walker).
HOLDOUT_RULES = f"""\
version: 1
moments:
  - id: {HOLDOUT_RULE_ID}
    priority: 90
    trigger: {{on: enter, places: {{tags: [cafe, restaurant, clothes, pub, coffee_shop]}}}}
    relevance:
      offer_tags: [coffee, cafe, tea, clothes, umbrella, rain-gear, sports]
      min_relevance: 0
    suppression: {{holdout: 0.5}}
    ttl: 10m
    action:
      channel: push
      message: "Welcome to {{place.name}}."
"""
PING_FILES = ("helsinki-morning.jsonl", "helsinki-afternoon.jsonl")


@dataclass(frozen=True, slots=True)
class Replayed:
    """A database the examples were replayed into, and the decisions the replay made."""

    url: str
    decisions: tuple[Decision, ...]

    def fired(self, rule_id: str = HOLDOUT_RULE_ID) -> list[Decision]:
        return [d for d in self.decisions if d.rule_id == rule_id and d.moment is not None]

    def held_out(self, rule_id: str = HOLDOUT_RULE_ID) -> list[Decision]:
        return [d for d in self.decisions if d.rule_id == rule_id and d.gate == "holdout"]


def would_be_id(decision: Decision) -> str:
    """The id of the moment a holdout (or monitor) decision would have fired."""
    return moment_id(decision.rule_id, decision.consumer_id, decision.place_id, decision.event_key)


def replay_examples(url: str) -> tuple[Decision, ...]:
    """The shipped places, moments (with the holdout rule), consumers, weather and the morning
    and afternoon pings, replayed into ``url``; the decisions made."""
    settings = Settings()
    places = list(load_places_strict([ROOT / "rules" / "places"]).places)
    by_id = {p.id: p for p in places}
    shipped = sorted((ROOT / "rules" / "moments").glob("*.yaml"))
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in shipped]
    loaded = load_rules_texts([*texts, ("holdout.yaml", HOLDOUT_RULES)], places=by_id)
    assert loaded.rule_set is not None, loaded.findings
    weather = load_weather_timeline(
        ROOT / "examples" / "weather" / "helsinki-2026-06-12.jsonl",
        cell_m=settings.weather.cell_m,
        places=by_id,
    )
    durable = Durable(url, settings)
    decided: list[Decision] = []

    def sink(items: list[object]) -> None:
        found = [d for d in items if type(d) is Decision]
        decided.extend(found)
        durable.archive_decisions(found)

    try:
        engine = MomentEngine(
            places,
            loaded.rule_set,
            consumers=load_consumers([ROOT / "examples" / "consumers"]),
            weather=weather,
            settings=settings,
            history=durable.history,
            shadows=durable.shadow,
            store=durable.state,
        )
        for name in PING_FILES:
            replay(engine, read_numbered(ROOT / "examples" / "pings" / name), sink=sink)
            sink(list(engine.finish()))
    finally:
        durable.close()
    return tuple(decided)


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def replayed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replayed]:
    """The examples replayed once into a database of each kind (the template of ``copied``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('replayed') / 'template.sqlite3'}"
        migrations.upgrade(url)
        yield Replayed(url, replay_examples(url))
        return
    for url in _fresh_postgres():
        migrations.upgrade(url)
        yield Replayed(url, replay_examples(url))


@pytest.fixture
def copied(replayed: Replayed, tmp_path: Path) -> Iterator[tuple[Replayed, Engine]]:
    """A copy of the replayed database for one test, connected."""
    url = make_url(replayed.url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        copy = tmp_path / "copy.sqlite3"
        shutil.copyfile(url.database, copy)
        engine = connect(f"sqlite:///{copy}")
        yield Replayed(f"sqlite:///{copy}", replayed.decisions), engine
        engine.dispose()
        return
    name = f"{url.database}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    copy_url = url.set(database=name).render_as_string(hide_password=False)
    engine = connect(copy_url)
    try:
        yield Replayed(copy_url, replayed.decisions), engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _after(decision: Decision, minutes: float) -> dt.datetime:
    return decision.at + dt.timedelta(minutes=minutes)


def test_the_replay_has_treated_and_holdout_moments(copied: tuple[Replayed, Engine]) -> None:
    replayed, _ = copied
    fired, held_out = replayed.fired(), replayed.held_out()
    assert len(fired) >= 2 and len(held_out) >= 2
    assert {d.consumer_id for d in fired}.isdisjoint({d.consumer_id for d in held_out})
    assert all(d.would_fire and d.moment is None for d in held_out)


def test_an_outcome_of_a_fired_moment_is_of_the_treated_group(
    copied: tuple[Replayed, Engine],
) -> None:
    replayed, engine = copied
    fired = replayed.fired()[0]
    assert fired.moment is not None
    with engine.begin() as conn:
        got = record_outcome(
            conn,
            moment_id=fired.moment.id,
            kind="converted",
            at=_after(fired, 30),
            data={"value": 12.5, "currency": "EUR", "order_id": "o-1"},
            now=_after(fired, 60),
        )
    assert got.new and got.cohort is Cohort.TREATED and got.kind is OutcomeKind.CONVERTED
    assert (got.rule_id, got.consumer_id) == (fired.rule_id, fired.consumer_id)
    assert got.at == _after(fired, 30) and got.received_at == _after(fired, 60)
    assert got.data == {"value": 12.5, "currency": "EUR", "order_id": "o-1"}
    with engine.connect() as conn:
        stored = conn.execute(select(outcomes)).mappings().one()
    assert stored["moment_id"] == fired.moment.id and stored["cohort"] == "treated"


def test_an_outcome_of_a_holdout_would_be_moment_is_of_the_holdout_group(
    copied: tuple[Replayed, Engine],
) -> None:
    replayed, engine = copied
    held = replayed.held_out()[0]
    with engine.begin() as conn:
        found = find_outcome_moment(conn, moment_id=would_be_id(held))
        got = record_outcome(
            conn,
            moment_id=would_be_id(held),
            kind=OutcomeKind.CONVERTED,
            at=_after(held, 45),
            data={"value": 20},
            now=_after(held, 46),
        )
    assert found is not None and found.at == held.at and found.cohort is Cohort.HOLDOUT
    assert got.new and got.cohort is Cohort.HOLDOUT
    assert (got.rule_id, got.consumer_id) == (HOLDOUT_RULE_ID, held.consumer_id)


def test_the_same_outcome_again_keeps_the_first(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    held = replayed.held_out()[0]
    first_data = {"order_id": "o-7"}
    with engine.begin() as conn:
        first = record_outcome(
            conn,
            moment_id=would_be_id(held),
            kind="converted",
            at=_after(held, 10),
            data=first_data,
            now=_after(held, 11),
        )
    with engine.begin() as conn:
        again = record_outcome(
            conn,
            moment_id=would_be_id(held),
            kind="converted",
            at=_after(held, 20),
            data={"order_id": "o-8"},
            now=_after(held, 21),
        )
        other_kind = record_outcome(
            conn,
            moment_id=would_be_id(held),
            kind="opened",
            at=_after(held, 5),
            data=None,
            now=_after(held, 21),
        )
    assert first.new and not again.new and other_kind.new
    assert again.id == first.id and again.at == first.at and again.data == first_data
    assert again.received_at == _after(held, 11)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outcomes)).scalar_one() == 2


def test_an_unknown_moment_is_not_found(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    fired = replayed.fired()[0]
    # the café watch is a monitor rule: its would-be moments were never meant for anyone
    monitored = next(d for d in replayed.decisions if d.gate == "monitor")
    unknown = ["0" * 32, would_be_id(monitored), "f" * 33, ""]
    for wanted in unknown:
        with engine.begin() as conn, pytest.raises(NotFoundError) as caught:
            record_outcome(
                conn,
                moment_id=wanted,
                kind="delivered",
                at=_after(fired, 1),
                data={},
                now=_after(fired, 2),
            )
        assert caught.value.http_status == 404
        assert str(caught.value) == f"moment {wanted!r} not found"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outcomes)).scalar_one() == 0


MINUTE = dt.timedelta(minutes=1)
# What is changed from a good report (kind opened, five minutes after the moment, no data),
# given the moment's time and now, and what the refusal says.
BAD = {
    "kind": (
        lambda at, now: {"kind": "clicked"},
        "outcome kind 'clicked' is not one of delivered, opened, converted",
    ),
    "future": (
        lambda at, now: {"at": now + 6 * MINUTE},
        "is 360 s after now (at most 300 s ahead is accepted)",
    ),
    "before the moment": (lambda at, now: {"at": at - 10 * MINUTE}, "is before its moment's time"),
    "no offset": (
        lambda at, now: {"at": (at + MINUTE).replace(tzinfo=None)},
        "must be a time with a UTC offset",
    ),
    "a list": (
        lambda at, now: {"data": ["value", 3]},
        "outcome data must be a JSON object with text keys, not list",
    ),
    "number keys": (lambda at, now: {"data": {1: "one"}}, "must be a JSON object with text keys"),
    "not JSON": (lambda at, now: {"data": {"items": {1, 2}}}, "outcome data is not JSON"),
    "too big": (
        lambda at, now: {"data": {"note": "x" * MAX_DATA_BYTES}},
        f"(at most {MAX_DATA_BYTES})",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_outcomes_are_refused_with_the_reason(
    copied: tuple[Replayed, Engine], case: str
) -> None:
    replayed, engine = copied
    fired = replayed.fired()[0]
    assert fired.moment is not None
    now = _after(fired, 60)
    change, message = BAD[case]
    report = {"kind": "opened", "at": _after(fired, 5), "data": {}} | change(fired.at, now)
    with engine.begin() as conn, pytest.raises(InputError) as caught:
        record_outcome(conn, moment_id=fired.moment.id, now=now, **report)
    assert message in str(caught.value)
    assert caught.value.http_status == 400
    assert fired.moment.id in str(caught.value)  # the message names the moment
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outcomes)).scalar_one() == 0


def test_a_little_clock_skew_is_accepted(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    fired = replayed.fired()[0]
    assert fired.moment is not None
    now = _after(fired, 60)
    with engine.begin() as conn:
        got = record_outcome(
            conn,
            moment_id=fired.moment.id,
            kind="delivered",
            at=now + dt.timedelta(minutes=4),
            data={},
            now=now,
        )
    assert got.new and got.at == now + dt.timedelta(minutes=4)


def test_erasure_removes_the_consumers_outcomes_only(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    fired, held = replayed.fired()[0], replayed.held_out()[0]
    assert fired.moment is not None
    reported = [(fired.moment.id, fired), (would_be_id(held), held)]
    with engine.begin() as conn:
        for moment, decision in reported:
            for kind in ("delivered", "converted"):
                record_outcome(
                    conn,
                    moment_id=moment,
                    kind=kind,
                    at=_after(decision, 5),
                    data={},
                    now=_after(decision, 6),
                )
    with engine.begin() as conn:
        erased = erase_consumer(conn, consumer_id=held.consumer_id)
    assert erased["outcomes"] == 2
    with engine.connect() as conn:
        left = conn.execute(select(outcomes.c.consumer_id, outcomes.c.kind)).all()
        assert find_outcome_moment(conn, moment_id=would_be_id(held)) is None  # gone too
    assert sorted(left) == [(fired.consumer_id, "converted"), (fired.consumer_id, "delivered")]


def test_the_replayed_decisions_are_in_the_database(copied: tuple[Replayed, Engine]) -> None:
    replayed, engine = copied
    with engine.connect() as conn:
        stored = conn.execute(text("select count(*) from decisions")).scalar_one()
    assert stored == len(replayed.decisions)
    assert any(d.outcome is Outcome.NOT_MATCHED for d in replayed.decisions)
