"""Checks across places: duplicate ids, places far from the others, overlaps within a brand.

These need every place at once, so they run after each place has been built on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

import numpy as np
import shapely
from shapely.geometry import Point

from geotrigger.errors import Where
from geotrigger.model import Circle, Place
from geotrigger.places.findings import Finding, error, warning
from geotrigger.spatial.geodesy import METRES_PER_DEGREE_LAT, distance_to_geometry_m, haversine_m

# A place this far from the others whose swapped position lands among them may have been typed
# [lat, lon]; or it is a real store far away. Only a warning.
FAR_M = 500_000.0


@dataclass(frozen=True, slots=True)
class Entry:
    """A built place and where it was defined."""

    place: Place
    where: Where


def lint(entries: Sequence[Entry]) -> tuple[list[Entry], list[Finding]]:
    """The entries that pass the checks across places, and the findings."""
    kept, findings = _unique(entries)
    findings.extend(_far_away(kept))
    findings.extend(brand_overlaps(kept))
    return kept, findings


def _unique(entries: Sequence[Entry]) -> tuple[list[Entry], list[Finding]]:
    first: dict[str, Entry] = {}
    findings: list[Finding] = []
    for entry in entries:
        other = first.get(entry.place.id)
        if other is None:
            first[entry.place.id] = entry
            continue
        msg = f"duplicate id: also defined in {_loc(other.where)} ({other.place.name!r})"
        findings.append(error("id-duplicate", entry.where, msg))
    return list(first.values()), findings


def _far_away(entries: list[Entry]) -> list[Finding]:
    """Warnings for places far from the others that would sit among them if (lat, lon) swapped.

    Only a hint: a chain may really have one store on another continent, so nothing is moved,
    not even with ``fix`` (positions impossible as given are swapped when the place is built).
    """
    if len(entries) < 3:
        return []  # too few places to know the expected region
    points = [_lat_lon(e.place) for e in entries]
    ref = (median(p[0] for p in points), median(p[1] for p in points))
    findings: list[Finding] = []
    for entry, (lat, lon) in zip(entries, points, strict=True):
        away = float(haversine_m(ref[0], ref[1], lat, lon))
        swapped = float(haversine_m(ref[0], ref[1], lon, lat)) if abs(lon) <= 90 else math.inf
        if away < FAR_M or swapped > away / 10.0:
            continue
        msg = (
            f"coordinates may be swapped: ({lat:.5f}, {lon:.5f}) is {away / 1000:.0f} km from "
            f"the other places, ({lon:.5f}, {lat:.5f}) would be {swapped / 1000:.0f} km; "
            "check them (not changed, even with --fix)"
        )
        findings.append(warning("coord-far", entry.where, msg))
    return findings


def brand_overlaps(entries: Sequence[Entry]) -> list[Finding]:
    """Warnings for places of one brand that overlap; candidate pairs come from an STRtree."""
    branded = [e for e in entries if e.place.brand]
    if len(branded) < 2:
        return []
    boxes = [_bbox(e.place) for e in branded]
    tree = shapely.STRtree(boxes)
    pairs = tree.query(boxes, predicate="intersects")
    findings: list[Finding] = []
    for i, j in np.asarray(pairs).T.tolist():
        a, b = branded[i], branded[j]
        if i < j and a.place.brand == b.place.brand and _overlap(a.place, b.place):
            msg = (
                f"overlaps place {b.place.id!r} ({_loc(b.where)}) of the same brand "
                f"{a.place.brand!r}: a visit to one counts at both"
            )
            findings.append(warning("brand-overlap", a.where, msg))
    return findings


def _overlap(a: Place, b: Place) -> bool:
    ga, gb = a.geometry, b.geometry
    if isinstance(ga, Circle) and isinstance(gb, Circle):
        return float(haversine_m(ga.lat, ga.lon, gb.lat, gb.lon)) < ga.radius_m + gb.radius_m
    if isinstance(ga, Circle):
        return distance_to_geometry_m(gb, ga.lat, ga.lon) < ga.radius_m
    if isinstance(gb, Circle):
        return distance_to_geometry_m(ga, gb.lat, gb.lon) < gb.radius_m
    return bool(shapely.relate_pattern(ga, gb, "T********"))  # interiors meet: not just touch


def _bbox(place: Place) -> shapely.Geometry:
    g = place.geometry
    if not isinstance(g, Circle):
        return shapely.box(*g.bounds)
    dlat = g.radius_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(math.cos(math.radians(g.lat)), 0.01)
    return shapely.box(g.lon - dlon, g.lat - dlat, g.lon + dlon, g.lat + dlat)


def _lat_lon(place: Place) -> tuple[float, float]:
    g = place.geometry
    if isinstance(g, Circle):
        return g.lat, g.lon
    p: Point = g.representative_point()
    return p.y, p.x


def _loc(where: Where) -> str:
    loc = where.source or "<input>"
    if where.line is not None:
        return f"{loc}:{where.line}"
    return f"{loc} feature {where.feature}" if where.feature is not None else loc
