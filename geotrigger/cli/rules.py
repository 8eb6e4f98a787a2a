"""``geotrigger rules check``, ``geotrigger rules schema`` and ``geotrigger rules apply``.

``check`` prints every finding about the moments files, one line each
(``file line N: rule 'id': reason``), then a summary, and exits 1 when there is an error.
``schema`` writes the JSON Schema of the format, for editors. ``apply`` checks the files the
same way (an error: exit 1, nothing saved), prints what changes from the active rule set by
rule id (``+`` added, ``~`` its YAML changed, ``-`` removed) and the version, and saves the
files as the active version in the database (unless ``--dry-run``).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from geotrigger.cli.arguments import add_database_url
from geotrigger.model import Place
from geotrigger.places import load_places_strict
from geotrigger.rules.loading import RuleLoadResult, load_rules, load_rules_texts, read_rule_files
from geotrigger.rules.report import format_finding
from geotrigger.rules.schema import schema_text


def register(subparsers: Any) -> None:
    """Add ``rules check``, ``rules schema`` and ``rules apply`` to the command line."""
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
    register_apply(sub)


def run_check(args: argparse.Namespace) -> int:
    """Print the findings and a summary; 1 if any error, else 0."""
    places = _places_by_id(args.places)
    result = load_rules(args.paths, places=places)
    if args.json:
        doc = {"summary": _summary(result), "findings": [_json(f) for f in result.findings]}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for finding in result.findings:
            print(format_finding(finding))
        print(_summary_line(result))
    return 1 if result.errors else 0


def _summary(result: RuleLoadResult) -> dict[str, int]:
    return {
        "rules": result.rule_count,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
    }


def _summary_line(result: RuleLoadResult) -> str:
    s = _summary(result)
    return f"{s['rules']} rules loaded; {s['errors']} errors, {s['warnings']} warnings"


def _places_by_id(paths: list[str] | None) -> dict[str, Place] | None:
    """The places of ``--places`` by id, to check the rules against; None without it."""
    if not paths:
        return None
    return {p.id: p for p in load_places_strict(paths).places}


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


def register_apply(sub: Any) -> None:
    """Add ``rules apply`` to the ``rules`` command group."""
    apply = sub.add_parser("apply", help="check moments files and save them as the active rules")
    apply.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    apply.add_argument(
        "--places", nargs="+", metavar="PATH", help="check the place ids, tags and brands named"
    )
    add_database_url(apply)
    apply.add_argument("--dry-run", action="store_true", help="print the diff, save nothing")
    apply.set_defaults(handler=run_apply)


def run_apply(args: argparse.Namespace) -> int:
    """Check the files (1 on an error), print the diff and the version, save unless a dry run."""
    places = _places_by_id(args.places)
    texts, findings = read_rule_files(args.paths)
    # Names as given, without "./", so that the same files applied again are the same version.
    texts = [(PurePath(name).as_posix(), text) for name, text in texts]
    result = load_rules_texts(texts, places=places, findings=findings)
    for finding in result.findings:
        print(format_finding(finding))
    print(_summary_line(result))
    if result.errors:
        print("nothing saved: the moments have errors")
        return 1
    for line in _save(args, dict(texts)):
        print(line)
    return 0


def _save(args: argparse.Namespace, sources: dict[str, str]) -> list[str]:
    """The lines to print: the diff by rule id and the version (saved unless a dry run)."""
    from geotrigger.cli.db import database_url
    from geotrigger.store import rule_sets as repo
    from geotrigger.store.database import transaction

    with transaction(database_url(args)) as conn:
        repo.require_rule_sets_table(conn)
        active = repo.active_rule_set(conn)
        diff = repo.diff_rule_sets(active.sources if active else None, sources)
        existing = repo.find_rule_set(conn, checksum=repo.rule_set_checksum(sources))
        saved = existing
        if not args.dry_run:
            saved = repo.save_rule_set(conn, sources=sources, now=datetime.now(UTC))
    lines = [f"+ {i}" for i in diff.added] + [f"~ {i}" for i in diff.changed]
    lines += [f"- {i}" for i in diff.removed]
    if saved is None:  # a dry run of files never saved
        lines.append("a new version")
    elif active is not None and saved.version == active.version:
        lines.append(f"version {saved.version} (unchanged)")
    else:
        lines.append(f"version {saved.version} ({'active again' if existing else 'new'})")
    if args.dry_run:
        lines.append("dry run: the database was not changed")
    return lines
