"""Ping files: JSON Lines, CSV and real GPX tracks, with malformed records as rejections."""

from __future__ import annotations

from pathlib import Path

import pytest

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection, RejectReason
from geotrigger.pings import read_pings

JSONL = b"""{"device_id": "d1", "lat": 60.17, "lon": 24.94, "timestamp": "2026-06-12T10:00:00Z", \
"id": "p1"}

{"device_id": "d1", "lat": 60.17, "lon": 24.94}
{"device_id": "d1", "lat": "x", "lon": 24.94, "timestamp": 1781258400}
not json at all
{"device_id": "d1", "lat": NaN, "lon": 24.94, "timestamp": 1781258400}
[1, 2]
"""


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_jsonl_keeps_going_past_bad_lines(tmp_path: Path) -> None:
    """Each bad line is one malformed rejection with its line; the good ones are pings."""
    items = list(read_pings(_write(tmp_path, "day.jsonl", JSONL)))
    pings = [i for i in items if isinstance(i, Ping)]
    bad = [i for i in items if isinstance(i, Rejection)]
    assert [p.id for p in pings] == ["p1"]
    assert [(r.line, r.reason) for r in bad] == [
        (3, RejectReason.MALFORMED),
        (4, RejectReason.MALFORMED),
        (5, RejectReason.MALFORMED),
        (6, RejectReason.MALFORMED),  # NaN is not JSON (RFC 8259); in CSV it is the filter's
        (7, RejectReason.MALFORMED),
    ]
    assert bad[0].detail == "missing field 'timestamp'"
    assert bad[1].detail == "field 'lat': expected a number, got str"
    assert bad[1].device_id == "d1"
    assert bad[2].detail.startswith("not valid JSON")
    assert bad[3].detail.startswith("not valid JSON")
    assert bad[4].detail == "expected an object, got list"


def test_csv_with_signals_and_empty_cells(tmp_path: Path) -> None:
    """Optional columns may be empty; signal.<name> columns become signals."""
    data = (
        b"device_id,lat,lon,timestamp,accuracy_m,speed_mps,signal.fatigue\n"
        b"d1,60.17,24.94,2026-06-12T10:00:00Z,12,,0.4\n"
        b"d1,60.17,24.94,1781258460,,1.5,\n"
        b"d1,sixty,24.94,1781258460,,,\n"
        b"d1,60.17\n"
    )
    items = list(read_pings(_write(tmp_path, "day.csv", data)))
    first, second, bad_lat, short = items
    assert isinstance(first, Ping) and isinstance(second, Ping)
    assert (first.accuracy_m, first.speed_mps, dict(first.signals)) == (
        12.0,
        None,
        {"fatigue": 0.4},
    )
    assert (second.accuracy_m, second.speed_mps, dict(second.signals)) == (None, 1.5, {})
    assert isinstance(bad_lat, Rejection) and bad_lat.line == 4
    assert "field 'lat': expected a number, got str" in bad_lat.detail
    assert isinstance(short, Rejection) and short.detail == "expected 7 cells, got 2"


def test_csv_missing_columns_is_a_file_error(tmp_path: Path) -> None:
    """Without the required columns nothing can be read: one error naming them."""
    path = _write(tmp_path, "day.csv", b"device_id,latitude,longitude,timestamp\nd1,1,2,3\n")
    with pytest.raises(PingError, match="lacks the column\\(s\\) lat, lon") as info:
        list(read_pings(path))
    assert "day.csv line 1" in str(info.value)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("missing.jsonl", None, "cannot read the file"),  # no such file
        ("day.txt", b"", "cannot tell the format"),  # unknown suffix
        ("broken.gpx", b"<gpx><trkpt lat='1' lon='2'>", "not valid GPX/XML"),  # cut short
    ],
)
def test_unreadable_files_raise(
    tmp_path: Path, name: str, data: bytes | None, message: str
) -> None:
    """A file that cannot be read at all raises PingError with the file's name."""
    path = tmp_path / name if data is None else _write(tmp_path, name, data)
    with pytest.raises(PingError, match=message) as info:
        list(read_pings(path))
    assert name in str(info.value)


def test_gpx_car_trace(shared_fixtures: Path) -> None:
    """A real Garmin track: every fix a ping of the device named after the file."""
    items = list(read_pings(shared_fixtures / "traces" / "around-visnjan-with-car.gpx"))
    assert len(items) == 104
    assert all(isinstance(i, Ping) for i in items)
    first = items[0]
    assert isinstance(first, Ping)
    assert first.device_id == "around-visnjan-with-car"
    assert first.id == "around-visnjan-with-car:1"
    assert first.timestamp.isoformat() == "2020-12-18T06:15:50+00:00"
    assert first.accuracy_m is None  # GPX has none; the engine's default applies


def test_gpx_fixes_without_time_are_malformed(shared_fixtures: Path) -> None:
    """The hike has fixes without a time: each is a rejection naming the fix, not an abort."""
    items = list(read_pings(shared_fixtures / "traces" / "korita-zbevnica.gpx", device_id="hiker"))
    bad = [i for i in items if isinstance(i, Rejection)]
    good = [i for i in items if isinstance(i, Ping)]
    assert len(items) == 871  # the track points; its 2 waypoints are not fixes
    assert bad and good
    assert all(r.reason is RejectReason.MALFORMED for r in bad)
    assert all(r.detail.startswith("GPX trkpt number ") for r in bad)
    assert bad[0].line == int(bad[0].detail.split()[3].rstrip(":"))
    assert {p.device_id for p in good} == {"hiker"}


def test_gpx_reads_track_points_not_waypoints(shared_fixtures: Path) -> None:
    """GPX 1.0 with 7 waypoints and a 296-point track: only the track points are fixes."""
    items = list(read_pings(shared_fixtures / "traces" / "cerknicko-jezero.gpx"))
    assert len(items) == 296
    assert all(isinstance(i, Ping) for i in items)


def test_gpx_route_points_and_waypoints_are_not_fixes(tmp_path: Path) -> None:
    """A planned route and a marked spot, both timed, say nothing of where the device was."""
    doc = (
        '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        '<wpt lat="60.17" lon="24.94"><time>2026-06-01T10:00:00Z</time></wpt>'
        '<rte><rtept lat="60.18" lon="24.95"><time>2026-06-01T10:01:00Z</time></rtept></rte>'
        '<trk><trkseg><trkpt lat="60.19" lon="24.96"><time>2026-06-01T10:02:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    )
    path = tmp_path / "mixed.gpx"
    path.write_text(doc)
    items = list(read_pings(path))
    assert len(items) == 1
    only = items[0]
    assert isinstance(only, Ping) and only.id == "mixed:1"


def test_progress_reports_bytes_read(tmp_path: Path) -> None:
    """The progress callback ends at the file's size (for the replay's progress bar)."""
    path = _write(tmp_path, "day.jsonl", JSONL)
    seen: list[int] = []
    list(read_pings(path, progress=seen.append))
    assert seen[-1] == len(JSONL)


def test_jsonl_with_byte_order_mark(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark before the first record is not an error."""
    path = _write(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + JSONL.split(b"\n\n")[0] + b"\n")
    [item] = list(read_pings(path))
    assert isinstance(item, Ping) and item.id == "p1"
