"""``geotrigger relay``: deliver fired moments from the outbox to the webhook destinations.

The destinations are those of ``GEOTRIGGER_WEBHOOKS``, each configured by its
``GEOTRIGGER_WEBHOOK_<NAME>_*`` variables (see :mod:`geotrigger.delivery.destinations`).
``--once`` makes one run and prints its counts; without it the relay runs in the foreground
until interrupted (Ctrl-C, SIGTERM), printing a line for each run that found work. Several
relays may run against one database: none takes another's delivery.
"""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any

from geotrigger.cli.arguments import add_database_url, stop_on_signals
from geotrigger.cli.db import database_url
from geotrigger.delivery.destinations import destinations_from_env
from geotrigger.delivery.relay import Relay, RelayReport
from geotrigger.store.database import connect, database_errors


def register(subparsers: Any) -> None:
    """Add ``relay``."""
    parser = subparsers.add_parser(
        "relay", help="deliver fired moments to the webhook destinations (signed, retried)"
    )
    parser.add_argument("--once", action="store_true", help="one run, then exit")
    add_database_url(parser)
    parser.add_argument(
        "--idle",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="the pause between runs that found nothing to do (default: 1)",
    )
    parser.set_defaults(handler=run_relay)


def run_relay(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger relay``."""
    url = database_url(args)
    destinations = destinations_from_env(os.environ)
    engine = connect(url)
    try:
        with database_errors(url), Relay(engine, destinations) as relay:
            if args.once:
                print(relay.run_once().summary(), flush=True)
                return 0
            for destination in destinations:
                channels = ", ".join(sorted(destination.channels)) or "every channel"
                print(f"relay: {destination.name} ({channels})", flush=True)
            stop = threading.Event()
            restore = stop_on_signals(stop)
            try:
                relay.run(stop, idle_s=max(args.idle, 0.01), on_report=_print)
            finally:
                restore()
    finally:
        engine.dispose()
    print("relay: stopped", flush=True)
    return 0


def _print(report: RelayReport) -> None:
    print(report.summary(), flush=True)
