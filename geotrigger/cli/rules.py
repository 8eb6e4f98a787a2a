"""``geotrigger rules check`` and ``geotrigger rules schema``.

``check`` prints every finding about the moments files, one line each
(``file line N: rule 'id': reason``), then a summary, and exits 1 when there is an error.
``schema`` writes the JSON Schema of the format, for editors.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from geotrigger.places import load_places_strict
from geotrigger.rules.loading import RuleLoadResult, load_rules
from geotrigger.rules.report import format_finding
from geotrigger.rules.schema import schema_text


def register(subparsers: Any) -> None:
    """Add ``rules check`` and ``rules schema`` to the command line."""
    rules = subparsers.add_parser("rules", help="check moments (rules) files, write their schema")
    sub = rules.add_subparsers(dest="rules_command", metavar="SUBCOMMAND", required=True)
    check = sub.add_parser("check", help="compile moments files and print every finding")
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    check.add_argument(
        "--places", nargs="+", metavar="PATH", help="check the place ids, tags and brands named"
    )
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(handler=run_check)
    schema = sub.add_parser("schema", help="write the JSON Schema of the moments format")
    schema.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    schema.set_defaults(handler=run_schema)


def run_check(args: argparse.Namespace) -> int:
    """Print the findings and a summary; 1 if any error, else 0."""
    places = None
    if args.places:
        places = {p.id: p for p in load_places_strict(args.places).places}
    result = load_rules(args.paths, places=places)
    if args.json:
        doc = {"summary": _summary(result), "findings": [_json(f) for f in result.findings]}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for finding in result.findings:
            print(format_finding(finding))
        s = _summary(result)
        print(f"{s['rules']} rules loaded; {s['errors']} errors, {s['warnings']} warnings")
    return 1 if result.errors else 0


def _summary(result: RuleLoadResult) -> dict[str, int]:
    return {
        "rules": result.rule_count,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
    }


def _json(finding: Any) -> dict[str, Any]:
    doc = finding.to_json()
    doc["rule"] = doc.pop("place")
    doc.pop("feature")
    return doc


def run_schema(args: argparse.Namespace) -> int:
    """Write the schema to ``--out`` or stdout."""
    text = schema_text()
    if args.out is None:
        print(text, end="")
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"geotrigger: error: cannot write {args.out}: {exc.strerror or exc}")
        return 1
    return 0
