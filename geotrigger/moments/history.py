"""What the gates may know of the past: moments fired, and exits from places.

Gates read a :class:`History`; only the caller (the decider) writes to it, after a decision.
Times are epoch seconds. Counting is over half-open windows ``[start_s, end_s)``.

Events are not always decided in time order (a ping may arrive late, after newer pings of
others), so lookups are about the moments *nearest* an event time, on either side, never just
the latest one recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from geotrigger.moments.decision import GateResult, Moment
from geotrigger.rules.model import Scope

# A cap key: the scope and the ids it counts per, e.g. (Scope.CONSUMER_RULE, "c-1", "r-1").
CapKey = tuple[str, ...]
# Re-runs the gates of a moment about to be recorded, against the history at that moment.
Verify = Callable[["History"], "GateResult | None"]


def cap_key(
    scope: Scope,
    *,
    consumer_id: str,
    rule_id: str,
    place_id: str,
    spell_id: str | None,
) -> CapKey | None:
    """The key a moment counts under for ``scope`` (None: a weather-event scope without a
    weather spell, which that cap does not count)."""
    if scope is Scope.CONSUMER_RULE:
        return (scope.value, consumer_id, rule_id)
    if scope is Scope.CONSUMER:
        return (scope.value, consumer_id)
    if scope is Scope.CONSUMER_PLACE:
        return (scope.value, consumer_id, place_id)
    if scope is Scope.PLACE:
        return (scope.value, place_id)
    if scope is Scope.RULE:
        return (scope.value, rule_id)
    if spell_id is None:
        return None
    return (scope.value, consumer_id, spell_id)


class History(Protocol):
    """The read side, for gates."""

    def count(self, key: CapKey, start_s: float, end_s: float) -> int:
        """Moments counted under ``key`` with event time in ``[start_s, end_s)``."""
        ...

    def times(self, key: CapKey, start_s: float, end_s: float) -> list[float]:
        """Event times of the moments counted under ``key`` in ``[start_s, end_s)``, sorted."""
        ...

    def nearest_moment_s(self, consumer_id: str, at_s: float) -> float | None:
        """Event time of the consumer's moment (any rule) nearest ``at_s``, if any."""
        ...

    def nearest_fired_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's moment for this consumer at this place nearest ``at_s``."""
        ...

    def last_fired_before_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's latest moment for this consumer here at or before ``at_s``."""
        ...

    def next_fired_after_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's first moment for this consumer here after ``at_s``."""
        ...

    def has_moment(self, moment_id: str) -> bool:
        """Whether a moment with this id is recorded (its event was decided before)."""
        ...

    def exited_since(
        self, consumer_id: str, place_id: str, since_s: float, until_s: float = math.inf
    ) -> bool:
        """Whether the consumer left the place at or after ``since_s`` (and at or before
        ``until_s``)."""
        ...


class WritableHistory(History, Protocol):
    """The write side, for the decider only."""

    def record_moment(
        self, moment: Moment, *, spell_id: str | None, verify: Verify | None = None
    ) -> GateResult | None:
        """Count a fired moment under every scope's key and remember it for cooldowns.

        ``verify`` re-runs the gates against the history as it is at the moment of writing;
        a history that other processes write to too must call it atomically with the write
        (under a lock), so that two processes never both take the last place under a cap.
        Returns None when the moment is recorded (or was already), else the gate that
        refused it."""
        ...

    def record_exit(self, consumer_id: str, place_id: str, at_s: float) -> None:
        """Remember that the consumer left the place at ``at_s``."""
        ...

    def reading(self) -> AbstractContextManager[None]:
        """A block in which many reads may share one connection (a store's concern; a
        history in memory does nothing). Writes inside it still commit on their own."""
        ...
