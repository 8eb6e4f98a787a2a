"""What a rule that sends nothing would have sent: the history its gates see.

A monitor rule, or a rule for a consumer in its holdout group, never sends a moment, so its
moments are never in the history. Left at that, its caps, cooldowns and spacing would never
bite, and "would have fired" would count every candidate that passed the rest: a monitor rule
would look far busier than it would be live, and the control group of a holdout would seem to
get far more than the treated consumers get. So the decider keeps, per rule, a shadow history
of the moments that rule would have fired, and a would-be candidate's gates see the real
history and its rule's shadow together, as if those moments had been sent.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from geotrigger.moments.history import CapKey, History


def _best(a: float | None, b: float | None, pick: Callable[[list[float]], float]) -> float | None:
    """``pick`` of the times either history found (None: neither found one)."""
    found = [t for t in (a, b) if t is not None]
    return pick(found) if found else None


def _nearest_to(at_s: float) -> Callable[[list[float]], float]:
    return lambda found: min(found, key=lambda t: abs(t - at_s))


class WithShadow:
    """The real history plus one rule's would-have-fired moments, read as one."""

    def __init__(self, real: History, shadow: History) -> None:
        self.real, self.shadow = real, shadow

    def count(self, key: CapKey, start_s: float, end_s: float) -> int:
        """Moments under ``key`` in ``[start_s, end_s)``, sent or would-be."""
        return self.real.count(key, start_s, end_s) + self.shadow.count(key, start_s, end_s)

    def times(self, key: CapKey, start_s: float, end_s: float) -> list[float]:
        """Their event times, sorted."""
        return list(
            heapq.merge(
                self.real.times(key, start_s, end_s), self.shadow.times(key, start_s, end_s)
            )
        )

    def nearest_moment_s(self, consumer_id: str, at_s: float) -> float | None:
        """The consumer's moment nearest ``at_s``, sent or would-be."""
        return _best(
            self.real.nearest_moment_s(consumer_id, at_s),
            self.shadow.nearest_moment_s(consumer_id, at_s),
            _nearest_to(at_s),
        )

    def nearest_fired_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """This rule's moment here nearest ``at_s``, sent or would-be."""
        ids = (consumer_id, rule_id, place_id, at_s)
        return _best(
            self.real.nearest_fired_s(*ids), self.shadow.nearest_fired_s(*ids), _nearest_to(at_s)
        )

    def last_fired_before_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """This rule's latest moment here at or before ``at_s``, sent or would-be."""
        ids = (consumer_id, rule_id, place_id, at_s)
        return _best(
            self.real.last_fired_before_s(*ids), self.shadow.last_fired_before_s(*ids), max
        )

    def next_fired_after_s(
        self, consumer_id: str, rule_id: str, place_id: str, at_s: float
    ) -> float | None:
        """This rule's first moment here after ``at_s``, sent or would-be."""
        ids = (consumer_id, rule_id, place_id, at_s)
        return _best(self.real.next_fired_after_s(*ids), self.shadow.next_fired_after_s(*ids), min)

    def has_moment(self, moment_id: str) -> bool:
        """Whether a moment with this id was sent (would-be moments are not moments)."""
        return self.real.has_moment(moment_id)

    def exited_since(
        self, consumer_id: str, place_id: str, since_s: float, until_s: float = math.inf
    ) -> bool:
        """Exits are real either way."""
        return self.real.exited_since(consumer_id, place_id, since_s, until_s)
