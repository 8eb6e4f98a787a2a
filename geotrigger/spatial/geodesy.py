"""Distances on the sphere, and a local metric frame that works everywhere.

The Earth is the mean sphere of radius :data:`EARTH_RADIUS_M` (the radius PostGIS uses for
``geography`` with ``use_spheroid => false``); against the WGS 84 ellipsoid its distances are
off by at most ~0.5 %, well inside any phone's accuracy. Points are handled as unit vectors, so
nothing special happens at the antimeridian, and a local frame is a tangent plane (east, north)
at any point, poles included.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = np.pi * EARTH_RADIUS_M / 180.0

FloatArray = npt.NDArray[np.float64]


def unit_vectors(lats: npt.ArrayLike, lons: npt.ArrayLike) -> FloatArray:
    """Unit vectors (n, 3) of points given in degrees."""
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


def chord_for_distance(distance_m: npt.ArrayLike) -> FloatArray:
    """Chord length on the unit sphere of a great-circle distance in metres."""
    return 2.0 * np.sin(np.asarray(distance_m, dtype=np.float64) / (2.0 * EARTH_RADIUS_M))


def distance_for_chord(chord: npt.ArrayLike) -> FloatArray:
    """Great-circle distance in metres of a chord length on the unit sphere."""
    c = np.clip(np.asarray(chord, dtype=np.float64), 0.0, 2.0)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(c / 2.0)


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres, vectorised over any broadcastable inputs."""
    p1, l1 = np.radians(lat1), np.radians(lon1)
    p2, l2 = np.radians(lat2), np.radians(lon2)
    a = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2.0) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


class LocalFrame:
    """A tangent plane at one point: (x east, y north) in metres, by orthographic projection.

    Distortion grows with the square of the distance from the origin (0.1 mm at 1 km), so a
    frame centred on a place measures that place and its surroundings exactly enough for
    geofencing. At a pole, "east" is the direction of longitude 90°.
    """

    __slots__ = ("east", "north", "origin")

    def __init__(self, lat: float, lon: float) -> None:
        self.origin = unit_vectors(lat, lon)
        lam = np.radians(lon)
        phi = np.radians(lat)
        self.east = np.array([-np.sin(lam), np.cos(lam), 0.0])
        self.north = np.array([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)])

    def project(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Project points (degrees) to metres in this frame."""
        v = unit_vectors(lats, lons)
        return v @ self.east * EARTH_RADIUS_M, v @ self.north * EARTH_RADIUS_M

    def project_geometry(self, geometry: BaseGeometry) -> BaseGeometry:
        """The same geometry, with its (lon, lat) coordinates projected to metres."""

        def transform(coords: FloatArray) -> FloatArray:
            x, y = self.project(coords[:, 1], coords[:, 0])
            return np.column_stack([x, y])

        return shapely.transform(geometry, transform)


# Edges are densified to this many degrees before projection, so that a long edge that is
# straight in lon/lat keeps its shape in the local frame (bend under 0.1 m at 60°N).
_DENSIFY_DEG = 0.005
# Beyond this, the orthographic frame folds over: report the distance to the nearest vertex.
_FRAME_REACH_M = 1_000_000.0


def distance_to_geometry_m(geometry: BaseGeometry, lat: float, lon: float) -> float:
    """Metres from a point to a polygonal geometry (0 when the geometry covers the point).

    Reference implementation: densifies the edges and projects the geometry into a frame
    centred on the point. Exact to centimetres within the frame's reach; past it (the far
    side of the globe) the distance to the nearest vertex, which is only ever "far".
    """
    if shapely.intersects_xy(geometry, lon, lat):
        return 0.0
    dense = shapely.segmentize(geometry, _DENSIFY_DEG)
    coords = shapely.get_coordinates(dense)
    nearest_vertex = float(np.min(haversine_m(lat, lon, coords[:, 1], coords[:, 0])))
    if nearest_vertex > _FRAME_REACH_M:
        return nearest_vertex
    frame = LocalFrame(lat, lon)
    return float(shapely.distance(frame.project_geometry(dense), shapely.Point(0.0, 0.0)))
