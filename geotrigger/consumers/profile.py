"""What we know about a consumer: traits, segments, consent, time zone and affinities.

Affinities are weights in [-1, 1] per tag ("green-tea": 0.9 likes, "coffee": -0.6 dislikes),
with optional overrides per daypart ("likes green tea, not coffee, in the afternoon"). A tag
with no weight is unknown, which is not the same as 0 (known indifference).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

TraitValue = str | float | bool

# The purpose every moment needs consent for (GDPR / ePrivacy: location-based marketing).
LOCATION_MARKETING = "location_marketing"


class Daypart(StrEnum):
    """Parts of the local day, by the hour the local time falls in."""

    MORNING = "morning"  # 05:00-11:00
    MIDDAY = "midday"  # 11:00-14:00
    AFTERNOON = "afternoon"  # 14:00-17:00
    EVENING = "evening"  # 17:00-22:00
    NIGHT = "night"  # 22:00-05:00


_DAYPART_STARTS = (
    (5, Daypart.MORNING),
    (11, Daypart.MIDDAY),
    (14, Daypart.AFTERNOON),
    (17, Daypart.EVENING),
    (22, Daypart.NIGHT),
)


def daypart_of(local: datetime) -> Daypart:
    """The daypart of a local wall-clock time (its hour decides)."""
    part = Daypart.NIGHT
    for start, name in _DAYPART_STARTS:
        if local.hour >= start:
            part = name
    return part


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping if isinstance(mapping, MappingProxyType) else MappingProxyType(dict(mapping))


def _check_weights(where: str, weights: Mapping[str, float]) -> None:
    for tag, weight in weights.items():
        if not (isinstance(weight, int | float) and math.isfinite(weight) and -1 <= weight <= 1):
            raise ValueError(f"affinity {where}{tag!r} must be a number in [-1, 1], got {weight!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Affinities:
    """Tag weights in [-1, 1], with per-daypart overrides."""

    base: Mapping[str, float] = field(default_factory=dict)
    by_daypart: Mapping[Daypart, Mapping[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_weights("", self.base)
        for part, weights in self.by_daypart.items():
            _check_weights(f"{Daypart(part).value}.", weights)
        object.__setattr__(self, "base", _frozen(self.base))
        object.__setattr__(
            self,
            "by_daypart",
            MappingProxyType({Daypart(k): _frozen(v) for k, v in self.by_daypart.items()}),
        )

    def weight(self, tag: str, daypart: Daypart) -> tuple[float, str] | None:
        """The weight of ``tag`` in ``daypart`` and where it came from (the daypart's name,
        or ``"base"``), or None when nothing is known about the tag."""
        part = self.by_daypart.get(daypart)
        if part is not None and tag in part:
            return part[tag], daypart.value
        if tag in self.base:
            return self.base[tag], "base"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Consumer:
    """A consumer profile. ``consent`` maps a purpose to whether it was given; a purpose not
    listed was never given. ``devices`` are the device ids that report for this consumer."""

    id: str
    traits: Mapping[str, TraitValue] = field(default_factory=dict)
    segments: frozenset[str] = frozenset()
    consent: Mapping[str, bool] = field(default_factory=dict)
    timezone: str | None = None  # IANA zone; quiet hours and calendar caps use it
    affinities: Affinities = field(default_factory=Affinities)
    devices: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ValueError("consumer id must be a non-empty string")
        object.__setattr__(self, "traits", _frozen(self.traits))
        object.__setattr__(self, "consent", _frozen(self.consent))

    def consents_to(self, purpose: str) -> bool:
        """Whether consent was given for ``purpose``."""
        return bool(self.consent.get(purpose, False))
