"""The ``cooldown`` gate: after a rule fired for a consumer at a place, it does not fire there
again within ``cooldown_s`` of that moment (before or after it: events replayed out of order
count too). With ``reentry: after_exit`` it does not fire there again at all until the consumer
has left the place since that moment; a dwell or exit of the same visit is therefore covered.
That applies to enter, dwell and exit moments only: weather and signal moments fire *near* a
place, where the consumer may never have been inside, so no exit would ever free them; they
rely on the cooldown and on caps (a weather-event cap: one per spell). Times are the events'
times, not the evaluation's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from geotrigger.moments.conditions.ranges import number
from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History
from geotrigger.moments.windows import local_time
from geotrigger.rules.model import Reentry, TriggerKind

_IN_PLACE = frozenset({TriggerKind.ENTER, TriggerKind.DWELL, TriggerKind.EXIT})


@dataclass(frozen=True, slots=True)
class CooldownGate:
    """Suppresses a rule firing again for a consumer at a place too soon, or before a leave."""

    name: str = "cooldown"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when the rule never fired here for this consumer, or long enough ago and
        (with after_exit) the consumer has left since."""
        rule = candidate.rule
        cooldown = rule.suppression.cooldown_s
        at_s, ids = candidate.at.timestamp(), (candidate.consumer_id, rule.id, candidate.place.id)
        near = history.nearest_fired_s(*ids, at_s)
        seen = {
            "nearest_fired_s": near,
            "cooldown_s": cooldown,
            "reentry": rule.suppression.reentry.value,
        }
        if near is None:
            return passed(self.name, "never fired here for this consumer", seen)
        ago = at_s - near
        if cooldown > 0 and abs(ago) < cooldown:
            why = f"fired here {_when(ago)}; cooldown {number(cooldown)} s"
            return suppressed(self.name, why, seen)
        if rule.suppression.reentry is Reentry.AFTER_EXIT and candidate.trigger in _IN_PLACE:
            same_visit = _same_visit(candidate, history, ids, at_s)
            if same_visit is not None:
                return suppressed(self.name, same_visit, {**seen, "exited_between": False})
        return passed(self.name, f"nearest fire here {_when(ago)}", seen)


def _when(ago: float) -> str:
    return f"{number(ago)} s ago" if ago >= 0 else f"in {number(-ago)} s (a later event)"


def _same_visit(
    candidate: Candidate, history: History, ids: tuple[str, str, str], at_s: float
) -> str | None:
    """Why the candidate is in the same visit as a moment of its rule here (no exit between
    them, before or after it: a late event can come before a moment already fired), or None."""
    consumer_id, _, place_id = ids
    last = history.last_fired_before_s(*ids, at_s)
    if last is not None and not history.exited_since(consumer_id, place_id, last, at_s):
        fired = local_time(datetime.fromtimestamp(last, UTC), candidate.place_zone)
        return f"fired here at {fired:%H:%M} and has not left since"
    after = history.next_fired_after_s(*ids, at_s)
    if after is not None and not history.exited_since(consumer_id, place_id, at_s, after):
        fired = local_time(datetime.fromtimestamp(after, UTC), candidate.place_zone)
        return f"fired here at {fired:%H:%M} in the same visit (this event came late)"
    return None
