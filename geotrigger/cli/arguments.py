"""Argument types shared by commands: an instant and a duration, parsed by the project's own
parsers so that every command accepts the same forms and refuses the same mistakes."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from geotrigger.errors import PingError
from geotrigger.pings import parse_timestamp
from geotrigger.rules.durations import parse_duration


def instant(text: str) -> datetime:
    """An aware UTC time: RFC 3339 with an offset (or Z), or epoch seconds."""
    try:
        return parse_timestamp(text)
    except PingError as exc:
        raise argparse.ArgumentTypeError(exc.reason.replace("field 'timestamp': ", "")) from exc


def duration(text: str) -> timedelta:
    """A duration such as ``90s``, ``30m``, ``1h30m``, ``1d``, or a number of seconds."""
    try:
        value: object = float(text)
    except ValueError:
        value = text
    try:
        return timedelta(seconds=parse_duration(value))
    except (ValueError, OverflowError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
