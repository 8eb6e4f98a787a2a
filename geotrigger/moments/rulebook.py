"""Which rules apply where: a rule set bound to the places it can fire at.

Selectors (ids, tags, brands) are resolved once, when the book is built, so that finding the
rules of a transition is one dictionary lookup on the hot path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from geotrigger.model import Place
from geotrigger.rules.model import (
    PlaceTrigger,
    Rule,
    RuleSet,
    SignalTrigger,
    TriggerKind,
    WeatherTrigger,
)


class RuleBook:
    """A rule set bound to a set of places."""

    def __init__(self, rule_set: RuleSet, places: Iterable[Place]) -> None:
        self.rule_set = rule_set
        self.places: dict[str, Place] = {p.id: p for p in places}
        by_place: dict[tuple[TriggerKind, str], list[Rule]] = defaultdict(list)
        self.chosen: dict[str, frozenset[str]] = {}  # rule id -> ids of the places it chose
        for rule in rule_set.rules:
            chosen = frozenset(p.id for p in self.places.values() if rule.trigger.places.matches(p))
            self.chosen[rule.id] = chosen
            if isinstance(rule.trigger, PlaceTrigger):
                for place_id in chosen:
                    by_place[(rule.trigger.kind, place_id)].append(rule)
        self._by_place: dict[tuple[TriggerKind, str], tuple[Rule, ...]] = {
            key: tuple(rules) for key, rules in by_place.items()
        }
        self.weather_rules = tuple(
            r for r in rule_set.rules if isinstance(r.trigger, WeatherTrigger)
        )
        self.signal_rules = tuple(r for r in rule_set.rules if isinstance(r.trigger, SignalTrigger))
        # places whose exits matter: re-eligibility ("must leave before it fires again")
        self.watched: frozenset[str] = frozenset().union(*self.chosen.values())

    def upsert(self, place: Place) -> None:
        """Add a place or replace it: the rules whose selectors choose it now apply there."""
        self.remove(place.id)
        self.places[place.id] = place
        by_place: dict[tuple[TriggerKind, str], list[Rule]] = defaultdict(list)
        for rule in self.rule_set.rules:
            if rule.trigger.places.matches(place):
                self.chosen[rule.id] = self.chosen[rule.id] | {place.id}
                self.watched = self.watched | {place.id}
                if isinstance(rule.trigger, PlaceTrigger):
                    by_place[(rule.trigger.kind, place.id)].append(rule)
        self._by_place.update((key, tuple(rules)) for key, rules in by_place.items())

    def remove(self, place_id: str) -> None:
        """Forget a place (nothing when it is not known)."""
        if self.places.pop(place_id, None) is None:
            return
        for rule_id, chosen in self.chosen.items():
            if place_id in chosen:
                self.chosen[rule_id] = chosen - {place_id}
        self.watched = self.watched - {place_id}
        for kind in TriggerKind:
            self._by_place.pop((kind, place_id), None)

    def for_transition(self, kind: TriggerKind, place_id: str) -> tuple[Rule, ...]:
        """The place-triggered rules of an enter, dwell or exit at a place."""
        return self._by_place.get((kind, place_id), ())

    @property
    def reach_m(self) -> float:
        """The widest distance from a place any weather or signal rule looks at."""
        reaches = [
            r.trigger.within_m
            for r in (*self.weather_rules, *self.signal_rules)
            if isinstance(r.trigger, WeatherTrigger | SignalTrigger)
        ]
        return max(reaches, default=0.0)

    @property
    def max_fresh_s(self) -> float:
        """The longest a last location stays fresh for any weather rule."""
        return max(
            (
                r.trigger.fresh_s
                for r in self.weather_rules
                if isinstance(r.trigger, WeatherTrigger)
            ),
            default=0.0,
        )
