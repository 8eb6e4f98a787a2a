"""Rings across the antimeridian: unwrapping, aligning holes, cutting at ±180."""

from __future__ import annotations

import pytest
from shapely.geometry import Polygon

from geotrigger.spatial.antimeridian import (
    align_hole,
    crosses_antimeridian,
    split_at_antimeridian,
    unwrap_ring,
)


@pytest.mark.parametrize(
    ("ring", "unwrapped"),
    [
        # an ordinary ring is left as it is
        ([(10.0, 0.0), (11.0, 0.0), (11.0, 1.0), (10.0, 0.0)], None),
        # eastward over +180: -179.5 becomes 180.5
        (
            [(179.5, 0.0), (-179.5, 0.0), (-179.5, 1.0), (179.5, 0.0)],
            [(179.5, 0.0), (180.5, 0.0), (180.5, 1.0), (179.5, 0.0)],
        ),
        # westward over -180: 179.5 becomes -180.5
        (
            [(-179.5, 0.0), (179.5, 0.0), (179.5, 1.0), (-179.5, 0.0)],
            [(-179.5, 0.0), (-180.5, 0.0), (-180.5, 1.0), (-179.5, 0.0)],
        ),
    ],
)
def test_unwrap_ring(ring: list[tuple[float, float]], unwrapped: list | None) -> None:
    assert unwrap_ring(ring) == (ring if unwrapped is None else unwrapped)


def test_a_hole_is_moved_beside_its_shell() -> None:
    shell = [(179.0, 0.0), (181.0, 0.0), (181.0, 2.0), (179.0, 2.0), (179.0, 0.0)]
    hole = [(-179.5, 0.5), (-179.5, 1.5), (-179.8, 1.5), (-179.5, 0.5)]  # as written: west
    assert [lon for lon, _ in align_hole(hole, shell)] == [180.5, 180.5, 180.2, 180.5]


def test_split_into_pieces_within_range_with_the_same_area() -> None:
    unwrapped = Polygon([(179.0, 0.0), (181.0, 0.0), (181.0, 1.0), (179.0, 1.0)])
    assert crosses_antimeridian(unwrapped)
    pieces = split_at_antimeridian(unwrapped)
    assert len(pieces) == 2
    assert sorted(p.bounds for p in pieces) == [
        (-180.0, 0.0, -179.0, 1.0),
        (179.0, 0.0, 180.0, 1.0),
    ]
    assert sum(p.area for p in pieces) == pytest.approx(unwrapped.area)
    assert not crosses_antimeridian(Polygon([(179.0, 0.0), (180.0, 0.0), (180.0, 1.0)]))
