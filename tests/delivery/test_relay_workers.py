"""Two relays at once, each in its own thread with its own connections, over many moments:
every moment reaches every destination exactly once (the receiver counts webhook-ids). On
PostgreSQL the claims skip each other's locked rows; on SQLite they take turns under the write
lock."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from geotrigger.delivery.relay import Relay, RelayReport
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.tables import deliveries, outbox
from tests.delivery.receiver import OTHER_SECRET, SECRET, T0, FakeClock, WebhookReceiver, fired
from tests.delivery.receiver import destination as at_receiver

MOMENTS = 60


def test_two_relays_deliver_every_moment_exactly_once_per_destination(database_url: str) -> None:
    migrations.upgrade(database_url)
    setup = connect(database_url)
    ids = {
        fired(setup, consumer=f"consumer-{n:03d}", event=f"e-{n}", at=T0 + timedelta(seconds=n)).id
        for n in range(MOMENTS)
    }
    clock = FakeClock(T0 + timedelta(minutes=2))
    reports: dict[str, list[RelayReport]] = {"a": [], "b": []}
    failures: list[BaseException] = []
    with WebhookReceiver(clock=clock.epoch) as receiver:
        receiver.route("/crm", SECRET)
        receiver.route("/push", OTHER_SECRET)
        targets = [at_receiver(receiver, "crm"), at_receiver(receiver, "push", OTHER_SECRET)]
        start = threading.Barrier(2)

        def work(name: str) -> None:
            engine = connect(database_url)  # a process of its own, as far as the database sees
            try:
                with Relay(engine, targets, clock=clock) as relay:
                    start.wait()
                    while (report := relay.run_once(limit=8)).busy:
                        reports[name].append(report)
            except BaseException as exc:  # reported below, not lost in the thread
                failures.append(exc)
            finally:
                engine.dispose()

        workers = [threading.Thread(target=work, args=(name,)) for name in reports]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert not failures and not any(w.is_alive() for w in workers)
        for path in ("/crm", "/push"):
            counted = receiver.ids(path)
            assert set(counted) == ids
            assert set(counted.values()) == {1}  # exactly once
        assert all(r.verified for r in receiver.received())
    sent = {name: sum(r.sent for r in runs) for name, runs in reports.items()}
    assert sum(sent.values()) == 2 * MOMENTS, sent
    assert min(sent.values()) > 0  # both took part: the claims really did race
    assert all(r.lost == 0 and r.retried == 0 for runs in reports.values() for r in runs)
    with setup.connect() as conn:
        statuses = conn.execute(select(deliveries.c.status, func.count()).group_by("status"))
        assert dict(statuses.all()) == {"sent": 2 * MOMENTS}
        box = conn.execute(select(outbox.c.status, func.count()).group_by("status"))
        assert dict(box.all()) == {"sent": MOMENTS}
    setup.dispose()
