"""Consumers: profiles (traits, segments, consent, time zone, affinities) and loading them."""

from geotrigger.consumers.directory import ConsumerDirectory, pseudonymous_id
from geotrigger.consumers.loading import load_consumers
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
    "ConsumerDirectory",
    "Daypart",
    "TraitValue",
    "daypart_of",
    "load_consumers",
    "pseudonymous_id",
]
