"""``geotrigger places check``, ``geotrigger places match`` and ``geotrigger places apply``.

``check`` prints every finding about the places, one line each, then a summary, and exits 1
when there is an error. ``match`` answers "where would this ping land?": one JSON line per ping
with the ids of the places that cover it (accuracy ignored). ``apply`` makes the database
hold exactly the places of the files: it prints what it adds (``+``), changes (``~``, with the
fields) and removes (``-``), then does it in one transaction (unless ``--dry-run``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import IO, TYPE_CHECKING, Any

from geotrigger.cli.arguments import add_database_url
from geotrigger.model import Ping, Rejection
from geotrigger.places import LoadDefaults, LoadResult, load_places, load_places_strict
from geotrigger.places.zones import timezone_problem
from geotrigger.spatial import PlaceIndex

if TYPE_CHECKING:
    from geotrigger.store.places import PlaceDiff

BATCH = 4096  # pings per call of the index: amortises the batch path, keeps memory flat
SHOW_MALFORMED = 20  # malformed records listed one by one; the rest are counted


def register(subparsers: Any) -> None:
    """Add ``places check``, ``places match`` and ``places apply`` to the command line."""
    places = subparsers.add_parser("places", help="check places, match pings against them")
    sub = places.add_subparsers(dest="places_command", metavar="SUBCOMMAND", required=True)
    check = sub.add_parser("check", help="validate place files and print the findings")
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    check.add_argument("--fix", action="store_true", help="repair what can be repaired")
    check.add_argument("--format", choices=("text", "json"), default="text")
    add_source_arguments(check)
    check.set_defaults(handler=run_check)
    match = sub.add_parser("match", help="which places cover each ping (JSON lines)")
    match.add_argument("--places", nargs="+", required=True, metavar="PATH")
    match.add_argument("--pings", required=True, metavar="FILE")
    match.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    add_source_arguments(match)
    match.set_defaults(handler=run_match)
    register_apply(sub)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Options for reading places that any command loading places can offer."""
    parser.add_argument(
        "--default-radius",
        type=float,
        metavar="M",
        help="radius in metres for points and circles that give none",
    )
    parser.add_argument(
        "--timezone",
        type=_zone,
        metavar="ZONE",
        help="IANA time zone assumed for places with opening hours and no zone",
    )


def _zone(value: str) -> str:
    """An IANA zone name, checked when the arguments are parsed (a usage error if not)."""
    problem = timezone_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def defaults_from_args(args: argparse.Namespace) -> LoadDefaults:
    """The loader defaults given on the command line."""
    return LoadDefaults(timezone=args.timezone, radius_m=args.default_radius)


def run_check(args: argparse.Namespace) -> int:
    """Print the findings and a summary; 1 if any error, else 0."""
    result = load_places(args.paths, fix=args.fix, defaults=defaults_from_args(args))
    if args.format == "json":
        doc = {"summary": _summary(result), "findings": [f.to_json() for f in result.findings]}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for finding in result.findings:
            print(finding.format())
        print(_summary_line(result))
    return 1 if result.errors else 0


def _summary(result: LoadResult) -> dict[str, int]:
    return {
        "places": len(result.places),
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "repaired": len(result.repaired),
    }


def _summary_line(result: LoadResult) -> str:
    s = _summary(result)
    line = f"{s['places']} places loaded; {s['errors']} errors, {s['warnings']} warnings"
    if s["repaired"]:
        line += f", {s['repaired']} repaired"
    return line


def run_match(args: argparse.Namespace) -> int:
    """Write one JSON line per ping with the sorted ids of the places covering it.

    Malformed records are skipped and listed on stderr; 1 when every record was malformed.
    The pings are opened before the output, so a bad input never truncates it.
    """
    from geotrigger.pings.files import read_numbered  # a sibling layer, needed only here

    places = load_places_strict(args.places, defaults=defaults_from_args(args)).places
    index = PlaceIndex(places)
    records = iter(read_numbered(args.pings))
    chunk = list(islice(records, BATCH))
    shown: list[tuple[int, Rejection]] = []  # the first malformed records; the rest counted
    matched = malformed = 0
    try:
        with _output(args.out) as out:
            while chunk:
                pings = [item for _, item in chunk if isinstance(item, Ping)]
                bad = [(n, r) for n, r in chunk if isinstance(r, Rejection)]
                shown.extend(bad[: SHOW_MALFORMED - len(shown)])
                _write_matches(index, pings, out)
                matched, malformed = matched + len(pings), malformed + len(bad)
                chunk = list(islice(records, BATCH))
    except _WriteError as exc:
        print(f"geotrigger: error: {exc}", file=sys.stderr)
        return 1
    _report_malformed(args.pings, shown, malformed)
    return 1 if malformed and not matched else 0


