"""``geotrigger consumers apply``: consumer profiles from files into the database.

Profiles (JSON Lines or YAML, checked as ``replay --consumers`` checks them) are inserted or
replaced, each printing what it is: ``+`` added, ``~`` changed. Consumers the files do not
name are left as they are: removing a person is an erasure, never a side effect of a sync.
Consent comes from files only for a consumer the database does not hold yet: once stored, it
is changed by the person's own choice (the consent API), never by a sync, so a withdrawal is
not undone by applying the files again.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geotrigger.cli.arguments import add_database_url
from geotrigger.cli.db import database_url
from geotrigger.consumers import load_consumers
from geotrigger.store import consumers as repo
from geotrigger.store.database import transaction


def register(subparsers: Any) -> None:
    """Add ``consumers apply``."""
    group = subparsers.add_parser("consumers", help="consumer profiles in the database")
    sub = group.add_subparsers(dest="consumers_command", metavar="COMMAND", required=True)
    apply = sub.add_parser("apply", help="insert or replace the profiles of files")
    apply.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    add_database_url(apply)
    apply.add_argument("--dry-run", action="store_true", help="print what would change")
    apply.set_defaults(handler=run_apply)


def run_apply(args: argparse.Namespace) -> int:
    """Load the files (all or nothing), then save the profiles that differ."""
    directory = load_consumers(args.paths)
    added = changed = unchanged = 0
    now = datetime.now(UTC)
    with transaction(database_url(args)) as conn:
        for given in sorted(directory, key=lambda c: c.id):
            held = repo.load_consumer(conn, consumer_id=given.id)
            consumer = given if held is None else replace(given, consent=held.consent)
            if held == consumer:
                unchanged += 1
                continue
            print(f"{'+' if held is None else '~'} {consumer.id}")
            if held is None:
                added += 1
            else:
                changed += 1
            if not args.dry_run:
                repo.save_consumer(conn, consumer=consumer, now=now)
    print(f"{added} added, {changed} changed, {unchanged} unchanged")
    if args.dry_run:
        print("dry run: nothing saved")
    return 0
