"""``geotrigger db``: create or migrate the database (Alembic), and say where it is.

The database is ``--database-url`` or ``GEOTRIGGER_DATABASE_URL`` (default: the embedded SQLite
file ``data/geotrigger.sqlite3``). Passwords in URLs are never printed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from geotrigger.cli.arguments import add_database_url
from geotrigger.config import load_settings
from geotrigger.errors import ConfigError
from geotrigger.store import migrations
from geotrigger.store.database import database_errors, parse_url, shown, transaction
from geotrigger.store.retention import prune


def register(subparsers: Any) -> None:
    """Add the ``db`` command group."""
    parser = subparsers.add_parser(
        "db", help="create or migrate the database", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    up = commands.add_parser("upgrade", help="create the database or bring it to the newest schema")
    up.add_argument("--revision", default="head", help="revision to go to (default: head)")
    down = commands.add_parser("downgrade", help="take the schema back to a revision")
    down.add_argument("revision", help="revision to go back to (base: no tables)")
    current = commands.add_parser("current", help="the database's schema revision")
    prune = commands.add_parser(
        "prune",
        help="delete what is older than its retention "
        "(decisions, raw pings, place changes, weather readings)",
    )
    for sub in (up, down, current, prune):
        add_database_url(sub)
    up.set_defaults(handler=run_upgrade)
    down.set_defaults(handler=run_downgrade)
    current.set_defaults(handler=run_current)
    prune.set_defaults(handler=run_prune)


def database_url(args: argparse.Namespace) -> str:
    """The URL of the database: the option, else the setting (checked)."""
    url = str(args.database_url or load_settings().database.url)
    parse_url(url)
    return url


def require_schema(url: str) -> None:
    """ConfigError unless the database at ``url`` has been made by ``geotrigger db upgrade``."""
    with database_errors(url):
        if migrations.current(url) is None:
            raise ConfigError(
                f"the database {shown(url)} has no schema yet: run geotrigger db upgrade first"
            )


def run_upgrade(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger db upgrade``."""
    url = database_url(args)
    with database_errors(url):
        migrations.upgrade(url, args.revision)
    print(f"{shown(url)}: schema at revision {migrations.current(url)}")
    return 0


def run_downgrade(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger db downgrade``."""
    url = database_url(args)
    with database_errors(url):
        migrations.downgrade(url, args.revision)
    print(f"{shown(url)}: schema at revision {migrations.current(url) or 'base (no tables)'}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger db current``."""
    url = database_url(args)
    with database_errors(url):
        revision = migrations.current(url)
    print(f"{shown(url)}: {revision or 'no schema yet (run: geotrigger db upgrade)'}")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger db prune``: the retention settings applied now, in one
    transaction; prints the rows deleted per table."""
    url = database_url(args)
    settings = load_settings().retention
    require_schema(url)
    with transaction(url) as conn:
        deleted = prune(conn, settings=settings, now=datetime.now(UTC))
    for table, rows in deleted.items():
        print(f"{shown(url)}: {table}: {rows:,} deleted")
    return 0