def _report_malformed(source: str, shown: list[tuple[int, Rejection]], total: int) -> None:
    for line, rejection in shown:
        print(f"geotrigger: {source}:{line}: skipped: {rejection.detail}", file=sys.stderr)
    if total > len(shown):
        more = total - len(shown)
        print(f"geotrigger: ... and {more} more malformed records", file=sys.stderr)
    if total:
        print(f"geotrigger: {total} malformed records skipped", file=sys.stderr)


def _write_matches(index: PlaceIndex, pings: list[Ping], out: _Sink) -> None:
    if not pings:
        return
    matches = index.match([p.lat for p in pings], [p.lon for p in pings])
    for i, ping in enumerate(pings):
        row = {"ping_id": ping.id, "device_id": ping.device_id, "places": matches.ids(i)}
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


class _WriteError(Exception):
    """The output file could not be opened or written; the message names it and why."""


class _Sink:
    """Lines to stdout, or to a file whose OSErrors become :class:`_WriteError`."""

    def __init__(self, handle: IO[str], path: str | None) -> None:
        self.handle, self.path = handle, path

    def write(self, text: str) -> None:
        if self.path is None:
            self.handle.write(text)  # stdout: a closed pipe is the caller's business
            return
        try:
            self.handle.write(text)
        except OSError as exc:
            raise _WriteError(_cannot_write(self.path, exc)) from exc


def _cannot_write(path: str, exc: OSError) -> str:
    return f"cannot write {path}: {exc.strerror or exc}"


@contextmanager
def _output(path: str | None) -> Iterator[_Sink]:
    if path is None:
        yield _Sink(sys.stdout, None)
        return
    try:
        handle = open(path, "w", encoding="utf-8")  # noqa: SIM115  # closed below, checked
    except OSError as exc:
        raise _WriteError(_cannot_write(path, exc)) from exc
    try:
        yield _Sink(handle, path)
    finally:
        try:
            handle.close()  # flushes: a full disk shows here
        except OSError as exc:
            raise _WriteError(_cannot_write(path, exc)) from exc


def register_apply(sub: Any) -> None:
    """Add ``places apply`` to the ``places`` command group."""
    apply = sub.add_parser("apply", help="make the database hold exactly the places of files")
    apply.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    add_database_url(apply)
    apply.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    add_source_arguments(apply)
    apply.set_defaults(handler=run_apply)


def run_apply(args: argparse.Namespace) -> int:
    """Print the diff between the files and the database, and apply it unless a dry run."""
    from geotrigger.cli.db import database_url
    from geotrigger.store.database import transaction
    from geotrigger.store.places import apply_places, diff_places, require_places_table

    places = load_places_strict(args.paths, defaults=defaults_from_args(args)).places
    url = database_url(args)
    with transaction(url) as conn:
        require_places_table(conn)
        if args.dry_run:
            diff = diff_places(conn, places=places)
        else:
            diff = apply_places(conn, places=places, now=datetime.now(UTC))
    _print_diff(diff, {place.id: place.name for place in places})
    if args.dry_run:
        print("dry run: the database was not changed")
    return 0


def _print_diff(diff: PlaceDiff, names: dict[str, str]) -> None:
    for place_id in diff.added:
        print(f"+ {place_id} {names[place_id]}")
    for place_id, fields in diff.changed.items():
        print(f"~ {place_id}: {', '.join(fields)}")
    for place_id in diff.removed:
        print(f"- {place_id}")
    print(
        f"{len(diff.added)} added, {len(diff.changed)} changed, "
        f"{len(diff.removed)} removed, {diff.unchanged} unchanged"
    )
