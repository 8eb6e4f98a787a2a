"""Consumers in the database: every field back as saved, devices replaced, consent withdrawn
at once, and erasure that leaves nothing of one consumer and everything of the others. On
SQLite and on real PostGIS."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Connection, Engine, func, select

from geotrigger.consumers import LOCATION_MARKETING, Affinities, Consumer, Daypart
from geotrigger.errors import ConsumerError
from geotrigger.store.consumers import (
    erase_consumer,
    load_consumer,
    load_consumers,
    save_consumer,
    set_consent,
)
from geotrigger.store.tables import (
    cap_ledger,
    consumer_devices,
    consumers,
    decisions,
    device_state,
    exits,
    moments,
    outbox,
    raw_pings,
    would_be_ledger,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)

ANNA = Consumer(
    id="anna",
    traits={"tier": "gold", "age": 34, "score": 0.75, "vip": True},
    segments=frozenset({"commuter", "tea-lover"}),
    consent={LOCATION_MARKETING: True, "analytics": False},
    timezone="Europe/Helsinki",
    affinities=Affinities(
        base={"coffee": 0.5, "green-tea": -0.25},
        by_daypart={
            Daypart.AFTERNOON: {"coffee": -0.6, "green-tea": 0.9},
            Daypart.MORNING: {"pastry": 1.0},
        },
    ),
    devices=frozenset({"dev-anna-1", "dev-anna-2"}),
)
BORIS = Consumer(id="boris", consent={LOCATION_MARKETING: True}, devices=frozenset({"dev-b"}))


@pytest.mark.parametrize(
    "consumer",
    [
        ANNA,  # every field, affinities by daypart, two devices
        Consumer(id="bare"),  # nothing but the id
    ],
)
def test_round_trip(engine: Engine, consumer: Consumer) -> None:
    with engine.begin() as conn:
        save_consumer(conn, consumer=consumer, now=NOW)
    with engine.connect() as conn:
        loaded = load_consumer(conn, consumer_id=consumer.id)
    assert loaded == consumer
    assert loaded is not None
    assert loaded.affinities.weight("coffee", Daypart.AFTERNOON) == consumer.affinities.weight(
        "coffee", Daypart.AFTERNOON
    )
    assert type(loaded.traits.get("age", 0)) is int  # a whole number stays one


def test_unknown_consumer_is_none(engine: Engine) -> None:
    with engine.connect() as conn:
        assert load_consumer(conn, consumer_id="nobody") is None


def test_saving_again_replaces_the_profile_and_the_devices(engine: Engine) -> None:
    changed = Consumer(id="anna", segments=frozenset({"runner"}), devices=frozenset({"dev-anna-3"}))
    with engine.begin() as conn:
        save_consumer(conn, consumer=ANNA, now=NOW)
        save_consumer(conn, consumer=changed, now=NOW)
    with engine.connect() as conn:
        assert load_consumer(conn, consumer_id="anna") == changed
        devices = conn.execute(select(consumer_devices.c.device_id)).scalars().all()
    assert devices == ["dev-anna-3"]


def test_a_device_of_another_consumer_is_refused(engine: Engine) -> None:
    thief = Consumer(id="thief", devices=frozenset({"dev-b", "dev-t"}))
    with engine.begin() as conn:
        save_consumer(conn, consumer=BORIS, now=NOW)
    with engine.begin() as conn, pytest.raises(ConsumerError) as caught:
        save_consumer(conn, consumer=thief, now=NOW)
    assert "already belongs to consumer 'boris'" in str(caught.value)
    assert "dev-b" not in str(caught.value)  # device ids are never quoted


def test_load_consumers_is_a_directory_by_id_and_device(engine: Engine) -> None:
    with engine.begin() as conn:
        save_consumer(conn, consumer=ANNA, now=NOW)
        save_consumer(conn, consumer=BORIS, now=NOW)
    with engine.connect() as conn:
        directory = load_consumers(conn)
    assert len(directory) == 2
    assert directory.get("anna") == ANNA
    assert directory.for_device("dev-anna-2") == ANNA
    assert directory.for_device("dev-b") == BORIS


def test_withdrawn_consent_is_effective_at_once(engine: Engine) -> None:
    with engine.begin() as conn:
        save_consumer(conn, consumer=ANNA, now=NOW)
    with engine.begin() as conn:
        assert set_consent(
            conn, consumer_id="anna", purpose=LOCATION_MARKETING, given=False, now=NOW
        )
    with engine.connect() as conn:
        loaded = load_consumer(conn, consumer_id="anna")
    assert loaded is not None
    assert not loaded.consents_to(LOCATION_MARKETING)
    assert dict(loaded.consent) == {LOCATION_MARKETING: False, "analytics": False}
    assert loaded.affinities == ANNA.affinities  # the rest of the profile is untouched
    with engine.begin() as conn:
        assert set_consent(conn, consumer_id="anna", purpose="analytics", given=True, now=NOW)
        again = load_consumer(conn, consumer_id="anna")
    assert again is not None and again.consents_to("analytics")


def test_consent_of_an_unknown_consumer_is_false(engine: Engine) -> None:
    with engine.begin() as conn:
        assert not set_consent(
            conn, consumer_id="nobody", purpose=LOCATION_MARKETING, given=False, now=NOW
        )


def test_a_bad_stored_profile_is_a_named_error(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            consumers.insert().values(
                id="broken",
                profile={"affinities": {"base": {"coffee": 7}}},
                consent={},
                updated_at=NOW,
            )
        )
    with engine.connect() as conn, pytest.raises(ConsumerError, match=r"'broken'.*coffee"):
        load_consumer(conn, consumer_id="broken")


def _history(conn: Connection, consumer: Consumer, device: str, n: int) -> None:
    """What the engine stores about a consumer, written directly: ``n`` rows per table."""
    for i in range(n):
        moment_id = f"{consumer.id}-m{i}"
        conn.execute(
            moments.insert().values(
                id=moment_id,
                rule_id="coffee",
                consumer_id=consumer.id,
                place_id="cafe-1",
                trigger="dwell",
                at=NOW,
                expires_at=NOW + dt.timedelta(minutes=10),
                channel="push",
                message="hello",
                priority=1,
                relevance=0.5,
                data={},
                created_at=NOW,
            )
        )
        for key in (f"consumer|{consumer.id}", "rule|coffee"):
            conn.execute(cap_ledger.insert().values(key=key, at_s=1000.0 + i, moment_id=moment_id))
        conn.execute(
            outbox.insert().values(
                moment_id=moment_id,
                status="pending",
                attempts=0,
                next_attempt_at=NOW,
                updated_at=NOW,
            )
        )
        conn.execute(
            decisions.insert().values(
                consumer_id=consumer.id,
                rule_id="coffee",
                place_id="cafe-1",
                at=NOW,
                outcome="fired",
                moment_id=moment_id,
                record={},
                created_at=NOW,
            )
        )
        conn.execute(
            exits.insert().values(consumer_id=consumer.id, place_id="cafe-1", at_s=900.0 + i)
        )
        conn.execute(raw_pings.insert().values(device_id=device, received_at=NOW, payload={"i": i}))
        conn.execute(  # what a monitor rule would have fired for the consumer
            would_be_ledger.insert().values(
                rule_id="watch",
                consumer_id=consumer.id,
                key=f"consumer|{consumer.id}",
                at_s=1000.0 + i,
                moment_id=f"would-{moment_id}",
            )
        )
    conn.execute(
        device_state.insert().values(
            device_id=device, visits={}, pending={}, recent_ids=[], updated_at=NOW
        )
    )


TABLES = (cap_ledger, outbox, moments, decisions, exits, device_state, raw_pings, would_be_ledger)


def _counts(conn: Connection) -> dict[str, int]:
    tables = (*TABLES, consumers, consumer_devices)
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def test_erasure_deletes_everything_about_one_consumer_only(engine: Engine) -> None:
    with engine.begin() as conn:
        save_consumer(conn, consumer=ANNA, now=NOW)
        save_consumer(conn, consumer=BORIS, now=NOW)
        _history(conn, ANNA, "dev-anna-1", 2)
        _history(conn, BORIS, "dev-b", 3)
        before = _counts(conn)
    with engine.begin() as conn:
        erased = erase_consumer(conn, consumer_id="anna")
    assert erased == {
        "cap_ledger": 4,  # two keys per moment
        "deliveries": 0,  # none made yet (the relay makes them)
        "outcomes": 0,
        "outbox": 2,
        "moments": 2,
        "decisions": 2,
        "exits": 2,
        "would_be_ledger": 2,
        "device_state": 1,
        "raw_pings": 2,
        "consumer_devices": 2,
        "consumers": 1,
    }
    with engine.connect() as conn:
        after = _counts(conn)
        assert load_consumer(conn, consumer_id="anna") is None
        assert load_consumer(conn, consumer_id="boris") == BORIS
        for table in TABLES:  # nothing of anna's is left in any table
            column = table.c.get("consumer_id")
            if column is not None:
                assert conn.execute(select(table).where(column == "anna")).first() is None
    # boris's rows are all there
    assert after == {name: before[name] - erased[name] for name in before}
    assert after["moments"] == 3 and after["cap_ledger"] == 6 and after["device_state"] == 1


def test_erasure_without_a_profile_still_deletes_what_names_the_consumer(engine: Engine) -> None:
    with engine.begin() as conn:
        _history(conn, ANNA, "dev-anna-1", 1)
    with engine.begin() as conn:
        erased = erase_consumer(conn, consumer_id="anna")
    assert erased["consumers"] == 0 and erased["moments"] == 1 and erased["decisions"] == 1
    assert erased["device_state"] == 0  # no profile: its devices are unknown
