"""The history of fired moments and exits, in memory: for tests, replays and one process.

Every cap key keeps a sorted list of event times (epoch seconds), so counting a window is two
bisections. A moment is counted under the key of every scope (the weather-event scope only when
the moment came with a weather spell), and remembered as the consumer's latest moment and the
latest of its rule at its place, for spacing and cooldowns. Exits are sorted per consumer and
place, so "has the consumer left since" is one bisection.

Recording the same moment id twice counts it once: a replayed or retried decision must not use
up a cap twice.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from typing import TYPE_CHECKING, TypeVar

from geotrigger.moments.decision import Moment
from geotrigger.moments.history import CapKey, WritableHistory, cap_key
from geotrigger.rules.model import Scope

K = TypeVar("K")


class MemoryHistory:
    """A :class:`~geotrigger.moments.history.WritableHistory` held in dicts of sorted lists."""

    def __init__(self) -> None:
        self._times: defaultdict[CapKey, list[float]] = defaultdict(list)
        self._last_moment: dict[str, float] = {}
        self._last_fired: dict[tuple[str, str, str], float] = {}
        self._exits: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
        self._moment_ids: set[str] = set()

    def count(self, key: CapKey, start_s: float, end_s: float) -> int:
        """Moments counted under ``key`` with event time in ``[start_s, end_s)``."""
        times = self._times.get(key)
        if not times or end_s <= start_s:
            return 0
        return bisect_left(times, end_s) - bisect_left(times, start_s)

    def last_moment_s(self, consumer_id: str) -> float | None:
        """Event time of the consumer's latest moment (any rule), if any."""
        return self._last_moment.get(consumer_id)

    def last_fired_s(self, consumer_id: str, rule_id: str, place_id: str) -> float | None:
        """Event time of the latest moment of this rule for this consumer at this place."""
        return self._last_fired.get((consumer_id, rule_id, place_id))

    def exited_since(self, consumer_id: str, place_id: str, since_s: float) -> bool:
        """Whether the consumer left the place at or after ``since_s``."""
        exits = self._exits.get((consumer_id, place_id), [])
        return bisect_left(exits, since_s) < len(exits)

    def record_moment(self, moment: Moment, *, spell_id: str | None) -> None:
        """Count a fired moment under every scope's key and remember it for cooldowns."""
        if moment.id in self._moment_ids:
            return
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
        _keep_latest(self._last_moment, moment.consumer_id, at_s)
        _keep_latest(self._last_fired, (moment.consumer_id, moment.rule_id, moment.place_id), at_s)

    def record_exit(self, consumer_id: str, place_id: str, at_s: float) -> None:
        """Remember that the consumer left the place at ``at_s``."""
        insort(self._exits[(consumer_id, place_id)], at_s)

    def __len__(self) -> int:
        """The number of moments recorded."""
        return len(self._moment_ids)


def _keep_latest(latest: dict[K, float], key: K, at_s: float) -> None:
    previous = latest.get(key)
    if previous is None or at_s > previous:
        latest[key] = at_s


if TYPE_CHECKING:  # the type checker proves the protocol is implemented
    _IMPLEMENTS: WritableHistory = MemoryHistory()
