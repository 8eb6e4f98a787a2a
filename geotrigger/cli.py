"""The command line of geotrigger: places check and match, replay, demo."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``geotrigger`` command."""
    print("geotrigger: commands are being built", file=sys.stderr)
    return 2
