"""OwnTracks HTTP mode: the messages of the Android and iOS apps, to pings and rejections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings import parse_owntracks
from geotrigger.pings.owntracks import OWNTRACKS_REPLY
from tests.pings.one_item import only_ping, only_rejection

TST = 1781259330
T = datetime(2026, 6, 12, 10, 15, 30, tzinfo=UTC)

# As OwnTracks for Android 2.4 POSTs it: Wi-Fi connected, inside the "home" region.
ANDROID: dict[str, Any] = {
    "_type": "location",
    "_id": "8f3a1c2e",
    "acc": 13,
    "alt": 42,
    "batt": 78,
    "bs": 1,
    "conn": "w",
    "created_at": TST + 5,
    "lat": 60.169857,
    "lon": 24.938379,
    "m": 1,
    "t": "u",
    "tid": "jd",
    "tst": TST,
    "vac": 5,
    "vel": 18,
    "BSSID": "a4:2b:b0:c1:d2:e3",
    "SSID": "HomeNet",
    "inregions": ["home"],
    "inrids": ["5f1d2e9a"],
    "topic": "owntracks/jane/pixel",
}

# As OwnTracks for iOS 17 POSTs it: on mobile data, a timer-triggered fix with a course.
IOS: dict[str, Any] = {
    "_type": "location",
    "acc": 4.7,
    "alt": 31,
    "batt": 64,
    "bs": 2,
    "cog": 271,
    "conn": "m",
    "created_at": TST + 61,
    "lat": 59.436962,
    "lon": 24.753574,
    "m": 2,
    "p": 101.2,
    "t": "t",
    "tid": "JD",
    "tst": TST + 60,
    "vac": 8,
    "vel": 4,
    "topic": "owntracks/jane/iphone",
}

NO_HEADERS: dict[str, str] = {}
NO_QUERY: dict[str, str] = {}


def test_android_location_with_the_limit_headers() -> None:
    """Every field the app sends that a ping carries is read, in the ping's units."""
    headers = {"x-limit-u": "jane", "x-limit-d": "pixel"}
    ping = only_ping(parse_owntracks(ANDROID, headers=headers, query=NO_QUERY))
    assert ping.device_id == "jane/pixel"
    assert ping.id == f"owntracks:jane/pixel:{TST}"
    assert (ping.lat, ping.lon) == (60.169857, 24.938379)
    assert ping.timestamp == T and ping.timestamp.tzinfo is UTC
    assert ping.accuracy_m == 13.0
    assert ping.speed_mps == pytest.approx(5.0)  # 18 km/h
    assert dict(ping.signals) == {"battery_pct": 78.0, "altitude_m": 42.0}


def test_ios_location_equals_a_checked_ping() -> None:
    """The ping built without checks is the one the checking constructor builds."""
    ping = only_ping(parse_owntracks(IOS, headers=NO_HEADERS, query=NO_QUERY))
    checked = Ping(
        device_id="jane/iphone",
        lat=59.436962,
        lon=24.753574,
        timestamp=datetime(2026, 6, 12, 10, 16, 30, tzinfo=UTC),
        id=f"owntracks:jane/iphone:{TST + 60}",
        accuracy_m=4.7,
        speed_mps=4 / 3.6,
        signals={"battery_pct": 64.0, "altitude_m": 31.0, "heading_deg": 271.0},
    )
    assert ping == checked
    assert ping.epoch_s == checked.epoch_s == TST + 60


def test_a_list_body_gives_one_item_per_location_and_ignores_the_rest() -> None:
    """Some versions POST a list; only its locations become items, in order."""
    transition = {
        "_type": "transition",
        "acc": 13,
        "desc": "home",
        "event": "leave",
        "lat": 60.169857,
        "lon": 24.938379,
        "t": "c",
        "tid": "jd",
        "tst": TST + 30,
        "wtst": 1700000000,
        "topic": "owntracks/jane/pixel/event",
    }
    items = parse_owntracks([ANDROID, transition, IOS], headers=NO_HEADERS, query=NO_QUERY)
    assert [type(item) for item in items] == [Ping, Ping]
    assert [item.device_id for item in items] == ["jane/pixel", "jane/iphone"]


