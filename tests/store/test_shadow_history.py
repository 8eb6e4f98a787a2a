"""What monitor rules would have fired is kept in the database: after a restart (or in
another process) their caps still count it, rule by rule. On SQLite and PostGIS."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from geotrigger.moments.decider import Decider
from geotrigger.rules.model import (
    Cap,
    Mode,
    Policy,
    Reentry,
    Scope,
    Suppression,
    Window,
    WindowKind,
)
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.history import DatabaseHistory
from geotrigger.store.shadow_history import DatabaseShadowHistory
from tests.moments.helpers import T0, make_candidate, make_rule

ONE_A_DAY = Cap(
    scope=Scope.CONSUMER_RULE,
    max=1,
    window=Window(kind=WindowKind.CALENDAR_DAY),
    label="consumer_rule 1 per calendar_day",
)


def _watch(rule_id: str) -> object:
    return make_rule(
        id=rule_id,
        mode=Mode.MONITOR,
        suppression=Suppression(caps=(ONE_A_DAY,), reentry=Reentry.ANY),
    )


def _decider(url: str) -> Decider:
    engine = connect(url)
    return Decider(
        Policy(), DatabaseHistory(engine), shadows=partial(DatabaseShadowHistory, engine)
    )


def test_would_be_moments_survive_a_restart(database_url: str) -> None:
    migrations.upgrade(database_url)
    watch, other = _watch("watch"), _watch("other-watch")
    (first,) = _decider(database_url).decide([make_candidate(watch, event_key="e1")])
    assert (first.gate, first.would_fire) == ("monitor", True)

    restarted = _decider(database_url)  # a new process: nothing in memory
    later = T0 + timedelta(minutes=10)
    (again,) = restarted.decide([make_candidate(watch, at=later, event_key="e2")])
    assert (again.gate, again.would_fire) == ("caps", False)
    # another rule's shadow is its own
    (elsewhere,) = restarted.decide([make_candidate(other, at=later, event_key="e3")])
    assert (elsewhere.gate, elsewhere.would_fire) == ("monitor", True)
