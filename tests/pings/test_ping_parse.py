"""Records to pings: good values in every accepted form, bad ones with clear messages."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from geotrigger.errors import PingError, Where
from geotrigger.model import Ping
from geotrigger.pings import parse_ping, parse_timestamp

GOOD: dict[str, Any] = {
    "device_id": "dev-1",
    "lat": 60.17,
    "lon": 24.94,
    "timestamp": "2026-06-12T10:15:30Z",
}
T = datetime(2026, 6, 12, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-12T10:15:30Z", T),  # RFC 3339 with Z
        ("2026-06-12T12:15:30+02:00", T),  # an offset, converted to UTC
        ("2026-06-12T10:15:30.250Z", T.replace(microsecond=250_000)),  # fractions
        ("2026-06-12 10:15:30Z", T),  # RFC 3339 allows a space for the T
        (1781259330, T),  # epoch seconds as an int
        (1781259330.5, T.replace(microsecond=500_000)),  # ... as a float
        ("1781259330", T),  # ... as a numeric string (CSV)
    ],
)
def test_timestamps_in_every_form_become_aware_utc(value: object, expected: datetime) -> None:
    """Every accepted form of a timestamp comes out as the same aware UTC instant."""
    got = parse_timestamp(value)
    assert got == expected
    assert got.utcoffset() is not None and got.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"device_id": None}, "missing field 'device_id'"),  # no device
        ({"lat": None}, "missing field 'lat'"),  # no latitude
        ({"timestamp": None}, "missing field 'timestamp'"),  # no time
        ({"lat": "north"}, "field 'lat': expected a number, got str"),  # non-numeric
        ({"lon": True}, "field 'lon': expected a number"),  # a boolean is no number
        ({"timestamp": "yesterday"}, "neither RFC 3339 nor epoch seconds"),  # bad text
        ({"timestamp": "2026-06-12T10:15:30"}, "has no time zone"),  # naive: refused
        ({"timestamp": 1781259330000}, "epoch milliseconds?"),  # ms, not s
        ({"timestamp": [1]}, "expected an RFC 3339 string or epoch seconds"),  # a list
        ({"accuracy_m": "good"}, "field 'accuracy_m': expected a number"),  # bad optional
        ({"device_id": 3.5}, "field 'device_id': expected a string"),  # float id
        ({"signals": {"fatigue": "high"}}, "field 'signals.fatigue': expected a number"),
        ({"signals": [1, 2]}, "field 'signals': expected an object"),
    ],
)
def test_bad_records_name_the_field_and_line(change: dict[str, Any], message: str) -> None:
    """The message says which field is wrong, and where the record was."""
    record = {**GOOD, **change}
    with pytest.raises(PingError) as info:
        parse_ping(record, where=Where(source="day.jsonl", line=7))
    assert message in str(info.value)
    assert "day.jsonl line 7" in str(info.value)


def test_optional_fields_and_signals() -> None:
    """Optional fields are read; numeric ids become text; null signals are left out."""
    ping = parse_ping(
        {
            **GOOD,
            "id": 42,
            "accuracy_m": "12.5",
            "speed_mps": 1,
            "consumer_id": "c-9",
            "signals": {"fatigue": 0.7, "steps": None},
            "extra": "ignored",
        }
    )
    assert (ping.id, ping.accuracy_m, ping.speed_mps, ping.consumer_id) == ("42", 12.5, 1.0, "c-9")
    assert dict(ping.signals) == {"fatigue": 0.7}


@pytest.mark.parametrize("speed", [-1, "NaN", float("inf")])
def test_unknown_speed_becomes_none(speed: object) -> None:
    """Phones send -1 when they do not know the speed; that is 'unknown', not an error."""
    assert parse_ping({**GOOD, "speed_mps": speed}).speed_mps is None


def test_nan_coordinates_parse_and_are_left_to_the_filter() -> None:
    """NaN is a number to the parser; the filter rejects it, counted as invalid coordinates."""
    ping = parse_ping({**GOOD, "lat": float("nan")})
    assert math.isnan(ping.lat)


def test_not_an_object() -> None:
    """A JSON line that is a list, not an object."""
    with pytest.raises(PingError, match="expected an object, got list"):
        parse_ping([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "timestamp", ["2026-06-12T12:15:30.25+02:00", 1781259330.25, "1781259330.25"]
)
def test_parsed_ping_equals_a_checked_one(timestamp: object) -> None:
    """The parser's pings are the values the checking constructor builds, epoch included."""
    record = {**GOOD, "timestamp": timestamp, "id": 7, "accuracy_m": 9, "signals": {"hr": 80}}
    parsed = parse_ping(record)
    checked = Ping(
        device_id="dev-1",
        lat=60.17,
        lon=24.94,
        timestamp=T.replace(microsecond=250_000),
        id="7",
        accuracy_m=9.0,
        signals={"hr": 80.0},
    )
    assert parsed == checked
    assert parsed.epoch_s == checked.epoch_s == checked.timestamp.timestamp()
    assert parsed.timestamp.tzinfo is UTC


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity"])
def test_a_signal_that_is_not_finite_is_refused(value: str) -> None:
    """A threshold cannot be crossed by NaN, and JSON cannot store it."""
    record = {"device_id": "d", "lat": 60.0, "lon": 25.0, "timestamp": "2026-06-12T06:00:00Z"}
    with pytest.raises(PingError, match=r"signals\.fatigue"):
        parse_ping({**record, "signals": {"fatigue": value}})