@pytest.mark.parametrize(
    "message",
    [
        {"_type": "transition", "event": "enter", "desc": "work", "tst": TST, "tid": "jd"},
        {"_type": "waypoint", "desc": "home", "lat": 60.1, "lon": 24.9, "rad": 50, "tst": TST},
        {"_type": "waypoints", "waypoints": [], "_creator": "owntracks"},
        {"_type": "card", "name": "Jane Doe", "face": "iVBORw0KGgo="},
        {"_type": "lwt", "tst": TST},
        {"_type": "steps", "steps": 4512, "from": TST - 86400, "to": TST},
        {"_type": "cmd", "action": "reportLocation"},
        {"_type": "status", "android": {"hib": 0, "bo": 1, "loc": 0}},
        {"_type": "beacon", "uuid": "CA271EAE-5FA8-4E80-8F08-2A302A95A959", "major": 1},
        {"_type": "configuration", "mode": 3},
    ],
)
def test_other_message_types_are_acknowledged_without_an_item(message: dict[str, Any]) -> None:
    """Everything that is not a location is accepted and gives nothing."""
    headers = {"x-limit-u": "jane", "x-limit-d": "pixel"}
    assert parse_owntracks(message, headers=headers, query=NO_QUERY) == []
    assert OWNTRACKS_REPLY == []


def test_an_encrypted_message_is_refused_with_what_to_change() -> None:
    """Encrypted payloads cannot be read; saying so beats dropping every fix in silence."""
    message = {"_type": "encrypted", "data": "y2Fr0H3Q0p6D0qkVx8vBq1c4bJk="}
    rejection = only_rejection(parse_owntracks(message, headers=NO_HEADERS, query=NO_QUERY))
    assert "encrypted" in rejection.detail and "encryption key" in rejection.detail


@pytest.mark.parametrize(
    ("headers", "query", "message", "expected"),
    [
        # the headers win over everything else
        ({"x-limit-u": "jane", "x-limit-d": "pixel"}, {"u": "q", "d": "r"}, ANDROID, "jane/pixel"),
        # the query comes next
        (NO_HEADERS, {"u": "jane", "d": "tablet"}, ANDROID, "jane/tablet"),
        # then the topic
        (NO_HEADERS, NO_QUERY, ANDROID, "jane/pixel"),
        # a pair with one half missing does not count: the next source is used
        ({"x-limit-u": "jane"}, {"d": "tablet"}, ANDROID, "jane/pixel"),
        ({"x-limit-u": "jane", "x-limit-d": " "}, {"u": "jane", "d": "tab"}, ANDROID, "jane/tab"),
        # a topic that does not name a user and a device falls back to the tid
        (NO_HEADERS, NO_QUERY, {**ANDROID, "topic": "owntracks"}, "jd"),
        (NO_HEADERS, NO_QUERY, {k: v for k, v in ANDROID.items() if k != "topic"}, "jd"),
    ],
)
def test_device_id_sources_in_order(
    headers: dict[str, str], query: dict[str, str], message: dict[str, Any], expected: str
) -> None:
    """Headers, then query, then topic, then tid; a ping id follows its device id."""
    ping = only_ping(parse_owntracks(message, headers=headers, query=query))
    assert ping.device_id == expected
    assert ping.id == f"owntracks:{expected}:{TST}"


def test_no_device_at_all_is_refused_saying_how_to_send_one() -> None:
    """Without headers, query, topic or tid the rejection names every way to name a device."""
    message = {k: v for k, v in ANDROID.items() if k not in ("topic", "tid")}
    rejection = only_rejection(parse_owntracks(message, headers=NO_HEADERS, query=NO_QUERY))
    assert rejection.detail.startswith("no device id")
    for way in ("X-Limit-U", "X-Limit-D", "?u=<user>&d=<device>", "topic", "tid"):
        assert way in rejection.detail


def test_missing_and_zero_fields_are_unknown() -> None:
    """OwnTracks omits zero fields: no acc, vel or batt is unknown, and acc 0 is no radius."""
    bare = {"_type": "location", "lat": 60.17, "lon": 24.94, "tst": TST, "tid": "jd"}
    ping = only_ping(parse_owntracks(bare, headers=NO_HEADERS, query=NO_QUERY))
    assert (ping.accuracy_m, ping.speed_mps, dict(ping.signals)) == (None, None, {})
    zero = {**bare, "acc": 0, "vel": 0, "batt": 0}
    ping = only_ping(parse_owntracks(zero, headers=NO_HEADERS, query=NO_QUERY))
    assert ping.accuracy_m is None  # a zero radius is not a measurement
    assert ping.speed_mps == 0.0  # a zero speed that is sent is a speed
    assert dict(ping.signals) == {"battery_pct": 0.0}


