"""Places: reading them from YAML, GeoJSON and CSV, checking them, and their opening hours.

The public API::

    load_places(paths, *, fix=False, defaults=None) -> LoadResult
    load_places_strict(paths, *, defaults=None) -> LoadResult   # raises PlaceError on errors
    parse_opening_hours(expression, timezone) -> OsmOpeningHours  # raises HoursError
"""

from geotrigger.places.findings import Finding, Severity
from geotrigger.places.loading import LoadResult, load_places, load_places_strict
from geotrigger.places.opening_hours import OsmOpeningHours, parse_opening_hours
from geotrigger.places.raw import LoadDefaults

__all__ = [
    "Finding",
    "LoadDefaults",
    "LoadResult",
    "OsmOpeningHours",
    "Severity",
    "load_places",
    "load_places_strict",
    "parse_opening_hours",
]
