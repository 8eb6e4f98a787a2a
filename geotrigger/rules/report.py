"""Findings about moments files: where (file, line, rule id) and what is wrong.

Reuses the places' :class:`~geotrigger.places.findings.Finding`; ``where.item_id`` is the
rule id here. :func:`format_finding` is the one line ``geotrigger rules check`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geotrigger.errors import Where
from geotrigger.places.findings import Finding, Severity, error, warning


def format_finding(finding: Finding) -> str:
    """``file line N: rule 'id': reason`` (``warning:`` before the reason of a warning)."""
    w = finding.where
    parts = [w.source or "<input>"]
    if w.line is not None:
        parts[0] += f" line {w.line}"
    if w.item_id is not None:
        parts.append(f"rule {w.item_id!r}")
    kind = "warning: " if finding.severity == Severity.WARNING else ""
    return f"{': '.join(parts)}: {kind}{finding.message}"


@dataclass
class Report:
    """Collects the findings of one file (and of one rule in it, when ``rule_id`` is set)."""

    source: str
    rule_id: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def where(self, line: int | None) -> Where:
        """The place of a finding at ``line`` of this file and rule."""
        return Where(source=self.source, line=line, item_id=self.rule_id)

    def error(self, line: int | None, message: str, code: str = "invalid") -> None:
        """Record an error."""
        self.findings.append(error(code, self.where(line), message))

    def warning(self, line: int | None, message: str, code: str = "advice") -> None:
        """Record a warning."""
        self.findings.append(warning(code, self.where(line), message))

    def for_rule(self, rule_id: str | None) -> Report:
        """A report for one rule of this file, sharing the findings."""
        return Report(source=self.source, rule_id=rule_id, findings=self.findings)

    @property
    def error_count(self) -> int:
        """How many errors have been recorded so far."""
        return sum(1 for f in self.findings if f.severity == Severity.ERROR)
