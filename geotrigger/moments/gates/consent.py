"""The ``consent`` gate, run before any condition: nothing is evaluated about a consumer who
has not consented to location marketing. An unknown consumer has no consent on record."""

from __future__ import annotations

from dataclasses import dataclass

from geotrigger.consumers.profile import LOCATION_MARKETING
from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.gates.base import passed, suppressed
from geotrigger.moments.history import History


@dataclass(frozen=True, slots=True)
class ConsentGate:
    """Suppresses unless the consumer consented to ``location_marketing``."""

    name: str = "consent"

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass when the consumer is known and consented."""
        consumer = candidate.consumer
        if consumer is None:
            return suppressed(self.name, "unknown consumer: no consent on record", {})
        given = consumer.consents_to(LOCATION_MARKETING)
        seen = {"purpose": LOCATION_MARKETING, "given": given}
        if not given:
            return suppressed(self.name, f"no consent for {LOCATION_MARKETING}", seen)
        return passed(self.name, f"consent for {LOCATION_MARKETING} given", seen)
