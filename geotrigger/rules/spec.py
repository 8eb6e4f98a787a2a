"""The building blocks of a declarative file format: each checks a located YAML value and
says what JSON Schema it is, so the checker and the editors' schema come from one description.

A check appends ``(line, "path: reason")`` problems and never raises; it stops descending
where a value has the wrong shape, so one mistake is one problem.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from geotrigger.rules import durations
from geotrigger.rules.located import Located
from geotrigger.suggest import did_you_mean

Problem = tuple[int | None, str]
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Spec:
    """A kind of value: how to check it and its JSON Schema."""

    doc = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        """Append the problems of ``loc`` (found at ``path``) to ``out``."""
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of this kind of value."""
        raise NotImplementedError


def at_path(path: str, reason: str) -> str:
    """``path: reason``, or the reason alone at the top of a document."""
    return f"{path}: {reason}" if path else reason


def shown(value: Any) -> str:
    """A value as a message quotes it: lists and mappings by their kind only."""
    if isinstance(value, date):  # a YAML date or timestamp, as it was written
        return repr(value.isoformat())
    return (
        "a list"
        if isinstance(value, list)
        else "a mapping"
        if isinstance(value, dict)
        else repr(value)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def with_doc(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the spec's description, when it has one."""
    return {"description": spec.doc, **schema} if spec.doc else schema


@dataclass(frozen=True)
class Str(Spec):
    """Text, optionally matching ``pattern`` (``hint`` says the rule in words)."""

    pattern: str | None = None
    hint: str = ""
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not isinstance(loc.value, str) or not loc.value.strip():
            out.append((loc.line, at_path(path, f"must be text, got {shown(loc.value)}")))
        elif self.pattern is not None and not re.match(self.pattern, loc.value):
            out.append((loc.line, at_path(path, f"{loc.value!r} is not valid: {self.hint}")))

    def schema(self) -> dict[str, Any]:
        extra = {"pattern": self.pattern} if self.pattern else {}
        return with_doc(self, {"type": "string", "minLength": 1, **extra})


@dataclass(frozen=True)
class Number(Spec):
    """A number within bounds; ``whole`` asks for an integer."""

    minimum: float | None = None
    maximum: float | None = None
    below: float | None = None  # exclusive maximum
    whole: bool = False
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        v = loc.value
        noun = "a whole number" if self.whole else "a number"
        if not _is_number(v) or (self.whole and not isinstance(v, int)):
            out.append((loc.line, at_path(path, f"must be {noun}, got {shown(v)}")))
        elif self.minimum is not None and v < self.minimum:
            out.append((loc.line, at_path(path, f"must be at least {self.minimum:g}, got {v:g}")))
        elif self.maximum is not None and v > self.maximum:
            out.append((loc.line, at_path(path, f"must be at most {self.maximum:g}, got {v:g}")))
        elif self.below is not None and v >= self.below:
            out.append((loc.line, at_path(path, f"must be below {self.below:g}, got {v:g}")))

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "integer" if self.whole else "number"}
        for key, bound in (("minimum", self.minimum), ("maximum", self.maximum)):
            if bound is not None:
                s[key] = bound
        if self.below is not None:
            s["exclusiveMaximum"] = self.below
        return with_doc(self, s)


@dataclass(frozen=True)
class Bool(Spec):
    """``true`` or ``false``."""

    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if not isinstance(loc.value, bool):
            out.append((loc.line, at_path(path, f"must be true or false, got {shown(loc.value)}")))

    def schema(self) -> dict[str, Any]:
        return with_doc(self, {"type": "boolean"})


@dataclass(frozen=True)
class Enum(Spec):
    """One of a few names."""

    values: tuple[str, ...] = ()
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        v = loc.value
        if not isinstance(v, str) or v not in self.values:
            hint = did_you_mean(v, self.values) if isinstance(v, str) else ""
            known = ", ".join(self.values)
            out.append((loc.line, at_path(path, f"{shown(v)} is not one of {known}{hint}")))

    def schema(self) -> dict[str, Any]:
        return with_doc(self, {"enum": list(self.values)})


@dataclass(frozen=True)
class Const(Spec):
    """Exactly one value (the format version)."""

    value: int = 1
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if loc.value != self.value or isinstance(loc.value, bool):
            reason = f"must be {self.value}, got {shown(loc.value)}"
            out.append((loc.line, at_path(path, reason)))

    def schema(self) -> dict[str, Any]:
        return with_doc(self, {"const": self.value})


@dataclass(frozen=True)
class Duration(Spec):
    """``90s``, ``15m``, ``2h``, ``1d``, ``1w`` (or combined, ``1h30m``), or seconds."""

    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        try:
            durations.parse_duration(loc.value)
        except ValueError as exc:
            out.append((loc.line, at_path(path, str(exc))))

    def schema(self) -> dict[str, Any]:
        text = {"type": "string", "pattern": durations.PATTERN}
        return with_doc(self, {"anyOf": [{"type": "number", "minimum": 0}, text]})


def clock_text(loc: Located) -> str | None:
    """The ``HH:MM`` text of a value, also when YAML 1.1 read it as a number (``11:00``)."""
    text = loc.text if loc.text is not None else loc.value
    return text if isinstance(text, str) and re.match(CLOCK, text) else None


@dataclass(frozen=True)
class Clock(Spec):
    """A time of day, ``HH:MM`` (24-hour)."""

    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        if clock_text(loc) is None:
            said = shown(loc.text or loc.value)
            out.append((loc.line, at_path(path, f"{said} is not a time of day HH:MM, e.g. 07:30")))

    def schema(self) -> dict[str, Any]:
        return with_doc(self, {"type": "string", "pattern": CLOCK})


@dataclass(frozen=True)
class Timestamp(Spec):
    """A moment in time with its offset, ``2026-06-01T00:00:00Z``."""

    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        v = loc.value
        try:
            parsed = v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
        except ValueError:
            parsed = None
        if parsed is None or isinstance(v, int | float) or parsed.tzinfo is None:
            hint = "is not a date and time with an offset, e.g. 2026-06-01T00:00:00Z"
            out.append((loc.line, at_path(path, f"{shown(v)} {hint}")))

    def schema(self) -> dict[str, Any]:
        return with_doc(self, {"type": "string", "format": "date-time"})


@dataclass(frozen=True)
class Anything(Spec):
    """Any value (passed through); ``scalar`` limits it to text, number or true/false."""

    scalar: bool = False
    doc: str = ""

    def check(self, loc: Located, path: str, out: list[Problem]) -> None:
        v = loc.value
        if self.scalar and not (isinstance(v, str | bool) or _is_number(v)):
            out.append(
                (loc.line, at_path(path, f"must be text, a number or true/false, got {shown(v)}"))
            )

    def schema(self) -> dict[str, Any]:
        kinds = {"type": ["string", "number", "boolean"]} if self.scalar else {}
        return with_doc(self, kinds)
