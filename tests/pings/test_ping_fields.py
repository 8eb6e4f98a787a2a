"""The field rules every ping parser shares, and the parsers agreeing on them."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings import parse_osmand, parse_owntracks, parse_ping
from geotrigger.pings.fields import (
    json_number,
    known_accuracy,
    known_speed,
    number,
    optional_number,
    required_number,
    shown,
    utc_from_epoch,
    utc_from_epoch_or_milliseconds,
)

TST = 1781259330
T = datetime(2026, 6, 12, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [(60.5, 60.5), (60, 60.0), ("60.5", 60.5)])
def test_a_number_is_a_json_number_or_numeric_text(value: object, expected: float) -> None:
    """Numbers and numeric strings (what CSV and old clients send) read the same."""
    assert number(value, "lat") == expected


@pytest.mark.parametrize(
    ("value", "kind"), [("52.520008 N", "str"), (True, "bool"), ([52.520008], "list")]
)
def test_a_bad_number_names_its_type_never_its_value(value: object, kind: str) -> None:
    """The value may be a coordinate: the error says the field and the type only."""
    with pytest.raises(PingError) as info:
        number(value, "lat")
    assert info.value.reason == f"field 'lat': expected a number, got {kind}"
    assert "52.52" not in str(info.value)


def test_missing_numbers() -> None:
    """None and an empty string are missing: None when optional, an error when required."""
    assert optional_number(None, "acc") is None and optional_number("", "acc") is None
    with pytest.raises(PingError, match="field 'tst' is missing"):
        required_number("", "tst")


def test_a_json_number_refuses_text() -> None:
    """Overland sends JSON numbers only: a numeric string there is an error, null unknown."""
    assert json_number(None, "properties.speed") is None
    assert json_number(4, "properties.speed") == 4.0
    with pytest.raises(PingError, match=r"'properties\.speed': expected a number, got str"):
        json_number("4", "properties.speed")


def test_epoch_seconds_and_milliseconds() -> None:
    """Seconds everywhere; milliseconds only where a client may send them, else a hint."""
    assert utc_from_epoch(TST, "tst") == T
    assert utc_from_epoch_or_milliseconds(TST * 1000, "timestamp") == T
    assert utc_from_epoch_or_milliseconds(TST, "timestamp") == T
    with pytest.raises(
        PingError, match=r"'tst': epoch value 1\.78126e\+12 is out of range \(epoch"
    ):
        utc_from_epoch(TST * 1000, "tst")
    with pytest.raises(PingError) as info:
        utc_from_epoch_or_milliseconds(1e300, "timestamp")
    assert info.value.reason == "field 'timestamp': epoch value 1e+300 is out of range"


@pytest.mark.parametrize(
    ("value", "accuracy", "speed"),
    [
        (None, None, None),
        (0.0, None, 0.0),  # no radius is unknown; standing still is a speed
        (-1.0, None, None),  # what phones send for "unknown"
        (math.nan, None, None),
        (math.inf, math.inf, None),  # an infinite radius is left to the accuracy filter
        (7.5, 7.5, 7.5),
    ],
)
def test_unknown_accuracy_and_speed(
    value: float | None, accuracy: float | None, speed: float | None
) -> None:
    """Accuracy: missing, zero or negative is unknown; speed: missing, negative or not finite."""
    assert known_accuracy(value) == accuracy
    assert known_speed(value) == speed


def test_shown_values_are_cut_short() -> None:
    """A quoted value (a bad timestamp) never brings a long payload into a log."""
    assert shown("yesterday") == "'yesterday'"
    assert shown("x" * 500) == "'" + "x" * 36 + "..."


def through_two_parsers(speed: Any) -> list[Ping | Rejection]:
    """The same fix with the same raw speed through geotrigger's format and OsmAnd's JSON."""
    own = parse_ping(
        {"device_id": "d", "lat": 60.1, "lon": 24.9, "timestamp": TST, "speed_mps": speed}
    )
    body = {
        "device_id": "d",
        "location": {
            "timestamp": TST,
            "coords": {"latitude": 60.1, "longitude": 24.9, "speed": speed},
        },
    }
    return [own, *parse_osmand({}, body)]


@pytest.mark.parametrize(("speed", "expected"), [(-1, None), ("NaN", None), (0, 0.0), (2, 2.0)])
def test_the_parsers_agree_on_unknown_speeds(speed: object, expected: float | None) -> None:
    """geotrigger's records and Traccar Client's JSON read a speed by the same rule."""
    items = through_two_parsers(speed)
    assert all(isinstance(item, Ping) for item in items)
    assert [item.speed_mps for item in items if isinstance(item, Ping)] == [expected, expected]


def test_an_osmand_parameter_error_names_the_type_too() -> None:
    """OsmAnd's parameters are refused in the same words as every other number field."""
    params = {"id": "d", "timestamp": str(TST), "lat": "60.1", "lon": "east"}
    [rejection] = parse_osmand(params, None)
    assert isinstance(rejection, Rejection)
    assert rejection.detail == "field 'lon': expected a number, got str"


def test_an_owntracks_battery_is_rounded_as_the_other_clients() -> None:
    """Every client's battery percentage is kept to six decimals."""
    message = {"_type": "location", "lat": 60.1, "lon": 24.9, "tst": TST, "batt": 76.12345678}
    [ping] = parse_owntracks(message, headers={"x-limit-u": "u", "x-limit-d": "d"}, query={})
    assert isinstance(ping, Ping)
    assert ping.signals["battery_pct"] == 76.123457
