"""What one monitor rule or holdout group would have fired, in the database.

The decider keeps a shadow history per rule (see :mod:`geotrigger.moments.shadow`): its
would-be moments count for that rule's caps, cooldowns and shared limits, so that "would have
fired" means what a live rule would really have sent. Kept in ``would_be_ledger`` they survive
a restart and are the same for every process. Nothing here is a moment: no moment row, no
outbox row, and exits are the real history's.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Engine
from sqlalchemy.dialects import postgresql, sqlite

from geotrigger.moments.decision import GateResult, Moment
from geotrigger.moments.history import CapKey, Verify
from geotrigger.store.history import DatabaseHistory, key_text, moment_keys
from geotrigger.store.tables import would_be_ledger


class DatabaseShadowHistory(DatabaseHistory):
    """The would-be moments of one rule."""

    def __init__(self, engine: Engine, rule_id: str) -> None:
        super().__init__(engine)
        self.rule_id = rule_id
        self._ledger = would_be_ledger

    def _key_is(self, key: CapKey) -> list[ColumnElement[bool]]:
        return [would_be_ledger.c.rule_id == self.rule_id, would_be_ledger.c.key == key_text(key)]

    def has_moment(self, moment_id: str) -> bool:
        """Would-be moments are never moments."""
        return False

    def exited_since(
        self, consumer_id: str, place_id: str, since_s: float, until_s: float = float("inf")
    ) -> bool:
        """Exits are the real history's (the shadow is read together with it)."""
        return False

    def record_moment(
        self, moment: Moment, *, spell_id: str | None, verify: Verify | None = None
    ) -> GateResult | None:
        """Count a would-be moment under its keys (once, whatever the retries)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        at_s = moment.at.timestamp()
        rows = [
            {
                "rule_id": self.rule_id,
                "consumer_id": moment.consumer_id,
                "key": key_text(k),
                "at_s": at_s,
                "moment_id": moment.id,
            }
            for k in moment_keys(moment, spell_id)
        ]
        with self.engine.begin() as conn:
            conn.execute(dialect.insert(would_be_ledger).on_conflict_do_nothing(), rows)
        return None

    def record_exit(self, consumer_id: str, place_id: str, at_s: float) -> None:
        """Exits are recorded in the real history."""
