"""Builders of rules, places, consumers and candidates for the moments tests.

Import as ``from moments.helpers import make_rule, make_candidate, make_place, make_consumer``.
Every builder takes keyword overrides of the built object's fields; the defaults are a live
rule with no conditions, suppression or caps to speak of, a consenting consumer who likes green
tea, and a tea shop in Helsinki, at Friday 2026-03-27 12:00 UTC (14:00 local).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from geotrigger.consumers.profile import LOCATION_MARKETING, Affinities, Consumer
from geotrigger.model import Circle, Ping, Place
from geotrigger.moments.decision import Candidate, Moment, moment_id
from geotrigger.rules.model import (
    Action,
    Conditions,
    Mode,
    PlaceSelector,
    PlaceTrigger,
    Relevance,
    Rule,
    Suppression,
    TriggerKind,
)

T0 = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # a Friday; 14:00 in Helsinki
ZONE = "Europe/Helsinki"


@dataclass(frozen=True, slots=True)
class PlainTemplate:
    """A message template with no variables, enough for rules built in tests."""

    text: str = "Hello"

    @property
    def variables(self) -> frozenset[str]:
        """No variables."""
        return frozenset()

    def render(self, values: Mapping[str, object]) -> str:
        """The text as it is."""
        return self.text


def make_rule(**overrides: Any) -> Rule:
    """A live enter rule for place ``p-1``, reentry any, no cooldown; fields overridable."""
    fields: dict[str, Any] = {
        "id": "r-1",
        "description": "a test rule",
        "priority": 0,
        "mode": Mode.LIVE,
        "trigger": PlaceTrigger(
            kind=TriggerKind.ENTER, places=PlaceSelector(ids=frozenset({"p-1"}))
        ),
        "conditions": Conditions(),
        "relevance": Relevance(offer_tags=frozenset({"green-tea"})),
        "suppression": Suppression(),
        "ttl_s": 600.0,
        "action": Action(channel="push", message=PlainTemplate()),
    }
    fields.update(overrides)
    return Rule(**fields)


def make_place(**overrides: Any) -> Place:
    """A circular tea shop ``p-1`` in Helsinki, with no opening hours; fields overridable."""
    fields: dict[str, Any] = {
        "id": "p-1",
        "name": "Tea shop",
        "geometry": Circle(lat=60.1699, lon=24.9384, radius_m=50.0),
        "tags": frozenset({"tea"}),
        "timezone": ZONE,
    }
    fields.update(overrides)
    return Place(**fields)


def make_consumer(**overrides: Any) -> Consumer:
    """Consumer ``c-1``: consents, likes green tea (0.9), in Helsinki; fields overridable."""
    fields: dict[str, Any] = {
        "id": "c-1",
        "consent": {LOCATION_MARKETING: True},
        "timezone": ZONE,
        "affinities": Affinities(base={"green-tea": 0.9}),
    }
    fields.update(overrides)
    return Consumer(**fields)


def make_ping(**overrides: Any) -> Ping:
    """A 10 m fix of device ``d-1`` at T0, walking; fields overridable."""
    fields: dict[str, Any] = {
        "device_id": "d-1",
        "lat": 60.1699,
        "lon": 24.9384,
        "timestamp": T0,
        "id": "ping-1",
        "accuracy_m": 10.0,
        "speed_mps": 1.2,
    }
    fields.update(overrides)
    return Ping(**fields)


def make_candidate(rule: Rule | None = None, **overrides: Any) -> Candidate:
    """An enter of ``make_rule()`` at ``make_place()`` by ``make_consumer()`` at T0, evaluated
    at once, with a walking 10 m fix; zones Helsinki. ``consumer_id`` follows ``consumer``
    unless given."""
    consumer = overrides.pop("consumer", make_consumer())
    at = overrides.pop("at", T0)
    fields: dict[str, Any] = {
        "rule": rule if rule is not None else make_rule(),
        "consumer_id": consumer.id if consumer is not None else "c-1",
        "consumer": consumer,
        "place": make_place(),
        "trigger": TriggerKind.ENTER,
        "at": at,
        "now": at,
        "event_key": "ping-1",
        "ping": make_ping(timestamp=at),
        "speed_mps": 1.2,
        "distance_m": 0.0,
        "place_zone": ZONE,
        "consumer_zone": ZONE,
    }
    fields.update(overrides)
    return Candidate(**fields)


def make_moment(candidate: Candidate, **overrides: Any) -> Moment:
    """The moment ``candidate`` would fire (id from its event key)."""
    fields: dict[str, Any] = {
        "id": moment_id(
            candidate.rule.id, candidate.consumer_id, candidate.place.id, candidate.event_key
        ),
        "rule_id": candidate.rule.id,
        "consumer_id": candidate.consumer_id,
        "place_id": candidate.place.id,
        "trigger": candidate.trigger,
        "at": candidate.at,
        "expires_at": candidate.at + timedelta(seconds=candidate.rule.ttl_s),
        "channel": candidate.rule.action.channel,
        "message": "Hello",
        "priority": candidate.rule.priority,
        "relevance": 1.0,
    }
    fields.update(overrides)
    return Moment(**fields)
