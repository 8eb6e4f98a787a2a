"""The OsmAnd protocol: Traccar Client and OsmAnd parameters, and Traccar Client 9's JSON."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings import parse_osmand
from geotrigger.pings.osmand import KNOTS_TO_MPS
from tests.pings.one_item import only_ping, only_rejection

TST = 1781259330
T = datetime(2026, 6, 12, 10, 15, 30, tzinfo=UTC)

# Traccar Client for Android (version 8) as a query string, already decoded.
TRACCAR_PARAMS = {
    "id": "283746",
    "timestamp": str(TST),
    "lat": "52.520008",
    "lon": "13.404954",
    "speed": "10.0",
    "bearing": "87.5",
    "altitude": "34.0",
    "accuracy": "8.0",
    "batt": "76.0",
    "charge": "true",
}

# OsmAnd's online tracking URL template, with a millisecond timestamp and its hdop.
OSMAND_PARAMS = {
    "id": "osmand-jane",
    "lat": "52.520008",
    "lon": "13.404954",
    "timestamp": str(TST * 1000 + 250),
    "hdop": "6.0",
    "altitude": "34.0",
    "speed": "0.0",
    "bearing": "0.0",
}

# Traccar Client 9 (JSON body), a motion change while walking.
TRACCAR_9: dict[str, Any] = {
    "location": {
        "event": "motionchange",
        "is_moving": True,
        "uuid": "3b2a9c1e-0d4f-4c5e-9a7b-1f2e3d4c5b6a",
        "timestamp": "2026-06-12T10:15:30.000Z",
        "odometer": 1523.4,
        "coords": {
            "latitude": 52.520008,
            "longitude": 13.404954,
            "accuracy": 4.9,
            "speed": 1.4,
            "speed_accuracy": 0.5,
            "heading": 112.3,
            "heading_accuracy": 14.2,
            "altitude": 40.1,
            "ellipsoidal_altitude": 78.6,
            "altitude_accuracy": 3.1,
            "floor": None,
        },
        "activity": {"type": "on_foot", "confidence": 92},
        "battery": {"is_charging": False, "level": 0.76},
        "extras": {},
    },
    "device_id": "283746",
}


def ping_of(params: dict[str, str], body: Any = None) -> Ping:
    return only_ping(parse_osmand(params, body))


def rejection_of(params: dict[str, str], body: Any = None) -> Rejection:
    item = only_rejection(parse_osmand(params, body))
    assert "52.520008" not in item.detail and "13.404954" not in item.detail
    return item


def test_traccar_client_parameters() -> None:
    """Every parameter a ping carries, speed from knots, signals from the rest."""
    ping = ping_of(TRACCAR_PARAMS)
    assert ping == Ping(
        device_id="283746",
        lat=52.520008,
        lon=13.404954,
        timestamp=T,
        id=f"osmand:283746:{TST}",
        accuracy_m=8.0,
        speed_mps=10.0 * 1852 / 3600,
        signals={"battery_pct": 76.0, "altitude_m": 34.0, "heading_deg": 87.5},
    )
    assert ping.speed_mps == pytest.approx(5.14444, abs=1e-5)
    assert abs(KNOTS_TO_MPS - 0.514444) < 1e-6  # one knot is one nautical mile an hour


def test_osmand_parameters_with_milliseconds() -> None:
    """OsmAnd sends milliseconds; the id keeps the fraction so two fixes a second apart differ."""
    ping = ping_of(OSMAND_PARAMS)
    assert ping.timestamp == T.replace(microsecond=250_000)
    assert ping.id == f"osmand:osmand-jane:{TST}.25"
    assert ping.accuracy_m is None  # no accuracy parameter: hdop is not a distance
    assert ping.speed_mps == 0.0
    assert dict(ping.signals) == {"altitude_m": 34.0, "heading_deg": 0.0}


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (str(TST), T),  # epoch seconds
        (f"{TST}.5", T.replace(microsecond=500_000)),  # fractional seconds
        (str(TST * 1000), T),  # epoch milliseconds, told by size
        ("2026-06-12T10:15:30Z", T),  # ISO 8601 in UTC
        ("2026-06-12T12:15:30+02:00", T),  # ... with an offset
        ("2026-06-12T12:15:30+0200", T),  # ... without its colon
        ("2026-06-12 10:15:30", T),  # yyyy-MM-dd HH:mm:ss, read as UTC
        ("2026-06-12T10:15:30", T),  # ISO without a zone, read as UTC like the server does
    ],
)
def test_timestamp_forms(timestamp: str, expected: datetime) -> None:
    """Seconds, milliseconds, ISO 8601 and the plain form all give aware UTC."""
    ping = ping_of({**TRACCAR_PARAMS, "timestamp": timestamp})
    assert ping.timestamp == expected and ping.timestamp.tzinfo is UTC
    assert ping.epoch_s == expected.timestamp()


def test_the_ping_id_is_in_whole_epoch_seconds_whatever_the_form() -> None:
    """Milliseconds, seconds and ISO text of the same instant give the same id."""
    ids = {
        ping_of({**TRACCAR_PARAMS, "timestamp": form}).id
        for form in (str(TST), str(TST * 1000), "2026-06-12 10:15:30", "2026-06-12T10:15:30Z")
    }
    assert ids == {f"osmand:283746:{TST}"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": None, "deviceid": "veh-12"}, "veh-12"),  # the other name
        ({"deviceid": "veh-12"}, "283746"),  # id first when both are sent
        ({"id": " 283746 "}, "283746"),  # stray spaces of a typed identifier
    ],
)
def test_device_id_parameters(change: dict[str, str | None], expected: str) -> None:
    """``id`` or ``deviceid``; the ping id follows the device."""
    params = {k: v for k, v in {**TRACCAR_PARAMS, **change}.items() if v is not None}
    ping = ping_of(params)
    assert ping.device_id == expected
    assert ping.id == f"osmand:{expected}:{TST}"


def test_location_parameter_and_precedence_of_lat_lon() -> None:
    """``location=<lat>,<lon>`` stands in for lat and lon; lat and lon win when both come."""
    base = {k: v for k, v in TRACCAR_PARAMS.items() if k not in ("lat", "lon")}
    ping = ping_of({**base, "location": "48.858370,2.294481"})
    assert (ping.lat, ping.lon) == (48.85837, 2.294481)
    ping = ping_of({**TRACCAR_PARAMS, "location": "48.858370,2.294481"})
    assert (ping.lat, ping.lon) == (52.520008, 13.404954)


def test_heading_is_the_other_name_of_bearing() -> None:
    """Some clients send heading instead of bearing."""
    params = {k: v for k, v in TRACCAR_PARAMS.items() if k != "bearing"}
    assert ping_of({**params, "heading": "270"}).signals["heading_deg"] == 270.0


@pytest.mark.parametrize(
    ("change", "accuracy", "speed", "signals"),
    [
        ({"accuracy": "0.0"}, None, True, 3),  # Android: 0 when it has no accuracy
        ({"accuracy": "-1"}, None, True, 3),
        ({"accuracy": ""}, None, True, 3),  # an empty parameter is not given
        ({"speed": "-1"}, 8.0, False, 3),  # unknown speed
        ({"speed": "nan"}, 8.0, False, 3),
        ({"batt": "-1", "bearing": "-1"}, 8.0, True, 1),  # unknown battery and bearing
    ],
)
def test_parameter_sentinels_are_unknown(
    change: dict[str, str], accuracy: float | None, speed: bool, signals: int
) -> None:
    """Zero or negative accuracy, negative speed, out-of-range signals: unknown, not errors."""
    ping = ping_of({**TRACCAR_PARAMS, **change})
    assert ping.accuracy_m == accuracy
    assert (ping.speed_mps is not None) is speed
    assert len(ping.signals) == signals


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"timestamp": ""}, "field 'timestamp' is missing"),
        ({"timestamp": "yesterday"}, "field 'timestamp': 'yesterday' is neither epoch seconds"),
        ({"timestamp": "1e300"}, "field 'timestamp': epoch value 1e+300 is out of range"),
        ({"lat": ""}, "field 'lat' is missing"),
        ({"lon": "east"}, "field 'lon': expected a number"),
        ({"lat": "", "lon": ""}, "fields 'lat' and 'lon' (or 'location=<lat>,<lon>') are missing"),
        ({"speed": "fast"}, "field 'speed': expected a number"),
        ({"accuracy": "good"}, "field 'accuracy': expected a number"),
        ({"batt": "76%"}, "field 'batt': expected a number"),
    ],
)
def test_bad_parameters_give_a_rejection_naming_the_field(
    change: dict[str, str], detail: str
) -> None:
    """The request's one fix is rejected with the field named and no coordinate quoted."""
    rejection = rejection_of({**TRACCAR_PARAMS, **change})
    assert rejection.detail.startswith(detail), rejection.detail
    assert rejection.device_id == "283746"


