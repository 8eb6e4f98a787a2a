"""A place as a source file spells it, before validation: the common shape of every source.

Sources (YAML, GeoJSON, CSV) only read their format into :class:`RawPlace`; what a field
must look like is checked once, for all of them, in :mod:`geotrigger.places.build`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from geotrigger.errors import ConfigError, Where
from geotrigger.places.findings import Finding
from geotrigger.places.zones import timezone_problem

Key = tuple[str | int, ...]  # a path into the raw fields: ("polygon", 0, 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadDefaults:
    """What applies to places that do not say: from the caller (e.g. the command line)."""

    timezone: str | None = None  # assumed for places with opening hours and no zone
    radius_m: float | None = None  # for points and circles without a radius

    def __post_init__(self) -> None:
        # A wrong zone here would silently drop the hours of every place that relies on it.
        problem = None if self.timezone is None else timezone_problem(self.timezone)
        if problem is not None:
            raise ConfigError(f"LoadDefaults timezone: {problem}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RawPlace:
    """The fields of one place as read, where they came from, and what is lenient about them.

    ``geometry`` is ``(kind, data)`` with kind ``circle`` (a mapping of lat, lon, radius_m),
    ``polygon`` or ``multipolygon`` (GeoJSON coordinates), or None when the source has none.
    ``lines`` maps paths of fields to lines, for sources that know lines (YAML).
    """

    where: Where
    fields: Mapping[str, Any]
    geometry: tuple[str, Any] | None
    lines: Mapping[Key, int] = field(default_factory=dict)
    file_defaults: Mapping[str, Any] = field(default_factory=dict)
    hours_strict: bool = True  # bad hours are an error (marketer files), else dropped
    findings: tuple[Finding, ...] = ()  # what the source already found (unknown keys, ...)

    def at(self, *key: str | int) -> Where:
        """Where the field at ``key`` is: the line of the deepest part of the path known."""
        for n in range(len(key), 0, -1):
            line = self.lines.get(key[:n])
            if line is not None:
                return replace(self.where, line=line)
        return self.where

    @property
    def place_id(self) -> str | None:
        """The id as a string, if the place has a usable one."""
        value = self.fields.get("id")
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | str) and str(value).strip():
            return str(value).strip()
        return None
