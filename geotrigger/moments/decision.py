"""Candidates, the results of conditions and gates, decisions and moments.

A **candidate** is one rule for one consumer at one place, started by one transition, weather
change or signal crossing. Every candidate ends in exactly one **decision**: fired, suppressed
by a named gate (with the reason and the values it saw), or not matched by a named condition.
A fired decision carries its **moment**: what is sent, with a deterministic id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from geotrigger.consumers.profile import Consumer
from geotrigger.model import Ping, Place
from geotrigger.rules.model import Rule, TriggerKind
from geotrigger.weather.reading import WeatherAt, WeatherChange, WeatherChangeKind

_EMPTY: Mapping[str, Any] = MappingProxyType({})

# The suppression gates in the order they run. Consent runs before the conditions (nothing is
# evaluated about a consumer who did not consent); the rest after the relevance score.
# "conflict" is not a per-candidate gate: it picks one winner among the candidates of one
# evaluation of one consumer that passed every other gate.
GATE_ORDER = (
    "consent",
    "expired",
    "accuracy",
    "speed",
    "quiet_hours",
    "cooldown",
    "spacing",
    "caps",
    "budget",
    "monitor",
    "holdout",
    "conflict",
)
# The condition names of decisions, in the order they are evaluated; "relevance" last.
CONDITION_ORDER = (
    "distance",
    "speed",
    "local_time",
    "open_now",
    "weather",
    "signals",
    "segments",
    "traits",
    "relevance",
)


class Outcome(StrEnum):
    """How a candidate ended."""

    FIRED = "fired"
    SUPPRESSED = "suppressed"  # a gate said no (monitor and holdout: it would have fired)
    NOT_MATCHED = "not_matched"  # a condition did not hold, or the relevance was too low


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One rule for one consumer at one place, at one event, with everything gates and
    conditions may look at. ``now`` is the evaluation time; ``at`` the event time."""

    rule: Rule
    consumer_id: str
    consumer: Consumer | None  # None: nothing is known (no consent either)
    place: Place
    trigger: TriggerKind
    at: datetime
    now: datetime
    event_key: str  # what made it: the ping id (or device@time) or the weather event id
    ping: Ping | None = None  # the fix of the event (the last one, for weather events)
    speed_mps: float | None = None  # the ping's speed, or implied from the previous fix
    distance_m: float | None = None  # from the place's edge, 0 inside
    visit_started: datetime | None = None  # entered_at of the visit the transition belongs to
    weather: WeatherAt | None = None  # the reading at the place at ``at``
    weather_event: WeatherChange | None = None  # for weather triggers
    place_zone: str = "UTC"  # the place's zone (else the consumer's): local time, dayparts
    consumer_zone: str = "UTC"  # the consumer's zone (else the place's): quiet hours, caps

    @property
    def spell_id(self) -> str | None:
        """The weather event a weather-event cap counts in: for a weather trigger on a
        threshold (rises above, falls below), that crossing; for one on a condition (starts,
        ends), the spell of readings the change begins; otherwise the rain spell at the place
        while it is wet (a dry spell is no weather event, so such a cap does not count in one)."""
        if self.weather_event is not None:
            change = getattr(self.rule.trigger, "change", None)
            if change in (WeatherChangeKind.RISES_ABOVE, WeatherChangeKind.FALLS_BELOW):
                return self.weather_event.event_id
            return self.weather_event.spell_id
        if self.weather is not None and self.weather.reading.is_wet:
            return self.weather.spell_id
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionResult:
    """Whether one condition held, why, and the values it looked at."""

    name: str  # one of CONDITION_ORDER
    held: bool
    reason: str  # plain words: "local time 09:12 is outside 14:00-17:00"
    seen: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """Whether one gate let the candidate through, why not, and the values it looked at."""

    gate: str  # one of GATE_ORDER
    passed: bool
    reason: str = ""
    seen: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    would_fire: bool = False  # monitor and holdout: every other gate said yes


PASS_REASON = "ok"


@dataclass(frozen=True, slots=True, kw_only=True)
class RelevanceScore:
    """The relevance of a candidate to its consumer, in [0, 1], and its parts."""

    score: float
    known: bool  # False: nothing known about the consumer that bears on this offer
    parts: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Moment:
    """A fired moment: what is sent to whom, until when."""

    id: str
    rule_id: str
    consumer_id: str
    place_id: str
    trigger: TriggerKind
    at: datetime  # event time
    expires_at: datetime  # at + the rule's time to live: never delivered after
    channel: str
    message: str
    priority: int
    relevance: float
    data: Mapping[str, object] = field(default_factory=lambda: _EMPTY)


def moment_id(rule_id: str, consumer_id: str, place_id: str, event_key: str) -> str:
    """The deterministic id of the moment a candidate would fire: the same candidate (replayed,
    retried, or raced by two processes) always gets the same id."""
    digest = hashlib.sha256(f"{rule_id}\x1f{consumer_id}\x1f{place_id}\x1f{event_key}".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """How one candidate ended, with its trace."""

    rule_id: str
    consumer_id: str
    place_id: str
    trigger: TriggerKind
    at: datetime
    evaluated_at: datetime
    event_key: str
    outcome: Outcome
    place_name: str = ""
    place_zone: str = "UTC"  # the zone local times of this decision are told in
    reason: str  # plain words
    gate: str | None = None  # the gate that said no (SUPPRESSED)
    condition: str | None = None  # the condition that did not hold (NOT_MATCHED)
    seen: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    would_fire: bool = False  # monitor or holdout: it passed everything else
    relevance: RelevanceScore | None = None
    conditions: tuple[ConditionResult, ...] = ()
    moment: Moment | None = None
    mode: str = "live"

    def to_record(self) -> dict[str, Any]:
        """The decision as a JSON-ready dict (one line of a decisions file). Times stay
        datetimes for the writer to format; no device id, no coordinates."""
        record: dict[str, Any] = {
            "type": "decision",
            "rule_id": self.rule_id,
            "consumer_id": self.consumer_id,
            "place_id": self.place_id,
            "place_name": self.place_name,
            "place_zone": self.place_zone,
            "trigger": self.trigger.value,
            "at": self.at,
            "evaluated_at": self.evaluated_at,
            "event_key": self.event_key,
            "mode": self.mode,
            "outcome": self.outcome.value,
            "gate": self.gate,
            "condition": self.condition,
            "reason": self.reason,
            "seen": dict(self.seen),
            "would_fire": self.would_fire,
            "relevance": None if self.relevance is None else round(self.relevance.score, 4),
            "relevance_parts": None if self.relevance is None else dict(self.relevance.parts),
            "conditions": [
                {"name": c.name, "held": c.held, "reason": c.reason} for c in self.conditions
            ],
        }
        record["moment"] = None
        if self.moment is not None:
            m = self.moment
            record["moment"] = {
                "id": m.id,
                "channel": m.channel,
                "message": m.message,
                "expires_at": m.expires_at,
                "priority": m.priority,
                "data": dict(m.data),
            }
        return record


def decision_key(decision: Decision) -> str:
    """A decision's key: one per candidate (rule, consumer, place, event), so a batch stored
    again stores each decision once. It equals the id the candidate's moment has or would
    have (:func:`moment_id`)."""
    return moment_id(decision.rule_id, decision.consumer_id, decision.place_id, decision.event_key)
