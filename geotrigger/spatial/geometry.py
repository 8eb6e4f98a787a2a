"""Building and validating place geometries from raw coordinates.

Input positions are GeoJSON order ``[lon, lat]``. What comes out follows the model's
convention: a valid shapely Polygon or MultiPolygon in (lon, lat), longitudes in [-180, 180],
exteriors counter-clockwise and holes clockwise (any winding is accepted on input). A ring whose
consecutive longitudes jump by more than 180° crosses the antimeridian: it is unwrapped and
split at ±180 into a MultiPolygon (see :mod:`geotrigger.spatial.antimeridian`).

Nothing is repaired unless ``fix=True``; then unclosed rings are closed, swapped coordinates
swapped back and invalid polygons passed through ``shapely.make_valid``, and every repair is
reported. Problems come back as :class:`Issue` values, never as exceptions, so a caller can
report all of them at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from geotrigger.spatial.antimeridian import (
    align_hole,
    crosses_antimeridian,
    split_at_antimeridian,
    unwrap_ring,
)

Path = tuple[int, ...]  # where in the nested coordinates: (polygon, ring, position)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """A problem with a geometry: an error unless ``warning``; ``repaired`` when fixed."""

    code: str
    message: str
    path: Path = ()
    warning: bool = False
    repaired: bool = False


@dataclass(slots=True)
class Built:
    """The outcome of building a geometry: the geometry (None on error) and the issues."""

    geometry: BaseGeometry | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when a geometry was built and no unrepaired error remains."""
        return self.geometry is not None and not any(
            not i.warning and not i.repaired for i in self.issues
        )


def looks_swapped(lat: float, lon: float) -> bool:
    """True when (lat, lon) is impossible but (lon, lat) is fine: |lon| <= 90 < |lat|."""
    return abs(lon) <= 90.0 < abs(lat) <= 180.0


def check_lat_lon(lat: Any, lon: Any, *, fix: bool = False) -> tuple[float, float, list[Issue]]:
    """Validate one position; with ``fix`` swap coordinates that are plainly swapped."""
    if not _is_number(lat) or not _is_number(lon):
        return math.nan, math.nan, [Issue(code="coord-type", message="coordinates must be numbers")]
    lat, lon = float(lat), float(lon)
    if looks_swapped(lat, lon):
        msg = f"latitude {lat:g} is out of range; the coordinates look swapped (lat {lon:g}?)"
        if fix:
            return lon, lat, [Issue(code="coord-swapped", message=msg, repaired=True)]
        return lat, lon, [Issue(code="coord-swapped", message=msg)]
    problems = []
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        problems.append(Issue(code="coord-range", message=f"latitude {lat:g} is outside [-90, 90]"))
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        msg = f"longitude {lon:g} is outside [-180, 180]"
        problems.append(Issue(code="coord-range", message=msg))
    return lat, lon, problems


def build_polygon(rings: Any, *, fix: bool = False) -> Built:
    """A polygon from GeoJSON ``[[ [lon, lat], ... ], hole, ...]`` rings."""
    return build_multipolygon([rings], fix=fix, single=True)


def build_multipolygon(polygons: Any, *, fix: bool = False, single: bool = False) -> Built:
    """A (multi)polygon from GeoJSON MultiPolygon coordinates: a list of polygons' rings."""
    out = Built(None)
    if not isinstance(polygons, list) or not polygons:
        out.issues.append(Issue(code="geometry-shape", message="expected a list of polygons"))
        return out
    parts: list[BaseGeometry] = []
    for p, rings in enumerate(polygons):
        prefix: Path = () if single else (p,)
        part = _build_one(rings, prefix, fix, out.issues)
        if part is not None:
            parts.append(part)
    if len(parts) != len(polygons):
        return out
    merged = parts[0] if len(parts) == 1 else MultiPolygon(_polygons_of(parts))
    out.geometry = _validated(merged, (), fix, out.issues)
    return out


def _build_one(rings: Any, prefix: Path, fix: bool, issues: list[Issue]) -> BaseGeometry | None:
    """One polygon: rings checked, unwrapped over the antimeridian, validated and split."""
    if not isinstance(rings, list) or not rings:
        issues.append(Issue(code="geometry-shape", message="a polygon needs at least one ring"))
        return None
    clean: list[list[tuple[float, float]]] = []
    for r, ring in enumerate(rings):
        coords = _check_ring(ring, (*prefix, r), fix, issues)
        if coords is None:
            return None
        clean.append(coords)
    unwrapped = [unwrap_ring(ring) for ring in clean]
    if any(abs(u[-1][0] - u[0][0]) > 1e-9 for u in unwrapped):
        msg = "ring winds around a pole; split it into parts that do not contain a pole"
        issues.append(Issue(code="ring-pole", message=msg, path=prefix))
        return None
    flat = [r for r, ring in enumerate(unwrapped) if _collinear(ring)]
    if flat:
        msg = "ring has no area: its corners lie on one line"
        issues.append(Issue(code="ring-no-area", message=msg, path=(*prefix, flat[0])))
        return None
    shell, holes = unwrapped[0], [align_hole(h, unwrapped[0]) for h in unwrapped[1:]]
    polygon = _validated(Polygon(shell, holes), prefix, fix, issues)
    if polygon is None or not crosses_antimeridian(polygon):
        return polygon
    return _oriented(MultiPolygon(_polygons_of(split_at_antimeridian(polygon))))


