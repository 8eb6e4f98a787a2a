"""Rings that cross the antimeridian: unwrapped, then cut at ±180.

Source files give a ring that crosses ±180 as consecutive longitudes jumping by more than 180°
(179.9 then -179.9). Read literally, that ring goes the long way round the globe. It is
unwrapped into continuous longitudes (179.9 then 180.1), built as one polygon there, and cut
at ±180 into pieces that are each shifted back into [-180, 180]: the form RFC 7946 asks for
and the form PostGIS ``geometry`` answers correctly.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

Ring = list[tuple[float, float]]  # (lon, lat) positions


def unwrap_ring(ring: Ring) -> Ring:
    """Make longitudes continuous: a jump of more than 180° means the ring crossed ±180."""
    out = [ring[0]]
    for lon, lat in ring[1:]:
        step = lon - ring[len(out) - 1][0]
        if step > 180.0:
            step -= 360.0
        elif step < -180.0:
            step += 360.0
        out.append((out[-1][0] + step, lat))
    return out


def align_hole(hole: Ring, shell: Ring) -> Ring:
    """Shift an unwrapped hole by whole turns so that it sits beside its unwrapped shell."""
    centre = sum(lon for lon, _ in shell) / len(shell)
    turns = round((centre - hole[0][0]) / 360.0)
    return [(lon + 360.0 * turns, lat) for lon, lat in hole]


def crosses_antimeridian(geometry: BaseGeometry) -> bool:
    """True when an unwrapped geometry reaches past ±180."""
    minx, _, maxx, _ = geometry.bounds
    return bool(minx < -180.0 or maxx > 180.0)


def split_at_antimeridian(geometry: BaseGeometry) -> list[BaseGeometry]:
    """The pieces of an unwrapped geometry on each side of ±180, shifted into [-180, 180]."""
    pieces: list[BaseGeometry] = []
    for shift in (-360.0, 0.0, 360.0):
        window = box(-180.0 - shift, -90.0, 180.0 - shift, 90.0)
        piece = geometry.intersection(window)
        if not piece.is_empty:
            pieces.append(shapely.transform(piece, lambda c, s=shift: c + np.array([s, 0.0])))
    return pieces
