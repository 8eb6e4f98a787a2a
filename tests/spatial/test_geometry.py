"""Building geometries from raw coordinates: checks, winding, antimeridian, repair."""

from __future__ import annotations

import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon

from geotrigger.spatial.geometry import (
    build_multipolygon,
    build_polygon,
    check_lat_lon,
    describe_invalid,
    looks_swapped,
    swap_xy,
)

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
CLOCKWISE = list(reversed(SQUARE))
BOWTIE = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]


@pytest.mark.parametrize(
    ("lat", "lon", "codes"),
    [
        (60.17, 24.94, []),  # Helsinki: fine
        (-90.0, 180.0, []),  # the corners of the range are valid
        (91.0, 24.0, ["coord-swapped"]),  # |lon| <= 90 < |lat|: looks swapped
        (24.94, 190.0, ["coord-range"]),  # longitude past 180
        (-95.0, 120.0, ["coord-range"]),  # latitude out, but swapping would not help
        (float("nan"), 0.0, ["coord-range"]),  # not finite
        ("60", 24.0, ["coord-type"]),  # text is not a number
        (True, 24.0, ["coord-type"]),  # nor is a boolean
    ],
)
def test_check_lat_lon(lat: object, lon: object, codes: list[str]) -> None:
    _, _, issues = check_lat_lon(lat, lon)
    assert [i.code for i in issues] == codes


def test_swapped_is_repaired_only_with_fix() -> None:
    # Without fix the position stays as given; with fix it is exchanged and marked repaired.
    assert check_lat_lon(124.9, 60.2)[:2] == (124.9, 60.2)
    lat, lon, issues = check_lat_lon(124.9, 60.2, fix=True)
    assert (lat, lon) == (60.2, 124.9) and issues[0].repaired
    assert looks_swapped(100.0, 10.0) and not looks_swapped(10.0, 100.0)


@pytest.mark.parametrize(
    ("rings", "code", "path"),
    [
        # ring not closed: the last position must repeat the first
        ([SQUARE[:-1]], "ring-unclosed", (0,)),
        # two distinct corners cannot make an area
        ([[[0, 0], [1, 1], [0, 0]]], "ring-too-short", (0,)),
        # a bow tie crosses itself; where is named
        ([BOWTIE], "geometry-invalid", ()),
        # a hole outside its shell
        ([SQUARE, [[5, 5], [5, 6], [6, 6], [5, 5]]], "geometry-invalid", ()),
        # a position that is not a pair
        ([[[0, 0], [1], [1, 1], [0, 0]]], "geometry-shape", (0, 1)),
        # out of range longitude, at the third position
        ([[[0, 0], [120, 0], [240, 10], [0, 0]]], "coord-range", (0, 2)),
        # a ring around the pole cannot be drawn in (lon, lat)
        ([[[0, 80], [120, 80], [-120, 80], [0, 80]]], "ring-pole", ()),
        # no rings at all
        ([], "geometry-shape", ()),
    ],
)
def test_polygon_errors(rings: list, code: str, path: tuple[int, ...]) -> None:
    built = build_polygon(rings)
    assert not built.ok and built.geometry is None
    assert (built.issues[0].code, built.issues[0].path) == (code, path)


def test_self_intersection_names_where() -> None:
    # The message gives the crossing point as (lat, lon).
    message = build_polygon([BOWTIE]).issues[0].message
    assert message == "polygon is self-intersecting at (0.50000, 0.50000)"


@pytest.mark.parametrize("ring", [SQUARE, CLOCKWISE], ids=["ccw", "cw"])
def test_winding_accepted_and_normalised(ring: list) -> None:
    # Either winding loads silently; the exterior comes out counter-clockwise.
    built = build_polygon([ring])
    assert built.ok and not built.issues
    assert isinstance(built.geometry, Polygon) and built.geometry.exterior.is_ccw


def test_hole_kept_and_clockwise() -> None:
    hole = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.2, 0.2]]  # given ccw
    built = build_polygon([SQUARE, hole])
    assert isinstance(built.geometry, Polygon) and len(built.geometry.interiors) == 1
    assert not built.geometry.interiors[0].is_ccw
    assert not shapely.intersects_xy(built.geometry, 0.5, 0.5)


def test_multipolygon_and_overlapping_parts() -> None:
    other = [[2, 2], [3, 2], [3, 3], [2, 3], [2, 2]]
    built = build_multipolygon([[SQUARE], [other]])
    assert built.ok and isinstance(built.geometry, MultiPolygon)
    overlap = [[0.5, 0.5], [2, 0.5], [2, 2], [0.5, 0.5]]
    bad = build_multipolygon([[SQUARE], [overlap]])
    assert bad.issues[0].message.startswith("parts of the multipolygon overlap at")


