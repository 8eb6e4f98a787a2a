"""Two processes deciding moments for the same consumers at the same instant, on PostgreSQL
and on one SQLite file: each consumer gets exactly its cap, never more (the gates run again
under a lock when the moment is written)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from geotrigger.moments.decider import Decider
from geotrigger.moments.decision import Outcome
from geotrigger.rules.model import Cap, Policy, Reentry, Scope, Suppression, Window, WindowKind
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.history import DatabaseHistory
from geotrigger.store.tables import moments
from tests.moments.helpers import T0, make_candidate, make_consumer, make_place, make_rule

CONSUMERS = 25
PROCESSES = 2
CAP = Cap(
    scope=Scope.CONSUMER,
    max=1,
    window=Window(kind=WindowKind.CALENDAR_DAY),
    label="consumer 1 per calendar_day",
)
RULE = make_rule(suppression=Suppression(caps=(CAP,), reentry=Reentry.ANY))


def _decide_all(url: str, worker: int, barrier: object, fired: object) -> None:
    """One process: for each consumer in turn, wait for the other, then decide at once."""
    engine = connect(url)
    decider = Decider(Policy(), DatabaseHistory(engine))
    count = 0
    for n in range(CONSUMERS):
        candidate = make_candidate(
            RULE,
            consumer=make_consumer(id=f"c-{n}"),
            place=make_place(id=f"p-{worker}"),  # each process at its own shop
            at=T0 + timedelta(seconds=worker),
            event_key=f"w{worker}-{n}",
        )
        barrier.wait()  # type: ignore[attr-defined]
        (decision,) = decider.decide([candidate])
        count += decision.outcome is Outcome.FIRED
    with fired.get_lock():  # type: ignore[attr-defined]
        fired.value += count  # type: ignore[attr-defined]
    engine.dispose()


def test_two_processes_racing_get_exactly_the_cap(database_url: str) -> None:
    for url in [database_url]:
        migrations.upgrade(url)
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(PROCESSES, timeout=30)  # a dead worker must not hang the other
        fired = context.Value("i", 0)
        workers = [
            context.Process(target=_decide_all, args=(url, w, barrier, fired))
            for w in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        for worker in workers:
            if worker.is_alive():
                worker.kill()
        assert [w.exitcode for w in workers] == [0] * PROCESSES
        engine = connect(url)
        with engine.connect() as conn:
            per_consumer = Counter(conn.execute(select(moments.c.consumer_id)).scalars())
        engine.dispose()
        assert per_consumer == Counter({f"c-{n}": 1 for n in range(CONSUMERS)})
        assert fired.value == CONSUMERS  # the losers were told: suppressed, not fired
