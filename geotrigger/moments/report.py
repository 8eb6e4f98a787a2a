"""The moments report as people and programs read it: a table per rule (its funnel, outcomes
and lift) and the same as a JSON document. The numbers are
:mod:`geotrigger.moments.report_arithmetic`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geotrigger.moments.report_arithmetic import (
    Cohort,
    Group,
    Lift,
    OutcomeKind,
    Report,
    RuleReport,
)
from geotrigger.timestamps import rfc3339


def describe_range(since: datetime | None, until: datetime | None) -> str:
    """The range of decisions in words: ``from ... until ...``, or ``of all time``."""
    if since is None and until is None:
        return "of all time"
    parts = []
    if since is not None:
        parts.append(f"from {rfc3339(since)}")
    if until is not None:
        parts.append(f"until {rfc3339(until)}")
    return " ".join(parts)


_HEADER = (
    f"  {'rule':<28} {'candidates':>10} {'matched':>8} {'fired':>7} {'would-fire':>10} "
    f"{'delivered':>9} {'opened':>7} {'converted':>9}"
)


def format_report(report: Report) -> str:
    """The table: one block per rule (its counts, then not matched by condition, suppressed
    by gate, and for a rule with a holdout group both groups and the lift)."""
    told = describe_range(report.since, report.until)
    if report.empty:
        which = f" for {', '.join(report.rule_ids)}" if report.rule_ids else ""
        return f"no decisions and no outcomes{which} {told}: nothing to report"
    fired = sum(r.fired for r in report.rules)
    lines = [f"moments report, decisions {told}: {fired:,} fired", _HEADER]
    for r in report.rules:
        lines.append(
            f"  {r.rule_id:<28} {r.candidates:>10,} {r.matched:>8,} {r.fired:>7,} "
            f"{r.would_fire:>10,} {r.outcome(OutcomeKind.DELIVERED):>9,} "
            f"{r.outcome(OutcomeKind.OPENED):>7,} {r.outcome(OutcomeKind.CONVERTED):>9,}"
        )
        lines += [f"      not matched: {c:<20} {n:>8,}" for c, n in r.not_matched.items()]
        lines += [f"      suppressed by {g:<18} {n:>8,}" for g, n in r.suppressed.items()]
        if r.lift is not None:
            lines += _lift_lines(r.lift)
    return "\n".join(lines)


def _lift_lines(lift: Lift) -> list[str]:
    """The two groups and the lift (or why there is none)."""
    lines = [
        _group_line("treated", lift.treated, "moments fired"),
        _group_line("holdout", lift.control, "would-be moments"),
    ]
    if lift.absolute_pp is not None:
        told = f"      lift over holdout: {lift.absolute_pp:+.1f} points"
        told += f" ({lift.relative * 100:+.1f} %)" if lift.relative is not None else ""
        lines.append(told)
    if lift.note:
        lines.append(f"      lift over holdout: {lift.note}")
    return lines


def _group_line(name: str, group: Group, what: str) -> str:
    rate = "-" if group.rate is None else f"{group.rate * 100:.1f} %"
    return (
        f"      {name:<8} {group.moments:>8,} {what} to {group.consumers:,} consumers, "
        f"{group.converted:,} converted ({rate})"
    )


def report_document(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict (times as RFC 3339 strings in UTC)."""
    return {
        "since": None if report.since is None else rfc3339(report.since),
        "until": None if report.until is None else rfc3339(report.until),
        "rules": [_rule_document(r) for r in report.rules],
    }


def _rule_document(r: RuleReport) -> dict[str, Any]:
    return {
        "rule_id": r.rule_id,
        "candidates": r.candidates,
        "matched": r.matched,
        "fired": r.fired,
        "would_fire": r.would_fire,
        "suppressed": dict(r.suppressed),
        "not_matched": dict(r.not_matched),
        "outcomes": {
            Cohort.TREATED.value: {k.value: r.treated.get(k.value, 0) for k in OutcomeKind},
            Cohort.HOLDOUT.value: {k.value: r.holdout.get(k.value, 0) for k in OutcomeKind},
        },
        "lift": None if r.lift is None else _lift_document(r.lift),
    }


def _lift_document(lift: Lift) -> dict[str, Any]:
    return {
        "treated": _group_document(lift.treated),
        "holdout": _group_document(lift.control),
        "absolute_pp": lift.absolute_pp,
        "relative": lift.relative,
        "note": lift.note or None,
    }


def _group_document(group: Group) -> dict[str, Any]:
    return {
        "moments": group.moments,
        "consumers": group.consumers,
        "converted": group.converted,
        "rate": group.rate,
    }
