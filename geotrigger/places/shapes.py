"""The geometry of a raw place: circle, polygon or multipolygon, checked, maybe repaired."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from geotrigger.model import MAX_RADIUS_M, MIN_RADIUS_M, Circle, Geometry
from geotrigger.places.findings import Finding, error, fixed, warning
from geotrigger.places.raw import LoadDefaults, RawPlace
from geotrigger.spatial.geometry import Issue, build_multipolygon, build_polygon, check_lat_lon

# Phones in cities report 10-50 m accuracy; a smaller circle is entered and left by noise.
SMALL_RADIUS_M = 25.0
_CIRCLE_KEYS = ("lat", "lon", "radius_m")


def build_geometry(
    raw: RawPlace, *, fix: bool, defaults: LoadDefaults
) -> tuple[Geometry | None, list[Finding]]:
    """The place's geometry and the findings about it; None when it cannot be used."""
    if raw.geometry is None:
        where = raw.at()
        msg = "place has no geometry: give circle, polygon or multipolygon"
        return None, [error("geometry-missing", where, msg)]
    kind, data = raw.geometry
    if kind == "circle":
        return _circle(raw, data, fix=fix, defaults=defaults)
    built = build_polygon(data, fix=fix) if kind == "polygon" else build_multipolygon(data, fix=fix)
    findings = [_finding(raw, kind, issue) for issue in built.issues]
    return (built.geometry if built.ok else None), findings


def _finding(raw: RawPlace, kind: str, issue: Issue) -> Finding:
    where = raw.at(kind, *issue.path)
    message = issue.message
    if where.line is None and issue.path:
        message += f" ({_spell_path(kind, issue.path)})"  # no line to point at: say which ring
    if issue.repaired:
        return fixed(issue.code, where, message)
    if issue.warning:
        return warning(issue.code, where, message)
    return error(issue.code, where, message)


def _spell_path(kind: str, path: tuple[int, ...]) -> str:
    """``polygon 1, ring 0, position 3``: counting from 0, as in the GeoJSON arrays."""
    names = ("polygon", "ring", "position") if kind == "multipolygon" else ("ring", "position")
    return ", ".join(f"{name} {i}" for name, i in zip(names, path, strict=False))


def _circle(
    raw: RawPlace, data: Any, *, fix: bool, defaults: LoadDefaults
) -> tuple[Circle | None, list[Finding]]:
    if not isinstance(data, Mapping):
        msg = "circle must be a mapping of lat, lon and radius_m"
        return None, [error("geometry-shape", raw.at("circle"), msg)]
    findings: list[Finding] = []
    for key in data:
        if key not in _CIRCLE_KEYS:
            msg = f"unknown circle field {key!r} (expected lat, lon, radius_m)"
            findings.append(error("unknown-key", raw.at("circle", str(key)), msg))
    if "lat" not in data or "lon" not in data:
        findings.append(error("geometry-shape", raw.at("circle"), "circle needs lat and lon"))
        return None, findings
    lat, lon, issues = check_lat_lon(data["lat"], data["lon"], fix=fix)
    findings.extend(_finding(raw, "circle", i) for i in issues)
    radius, more = _radius(raw, data.get("radius_m"), defaults)
    findings.extend(more)
    if radius is None or any(f.severity == "error" for f in findings):
        return None, findings
    return Circle(lat=lat, lon=lon, radius_m=radius), findings


def _radius(
    raw: RawPlace, value: Any, defaults: LoadDefaults
) -> tuple[float | None, list[Finding]]:
    where = raw.at("circle", "radius_m")
    if value is None:
        value = raw.file_defaults.get("radius_m", defaults.radius_m)
    if value is None:
        msg = "radius_m is missing (give one per place, in the file defaults, or a loader default)"
        return None, [error("radius-missing", where, msg)]
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None, [error("radius-type", where, f"radius_m must be a number, got {value!r}")]
    radius = float(value)
    if not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        bounds = f"[{MIN_RADIUS_M:g}, {MAX_RADIUS_M:g}]"
        return None, [error("radius-range", where, f"radius_m {radius:g} is outside {bounds} m")]
    if radius < SMALL_RADIUS_M:
        msg = (
            f"radius_m {radius:g} is under typical phone accuracy ({SMALL_RADIUS_M:g} m): "
            "visits will flicker"
        )
        return radius, [warning("radius-small", where, msg)]
    return radius, []
