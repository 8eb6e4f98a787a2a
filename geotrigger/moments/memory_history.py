"""The history of fired moments and exits, in memory: for tests, replays and one process.

Every cap key keeps a sorted list of event times (epoch seconds), so counting a window is two
bisections. A moment is counted under the key of every scope (the weather-event scope only when
the moment came with a weather spell), and under its rule, consumer and place together, so the
moments nearest an event time (spacing, cooldowns) are two bisections too. Exits are sorted per
consumer and place, so "has the consumer left since" is one bisection.

Recording the same moment id twice counts it once: a replayed or retried decision must not use
up a cap twice.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from geotrigger.moments.decision import GateResult, Moment
from geotrigger.moments.history import CapKey, Verify, WritableHistory, cap_key
from geotrigger.rules.model import Scope


class MemoryHistory:
    """A :class:`~geotrigger.moments.history.WritableHistory` held in dicts of sorted lists."""

    def __init__(self) -> None:
        self._times: defaultdict[CapKey, list[float]] = defaultdict(list)
        self._exits: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
        self._moment_ids: set[str] = set()

    def count(self, key: CapKey, start_s: float, end_s: float) -> int:
        """Moments counted under ``key`` with event time in ``[start_s, end_s)``."""
        times = self._times.get(key)
        if not times or end_s <= start_s:
            return 0
        return bisect_left(times, end_s) - bisect_left(times, start_s)

    def times(self, key: CapKey, start_s: float, end_s: float) -> list[float]:
        """Event times of the moments counted under ``key`` in ``[start_s, end_s)``, sorted."""
        times = self._times.get(key)
        if not times or end_s <= start_s:
            return []
        return times[bisect_left(times, start_s) : bisect_left(times, end_s)]

    def nearest_moment_s(self, consumer_id: str, at_s: float) -> float | None:
        """Event time of the consumer's moment (any rule) nearest ``at_s``, if any."""
        return _nearest(self._times.get((Scope.CONSUMER.value, consumer_id)), at_s)

    def nearest_fired_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's moment for this consumer at this place nearest ``at_s``."""
        return _nearest(self._times.get(fired_key(consumer_id, rule_id, place_id)), at_s)

    def last_fired_before_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's latest moment for this consumer here at or before ``at_s``."""
        times = self._times.get(fired_key(consumer_id, rule_id, place_id))
        i = bisect_right(times, at_s) if times else 0
        return times[i - 1] if times and i else None

    def exited_since(
        self, consumer_id: str, place_id: str, since_s: float, until_s: float = math.inf
    ) -> bool:
        """Whether the consumer left the place at or after ``since_s`` (and at or before
        ``until_s``)."""
        exits = self._exits.get((consumer_id, place_id), [])
        i = bisect_left(exits, since_s)
        return i < len(exits) and exits[i] <= until_s

    def has_moment(self, moment_id: str) -> bool:
        """Whether a moment with this id is recorded."""
        return moment_id in self._moment_ids

    def next_fired_after_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """Event time of this rule's first moment for this consumer here after ``at_s``."""
        times = self._times.get(fired_key(consumer_id, rule_id, place_id))
        i = bisect_right(times, at_s) if times else 0
        return times[i] if times and i < len(times) else None

    def record_moment(
        self, moment: Moment, *, spell_id: str | None, verify: Verify | None = None
    ) -> GateResult | None:
        """Count a fired moment under every scope's key and remember it for cooldowns (one
        process only: nothing can change between the gates and this, so ``verify`` is not
        run)."""
        if moment.id in self._moment_ids:
            return None
        self._moment_ids.add(moment.id)
        at_s = moment.at.timestamp()
        for scope in Scope:
            key = cap_key(
                scope,
                consumer_id=moment.consumer_id,
                rule_id=moment.rule_id,
                place_id=moment.place_id,
                spell_id=spell_id,
            )
            if key is not None:
                insort(self._times[key], at_s)
        insort(self._times[fired_key(moment.consumer_id, moment.rule_id, moment.place_id)], at_s)
        return None

    def reading(self) -> AbstractContextManager[None]:
        """Nothing to share: reads are dictionary lookups."""
        return nullcontext()

    def record_exit(self, consumer_id: str, place_id: str, at_s: float) -> None:
        """Remember that the consumer left the place at ``at_s``."""
        insort(self._exits[(consumer_id, place_id)], at_s)

    def __len__(self) -> int:
        """The number of moments recorded."""
        return len(self._moment_ids)


def fired_key(consumer_id: str, rule_id: str, place_id: str) -> CapKey:
    """The key of one rule's moments for one consumer at one place (cooldowns)."""
    return ("fired", consumer_id, rule_id, place_id)


def _nearest(times: list[float] | None, at_s: float) -> float | None:
    if not times:
        return None
    i = bisect_left(times, at_s)
    near = [times[j] for j in (i - 1, i) if 0 <= j < len(times)]
    return min(near, key=lambda t: abs(t - at_s))


if TYPE_CHECKING:  # the type checker proves the protocol is implemented
    _IMPLEMENTS: WritableHistory = MemoryHistory()
