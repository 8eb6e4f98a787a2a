"""Weather cells: keys, the antimeridian, the poles, and the point of a place."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from geotrigger.model import Circle, Place
from geotrigger.weather.cells import (
    METRES_PER_DEGREE,
    cell_of,
    cell_of_place,
    parse_cell,
    place_point,
)


@pytest.mark.parametrize(
    ("lat", "lon", "cell_m", "key"),
    [
        # Helsinki centre in 5 km cells: row 1338, column 554
        (60.17, 24.94, 5000, "5000m:1338:554"),
        # the origin is the corner of cell 0:0
        (0.0, 0.0, 1000, "1000m:0:0"),
        # floor division: just south-west of the origin is cell -1:-1, not 0:0
        (-1e-9, -1e-9, 1000, "1000m:-1:-1"),
        # longitude 180 is longitude -180
        (10.0, 180.0, 5000, cell_of(10.0, -180.0, 5000)),
        # a fractional size keeps its fraction in the key
        (0.0, 0.0, 2500.5, "2500.5m:0:0"),
        # the north pole lies in the top row (90 degrees is not a whole number of 5 km cells)
        (90.0, 0.0, 5000, "5000m:2001:0"),
        # the south pole
        (-90.0, 45.0, 5000, "5000m:-2002:1000"),
    ],
)
def test_cell_keys(lat: float, lon: float, cell_m: float, key: str) -> None:
    assert cell_of(lat, lon, cell_m) == key


def test_the_antimeridian_folds_to_minus_180_and_its_neighbours_differ() -> None:
    west = cell_of(-17.7, -180.0, 5000)
    assert cell_of(-17.7, 180.0, 5000) == west
    assert cell_of(-17.7, 179.99, 5000) != west  # the other side of the line is another cell


@pytest.mark.parametrize(
    ("lat", "lon", "cell_m"),
    [
        # latitude beyond the pole
        (90.5, 0.0, 5000),
        # longitude beyond the antimeridian
        (0.0, -180.5, 5000),
        # not a number
        (math.nan, 0.0, 5000),
        # a cell of no size
        (0.0, 0.0, 0),
        # a negative size
        (0.0, 0.0, -5),
    ],
)
def test_impossible_points_and_sizes_are_refused(lat: float, lon: float, cell_m: float) -> None:
    with pytest.raises(ValueError):
        cell_of(lat, lon, cell_m)


@given(
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
    st.sampled_from([250, 1000, 5000, 12_500.5]),
)
def test_a_point_lies_in_the_cell_its_key_names(lat: float, lon: float, cell_m: float) -> None:
    parsed = parse_cell(cell_of(lat, lon, cell_m))
    assert parsed is not None
    size, row, col = parsed
    step = cell_m / METRES_PER_DEGREE
    lon = -180.0 if lon == 180.0 else lon
    assert size == cell_m
    slack = 1e-9  # floor division of floats: a point on an edge may go either way
    assert row * step - slack <= lat <= (row + 1) * step + slack
    assert col * step - slack <= lon <= (col + 1) * step + slack


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        # a key as cell_of writes it
        ("5000m:1338:554", (5000.0, 1338, 554)),
        # negative row and column
        ("250m:-3:-7", (250.0, -3, -7)),
        # a place id is not a cell key
        ("osm-node-1007416273", None),
        # no unit
        ("5000:1:2", None),
        # a size of zero
        ("0m:1:2", None),
    ],
)
def test_parse_cell(key: str, parsed: tuple[float, int, int] | None) -> None:
    assert parse_cell(key) == parsed


def test_a_place_point_is_a_circle_centre_or_inside_the_polygon() -> None:
    circle = Place(id="c", name="c", geometry=Circle(lat=60.17, lon=24.94, radius_m=50))
    # An L shape whose centroid lies outside it: the place's point must not.
    ell = Polygon(
        [(24.0, 60.0), (24.2, 60.0), (24.2, 60.02), (24.02, 60.02), (24.02, 60.2), (24.0, 60.2)]
    )
    assert not ell.contains(ell.centroid)
    lat, lon = place_point(Place(id="p", name="p", geometry=ell))
    assert ell.contains(Point(lon, lat))  # (lat, lon) out, shapely's (lon, lat) in
    assert place_point(circle) == (60.17, 24.94)
    assert cell_of_place(circle, 5000) == "5000m:1338:554"
