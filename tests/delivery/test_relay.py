"""The relay against a real webhook receiver: signed deliveries the receiver accepts, retries
with backoff on a fake clock, expiry, giving up, routing by channel, and logs that name moments
and statuses only.

Behaviour that does not depend on the database runs on SQLite; the signed delivery runs on
both databases (the concurrency of several relays is in test_relay_workers.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, select

from geotrigger.delivery.destinations import Destination
from geotrigger.delivery.relay import Relay, RelayReport
from geotrigger.delivery.retry import backoff_s, retry_after_s
from geotrigger.errors import ConfigError
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.deliveries import DEAD, EXPIRED, PENDING, SENT, DeliveryRow, load_deliveries
from geotrigger.store.tables import outbox
from tests.delivery.receiver import (
    OTHER_SECRET,
    SECRET,
    T0,
    Answer,
    FakeClock,
    WebhookReceiver,
    destination,
    fired,
)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    migrations.upgrade(url)
    engine = connect(url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(seconds=5))


@pytest.fixture
def receiver(clock: FakeClock) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(clock=clock.epoch) as server:
        yield server


def rows(engine: Engine) -> dict[str, DeliveryRow]:
    """The deliveries by destination (one moment in these tests)."""
    with engine.connect() as conn:
        return {row.destination: row for row in load_deliveries(conn)}


def outbox_status(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.status)).scalars())


def test_a_signed_moment_is_delivered_and_accepted(
    engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route("/crm", SECRET, Answer(status=204))
    moment = fired(engine)
    with Relay(engine, [destination(receiver)], clock=clock) as relay:
        assert relay.run_once() == RelayReport(queued=1, sent=1)
        assert relay.run_once() == RelayReport()  # nothing left
    (got,) = receiver.received("/crm")
    assert got.verified and got.webhook_id == moment.id
    assert got.timestamp == str(int(clock.epoch()))
    assert got.headers["content-type"] == "application/json"
    assert got.document == {
        "type": "moment.fired",
        "id": moment.id,
        "rule_id": "coffee-nearby",
        "consumer_id": "consumer-001",
        "place_id": "cafe-regatta",
        "trigger": "enter",
        "at": "2026-06-12T07:30:00Z",
        "expires_at": "2026-06-12T07:40:00Z",
        "channel": "push",
        "message": "A cinnamon bun is waiting at Regatta",
        "priority": 5,
        "relevance": 0.82,
        "data": {"offer": "bun-2026", "discount_pct": 10},
    }
    row = rows(engine)["crm"]
    assert (row.status, row.attempts, row.last_status, row.sent_at) == (SENT, 1, 204, clock.now)
    assert outbox_status(engine) == [SENT]


def test_server_errors_are_retried_with_backoff_and_retry_after_until_sent(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route(
        "/crm", SECRET, Answer(status=500), Answer(status=503, headers={"Retry-After": "120"})
    )
    fired(sqlite_engine)
    crm = destination(receiver, backoff_s=5, max_backoff_s=600)
    start = clock.now
    with Relay(sqlite_engine, [crm], clock=clock, jitter=lambda: 1.0) as relay:
        assert relay.run_once() == RelayReport(queued=1, retried=1)
        assert rows(sqlite_engine)["crm"].next_attempt_at == start + timedelta(seconds=5)
        assert relay.run_once() == RelayReport()  # not due yet
        clock.advance(5)
        assert relay.run_once() == RelayReport(retried=1)
        # the backoff would be 10 s; the receiver asked for 120
        row = rows(sqlite_engine)["crm"]
        assert (row.status, row.attempts, row.last_status, row.last_error) == (
            PENDING,
            2,
            503,
            "HTTP 503",
        )
        assert row.next_attempt_at == start + timedelta(seconds=125)
        clock.advance(119)
        assert relay.run_once() == RelayReport()
        receiver.route("/crm", SECRET, Answer(status=200))
        clock.advance(1)
        assert relay.run_once() == RelayReport(sent=1)
    got = receiver.received("/crm")
    assert [g.verified for g in got] == [True, True, True]
    assert len({g.webhook_id for g in got}) == 1  # one id across retries: receivers dedupe
    assert [int(g.timestamp or 0) - int(start.timestamp()) for g in got] == [0, 5, 125]
    assert (rows(sqlite_engine)["crm"].status, rows(sqlite_engine)["crm"].attempts) == (SENT, 3)
    assert outbox_status(sqlite_engine) == [SENT]


def test_a_retry_that_would_come_after_the_moment_expires_expires_it_instead(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route("/crm", SECRET, Answer(status=503))
    fired(sqlite_engine, ttl_s=600)  # expires at T0 + 600 s; now is T0 + 5 s
    crm = destination(receiver, backoff_s=60, max_backoff_s=600)
    with Relay(sqlite_engine, [crm], clock=clock, jitter=lambda: 1.0) as relay:
        reports = []
        for wait_s in (0, 60, 120, 240):  # backoff 60, 120, 240, then 480 is past the expiry
            clock.advance(wait_s)
            reports.append(relay.run_once())
        clock.advance(1000)
        assert relay.run_once() == RelayReport()
    assert [r.retried for r in reports] == [1, 1, 1, 0] and reports[-1].expired == 1
    assert len(receiver.received("/crm")) == 4
    row = rows(sqlite_engine)["crm"]
    assert (row.status, row.attempts) == (EXPIRED, 4)
    assert row.last_error == "expires before the next attempt: HTTP 503"
    assert outbox_status(sqlite_engine) == [EXPIRED]


def test_a_moment_that_expires_while_waiting_for_its_retry_is_never_sent_late(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route("/crm", SECRET, Answer(status=502), Answer(status=200))
    moment = fired(sqlite_engine, ttl_s=600)
    with Relay(sqlite_engine, [destination(receiver)], clock=clock, jitter=lambda: 1.0) as relay:
        assert relay.run_once().retried == 1
        clock.now = moment.expires_at  # the relay was down until the moment expired
        assert relay.run_once() == RelayReport(expired=1)
    assert len(receiver.received("/crm")) == 1  # the 200 was never asked for
    row = rows(sqlite_engine)["crm"]
    assert (row.status, row.attempts, row.last_error) == (
        EXPIRED,
        1,
        "expired before it was sent",
    )


def test_a_refusal_is_dead_at_once_and_repeated_failures_after_max_attempts(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route("/crm", SECRET, Answer(status=410))
    receiver.route("/push", OTHER_SECRET, Answer(status=500))
    fired(sqlite_engine, ttl_s=3600)
    crm = destination(receiver)
    push = destination(receiver, "push", OTHER_SECRET, max_attempts=3, backoff_s=1)
    with Relay(sqlite_engine, [crm, push], clock=clock, jitter=lambda: 1.0) as relay:
        assert relay.run_once() == RelayReport(queued=2, retried=1, dead=1)
        clock.advance(1)
        assert relay.run_once() == RelayReport(retried=1)
        clock.advance(2)
        assert relay.run_once() == RelayReport(dead=1)
        clock.advance(3600)
        assert relay.run_once() == RelayReport()
    assert len(receiver.received("/crm")) == 1 and len(receiver.received("/push")) == 3
    found = rows(sqlite_engine)
    assert (found["crm"].status, found["crm"].last_status, found["crm"].last_error) == (
        DEAD,
        410,
        "refused: HTTP 410",
    )
    assert (found["push"].status, found["push"].attempts, found["push"].last_error) == (
        DEAD,
        3,
        "gave up after 3 attempts: HTTP 500",
    )
    assert outbox_status(sqlite_engine) == [DEAD]


def test_429_and_408_are_retried_and_other_4xx_and_redirects_are_not(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    answers = {"a": 429, "b": 408, "c": 400, "d": 302}
    for name, status in answers.items():
        receiver.route(f"/{name}", SECRET, Answer(status=status))
    fired(sqlite_engine)
    targets = [destination(receiver, name) for name in answers]
    with Relay(sqlite_engine, targets, clock=clock) as relay:
        assert relay.run_once() == RelayReport(queued=4, retried=2, dead=2)
    assert {name: row.status for name, row in rows(sqlite_engine).items()} == {
        "a": PENDING,
        "b": PENDING,
        "c": DEAD,
        "d": DEAD,
    }


def test_a_slow_answer_and_a_closed_port_are_retried(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route("/slow", SECRET, Answer(status=200, delay_s=0.5))
    with WebhookReceiver() as closed:
        closed_url = closed.url("/gone")  # the port is free again once it has stopped
    fired(sqlite_engine)
    slow = destination(receiver, "slow", timeout_s=0.2)
    gone = Destination(name="gone", url=closed_url, secret=SECRET, timeout_s=0.2)
    with Relay(sqlite_engine, [slow, gone], clock=clock) as relay:
        assert relay.run_once() == RelayReport(queued=2, retried=2)
    found = rows(sqlite_engine)
    assert (found["slow"].last_error, found["slow"].last_status) == (
        "no answer within 0.2 s",
        None,
    )
    assert found["gone"].last_error == "connection failed"
    assert len(receiver.received("/slow")) == 1  # it was received, but not answered in time


def test_moments_go_to_the_destinations_whose_channels_take_them(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    for path in ("/crm", "/push", "/sms"):
        receiver.route(path, SECRET)
    push = fired(sqlite_engine, channel="push", event="e-1")
    sms = fired(sqlite_engine, channel="sms", event="e-2")
    email = fired(sqlite_engine, channel="email", event="e-3")
    targets = [
        destination(receiver, "crm"),  # every channel
        destination(receiver, "push", channels=frozenset({"push", "in_app"})),
        destination(receiver, "sms", channels=frozenset({"sms"})),
    ]
    with Relay(sqlite_engine, targets, clock=clock) as relay:
        assert relay.run_once() == RelayReport(queued=5, sent=5)
    assert set(receiver.ids("/crm")) == {push.id, sms.id, email.id}
    assert set(receiver.ids("/push")) == {push.id}
    assert set(receiver.ids("/sms")) == {sms.id}


def test_a_moment_no_destination_takes_is_settled_without_a_request(
    sqlite_engine: Engine, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.route("/sms", SECRET)
    fired(sqlite_engine, channel="push")
    sms = destination(receiver, "sms", channels=frozenset({"sms"}))
    with Relay(sqlite_engine, [sms], clock=clock) as relay:
        assert relay.run_once() == RelayReport(unrouted=1)
    assert receiver.received() == [] and outbox_status(sqlite_engine) == [SENT]


def test_logs_name_moments_and_statuses_but_no_url_secret_or_body(
    sqlite_engine: Engine,
    clock: FakeClock,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.route("/crm", SECRET, Answer(status=500), Answer(status=200))
    moment = fired(sqlite_engine, consumer="consumer-with-a-name")
    crm = Destination(name="crm", url=receiver.url("/crm") + "?token=tok-s3cr3t", secret=SECRET)
    caplog.set_level(logging.DEBUG)
    with Relay(sqlite_engine, [crm], clock=clock, jitter=lambda: 0.0) as relay:
        relay.run_once()
        relay.run_once()
    assert receiver.received("/crm")[0].query == "token=tok-s3cr3t"
    # our own records (urllib3's DEBUG request lines are its own, off unless asked for)
    ours = [r for r in caplog.records if r.name.startswith("geotrigger")]
    logged = "\n".join(record.getMessage() for record in ours)
    assert f"moment {moment.id} to crm: retry (HTTP 500)" in logged
    assert f"moment {moment.id} to crm: sent (HTTP 200)" in logged
    for secret in ("tok-s3cr3t", SECRET, "consumer-with-a-name", "cinnamon", "127.0.0.1"):
        assert secret not in logged


def test_a_relay_needs_a_destination_and_closes_only_its_own_session(
    sqlite_engine: Engine, receiver: WebhookReceiver
) -> None:
    with pytest.raises(ConfigError, match="GEOTRIGGER_WEBHOOKS"):
        Relay(sqlite_engine, [])
    session = requests.Session()
    Relay(sqlite_engine, [destination(receiver)], session=session).close()
    assert session.adapters  # still open: the caller's to close
    session.close()


def test_backoff_is_full_jitter_under_a_doubling_cap_and_retry_after_reads_dates() -> None:
    target = Destination(name="crm", url="http://x", secret=SECRET, backoff_s=5, max_backoff_s=60)
    assert [backoff_s(n, target, lambda: 1.0) for n in (1, 2, 3, 4, 5, 6)] == [
        5,
        10,
        20,
        40,
        60,
        60,
    ]
    assert backoff_s(3, target, lambda: 0.25) == 5.0
    assert backoff_s(3, target, lambda: 0.0) == 0.0
    assert backoff_s(10_000, target, lambda: 1.0) == 60
    assert retry_after_s("30", T0) == 30
    assert retry_after_s("Fri, 12 Jun 2026 07:31:00 GMT", T0) == 60
    assert retry_after_s("Fri, 12 Jun 2026 07:29:00 GMT", T0) == 0
    assert retry_after_s("soon", T0) is None and retry_after_s(None, T0) is None
