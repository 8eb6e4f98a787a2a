"""The ``quiet_hours`` gate: nothing is sent in the consumer's quiet hours. The time tested is
``now`` (when the moment would be sent) on the wall clock of the consumer's zone, so quiet
hours keep their local times across DST changes; quiet hours with the end before the start run
past midnight (21:00-08:00)."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History
from geotrigger.moments.windows import describe_local, describe_span, in_day_window, local_time

_EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class QuietHoursGate:
    """Suppresses sends within the rule's quiet hours, in the consumer's zone."""

    name: str = "quiet_hours"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when the rule has no quiet hours or the local send time is outside them."""
        quiet = candidate.rule.suppression.quiet_hours
        if quiet is None:
            return passed(self.name, "no quiet hours", {"quiet_hours": None})
        local = local_time(candidate.now, candidate.consumer_zone)
        span = describe_span(quiet.start, quiet.end)
        seen = {
            "local_time": local.isoformat(),
            "zone": candidate.consumer_zone,
            "quiet_hours": span,
        }
        told = f"{describe_local(local)} ({candidate.consumer_zone})"
        if in_day_window(local, quiet.start, quiet.end, _EVERY_DAY):
            return suppressed(self.name, f"quiet hours {span}: local time {told}", seen)
        return passed(self.name, f"local time {told} is outside quiet hours {span}", seen)
