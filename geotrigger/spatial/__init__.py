"""Places in space: geodesy, geometry loading and repair, the in-memory place index."""

from geotrigger.spatial.index import Matches, PlaceIndex

__all__ = ["Matches", "PlaceIndex"]
