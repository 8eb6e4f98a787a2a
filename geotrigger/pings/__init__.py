"""Pings: parsing records and files (JSON Lines, CSV, GPX) and the filters before matching."""

from geotrigger.pings.files import FORMATS, read_numbered, read_pings
from geotrigger.pings.filters import PingFilter
from geotrigger.pings.parse import parse_ping, parse_timestamp

__all__ = ["FORMATS", "PingFilter", "parse_ping", "parse_timestamp", "read_numbered", "read_pings"]