@pytest.mark.parametrize(
    ("change", "accuracy", "speed", "signals"),
    [
        ({"vel": -1}, 13.0, None, {"battery_pct": 78.0, "altitude_m": 42.0}),  # no speed fix
        ({"acc": -1}, None, 5.0, {"battery_pct": 78.0, "altitude_m": 42.0}),  # no radius
        ({"acc": 7.25}, 7.25, 5.0, {"battery_pct": 78.0, "altitude_m": 42.0}),  # fractional
        ({"batt": -1, "alt": None}, 13.0, 5.0, {}),  # the simulator's battery, no altitude
        ({"cog": 400}, 13.0, 5.0, {"battery_pct": 78.0, "altitude_m": 42.0}),  # no course
    ],
)
def test_sentinels_and_fractions(
    change: dict[str, Any], accuracy: float | None, speed: float | None, signals: dict[str, float]
) -> None:
    """Negative values are unknown, fractional accuracy is kept, odd signals are left out."""
    ping = only_ping(parse_owntracks({**ANDROID, **change}, headers=NO_HEADERS, query=NO_QUERY))
    assert ping.accuracy_m == accuracy
    assert ping.speed_mps == (pytest.approx(speed) if speed is not None else None)
    assert dict(ping.signals) == signals


def test_numeric_strings_of_old_versions_are_read() -> None:
    """Early apps sent lat, lon, tst, acc and batt as strings."""
    old = {
        "_type": "location",
        "lat": "60.169857",
        "lon": "24.938379",
        "tst": str(TST),
        "acc": "75",
        "batt": "55",
        "tid": "jd",
    }
    ping = only_ping(parse_owntracks(old, headers=NO_HEADERS, query=NO_QUERY))
    assert (ping.lat, ping.timestamp, ping.accuracy_m) == (60.169857, T, 75.0)
    assert ping.id == f"owntracks:jd:{TST}"
    assert dict(ping.signals) == {"battery_pct": 55.0}


def test_a_message_sent_again_has_the_same_id() -> None:
    """The id comes from device and tst, not from when it arrived: a resend is a duplicate."""
    again = {**ANDROID, "created_at": TST + 900, "conn": "m"}
    first = only_ping(parse_owntracks(ANDROID, headers=NO_HEADERS, query=NO_QUERY))
    second = only_ping(parse_owntracks(again, headers=NO_HEADERS, query=NO_QUERY))
    assert first.id == second.id == f"owntracks:jane/pixel:{TST}"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"tst": None}, "field 'tst' is missing"),
        ({"lat": None}, "field 'lat' is missing"),
        ({"lon": "east"}, "field 'lon': expected a number, got str"),
        ({"lat": True}, "field 'lat': expected a number, got bool"),
        ({"acc": [13]}, "field 'acc': expected a number, got list"),
        ({"vel": "fast"}, "field 'vel': expected a number, got str"),
        ({"tst": TST * 1000}, "field 'tst': epoch value 1.78126e+12 is out of range (epoch milli"),
        ({"tst": "yesterday"}, "field 'tst': expected a number, got str"),
    ],
)
def test_bad_fields_give_a_rejection_naming_the_field(change: dict[str, Any], detail: str) -> None:
    """A bad field rejects that message only, naming the field and the device."""
    rejection = only_rejection(
        parse_owntracks({**ANDROID, **change}, headers=NO_HEADERS, query=NO_QUERY)
    )
    assert rejection.detail.startswith(detail), rejection.detail
    assert rejection.device_id == "jane/pixel"
    for coordinate in ("60.169857", "24.938379"):
        assert coordinate not in rejection.detail


def test_in_a_list_a_bad_message_is_named_by_its_index_and_the_rest_still_parse() -> None:
    """One broken message of a list never costs the others."""
    items = parse_owntracks(
        [ANDROID, "garbage", {**IOS, "lat": "north"}], headers=NO_HEADERS, query=NO_QUERY
    )
    assert isinstance(items[0], Ping)
    assert isinstance(items[1], Rejection) and items[1].detail.startswith("message [1]: ")
    assert isinstance(items[2], Rejection)
    assert items[2].detail == "message [2]: field 'lat': expected a number, got str"
    assert items[2].device_id == "jane/iphone"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("lat=60.1&lon=24.9", "expected a JSON object (or a list of them), got str"),
        (None, "expected a JSON object (or a list of them), got NoneType"),
        (42, "expected a JSON object (or a list of them), got int"),
        ({"lat": 60.1, "lon": 24.9, "tst": TST}, "the JSON object has no '_type'"),
        ({"_type": 3}, "the JSON object has no '_type'"),
    ],
)
def test_a_body_that_is_not_owntracks_raises(body: object, message: str) -> None:
    """Not an OwnTracks message at all: a PingError the HTTP layer answers with 400."""
    with pytest.raises(PingError, match="OwnTracks") as info:
        parse_owntracks(body, headers=NO_HEADERS, query=NO_QUERY)
    assert message in str(info.value)
    assert "60.1" not in str(info.value)


def test_an_empty_list_gives_nothing() -> None:
    """An empty batch is valid and gives no item."""
    assert parse_owntracks([], headers=NO_HEADERS, query=NO_QUERY) == []
