"""What checking places finds: errors, warnings and what ``--fix`` repaired."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from geotrigger.errors import Where


class Severity(StrEnum):
    """How bad a finding is. A place with an error is not loaded."""

    ERROR = "error"
    WARNING = "warning"
    FIXED = "fixed"  # was an error; repaired because fix was asked for


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem of one place (or of a whole file when ``where.item_id`` is None)."""

    severity: Severity
    code: str
    where: Where
    message: str

    def location(self) -> str:
        """``file:line``, ``file feature N`` or ``file``, as the user gave the path."""
        w = self.where
        loc = w.source or "<input>"
        if w.line is not None:
            loc += f":{w.line}"
        if w.feature is not None:
            loc += f" feature {w.feature}"
        return loc

    def format(self) -> str:
        """One line: ``severity file:line place 'id': message``."""
        place = f" place {self.where.item_id!r}" if self.where.item_id is not None else ""
        return f"{self.severity} {self.location()}{place}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping of the finding."""
        return {
            "severity": str(self.severity),
            "code": self.code,
            "file": self.where.source,
            "line": self.where.line,
            "feature": self.where.feature,
            "place": self.where.item_id,
            "message": self.message,
        }


def error(code: str, where: Where, message: str) -> Finding:
    """An error finding."""
    return Finding(severity=Severity.ERROR, code=code, where=where, message=message)


def warning(code: str, where: Where, message: str) -> Finding:
    """A warning finding."""
    return Finding(severity=Severity.WARNING, code=code, where=where, message=message)


def fixed(code: str, where: Where, message: str) -> Finding:
    """A finding that was an error and has been repaired."""
    return Finding(severity=Severity.FIXED, code=code, where=where, message=f"repaired: {message}")


class FindingsBySeverity:
    """The findings of a load, by severity: for results that hold ``findings``."""

    __slots__ = ()
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity error."""
        return tuple(f for f in self.findings if f.severity == Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity warning."""
        return tuple(f for f in self.findings if f.severity == Severity.WARNING)
