"""Brute force: every place tested against every point. The oracle the index is checked against."""

from __future__ import annotations

from collections.abc import Iterable

from geotrigger.model import Circle, Place
from geotrigger.spatial.geodesy import distance_to_geometry_m, haversine_m


def distance_outside_m(place: Place, lat: float, lon: float) -> float:
    """Metres from the point to the place: 0 when the place covers it."""
    geometry = place.geometry
    if isinstance(geometry, Circle):
        d = float(haversine_m(geometry.lat, geometry.lon, lat, lon)) - geometry.radius_m
        return max(d, 0.0)
    return distance_to_geometry_m(geometry, lat, lon)


def brute_force_near(
    places: Iterable[Place], lat: float, lon: float, within_m: float = 0.0
) -> dict[str, float]:
    """Ids of the places within ``within_m`` of the point, with their distance outside."""
    found: dict[str, float] = {}
    for place in places:
        d = distance_outside_m(place, lat, lon)
        if d <= within_m:
            found[place.id] = d
    return found
