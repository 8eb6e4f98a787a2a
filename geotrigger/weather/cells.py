"""Weather cells: a coarse grid that groups nearby places so that one reading serves them all.

A cell is ``cell_m`` metres of latitude high (``cell_m / 111_195`` degrees, the length of one
degree of a meridian on the mean Earth sphere) and the same number of degrees wide. Cells are
therefore narrower in metres towards the poles (half as wide at 60° latitude). That is fine for
weather, which varies over kilometres: the grid is cheap, stable and needs no projection. The
key is ``"<cell_m>m:<row>:<column>"`` with row and column counted by floor division from the
equator and the prime meridian, so ``"5000m:1338:554"`` is a 5 km cell over Helsinki.

Longitude 180 is the same meridian as -180 and folds to it. Latitude 90 (the pole itself) falls
in the row above the last full row when 90 degrees is a whole number of cells; a place exactly
at a pole is rare enough for that to be harmless.
"""

from __future__ import annotations

import math
import re

from geotrigger.model import Circle, Place

METRES_PER_DEGREE = 111_195.0  # one degree of latitude on the mean sphere (R = 6 371 008.8 m)
_KEY = re.compile(r"^(?P<size>[0-9.eE+]+)m:(?P<row>-?[0-9]+):(?P<col>-?[0-9]+)$")


def _check_cell_m(cell_m: float) -> None:
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ValueError(f"cell size must be a positive number of metres, got {cell_m!r}")


def cell_of(lat: float, lon: float, cell_m: float) -> str:
    """The key of the weather cell of ``cell_m`` metres that holds the point (degrees)."""
    _check_cell_m(cell_m)
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude {lat!r} is outside [-90, 90]")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"longitude {lon!r} is outside [-180, 180]")
    if lon == 180.0:
        lon = -180.0  # one meridian, one cell
    step = cell_m / METRES_PER_DEGREE
    return f"{cell_m:g}m:{math.floor(lat / step)}:{math.floor(lon / step)}"


def parse_cell(key: str) -> tuple[float, int, int] | None:
    """The cell size in metres, row and column of a cell key, or None if it is not one."""
    match = _KEY.match(key)
    if match is None:
        return None
    try:
        size = float(match["size"])
    except ValueError:
        return None
    if not (math.isfinite(size) and size > 0):
        return None
    return size, int(match["row"]), int(match["col"])


def cell_centre(key: str) -> tuple[float, float]:
    """The centre (lat, lon) of a cell, where a provider is asked for the cell's weather;
    ValueError when ``key`` is not a cell key."""
    parsed = parse_cell(key)
    if parsed is None:
        raise ValueError(f"not a weather cell key: {key!r}")
    size, row, col = parsed
    step = size / METRES_PER_DEGREE
    lat = min(90.0, max(-90.0, (row + 0.5) * step))
    lon = (col + 0.5) * step
    lon = min(180.0, max(-180.0, lon))
    return round(lat, 6), round(lon, 6)


def place_point(place: Place) -> tuple[float, float]:
    """The point (lat, lon) whose cell is the place's: a circle's centre, or a point that is
    surely inside a polygon (its representative point; a centroid can fall outside)."""
    if isinstance(place.geometry, Circle):
        return place.geometry.lat, place.geometry.lon
    point = place.geometry.representative_point()
    return float(point.y), float(point.x)  # shapely geometries are (lon, lat)


def cell_of_place(place: Place, cell_m: float) -> str:
    """The key of the weather cell of ``cell_m`` metres that holds the place's point."""
    lat, lon = place_point(place)
    return cell_of(lat, lon, cell_m)
