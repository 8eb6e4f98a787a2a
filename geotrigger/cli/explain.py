"""``geotrigger explain``: why a moment did or did not fire for one consumer, in plain words.

Reads a decisions file (the JSON lines of ``geotrigger replay``; lines that are no decision are
skipped), keeps one consumer's decisions, optionally those within a window around a time, and
prints one line per decision in the local time of its place, then a one-line tally. Exits 1 when
the consumer has no decision there.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from geotrigger.cli.arguments import duration, instant
from geotrigger.moments.explain import DEFAULT_WINDOW, read_decisions, select, tally, tell


def register(subparsers: Any) -> None:
    """Add the ``explain`` command."""
    parser = subparsers.add_parser(
        "explain", help="tell why moments fired or not for one consumer, from a decisions file"
    )
    parser.add_argument("--decisions", required=True, metavar="FILE", help="JSON lines")
    parser.add_argument("--consumer", required=True, metavar="ID", help="the consumer id")
    parser.add_argument(
        "--at",
        type=instant,
        metavar="TIME",
        help="only decisions around this time: RFC 3339 with offset, or epoch seconds",
    )
    parser.add_argument(
        "--window",
        type=duration,
        default=DEFAULT_WINDOW,
        metavar="DUR",
        help="how far either side of --at (e.g. 30m, 1h30m, 90s; default 30m)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the consumer's decisions in words and the tally; 1 when there are none."""
    records = select(
        read_decisions(args.decisions), consumer_id=args.consumer, at=args.at, window=args.window
    )
    if not records:
        around = ""
        if args.at is not None:
            around = f" within {_minutes(args.window)} of {args.at:%Y-%m-%d %H:%M:%S} UTC"
        print(
            f"geotrigger: no decisions for consumer {args.consumer!r} in {args.decisions}{around}",
            file=sys.stderr,
        )
        return 1
    noun = "decision" if len(records) == 1 else "decisions"
    print(f"{len(records)} {noun} for {args.consumer}, in the local time of each place:")
    for line in tell(records):
        print(f"  {line}" if line else "")
    print(tally(records))
    return 0


def _minutes(window: timedelta) -> str:
    return f"{window.total_seconds() / 60:g} min"
