"""OSM opening hours: parsing, evaluation in Europe/Helsinki (DST included), errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from geotrigger.errors import HoursError
from geotrigger.places import OsmOpeningHours, parse_opening_hours

HEL = ZoneInfo("Europe/Helsinki")


def local(text: str, fold: int = 0) -> datetime:
    """A Helsinki wall-clock time ('2024-01-15 08:00') as the UTC instant it names."""
    naive = datetime.fromisoformat(text)
    return naive.replace(tzinfo=HEL, fold=fold).astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 2024-01-15 is a Monday; 2024-01-19 a Friday.
CASES = [
    # always open, any instant
    ("24/7", local("2024-01-15 03:00"), True),
    # weekday range: inclusive start, exclusive end
    ("Mo-Fr 08:00-20:00", local("2024-01-15 07:59"), False),
    ("Mo-Fr 08:00-20:00", local("2024-01-15 08:00"), True),
    ("Mo-Fr 08:00-20:00", local("2024-01-15 19:59"), True),
    ("Mo-Fr 08:00-20:00", local("2024-01-15 20:00"), False),
    ("Mo-Fr 08:00-20:00", local("2024-01-20 12:00"), False),  # Saturday
    # day lists
    ("Sa,Su 10:00-16:00", local("2024-01-21 11:00"), True),
    ("Sa,Su 10:00-16:00", local("2024-01-15 11:00"), False),
    ("Mo-We,Fr 09:00-17:00", local("2024-01-18 12:00"), False),  # Thursday left out
    ("Mo-We,Fr 09:00-17:00", local("2024-01-19 12:00"), True),
    ("Su-Tu 09:00-17:00", local("2024-01-16 12:00"), True),  # range wrapping over Sunday
    # several spans in one day: the lunch break is closed
    ("Mo-Fr 08:00-12:00,13:00-18:00", local("2024-01-15 12:30"), False),
    ("Mo-Fr 08:00-12:00,13:00-18:00", local("2024-01-15 13:00"), True),
    # past midnight: Friday's night runs into Saturday
    ("Fr-Sa 10:00-03:00", local("2024-01-20 02:59"), True),
    ("Fr-Sa 10:00-03:00", local("2024-01-21 02:00"), True),  # Saturday's night into Sunday
    ("Fr-Sa 10:00-03:00", local("2024-01-20 03:00"), False),
    ("Fr-Sa 10:00-03:00", local("2024-01-19 02:00"), False),  # Thursday night: not open
    ("Fr-Sa 10:00-03:00", local("2024-01-22 02:00"), False),  # Sunday night: not open
    # 24:00 closes at midnight and does not spill
    ("Mo-Su 10:00-24:00", local("2024-01-15 23:59"), True),
    ("Mo-Su 10:00-24:00", local("2024-01-16 00:00"), False),
    # ends up to 48:00
    ("Fr 20:00-26:00", local("2024-01-20 01:30"), True),
    # off / closed
    ("off", local("2024-01-15 12:00"), False),
    ("closed", local("2024-01-15 12:00"), False),
    ("Mo-Fr 09:00-17:00; We off", local("2024-01-17 12:00"), False),
    ("Mo-Fr 09:00-17:00; Sa-Su off", local("2024-01-15 12:00"), True),
    # a closed rule with times removes only those times
    ("Mo-Fr 09:00-17:00; We 12:00-14:00 off", local("2024-01-17 13:00"), False),
    ("Mo-Fr 09:00-17:00; We 12:00-14:00 off", local("2024-01-17 15:00"), True),
    # ';' overrides earlier rules for the days it names
    ("Mo-Su 08:00-20:00; Su 10:00-14:00", local("2024-01-21 09:00"), False),
    ("Mo-Su 08:00-20:00; Su 10:00-14:00", local("2024-01-21 11:00"), True),
    ("Mo-Su 08:00-20:00; Su 10:00-14:00", local("2024-01-20 09:00"), True),
    ("Mo-Fr 10:00-18:00; 10:00-15:00", local("2024-01-15 16:00"), False),  # no days: all days
    # ',' adds to earlier rules instead
    ("Mo-Fr 08:00-12:00, We 14:00-18:00", local("2024-01-17 10:00"), True),
    ("Mo-Fr 08:00-12:00, We 14:00-18:00", local("2024-01-17 15:00"), True),
    ("Mo-Fr 08:00-12:00, We 14:00-18:00", local("2024-01-18 15:00"), False),
    # PH is accepted and ignored: no holiday calendar
    ("Mo-Fr 10:00-18:00; PH off", local("2024-12-25 12:00"), True),
    ("PH,Sa 10:00-12:00", local("2024-01-20 11:00"), True),
    # month and date prefixes
    ("Jun-Aug Mo-Fr 10:00-18:00", local("2024-07-15 12:00"), True),
    ("Jun-Aug Mo-Fr 10:00-18:00", local("2024-01-15 12:00"), False),
    ("Mo-Fr 10:00-18:00; Dec 24-26 off", local("2024-12-24 12:00"), False),
    ("Mo-Fr 10:00-18:00; Dec 24-26 off", local("2024-12-23 12:00"), True),
    ("Sep-May: Fr 18:00-22:00", local("2024-01-19 19:00"), True),  # wraps over the new year
    ("Sep-May: Fr 18:00-22:00", local("2024-07-19 19:00"), False),
    ("2017 Jul 1 - 2017 Aug 8 off; Mo-Fr 09:00-17:00", local("2024-07-15 12:00"), True),
    ("Mo-Fr 09:00-17:00; 2024 Jul 1 - 2024 Aug 8 off", local("2024-07-15 12:00"), False),
    # a dated range over the year end ends in the next year (Sun 2024-12-29, Wed 2025-01-15)
    ("2024 Dec-Jan Mo-Su 10:00-18:00", local("2024-12-29 12:00"), True),
    ("2024 Dec-Jan Mo-Su 10:00-18:00", local("2025-01-15 12:00"), True),
    ("2024 Dec-Jan Mo-Su 10:00-18:00", local("2025-02-03 12:00"), False),  # after it
    ("2024 Dec-Jan Mo-Su 10:00-18:00", local("2024-01-15 12:00"), False),  # the January before
    ("2024 Dec 20-Jan 5 Mo-Su 10:00-18:00", local("2025-01-03 12:00"), True),  # with days
    ("2024 Dec 20-Jan 5 Mo-Su 10:00-18:00", local("2025-01-06 12:00"), False),
    ("2024 Dec-2026 Jan Mo-Su 10:00-18:00", local("2025-07-15 12:00"), True),  # its own year
    # a comment alone says nothing definite: not open
    ('"by appointment"', local("2024-01-15 12:00"), False),
    ('Mo-Fr 11:00-15:00 open "Lunch"', local("2024-01-15 12:00"), True),
    # lenient spellings seen in real data
    ("Mo-su 09:00-19:00", local("2024-01-21 12:00"), True),
    ("Mo-Fr 9:00-17:00", local("2024-01-15 09:30"), True),
    ("Mo-Th 11:00-23:00; Fr11:00-24:00", local("2024-01-19 23:30"), True),
    # DST spring forward, Sun 2024-03-31: 03:00 EET jumps to 04:00 EEST at 01:00 UTC
    ("Mo-Su 08:00-20:00", utc("2024-03-31 04:59"), False),  # 07:59 EEST
    ("Mo-Su 08:00-20:00", utc("2024-03-31 05:00"), True),  # 08:00 EEST
    ("Mo-Su 08:00-20:00", utc("2024-03-30 05:59"), False),  # 07:59 EET the day before
    ("Mo-Su 08:00-20:00", utc("2024-03-30 06:00"), True),  # 08:00 EET
    ("Sa 22:00-03:30", utc("2024-03-31 00:59"), True),  # 02:59 EET
    ("Sa 22:00-03:30", utc("2024-03-31 01:00"), False),  # 04:00 EEST: 03:30 never happened
    # DST fall back, Sun 2024-10-27: 04:00 EEST goes back to 03:00 EET at 01:00 UTC
    ("Sa 22:00-03:30", utc("2024-10-27 00:15"), True),  # first 03:15 (EEST)
    ("Sa 22:00-03:30", utc("2024-10-27 00:45"), False),  # first 03:45 (EEST)
    ("Sa 22:00-03:30", utc("2024-10-27 01:15"), True),  # second 03:15 (EET): wall clock
    ("Sa 22:00-03:30", utc("2024-10-27 01:45"), False),  # second 03:45 (EET)
    ("Mo-Su 08:00-20:00", utc("2024-10-27 05:59"), False),  # 07:59 EET
    ("Mo-Su 08:00-20:00", utc("2024-10-27 06:00"), True),  # 08:00 EET
]


@pytest.mark.parametrize(("expression", "at", "expected"), CASES)
def test_is_open(expression: str, at: datetime, expected: bool) -> None:
    hours = parse_opening_hours(expression, "Europe/Helsinki")
    assert hours.is_open(at) is expected
    assert hours.expression == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "the expression is empty"),  # nothing to parse
        ("Mon-Fri 09:00-17:00", "did you mean 'Mo'?"),  # English day names
        ("Mo-Fr 9-17", "time '9' must be written hh:mm"),  # bare hours
        ("Mo-Fr 08:00-19:00 Sa 09:00-19:00", "expected ';' or ',' between rules: found 'Sa'"),
        ("Mo-Fr 16:00+", "open end ('+') is not supported"),
        ("Mo-Fr 16:00-", "expected an end time hh:mm at the end"),
        ("Mo[1] 10:00-12:00", "nth weekday"),
        ("week 01-10 Mo 10:00-12:00", "week numbers are not supported"),
        ("Mo-Fr sunrise-sunset", "sun times are not supported"),
        ("Mo-Fr 10:00-12:00 || off", "fallback rules '||' are not supported"),
        ("Mo-Fr 25:00-26:00", "must start before 24:00"),
        ("Mo-Fr 10:00-49:00", "time out of range"),
        ("Mo-Fr 10:00-12:00. Lunch", "found '.' at column 18"),
        ("Seasonal", "unknown word: found 'Seasonal' at column 1"),
        ("Jun 32 10:00-12:00", "day of month must be 1-31"),
        ("Mo-Fr 10:00-12:00 ; ; Sa 10:00-12:00", "expected days, times or a state"),
        ("Mo-Fr 10:00 & 12:00", "unexpected character '&' at column 13"),
    ],
)
def test_parse_errors(expression: str, message: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_opening_hours(expression, "Europe/Helsinki")
    assert message in str(caught.value)
    assert repr(expression) in str(caught.value)


def test_unknown_zone_and_naive_time() -> None:
    with pytest.raises(HoursError, match="unknown time zone 'Europe/Helsinky'"):
        parse_opening_hours("24/7", "Europe/Helsinky")
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_opening_hours("24/7", "UTC").is_open(datetime(2024, 1, 1))


def test_holidays_flag_equality_and_trailing_semicolon() -> None:
    assert parse_opening_hours("Mo-Fr 10:00-18:00; PH off", "UTC").names_holidays
    assert not parse_opening_hours("Mo-Fr 10:00-18:00;", "UTC").names_holidays
    a, b = (parse_opening_hours("24/7", "UTC") for _ in range(2))
    assert a == b and hash(a) == hash(b) and isinstance(a, OsmOpeningHours)


def test_helsinki_fixture_parse_rate(shared_fixtures: Path) -> None:
    # Every value either parses or fails with an error that says where.
    path = shared_fixtures / "places" / "helsinki-osm-pois.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    values = [
        f["properties"]["opening_hours"] for f in features if "opening_hours" in f["properties"]
    ]
    parsed = 0
    for value in values:
        try:
            parse_opening_hours(value, "Europe/Helsinki")
            parsed += 1
        except HoursError as exc:
            assert "column" in str(exc) or "at the end" in str(exc), str(exc)
    assert (parsed, len(values)) == (499, 508)