@pytest.mark.parametrize(
    ("ring", "parts"),
    [
        # crosses eastwards: 179 -> -179 is a 2° step, not 358°
        ([[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]], 2),
        # the same ring given with the other winding
        ([[179, 0], [179, 1], [-179, 1], [-179, 0], [179, 0]], 2),
        # mostly west of the line
        ([[179.5, -16], [-178, -16], [-178, -17], [179.5, -17], [179.5, -16]], 2),
        # near but not crossing: stays one polygon
        ([[170, 0], [179.9, 0], [179.9, 1], [170, 1], [170, 0]], 1),
    ],
)
def test_antimeridian_split(ring: list, parts: int) -> None:
    built = build_polygon([ring])
    geometry = built.geometry
    assert built.ok and geometry is not None and geometry.is_valid
    minx, _, maxx, _ = geometry.bounds
    assert minx >= -180.0 and maxx <= 180.0
    assert len(getattr(geometry, "geoms", [geometry])) == parts
    if parts == 2:
        # both sides of the line are covered, the far side of the globe is not
        assert shapely.intersects_xy(geometry, 179.9, geometry.bounds[1] + 0.5)
        assert shapely.intersects_xy(geometry, -179.9, geometry.bounds[1] + 0.5)
        assert not shapely.intersects_xy(geometry, 0.0, geometry.bounds[1] + 0.5)


def test_antimeridian_hole_follows_its_shell() -> None:
    shell = [[179, 0], [-179, 0], [-179, 2], [179, 2], [179, 0]]
    hole = [[179.5, 0.5], [179.5, 1], [-179.5, 1], [-179.5, 0.5], [179.5, 0.5]]
    geometry = build_polygon([shell, hole]).geometry
    assert geometry is not None
    assert not shapely.intersects_xy(geometry, 179.8, 0.7)
    assert not shapely.intersects_xy(geometry, -179.8, 0.7)
    assert shapely.intersects_xy(geometry, -179.2, 0.2)


@pytest.mark.parametrize(
    ("rings", "code"),
    [
        ([SQUARE[:-1]], "ring-unclosed"),  # closed by repeating the first position
        ([BOWTIE], "geometry-invalid"),  # make_valid: two triangles
        ([[[0, 91], [0, 92], [1, 92], [0, 91]]], "coord-swapped"),  # swapped back
    ],
)
def test_fix_repairs_and_reports(rings: list, code: str) -> None:
    assert not build_polygon(rings).ok
    built = build_polygon(rings, fix=True)
    assert built.ok and built.geometry is not None and built.geometry.is_valid
    assert any(i.code == code and i.repaired for i in built.issues)


def test_swap_xy_and_describe() -> None:
    poly = Polygon([(24, 60), (25, 60), (25, 61), (24, 60)])
    assert swap_xy(poly).bounds == (60.0, 24.0, 61.0, 25.0)
    assert "self-intersecting" in describe_invalid(Polygon(BOWTIE))


@settings(max_examples=200, deadline=None)
@given(
    west=st.floats(170.0, 179.9),
    width=st.floats(0.2, 15.0),
    south=st.floats(-80.0, 70.0),
    along=st.floats(-0.1, 1.1),
    up=st.floats(0.02, 0.98),
)
def test_antimeridian_split_keeps_containment(
    west: float, width: float, south: float, along: float, up: float
) -> None:
    # A box from `west` eastwards, often over ±180: a point is inside the split geometry exactly
    # when it is inside the box drawn with continuous longitudes.
    east = west + width
    given_east = east - 360.0 if east > 180.0 else east
    ring = [[west, south], [given_east, south], [given_east, south + 5], [west, south + 5]]
    geometry = build_polygon([[*ring, ring[0]]]).geometry
    assert geometry is not None and geometry.is_valid
    assert geometry.area == pytest.approx(width * 5.0)
    lon, lat = west + along * width, south + up * 5.0
    assume(abs(lon - west) > 1e-6 and abs(lon - east) > 1e-6)  # on the edge either is right
    wrapped = lon - 360.0 if lon > 180.0 else lon
    assert shapely.intersects_xy(geometry, wrapped, lat) == (west < lon < east)


UNIT = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]


@pytest.mark.parametrize(
    ("other", "message"),
    [
        # touching at one corner is a valid multipolygon
        ([[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]], None),
        # sharing an edge is not, and is called that rather than an overlap
        ([[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]], "parts of the multipolygon share an edge"),
        # insides that meet are an overlap
        ([[[0.5, 0], [2, 0], [2, 1], [0.5, 1], [0.5, 0]]], "parts of the multipolygon overlap"),
    ],
)
def test_how_multipolygon_parts_meet(other: list, message: str | None) -> None:
    built = build_multipolygon([UNIT, other])
    assert built.ok is (message is None)
    assert [i.message.split(" at ")[0] for i in built.issues] == ([message] if message else [])


@pytest.mark.parametrize(
    ("ring", "path"),
    [
        # three corners on one line: no area, not a self-intersection
        ([[0, 0], [1, 0], [2, 0], [0, 0]], (0,)),
        # a diagonal line too
        ([[0, 0], [1, 1], [2, 2], [3, 3], [0, 0]], (0,)),
    ],
)
def test_ring_without_area(ring: list, path: tuple[int, ...]) -> None:
    built = build_polygon([ring])
    (issue,) = built.issues
    assert (issue.code, issue.path, issue.message) == (
        "ring-no-area",
        path,
        "ring has no area: its corners lie on one line",
    )
