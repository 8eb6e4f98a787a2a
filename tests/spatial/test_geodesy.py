"""Distances on the sphere and the local frame."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import box

from geotrigger.spatial.geodesy import (
    EARTH_RADIUS_M,
    METRES_PER_DEGREE_LAT,
    LocalFrame,
    chord_for_distance,
    distance_for_chord,
    distance_to_geometry_m,
    haversine_m,
    unit_vectors,
)


@pytest.mark.parametrize(
    ("lat1", "lon1", "lat2", "lon2", "metres"),
    [
        (0.0, 0.0, 0.0, 0.0, 0.0),  # the same point
        (0.0, 0.0, 1.0, 0.0, METRES_PER_DEGREE_LAT),  # one degree along a meridian
        (0.0, 0.0, 0.0, 1.0, METRES_PER_DEGREE_LAT),  # one degree along the equator
        (60.0, 179.9995, 60.0, -179.9995, 55.6),  # across the antimeridian, not round the globe
        (90.0, 0.0, 90.0, 123.0, 0.0),  # the pole, whatever the longitude
        (89.999, 0.0, 89.999, 180.0, 222.4),  # over the pole
        (0.0, 0.0, 0.0, 180.0, math.pi * EARTH_RADIUS_M),  # antipodes
        (60.1699, 24.9384, 59.4370, 24.7536, 82_148.0),  # Helsinki to Tallinn (sphere)
    ],
)
def test_haversine(lat1: float, lon1: float, lat2: float, lon2: float, metres: float) -> None:
    assert float(haversine_m(lat1, lon1, lat2, lon2)) == pytest.approx(metres, rel=1e-3, abs=0.1)


@pytest.mark.parametrize("metres", [0.0, 0.001, 1.0, 75.0, 50_000.0, 5_000_000.0])
def test_chord_round_trip(metres: float) -> None:
    # Chords are what the index compares; the metre distance must come back exactly.
    assert float(distance_for_chord(chord_for_distance(metres))) == pytest.approx(
        metres, rel=1e-12, abs=1e-9
    )


def test_chord_matches_haversine() -> None:
    rng = np.random.default_rng(5)
    lat1, lon1 = rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)
    lat2 = np.clip(lat1 + rng.normal(0, 0.01, 500), -90, 90)
    lon2 = lon1 + rng.normal(0, 0.01, 500)
    chord = np.linalg.norm(unit_vectors(lat1, lon1) - unit_vectors(lat2, lon2), axis=1)
    np.testing.assert_allclose(
        distance_for_chord(chord), haversine_m(lat1, lon1, lat2, lon2), rtol=1e-9, atol=1e-6
    )


def test_unit_vectors_are_unit_and_agree_across_the_antimeridian() -> None:
    v = unit_vectors([10.0, 10.0, 90.0, 90.0], [180.0, -180.0, 0.0, 77.0])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0)
    np.testing.assert_allclose(v[0], v[1], atol=1e-15)
    np.testing.assert_allclose(v[2], v[3], atol=1e-15)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (60.17, 24.94),  # Helsinki
        (-16.8, 180.0),  # on the antimeridian
        (90.0, 0.0),  # the North Pole: east is towards longitude 90
        (-89.9, -45.0),  # near the South Pole
    ],
)
def test_local_frame_measures_metres(lat: float, lon: float) -> None:
    frame = LocalFrame(lat, lon)
    x0, y0 = frame.project(lat, lon)
    assert float(x0) == pytest.approx(0.0, abs=1e-6) and float(y0) == pytest.approx(0.0, abs=1e-6)
    # 100 m towards the pole (or away from it at the pole) stays 100 m in the plane.
    lat2 = (
        lat + 100.0 / METRES_PER_DEGREE_LAT if lat < 89.0 else lat - 100.0 / METRES_PER_DEGREE_LAT
    )
    x, y = frame.project(lat2, lon)
    assert math.hypot(float(x), float(y)) == pytest.approx(100.0, abs=1e-3)
    if lat < 89.0:
        assert float(y) == pytest.approx(100.0, abs=1e-3)  # north is +y


def test_project_geometry_keeps_the_shape() -> None:
    frame = LocalFrame(60.17, 24.94)
    square = box(24.94, 60.17, 24.94 + 0.001 / math.cos(math.radians(60.17)), 60.171)
    projected = frame.project_geometry(square)
    assert projected.area == pytest.approx((0.001 * METRES_PER_DEGREE_LAT) ** 2, rel=1e-3)


@pytest.mark.parametrize(
    ("lat", "lon", "metres"),
    [
        (60.1705, 24.9405, 0.0),  # inside
        (60.171, 24.9405, 0.0),  # on the edge
        (60.1710 + 10.0 / METRES_PER_DEGREE_LAT, 24.9405, 10.0),  # 10 m north of it
        (60.1705, 24.939, 0.001 * METRES_PER_DEGREE_LAT * math.cos(math.radians(60.1705))),
    ],
)
def test_distance_to_geometry(lat: float, lon: float, metres: float) -> None:
    store = box(24.940, 60.170, 24.941, 60.171)
    assert distance_to_geometry_m(store, lat, lon) == pytest.approx(metres, abs=0.01)


def test_distance_to_a_long_edge_follows_the_edge_not_its_chord() -> None:
    # an 80 km edge along the parallel 60°N: the point 1 km north of its middle is 1 km away
    # (projecting only the two vertices would bend the edge by ~220 m)
    strip = box(24.0, 59.9, 25.44, 60.0)
    lat = 60.0 + 1000.0 / METRES_PER_DEGREE_LAT
    assert distance_to_geometry_m(strip, lat, 24.72) == pytest.approx(1000.0, abs=1.0)


def test_distance_from_the_far_side_of_the_globe_is_far() -> None:
    # a polygon round the north pole seen from the south pole must not be at distance 0
    cap = box(-180.0, 89.0, 180.0, 90.0)
    assert distance_to_geometry_m(cap, -90.0, 0.0) > 19_000_000.0
