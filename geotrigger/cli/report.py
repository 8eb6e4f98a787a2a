"""``geotrigger report``: what the moments achieved, per rule, from the database.

Over a range of decisions (``--since``, ``--until``: their event times), each rule's funnel
(candidates, matched, suppressed by gate, not matched by condition, fired, would have fired),
the outcomes of its moments (delivered, opened, converted) and, for a rule with a holdout
group, the conversion rates of the treated and control groups and the lift, as a table or as
JSON (``--json``). The report names rules and counts only, never a consumer.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from geotrigger.cli.arguments import add_database_url, instant
from geotrigger.cli.db import database_url, require_schema
from geotrigger.errors import ConfigError
from geotrigger.moments.report import format_report, report_document
from geotrigger.store.database import transaction
from geotrigger.store.report import load_report


def register(subparsers: Any) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser(
        "report",
        help="per rule: the funnel, delivered, opened, converted, and the lift over holdout",
        description="Per rule, over a range of decisions: the funnel, the moments delivered, "
        "opened and converted, and for a rule with a holdout group the lift over it.",
    )
    parser.add_argument(
        "--since",
        type=instant,
        metavar="TIME",
        help="decisions at or after TIME (RFC 3339 or epoch seconds; default: the first)",
    )
    parser.add_argument(
        "--until", type=instant, metavar="TIME", help="decisions before TIME (default: all)"
    )
    parser.add_argument(
        "--rule", nargs="+", action="extend", metavar="ID", help="only these rules (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document instead")
    add_database_url(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger report``."""
    if args.since is not None and args.until is not None and args.since >= args.until:
        raise ConfigError(f"--since {args.since.isoformat()} is not before --until")
    url = database_url(args)
    require_schema(url)
    rule_ids = list(dict.fromkeys(args.rule or ()))
    with transaction(url) as conn:
        report = load_report(conn, since=args.since, until=args.until, rule_ids=rule_ids)
    if args.json:
        print(orjson.dumps(report_document(report), option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_report(report))
    return 0
