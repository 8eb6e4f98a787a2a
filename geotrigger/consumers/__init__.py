"""Consumers: profiles (traits, segments, consent, time zone, affinities) and loading them."""

from geotrigger.consumers.profile import (
    LOCATION_MARKETING,
    Affinities,
    Consumer,
    Daypart,
    TraitValue,
    daypart_of,
)

__all__ = [
    "LOCATION_MARKETING",
    "Affinities",
    "Consumer",
    "Daypart",
    "TraitValue",
    "daypart_of",
]