@pytest.mark.parametrize("location", ["52.520008", "52.520008;13.404954", "north,east", ",,"])
def test_a_bad_location_parameter_is_refused_without_quoting_it(location: str) -> None:
    """``location`` must be exactly two numbers; the detail never repeats it."""
    base = {k: v for k, v in TRACCAR_PARAMS.items() if k not in ("lat", "lon")}
    rejection = rejection_of({**base, "location": location})
    assert rejection.detail == "field 'location': expected two numbers, '<lat>,<lon>'"


def test_no_device_id_is_refused_saying_how_to_send_one() -> None:
    """Without id or deviceid the rejection says which parameter to add."""
    params = {k: v for k, v in TRACCAR_PARAMS.items() if k != "id"}
    rejection = rejection_of(params)
    assert rejection.detail.startswith("no device id: add id=<device>")
    assert rejection.device_id is None


@pytest.mark.parametrize("params", [{}, {"charge": "true", "batt": "80"}, {"id": ""}])
def test_a_request_with_no_fix_at_all_raises(params: dict[str, str]) -> None:
    """No location parameter at all: a PingError the HTTP layer answers with 400."""
    with pytest.raises(PingError, match="none of the parameters id, lat, lon, location"):
        parse_osmand(params, None)


# --- Traccar Client 9 JSON --------------------------------------------------------------


