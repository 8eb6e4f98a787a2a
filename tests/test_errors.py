"""Error messages name what is wrong and where."""

from __future__ import annotations

import pytest

from geotrigger.errors import HoursError, InputError, PingError, PlaceError, Where


@pytest.mark.parametrize(
    ("error", "text"),
    [
        # a YAML place: id, file and line
        (
            PlaceError("ring is not closed", where=Where(source="a.yaml", line=12, item_id="s-1")),
            "place 's-1' in a.yaml line 12: ring is not closed",
        ),
        # a GeoJSON feature without an id yet
        (
            PlaceError("no id", where=Where(source="b.geojson", feature=3)),
            "place in b.geojson feature 3: no id",
        ),
        # a ping line of a file
        (PingError("bad timestamp", where=Where(line=7)), "ping line 7: bad timestamp"),
        # nothing known about where
        (HoursError("unknown token 'Xy'"), "opening hours: unknown token 'Xy'"),
    ],
)
def test_messages_name_where(error: InputError, text: str) -> None:
    assert str(error) == text
    assert error.http_status == 400
