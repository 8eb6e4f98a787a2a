"""Rule sets in the database: versioned, each kept with the YAML it came from.

A version is the moments files as applied (file name -> text), identified by a checksum over
the sorted (name, text) pairs: saving the same files again is the same version. One version
is ``active``, the one the engine runs; saving a new one makes it the only active one (and
saving an older one again makes that one active again). The rules are compiled from the
stored text (:func:`compile_rule_set`), so errors name the file and line as applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml
from sqlalchemy import Connection, RowMapping, inspect, select, text, update

from geotrigger.errors import ConfigError, RuleError, Where
from geotrigger.model import Place
from geotrigger.rules.loading import load_rules_texts
from geotrigger.rules.model import RuleSet
from geotrigger.rules.report import format_finding
from geotrigger.store.tables import rule_sets as rule_sets_table
from geotrigger.store.types import stored_utc, utc


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSetVersion:
    """One stored version: its number, checksum, the files (name -> YAML text) and when it
    was saved (aware UTC)."""

    version: int
    checksum: str
    sources: Mapping[str, str]
    created_at: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", MappingProxyType(dict(sorted(self.sources.items()))))


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSetDiff:
    """Rule ids added, changed (their YAML, or their file's defaults) and removed, sorted."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def diff_rule_sets(old: Mapping[str, str] | None, new: Mapping[str, str]) -> RuleSetDiff:
    """What changes, rule by rule, from the files ``old`` (None: no rule set yet) to ``new``.

    A rule has changed when its moment as written, or the defaults of the file it is in,
    differ as YAML data (comments, layout and moving it between files do not count)."""
    before = _moments(old or {})
    after = _moments(new)
    return RuleSetDiff(
        added=tuple(sorted(after.keys() - before.keys())),
        changed=tuple(sorted(i for i in after.keys() & before.keys() if after[i] != before[i])),
        removed=tuple(sorted(before.keys() - after.keys())),
    )


def rule_set_checksum(sources: Mapping[str, str]) -> str:
    """SHA-256 (hex) over the sorted (file name, text) pairs."""
    pairs = sorted(sources.items())
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


def require_rule_sets_table(conn: Connection) -> None:
    """ConfigError unless the schema (the ``rule_sets`` table) exists on this connection."""
    if not inspect(conn).has_table(rule_sets_table.name):
        raise ConfigError("the database has no rule_sets table: run geotrigger db upgrade first")


def save_rule_set(
    conn: Connection, *, sources: Mapping[str, str], now: dt.datetime
) -> RuleSetVersion:
    """Save the files as the active version: the existing version when the same files were
    saved before (made active again), else a new one. The caller checks the files first."""
    if not sources:
        raise ValueError("a rule set needs at least one file")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        raise ValueError("a rule set maps file names to their text")
    stamp = utc(now)
    checksum = rule_set_checksum(sources)
    _lock(conn)
    existing = find_rule_set(conn, checksum=checksum)
    conn.execute(
        update(rule_sets_table)
        .where(rule_sets_table.c.active, rule_sets_table.c.checksum != checksum)
        .values(active=False)
    )
    if existing is not None:
        conn.execute(
            update(rule_sets_table)
            .where(rule_sets_table.c.version == existing.version)
            .values(active=True)
        )
        return existing
    row = {"checksum": checksum, "sources": dict(sources), "active": True, "created_at": stamp}
    version = conn.execute(
        rule_sets_table.insert().values(row).returning(rule_sets_table.c.version)
    ).scalar_one()
    return RuleSetVersion(version=version, checksum=checksum, sources=sources, created_at=stamp)


def active_rule_set(conn: Connection) -> RuleSetVersion | None:
    """The active version, or None before any rule set was saved."""
    row = (
        conn.execute(
            select(rule_sets_table)
            .where(rule_sets_table.c.active)
            .order_by(rule_sets_table.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else _version(row)


def find_rule_set(conn: Connection, *, checksum: str) -> RuleSetVersion | None:
    """The version with this checksum, if it was ever saved."""
    query = select(rule_sets_table).where(rule_sets_table.c.checksum == checksum)
    row = conn.execute(query).mappings().first()
    return None if row is None else _version(row)


def load_rule_set(conn: Connection, *, version: int) -> RuleSetVersion | None:
    """The version numbered ``version``, if there is one."""
    query = select(rule_sets_table).where(rule_sets_table.c.version == version)
    row = conn.execute(query).mappings().first()
    return None if row is None else _version(row)


def compile_rule_set(
    version: RuleSetVersion, *, places: Mapping[str, Place] | None = None
) -> RuleSet:
    """The rules of a stored version, compiled from its text (files in name order); with
    ``places``, the place ids, tags and brands named are checked. RuleError listing every
    error (file, line, rule id, reason) when they do not compile."""
    result = load_rules_texts(sorted(version.sources.items()), places=places)
    if result.rule_set is None:
        lines = "\n".join(f"  {format_finding(f)}" for f in result.errors)
        raise RuleError(
            f"{len(result.errors)} error(s) in the moments:\n{lines}",
            where=Where(source=f"rule set version {version.version}"),
        )
    return result.rule_set


def _moments(sources: Mapping[str, str]) -> dict[str, Any]:
    """Rule id -> (its moment, its file's defaults) as YAML data; files that do not parse
    (never the case for files that were checked) count as holding no moments."""
    found: dict[str, Any] = {}
    for _name, source in sorted(sources.items()):
        try:
            doc = yaml.safe_load(source)
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("moments"), list):
            continue
        for moment in doc["moments"]:
            if isinstance(moment, dict) and isinstance(moment.get("id"), str):
                found.setdefault(moment["id"], (moment, doc.get("defaults")))
    return found


def _lock(conn: Connection) -> None:
    """Serialise saves: two at once could otherwise leave two active versions (PostgreSQL;
    SQLite has one writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE rule_sets IN SHARE ROW EXCLUSIVE MODE"))


def _version(row: RowMapping) -> RuleSetVersion:
    return RuleSetVersion(
        version=row["version"],
        checksum=row["checksum"],
        sources=row["sources"],
        created_at=stored_utc(row["created_at"]),
    )
