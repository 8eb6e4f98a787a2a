"""From a raw place to a :class:`~geotrigger.model.Place`, with every finding about its fields.

The same rules for every source: a field is checked here once, and a place with an error is
not built (its findings say why).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from geotrigger.errors import HoursError
from geotrigger.model import Geometry, Place
from geotrigger.places.findings import Finding, Severity, error, warning
from geotrigger.places.opening_hours import OsmOpeningHours, parse_opening_hours
from geotrigger.places.raw import LoadDefaults, RawPlace
from geotrigger.places.shapes import build_geometry
from geotrigger.places.zones import timezone_problem

ASSUMED_ZONE = "timezone-assumed"  # the loader sums these up per file


def build_place(
    raw: RawPlace, *, fix: bool = False, defaults: LoadDefaults | None = None
) -> tuple[Place | None, list[Finding]]:
    """The place and the findings about it; None when it has an error."""
    defaults = defaults or LoadDefaults()
    findings: list[Finding] = list(raw.findings)
    place_id = raw.place_id
    if place_id is None:
        msg = "place has no id (a non-empty string)"
        return None, [*findings, error("id-missing", raw.at("id"), msg)]
    raw = replace(raw, where=replace(raw.where, item_id=place_id))
    geometry: Geometry | None = None
    if raw.geometry is not None or not _has_error(findings):  # else the source said why
        geometry, more = build_geometry(raw, fix=fix, defaults=defaults)
        findings.extend(more)
    timezone, more = _timezone(raw, defaults)
    findings.extend(more)
    hours, more = _hours(raw, timezone)
    findings.extend(more)
    place = _assemble(raw, place_id, geometry, timezone, hours, findings)
    return (None if _has_error(findings) else place), findings


def _assemble(
    raw: RawPlace,
    place_id: str,
    geometry: Geometry | None,
    timezone: str | None,
    hours: OsmOpeningHours | None,
    findings: list[Finding],
) -> Place | None:
    """The place from its checked parts and its plain fields (checked here)."""
    name = _text(raw, "name", findings)
    if name is None:
        findings.append(warning("name-missing", raw.at(), "place has no name; using its id"))
    brand = _text(raw, "brand", findings) or raw.file_defaults.get("brand")
    tags, dwell_s, metadata = _tags(raw, findings), _dwell(raw, findings), _metadata(raw, findings)
    if geometry is None or _has_error(findings):
        return None
    return Place(
        id=place_id,
        name=name or place_id,
        geometry=geometry,
        brand=brand,
        tags=tags,
        timezone=timezone,
        opening_hours=hours,
        dwell_s=dwell_s,
        metadata=metadata,
    )


def _has_error(findings: list[Finding]) -> bool:
    return any(f.severity == Severity.ERROR for f in findings)


def _text(raw: RawPlace, key: str, findings: list[Finding]) -> str | None:
    value = raw.fields.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        findings.append(error("field-type", raw.at(key), f"{key} must be text, got {value!r}"))
        return None
    return str(value).strip()


def _tags(raw: RawPlace, findings: list[Finding]) -> frozenset[str]:
    value = raw.fields.get("tags", [])
    if isinstance(value, str):
        value = [t for t in value.split(";")]  # CSV and GeoJSON spell tags as "a;b"
    if not isinstance(value, list) or not all(isinstance(t, str | int) for t in value):
        findings.append(error("field-type", raw.at("tags"), "tags must be a list of words"))
        return frozenset()
    base = raw.file_defaults.get("tags") or []
    return frozenset(str(t).strip() for t in [*base, *value] if str(t).strip())


def _dwell(raw: RawPlace, findings: list[Finding]) -> float | None:
    value = raw.fields.get("dwell_s", raw.file_defaults.get("dwell_s"))
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:
        msg = f"dwell_s must be a number of seconds >= 0, got {value!r}"
        findings.append(error("dwell-invalid", raw.at("dwell_s"), msg))
        return None
    return float(value)


def _metadata(raw: RawPlace, findings: list[Finding]) -> Mapping[str, Any]:
    value = raw.fields.get("metadata", {})
    if not isinstance(value, Mapping):
        findings.append(error("field-type", raw.at("metadata"), "metadata must be a mapping"))
        return {}
    return {str(k): v for k, v in value.items()}


def _timezone(raw: RawPlace, defaults: LoadDefaults) -> tuple[str | None, list[Finding]]:
    value = raw.fields.get("timezone") or raw.file_defaults.get("timezone")
    if value is None:
        if raw.fields.get("opening_hours") is None or defaults.timezone is None:
            return None, []  # no hours: no zone needed (with hours, _hours reports it)
        msg = f"opening hours without a time zone: assuming {defaults.timezone} (loader default)"
        return defaults.timezone, [warning(ASSUMED_ZONE, raw.at("opening_hours"), msg)]
    problem = timezone_problem(value)
    if problem is not None:
        return None, [error("timezone-unknown", raw.at("timezone"), problem)]
    return value, []


def _hours(raw: RawPlace, timezone: str | None) -> tuple[OsmOpeningHours | None, list[Finding]]:
    value = raw.fields.get("opening_hours")
    where = raw.at("opening_hours")
    if value is None or value == "":
        return None, []
    if timezone is None:
        if "timezone" in raw.fields or "timezone" in raw.file_defaults:
            return None, []  # the zone is there but wrong: already an error
        msg = "opening hours need a time zone: set timezone on the place or in defaults"
        return None, [error("timezone-missing", where, msg)]
    try:
        hours = parse_opening_hours(str(value), timezone)
    except HoursError as exc:
        if raw.hours_strict:
            return None, [error("hours-invalid", where, exc.reason)]
        return None, [warning("hours-dropped", where, f"{exc.reason}; hours dropped")]
    findings = []
    if hours.names_holidays:
        msg = "public/school holiday rules (PH, SH) are accepted but ignored: no holiday calendar"
        findings.append(warning("hours-holidays-ignored", where, msg))
    if hours.never_open:
        msg = f"opening hours {value!r} never open the place: it always counts as closed"
        findings.append(warning("hours-never-open", where, msg))
    return hours, findings
