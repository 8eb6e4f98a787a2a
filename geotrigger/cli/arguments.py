"""What commands share: argument types (an instant and a duration, parsed by the project's own
parsers so that every command accepts the same forms and refuses the same mistakes), the
``--database-url`` option, and the signals that end a foreground loop."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

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


def add_database_url(parser: argparse.ArgumentParser) -> None:
    """The ``--database-url`` option of a command working on the database (read by
    :func:`geotrigger.cli.db.database_url`)."""
    parser.add_argument("--database-url", metavar="URL", help="default: GEOTRIGGER_DATABASE_URL")


def stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set ``stop`` (a foreground loop then ends cleanly); the returned
    function puts the old handlers back."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)

    return restore
