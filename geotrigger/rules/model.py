"""Compiled moments (rules): typed, validated specs. Evaluation never parses anything.

A rule set is compiled from YAML (``rules/moments/*.yaml``) by :mod:`geotrigger.rules.compile`;
every value here has been checked and every name resolved. The evaluation of these specs
(conditions, relevance, suppression gates) lives in :mod:`geotrigger.moments`.

Durations are seconds (``*_s``), distances metres, speeds metres per second. Local times of
day are ``datetime.time`` in the zone the evaluation names (the place's for conditions, the
consumer's for quiet hours and calendar caps).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from geotrigger.consumers.profile import TraitValue
from geotrigger.errors import Where
from geotrigger.model import Place
from geotrigger.weather.reading import WeatherChangeKind

FORMAT_VERSION = 1


class Mode(StrEnum):
    """``live`` rules fire; ``monitor`` rules are evaluated and recorded, never fired."""

    LIVE = "live"
    MONITOR = "monitor"


class TriggerKind(StrEnum):
    """What starts the evaluation of a rule for a consumer."""

    ENTER = "enter"
    DWELL = "dwell"
    EXIT = "exit"
    WEATHER = "weather"  # a weather change at a place near the consumer
    SIGNAL = "signal"  # a device signal crossing a threshold near a place


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceSelector:
    """Places chosen by id, tag or brand: a place is chosen when any one of them matches."""

    ids: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not (self.ids or self.tags or self.brands):
            raise ValueError("a place selector needs at least one of ids, tags, brands")

    def matches(self, place: Place) -> bool:
        """Whether ``place`` is chosen."""
        return (
            place.id in self.ids
            or (place.brand is not None and place.brand in self.brands)
            or not self.tags.isdisjoint(place.tags)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceTrigger:
    """``enter``, ``dwell`` or ``exit`` of a chosen place."""

    kind: TriggerKind  # ENTER, DWELL or EXIT
    places: PlaceSelector


@dataclass(frozen=True, slots=True, kw_only=True)
class WeatherTrigger:
    """A weather change at a chosen place near the consumer: a condition starts or ends
    (``condition`` is a :class:`~geotrigger.weather.WeatherCondition` value or ``"wet"``), or
    a numeric field (``field``) rises above or falls below ``threshold``.

    It is evaluated for consumers whose last accepted location is at most ``fresh_s`` old and
    within ``within_m`` of a chosen place covered by the reading that changed.
    """

    places: PlaceSelector
    change: WeatherChangeKind
    condition: str | None = None  # for STARTS / ENDS
    field: str | None = None  # for RISES_ABOVE / FALLS_BELOW: a weather NUMERIC_FIELDS name
    threshold: float | None = None
    within_m: float = 200.0
    fresh_s: float = 900.0
    kind: TriggerKind = TriggerKind.WEATHER


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalTrigger:
    """A device signal (``ping.signals[signal]``) crossing ``threshold`` from one accepted
    ping to the next (RISES_ABOVE: previous below, now at or above; FALLS_BELOW the mirror; a
    device's first value counts as crossing when it is past the threshold), while the device
    is within ``within_m`` of a chosen place."""

    places: PlaceSelector
    signal: str
    change: WeatherChangeKind  # RISES_ABOVE or FALLS_BELOW
    threshold: float
    within_m: float = 150.0
    kind: TriggerKind = TriggerKind.SIGNAL


Trigger = PlaceTrigger | WeatherTrigger | SignalTrigger


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberRange:
    """Inclusive bounds; either may be open (None)."""

    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"range bound {bound!r} is not a finite number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"range min {self.min:g} is above max {self.max:g}")

    def contains(self, value: float) -> bool:
        """Whether ``value`` is within the bounds."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclass(frozen=True, slots=True, kw_only=True)
class WeatherTest:
    """The weather at the place: any of ``conditions`` (values of WeatherCondition, or
    ``"wet"``), numeric fields within ranges, and a reading at most ``max_age_s`` old."""

    conditions: frozenset[str] = frozenset()
    ranges: Mapping[str, NumberRange] = field(default_factory=dict)
    max_age_s: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalTimeWindow:
    """A window of the local day (``end`` before ``start`` runs past midnight), on ``days``
    (0 = Monday ... 6 = Sunday; the day the window *starts* on)."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentTest:
    """Segments the consumer must be in (``any_of``: at least one, ``all_of``: every one)
    and must not be in (``none_of``)."""

    any_of: frozenset[str] = frozenset()
    all_of: frozenset[str] = frozenset()
    none_of: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class TraitTest:
    """One trait of the consumer: equal to ``equals``, among ``one_of``, not among
    ``none_of``, or a number within ``range``. A missing trait fails the test."""

    name: str
    equals: TraitValue | None = None
    one_of: frozenset[TraitValue] = frozenset()
    none_of: frozenset[TraitValue] = frozenset()
    range: NumberRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditions:
    """Everything that must hold for a candidate to match, evaluated in this order:
    distance, speed, local time, open now, weather, signals, segments, traits."""

    distance_m: NumberRange | None = None
    speed_mps: NumberRange | None = None
    local_time: LocalTimeWindow | None = None
    open_now: bool | None = None  # True: must be open; False: must be closed
    weather: WeatherTest | None = None
    signals: Mapping[str, NumberRange] = field(default_factory=dict)
    segments: SegmentTest | None = None
    traits: tuple[TraitTest, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Relevance:
    """How the relevance score is computed for this rule (see :mod:`geotrigger.moments.relevance`):
    ``offer_tags`` (what the offer is about; the place's tags count too), the least score
    that fires, and an optional fit per weather condition with its weight in the score."""

    offer_tags: frozenset[str] = frozenset()
    min_relevance: float = 0.3
    weather_fit: Mapping[str, float] = field(default_factory=dict)
    weather_weight: float = 0.3


class Scope(StrEnum):
    """What a frequency cap counts moments over."""

    CONSUMER_RULE = "consumer_rule"  # one consumer, one rule
    CONSUMER = "consumer"  # one consumer, all rules
    CONSUMER_PLACE = "consumer_place"  # one consumer, one place, all rules
    PLACE = "place"  # one place, all consumers and rules
    RULE = "rule"  # one rule, all consumers
    WEATHER_EVENT = "weather_event"  # one consumer, one weather spell (e.g. a rain spell)


class WindowKind(StrEnum):
    """How a cap's window is laid out in time."""

    ROLLING = "rolling"  # the last ``length_s`` seconds up to the candidate
    CALENDAR_DAY = "calendar_day"  # the consumer's local day (23 or 25 h across DST changes)
    CALENDAR_WEEK = "calendar_week"  # the consumer's local week, Monday to Sunday
    FIXED = "fixed"  # back-to-back windows of ``length_s`` from ``anchor``
    FOREVER = "forever"  # no window: ever (the default of weather-event caps: one per spell)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The window a cap counts in."""

    kind: WindowKind
    length_s: float | None = None  # ROLLING and FIXED
    anchor: datetime | None = None  # FIXED (UTC); default the Unix epoch


@dataclass(frozen=True, slots=True, kw_only=True)
class Cap:
    """At most ``max`` moments per ``scope`` within ``window``. ``label`` is how traces name
    it, e.g. ``"consumer_rule 1 per calendar_day"``."""

    scope: Scope
    max: int
    window: Window
    label: str


class Reentry(StrEnum):
    """When a rule may fire again for a consumer at the same place."""

    AFTER_EXIT = "after_exit"  # only once the consumer has left the place since it fired
    ANY = "any"  # whenever the cooldown allows


@dataclass(frozen=True, slots=True, kw_only=True)
class QuietHours:
    """Hours of the consumer's local day when nothing is sent (``end`` before ``start``:
    the quiet time runs past midnight, e.g. 21:00-08:00)."""

    start: time
    end: time


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """A rule's suppression settings."""

    max_accuracy_m: float = 65.0  # a fix less accurate than this says too little
    max_speed_mps: float = 7.0  # ~25 km/h: faster is driving past
    quiet_hours: QuietHours | None = None
    cooldown_s: float = 0.0  # after a fire, no fire of this rule to this consumer here
    reentry: Reentry = Reentry.AFTER_EXIT
    caps: tuple[Cap, ...] = ()
    holdout: float = 0.0  # share of consumers in the control group, [0, 1)
    daily_budget: int | None = None  # most moments of this rule per day, all consumers


class MessageTemplate(Protocol):
    """A compiled message template (see :mod:`geotrigger.rules.template`)."""

    @property
    def text(self) -> str:
        """The template as written."""
        ...

    @property
    def variables(self) -> frozenset[str]:
        """The variables it uses, e.g. ``place.name``."""
        ...

    def render(self, values: Mapping[str, object]) -> str:
        """The message with ``values`` (by variable name) filled in."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """What a fired moment sends: a channel and a message, plus data passed through."""

    channel: str  # push, sms, email, in_app, webhook
    message: MessageTemplate
    data: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One compiled moment rule."""

    id: str
    description: str
    priority: int  # higher wins a conflict
    mode: Mode
    trigger: Trigger
    conditions: Conditions
    relevance: Relevance
    suppression: Suppression
    ttl_s: float  # a moment not delivered within this time after its event is never sent
    action: Action
    where: Where = field(default_factory=Where)  # file and line of the rule's id


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """What applies across rules: global frequency caps, the least time between any two
    moments to one consumer, and the zone whose calendar day daily budgets count in."""

    caps: tuple[Cap, ...] = ()
    min_spacing_s: float = 0.0
    budget_timezone: str = "UTC"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """A compiled, consistent set of rules (ids unique) and the policy."""

    rules: tuple[Rule, ...]
    policy: Policy = field(default_factory=Policy)
    sources: tuple[str, ...] = ()  # the files it came from

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, if any."""
        return next((r for r in self.rules if r.id == rule_id), None)
