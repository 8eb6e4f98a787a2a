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
            why = f"fired here {number(ago)} s ago; cooldown {number(cooldown)} s"
            return suppressed(self.name, why, seen)
        last = history.last_fired_before_s(*ids, at_s)
        needs_exit = (
            rule.suppression.reentry is Reentry.AFTER_EXIT and candidate.trigger in _IN_PLACE
        )
        if needs_exit and last is not None:
            left = history.exited_since(candidate.consumer_id, candidate.place.id, last)
            seen = {**seen, "exited_since": left}
            if not left:
                fired = local_time(datetime.fromtimestamp(last, UTC), candidate.place_zone)
                why = f"fired here at {fired:%H:%M} and has not left since"
                return suppressed(self.name, why, seen)
        return passed(self.name, f"last fired here {number(ago)} s ago", seen)
