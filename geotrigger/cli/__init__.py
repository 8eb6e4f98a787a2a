"""The command line of geotrigger.

Each command group lives in its own module, which exposes ``register(subparsers)``; that
function adds its sub-command and sets ``handler`` to a function ``(args) -> exit code``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from geotrigger import __version__
from geotrigger.errors import GeotriggerError

# Command modules, in the order their commands are listed in --help.
_COMMAND_MODULES = (
    "geotrigger.cli.places",
    "geotrigger.cli.rules",
    "geotrigger.cli.replay",
    "geotrigger.cli.demo",
    "geotrigger.cli.explain",
    "geotrigger.cli.db",
    "geotrigger.cli.weather",
    "geotrigger.cli.consumers",
    "geotrigger.cli.sweep",
    "geotrigger.cli.serve",
    "geotrigger.cli.keys",
    "geotrigger.cli.relay",
    "geotrigger.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="geotrigger", description="Location and environment trigger engine."
    )
    parser.add_argument("--version", action="version", version=f"geotrigger {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command group not built yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``geotrigger`` command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except GeotriggerError as exc:
        print(f"geotrigger: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