def test_traccar_client_9_json() -> None:
    """coords in m/s (no knots), battery level from 0..1 to percent, the device from the body."""
    ping = ping_of({}, TRACCAR_9)
    assert ping == Ping(
        device_id="283746",
        lat=52.520008,
        lon=13.404954,
        timestamp=T,
        id=f"osmand:283746:{TST}",
        accuracy_m=4.9,
        speed_mps=1.4,
        signals={"battery_pct": 76.0, "altitude_m": 40.1, "heading_deg": 112.3},
    )


def test_the_same_fix_by_json_or_by_parameters_has_the_same_id() -> None:
    """A client upgraded mid-queue re-sends fixes in the other shape: still duplicates."""
    assert ping_of({}, TRACCAR_9).id == ping_of(TRACCAR_PARAMS).id


def test_json_sentinels_are_unknown() -> None:
    """The geolocation library reports -1 for unknown accuracy, speed, heading and battery."""
    body = copy.deepcopy(TRACCAR_9)
    body["location"]["coords"].update(accuracy=-1, speed=-1, heading=-1, altitude=None)
    body["location"]["battery"]["level"] = -1
    ping = ping_of({}, body)
    assert (ping.accuracy_m, ping.speed_mps, dict(ping.signals)) == (None, None, {})


def test_json_device_falls_back_to_the_id_parameter() -> None:
    """A body without device_id takes the URL's id; one with it wins over the URL."""
    body = copy.deepcopy(TRACCAR_9)
    del body["device_id"]
    assert ping_of({"id": "from-url"}, body).device_id == "from-url"
    assert ping_of({"id": "from-url"}, TRACCAR_9).device_id == "283746"
    rejection = rejection_of({}, body)
    assert rejection.detail.startswith("no device id: send 'device_id' in the body")


def test_a_json_batch_of_locations() -> None:
    """``location`` may be a list: one item each, a bad one named by its index."""
    first = TRACCAR_9["location"]
    second = {**first, "timestamp": "2026-06-12T10:16:30.500Z"}
    broken = {**first, "coords": {**first["coords"], "latitude": "north"}}
    items = parse_osmand({}, {"location": [first, broken, second], "device_id": 283746})
    assert [type(item) for item in items] == [Ping, Rejection, Ping]
    last, rejection = items[2], items[1]
    assert isinstance(last, Ping) and last.id == f"osmand:283746:{TST + 60}.5"
    assert isinstance(rejection, Rejection)
    assert rejection.detail == (
        "location[1]: field 'location.coords.latitude': expected a number, got str"
    )
    assert rejection.device_id == "283746"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"timestamp": None}, "field 'location.timestamp' is missing"),
        ({"timestamp": "soon"}, "field 'location.timestamp': 'soon' is neither"),
        ({"timestamp": [TST]}, "field 'location.timestamp': expected a time, got list"),
        ({"coords": None}, "field 'location.coords' is missing or not an object"),
        ({"coords": {"latitude": 52.5}}, "field 'location.coords.longitude' is missing"),
        ({"battery": {"level": "full"}}, "field 'location.battery.level': expected a number"),
    ],
)
def test_bad_json_locations_give_a_rejection(change: dict[str, Any], detail: str) -> None:
    """A bad field of the JSON location rejects it, naming the field by its path."""
    body = {**TRACCAR_9, "location": {**TRACCAR_9["location"], **change}}
    rejection = rejection_of({}, body)
    assert rejection.detail.startswith(detail), rejection.detail


def test_json_epoch_milliseconds_are_read_too() -> None:
    """Some builds send the location time as epoch milliseconds."""
    body = {**TRACCAR_9, "location": {**TRACCAR_9["location"], "timestamp": TST * 1000}}
    assert ping_of({}, body).timestamp == T


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([TRACCAR_9], "expected a JSON object with 'location', got list"),
        ("id=283746&lat=52.5", "expected a JSON object with 'location', got str"),
        ({"device_id": "283746"}, "the JSON body has no 'location' object"),
        ({"location": "52.520008,13.404954"}, "the JSON body has no 'location' object"),
    ],
)
def test_a_body_that_is_not_traccar_json_raises(body: object, message: str) -> None:
    """A body given but not Traccar Client's JSON: a PingError, never a coordinate in it."""
    with pytest.raises(PingError, match="Traccar Client") as info:
        parse_osmand(TRACCAR_PARAMS, body)
    assert message in str(info.value)
    assert "52.520008" not in str(info.value)
