"""Pings: parsing records and files (JSON Lines, CSV, GPX) and the filters before matching."""

from geotrigger.pings.files import FORMATS, read_numbered, read_pings
from geotrigger.pings.filters import PingFilter
from geotrigger.pings.osmand import parse_osmand
from geotrigger.pings.overland import parse_overland
from geotrigger.pings.owntracks import parse_owntracks
from geotrigger.pings.parse import parse_ping, parse_timestamp

__all__ = [
    "FORMATS",
    "PingFilter",
    "parse_osmand",
    "parse_overland",
    "parse_owntracks",
    "parse_ping",
    "parse_timestamp",
    "read_numbered",
    "read_pings",
]
