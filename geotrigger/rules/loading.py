"""Loading a rule set from moments files and folders: compile each file, then check across
files (ids unique, one policy, caps somewhere).

:func:`load_rules` loads what it can and reports everything; :func:`load_rules_strict` is
for callers that need all or nothing and raises RuleError listing every error.
:func:`load_rules_texts` compiles texts named as files (a rule set kept in the database).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from geotrigger.errors import RuleError, Where
from geotrigger.model import Place
from geotrigger.places.findings import Finding, FindingsBySeverity, Severity, error, warning
from geotrigger.rules.compile import CompiledFile, compile_file
from geotrigger.rules.model import Mode, Policy, Rule, RuleSet, Scope
from geotrigger.rules.report import Report, format_finding

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class RuleLoadResult(FindingsBySeverity):
    """The rule set (None when there is any error) and every finding."""

    rule_set: RuleSet | None
    findings: tuple[Finding, ...]
    rule_count: int = 0  # moments that compiled, also when the set as a whole did not


def load_rules(
    paths: Iterable[str | Path], *, places: Mapping[str, Place] | None = None
) -> RuleLoadResult:
    """Compile moments files (``.yaml``/``.yml``, or folders of them, read in name order);
    with ``places``, check the place ids, tags and brands the triggers name."""
    if isinstance(paths, str | Path):  # one path, not the characters of its name
        paths = [paths]
    texts, findings = read_rule_files(paths)
    return load_rules_texts(texts, places=places, findings=findings)


def load_rules_texts(
    texts: Iterable[tuple[str, str]],
    *,
    places: Mapping[str, Place] | None = None,
    findings: Iterable[Finding] = (),
) -> RuleLoadResult:
    """Compile moments given as (file name, YAML text) pairs, in that order, as if read from
    files of those names (a rule set kept in the database); ``findings`` are added to the
    result (those of reading the files)."""
    found = list(findings)
    compiled: list[tuple[str, CompiledFile]] = []
    for source, text in texts:
        report = Report(source=source)
        compiled.append((source, compile_file(text, report, places)))
        found.extend(report.findings)
    rules = [rule for _, c in compiled for rule in c.rules]
    found.extend(_duplicate_ids(rules))
    policy, more = _one_policy(compiled)
    found.extend(more)
    found.extend(_uncapped(rules, policy))
    found.extend(_never_fires(rules, policy))
    found.sort(key=_order)
    has_errors = any(f.severity == Severity.ERROR for f in found)
    rule_set = (
        None
        if has_errors
        else RuleSet(rules=tuple(rules), policy=policy, sources=tuple(s for s, _ in compiled))
    )
    return RuleLoadResult(rule_set, tuple(found), len(rules))


def read_rule_files(paths: Iterable[str | Path]) -> tuple[list[tuple[str, str]], list[Finding]]:
    """The (file name as given, text) of every readable moments file under ``paths``, and
    the findings about paths and files that are no good."""
    files, findings = rule_files(paths)
    texts: list[tuple[str, str]] = []
    for path, source in files:
        try:
            texts.append((source, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            report = Report(source=source)
            report.error(None, f"cannot read the file: {why}", code="unreadable")
            findings.extend(report.findings)
    return texts, findings


def load_rules_strict(
    paths: Iterable[str | Path], *, places: Mapping[str, Place] | None = None
) -> RuleSet:
    """The rule set, all or nothing: RuleError listing every error if there is any."""
    result = load_rules(paths, places=places)
    if result.rule_set is None:
        lines = "\n".join(f"  {format_finding(f)}" for f in result.errors)
        raise RuleError(f"{len(result.errors)} error(s) in the moments:\n{lines}")
    return result.rule_set


def rule_files(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, str]], list[Finding]]:
    """The files to read, each named as the user gave it, and the paths that are no good."""
    files: list[tuple[Path, str]] = []
    findings: list[Finding] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        where = Where(source=str(given))
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()
            )
            if not found:
                findings.append(error("path-empty", where, "folder has no .yaml or .yml files"))
            pairs = [(p, str(p)) for p in found]
        elif not path.exists():
            findings.append(error("path-missing", where, "no such file or folder"))
            pairs = []
        else:
            pairs = [(path, str(given))]
        for p, name in pairs:
            if p.resolve() not in seen:  # a file named twice (or with its folder) is read once
                seen.add(p.resolve())
                files.append((p, name))
    return files, findings


def _duplicate_ids(rules: list[Rule]) -> list[Finding]:
    """An error at each use of an id after the first, and one at the first naming the rest."""
    first: dict[str, Rule] = {}
    found: list[Finding] = []
    for rule in rules:
        if rule.id not in first:
            first[rule.id] = rule
            continue
        other = first[rule.id]
        found.append(error("duplicate-id", rule.where, f"id is also used in {_at(other.where)}"))
        found.append(error("duplicate-id", other.where, f"id is also used in {_at(rule.where)}"))
    return found


def _one_policy(compiled: list[tuple[str, CompiledFile]]) -> tuple[Policy, list[Finding]]:
    with_policy = [(s, c) for s, c in compiled if c.policy_line is not None]
    if len(with_policy) <= 1:
        policy = with_policy[0][1].policy if with_policy else None
        return policy or Policy(), []
    first = Where(source=with_policy[0][0], line=with_policy[0][1].policy_line)
    found = []
    for source, c in with_policy[1:]:
        where = Where(source=source, line=c.policy_line)
        message = f"a rule set has one policy; another is in {_at(first)}"
        found.append(error("policy-twice", where, message))
    return Policy(), found


def _uncapped(rules: list[Rule], policy: Policy) -> list[Finding]:
    """A live rule with no frequency cap of its own and none across rules could flood."""
    if policy.caps:
        return []
    message = (
        "a live moment with no caps, and the policy has none: nothing limits how often it fires"
    )
    return [
        warning("uncapped", r.where, message)
        for r in rules
        if r.mode == Mode.LIVE and not r.suppression.caps
    ]


def _never_fires(rules: list[Rule], policy: Policy) -> list[Finding]:
    """Settings that silence a live moment for good: almost always a slip."""
    found = []
    for r in rules:
        s = r.suppression
        why = None
        if s.daily_budget == 0:
            why = "daily_budget is 0"
        elif any(
            c.max == 0 and c.scope is not Scope.WEATHER_EVENT for c in (*s.caps, *policy.caps)
        ):
            why = "a cap has max 0"
        elif s.quiet_hours is not None and s.quiet_hours.start == s.quiet_hours.end:
            why = "quiet_hours start and end at the same time, which is the whole day"
        if why is not None and r.mode == Mode.LIVE:
            found.append(warning("never-fires", r.where, f"{why}: this moment can never fire"))
    return found


def _at(where: Where) -> str:
    return f"{where.source} line {where.line}" if where.line is not None else str(where.source)


def _order(f: Finding) -> tuple[str, int]:
    return (f.where.source or "", f.where.line if f.where.line is not None else -1)