def _check_ring(
    ring: Any, path: Path, fix: bool, issues: list[Issue]
) -> list[tuple[float, float]] | None:
    """Positions of one ring as (lon, lat), closed; None when it cannot be used."""
    if not isinstance(ring, list):
        issues.append(Issue(code="geometry-shape", message="a ring must be a list", path=path))
        return None
    coords: list[tuple[float, float]] = []
    before = len(issues)
    for i, pos in enumerate(ring):
        if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
            msg = f"position {i} must be [lon, lat]"
            issues.append(Issue(code="geometry-shape", message=msg, path=(*path, i)))
            continue
        lat, lon, found = check_lat_lon(pos[1], pos[0], fix=fix)
        issues.extend(_at(found, (*path, i)))
        coords.append((lon, lat))
    if any(not i.repaired and not i.warning for i in issues[before:]):
        return None
    return _closed(coords, path, fix, issues)


def _closed(
    coords: list[tuple[float, float]], path: Path, fix: bool, issues: list[Issue]
) -> list[tuple[float, float]] | None:
    """Check that a ring is closed and long enough; close it when fixing."""
    closed = len(coords) >= 2 and coords[0] == coords[-1]
    distinct = len(set(coords))
    if distinct < 3:
        msg = f"ring has {distinct} distinct positions; a ring needs at least 3 corners"
        issues.append(Issue(code="ring-too-short", message=msg, path=path))
        return None
    if not closed:
        first = f"({coords[0][1]:g}, {coords[0][0]:g})"
        msg = f"ring is not closed: the last position must repeat the first {first}"
        issues.append(Issue(code="ring-unclosed", message=msg, path=path, repaired=fix))
        if not fix:
            return None
        coords = [*coords, coords[0]]
    return coords


def _collinear(ring: list[tuple[float, float]]) -> bool:
    """True when every corner of the ring lies on one straight line (in lon/lat)."""
    pts = np.asarray(ring, dtype=np.float64)
    return bool(np.linalg.matrix_rank(pts - pts.mean(axis=0), tol=1e-12) < 2)


_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>[-\d.e+]+) (?P<y>[-\d.e+]+)\]$")


def _validated(
    geometry: BaseGeometry, path: Path, fix: bool, issues: list[Issue]
) -> BaseGeometry | None:
    """The geometry, oriented, if valid; repaired with make_valid when fixing; else None."""
    if geometry.is_valid:
        if geometry.area <= 0.0:
            issues.append(Issue(code="geometry-empty", message="polygon has no area", path=path))
            return None
        return _oriented(geometry)
    issue = Issue(code="geometry-invalid", message=describe_invalid(geometry), path=path)
    if not fix:
        issues.append(issue)
        return None
    repaired = MultiPolygon(_polygons_of([shapely.make_valid(geometry)]))
    if repaired.is_empty:
        issues.append(issue)
        return None
    issues.append(Issue(code=issue.code, message=issue.message, path=path, repaired=True))
    return _oriented(repaired.geoms[0] if len(repaired.geoms) == 1 else repaired)


def describe_invalid(geometry: BaseGeometry) -> str:
    """Why a geometry is invalid, with the place where it is (lat, lon), in plain words."""
    reason = shapely.is_valid_reason(geometry)
    m = _REASON.match(reason)
    if m is None:
        return f"invalid polygon: {reason}"
    lon = float(m["x"])
    lon = (lon + 180.0) % 360.0 - 180.0 if abs(lon) > 180.0 else lon
    at = f"({float(m['y']):.5f}, {lon:.5f})"
    what = m["what"].strip().lower()
    if what == "self-intersection" and isinstance(geometry, MultiPolygon):
        what = _how_parts_meet(geometry)
    words = {
        "self-intersection": "polygon is self-intersecting",
        "ring self-intersection": "ring touches itself",
        "hole lies outside shell": "hole lies outside its polygon",
        "nested shells": "polygons of the multipolygon are nested",
        "interior is disconnected": "holes cut the polygon apart",
        "too few points": "ring has too few distinct points",
        "nested holes": "holes are nested",
        "parts overlap": "parts of the multipolygon overlap",
        "parts share an edge": "parts of the multipolygon share an edge",
    }
    message = f"{words.get(what, what)} at {at}"
    if what == "parts share an edge":
        message += " (parts may touch only at points: merge them into one polygon)"
    return message


def _how_parts_meet(geometry: MultiPolygon) -> str:
    """Why valid parts make an invalid multipolygon: their insides overlap, or they share an
    edge (touching at single points is valid)."""
    parts = list(geometry.geoms)
    if not all(p.is_valid for p in parts):
        return "self-intersection"
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            if shapely.relate_pattern(a, b, "T********"):
                return "parts overlap"
    return "parts share an edge"


def _polygons_of(geoms: Sequence[BaseGeometry]) -> list[Polygon]:
    """The polygons inside any mix of polygonal geometries and collections."""
    out: list[Polygon] = []
    for g in geoms:
        if isinstance(g, Polygon) and not g.is_empty:
            out.append(g)
        elif hasattr(g, "geoms"):
            out.extend(_polygons_of(list(g.geoms)))
    return out


def _oriented(geometry: BaseGeometry) -> BaseGeometry:
    """Exterior counter-clockwise, holes clockwise (the RFC 7946 right-hand rule)."""
    if isinstance(geometry, Polygon):
        return orient(geometry, sign=1.0)
    return MultiPolygon([orient(p, sign=1.0) for p in _polygons_of([geometry])])


def _at(issues: list[Issue], path: Path) -> list[Issue]:
    return [Issue(code=i.code, message=i.message, path=path, repaired=i.repaired) for i in issues]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def swap_xy(geometry: BaseGeometry) -> BaseGeometry:
    """The geometry with x and y exchanged (for places given as [lat, lon]), re-oriented."""
    return _oriented(shapely.transform(geometry, lambda c: c[:, ::-1]))
