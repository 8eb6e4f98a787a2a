"""The deliveries repository on SQLite and PostGIS: rows per moment and matching destination
(created once), claims that move a lease ahead, outcomes recorded only while the claim holds,
the outbox row made final with the last delivery, and erasure taking deliveries along."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from geotrigger.consumers.profile import Consumer
from geotrigger.delivery.destinations import Destination
from geotrigger.store.consumers import erase_consumer, save_consumer
from geotrigger.store.deliveries import (
    DEAD,
    PENDING,
    SENT,
    Outcome,
    claim_due,
    create_deliveries,
    load_deliveries,
    queue_pending,
    record_outcome,
)
from geotrigger.store.tables import deliveries, outbox
from tests.delivery.receiver import SECRET, T0, fired

CRM = Destination(name="crm", url="https://crm.example/in", secret=SECRET)
PUSH = Destination(
    name="push", url="https://push.example/in", secret=SECRET, channels=frozenset({"push"})
)
SMS = Destination(
    name="sms", url="https://sms.example/in", secret=SECRET, channels=frozenset({"sms"})
)


def _outbox(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.moment_id, outbox.c.status, outbox.c.last_error))
        return {moment_id: (status, error) for moment_id, status, error in rows}


def test_deliveries_are_created_once_per_moment_and_matching_destination(engine: Engine) -> None:
    moment = fired(engine, channel="push")
    with engine.begin() as conn:
        made = create_deliveries(
            conn, moment_id=moment.id, channel="push", destinations=[CRM, PUSH, SMS], now=T0
        )
        again = create_deliveries(
            conn, moment_id=moment.id, channel="push", destinations=[CRM, PUSH, SMS], now=T0
        )
    assert (made, again) == (2, 0)
    assert queue_pending(engine, [CRM, PUSH, SMS], now=T0).created == 0  # it has its rows
    with engine.connect() as conn:
        rows = load_deliveries(conn, moment_id=moment.id)
    assert [(r.destination, r.status, r.attempts) for r in rows] == [
        ("crm", PENDING, 0),
        ("push", PENDING, 0),
    ]
    assert rows[0].next_attempt_at == T0


def test_queueing_routes_by_channel_and_settles_moments_no_destination_takes(
    engine: Engine,
) -> None:
    push = fired(engine, channel="push", event="e-1")
    sms = fired(engine, channel="sms", event="e-2")
    email = fired(engine, channel="email", event="e-3")
    queued = queue_pending(engine, [PUSH, SMS], now=T0)
    assert (queued.created, queued.unrouted) == (2, 1)
    assert queue_pending(engine, [PUSH, SMS], now=T0).created == 0  # idempotent
    with engine.connect() as conn:
        routed = {(r.moment_id, r.destination) for r in load_deliveries(conn)}
    assert routed == {(push.id, "push"), (sms.id, "sms")}
    box = _outbox(engine)
    assert box[email.id] == (SENT, "no webhook destination takes channel 'email'")
    assert box[push.id][0] == box[sms.id][0] == PENDING


def test_a_claim_leases_the_row_and_a_stale_claim_changes_nothing(engine: Engine) -> None:
    moment = fired(engine)
    queue_pending(engine, [CRM], now=T0)
    (first,) = claim_due(engine, now=T0, lease_s=60, limit=10)
    assert first.moment == moment and first.attempts == 0 and first.destination == "crm"
    assert claim_due(engine, now=T0 + timedelta(seconds=59), lease_s=60, limit=10) == []
    # the first worker died: the row comes back when its lease runs out
    (second,) = claim_due(engine, now=T0 + timedelta(seconds=60), lease_s=60, limit=10)
    late = Outcome(status=SENT, attempted=True, at=T0 + timedelta(seconds=61), http_status=200)
    assert not record_outcome(engine, first, late)
    assert record_outcome(engine, second, late)
    with engine.connect() as conn:
        (row,) = load_deliveries(conn)
    assert (row.status, row.attempts, row.last_status) == (SENT, 1, 200)
    assert row.sent_at == T0 + timedelta(seconds=61)
    assert _outbox(engine)[moment.id] == (SENT, None)


def test_claims_take_only_due_rows_of_the_given_destinations(engine: Engine) -> None:
    for n in range(5):
        fired(engine, event=f"e-{n}", at=T0 + timedelta(seconds=n))
    queue_pending(engine, [CRM, PUSH], now=T0)
    assert claim_due(engine, now=T0 - timedelta(seconds=1), lease_s=60, limit=100) == []
    claims = claim_due(engine, now=T0, lease_s=60, limit=3, destinations=["push"])
    assert len(claims) == 3 and {c.destination for c in claims} == {"push"}
    rest = claim_due(engine, now=T0, lease_s=60, limit=100)
    assert len(rest) == 7
    assert not {c.delivery_id for c in claims} & {c.delivery_id for c in rest}


def test_a_retry_counts_the_attempt_and_the_outbox_waits_for_every_delivery(
    engine: Engine,
) -> None:
    moment = fired(engine)
    queue_pending(engine, [CRM, PUSH], now=T0)
    crm, push = sorted(claim_due(engine, now=T0, lease_s=60, limit=10), key=lambda c: c.destination)
    retry_at = T0 + timedelta(seconds=30)
    retry = Outcome(
        status=PENDING,
        attempted=True,
        at=T0,
        next_attempt_at=retry_at,
        http_status=503,
        error="HTTP 503",
    )
    assert record_outcome(engine, crm, retry)
    dead = Outcome(status=DEAD, attempted=True, at=T0, http_status=410, error="refused: HTTP 410")
    assert record_outcome(engine, push, dead)
    assert _outbox(engine)[moment.id][0] == PENDING  # crm is still to come
    (again,) = claim_due(engine, now=retry_at, lease_s=60, limit=10)
    assert again.attempts == 1
    sent = Outcome(status=SENT, attempted=True, at=retry_at, http_status=204)
    assert record_outcome(engine, again, sent)
    with engine.connect() as conn:
        rows = {r.destination: r for r in load_deliveries(conn)}
    assert (rows["crm"].status, rows["crm"].attempts) == (SENT, 2)
    assert (rows["push"].status, rows["push"].last_error) == (DEAD, "refused: HTTP 410")
    assert _outbox(engine)[moment.id] == (DEAD, "deliveries dead")


def test_erasing_a_consumer_deletes_their_deliveries(engine: Engine) -> None:
    with engine.begin() as conn:
        for consumer in ("consumer-001", "consumer-002"):
            save_consumer(conn, consumer=Consumer(id=consumer), now=T0)
    gone = fired(engine, consumer="consumer-001")
    kept = fired(engine, consumer="consumer-002")
    queue_pending(engine, [CRM, PUSH], now=T0)
    with engine.begin() as conn:
        erased = erase_consumer(conn, consumer_id="consumer-001")
    assert erased["moments"] == 1
    with engine.connect() as conn:
        left = conn.execute(select(deliveries.c.moment_id, func.count()).group_by("moment_id"))
        assert dict(left.all()) == {kept.id: 2}
        assert load_deliveries(conn, moment_id=gone.id) == []
