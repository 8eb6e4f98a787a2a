"""Overland: batches of GeoJSON points from the iOS and Android apps, to pings and rejections."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings import parse_overland
from geotrigger.pings.overland import OVERLAND_REPLY
from tests.pings.one_item import only, only_rejection

T = datetime(2026, 6, 12, 10, 15, 30, tzinfo=UTC)


def point(timestamp: Any = "2026-06-12T03:15:30-0700", **changes: Any) -> dict[str, Any]:
    """A location as Overland for iOS sends it, with "include tracking stats" on."""
    properties: dict[str, Any] = {
        "timestamp": timestamp,
        "altitude": 48,
        "speed": 4,
        "horizontal_accuracy": 30,
        "vertical_accuracy": 6,
        "speed_accuracy": 1.5,
        "course": 182.4,
        "course_accuracy": 12,
        "motion": ["driving", "stationary"],
        "pauses": False,
        "activity": "other_navigation",
        "desired_accuracy": 100,
        "deferred": 1000,
        "significant_change": "disabled",
        "locations_in_payload": 2,
        "battery_state": "charging",
        "battery_level": 0.89,
        "device_id": "iphone-jane",
        "wifi": "CoffeeShop-Guest",
    }
    properties.update(changes)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-122.680466, 45.521563]},
        "properties": properties,
    }


def batch(*locations: Any, **extra: Any) -> dict[str, Any]:
    return {"locations": list(locations), **extra}


def rejection_of(feature: Any) -> Rejection:
    item = only_rejection(parse_overland(batch(feature)))
    assert "45.521563" not in item.detail and "-122.680466" not in item.detail
    return item


def test_a_point_with_every_property() -> None:
    """GeoJSON [lon, lat] order, the offset without a colon, units and signals."""
    ping = only(parse_overland(batch(point())))
    assert isinstance(ping, Ping)
    assert (ping.lat, ping.lon) == (45.521563, -122.680466)
    assert ping.timestamp == T and ping.timestamp.tzinfo is UTC
    assert ping.device_id == "iphone-jane"
    assert ping.id == "overland:iphone-jane:2026-06-12T10:15:30Z"
    assert (ping.accuracy_m, ping.speed_mps) == (30.0, 4.0)
    assert dict(ping.signals) == {"battery_pct": 89.0, "altitude_m": 48.0, "heading_deg": 182.4}
    assert ping == Ping(
        device_id="iphone-jane",
        lat=45.521563,
        lon=-122.680466,
        timestamp=T,
        id="overland:iphone-jane:2026-06-12T10:15:30Z",
        accuracy_m=30.0,
        speed_mps=4.0,
        signals={"battery_pct": 89.0, "altitude_m": 48.0, "heading_deg": 182.4},
    )


@pytest.mark.parametrize(
    ("timestamp", "expected", "id_time"),
    [
        ("2026-06-12T03:15:30-0700", T, "2026-06-12T10:15:30Z"),  # iOS: offset without colon
        ("2026-06-12T12:15:30+0200", T, "2026-06-12T10:15:30Z"),
        ("2026-06-12T12:15:30+02:00", T, "2026-06-12T10:15:30Z"),
        ("2026-06-12T10:15:30Z", T, "2026-06-12T10:15:30Z"),  # Android
        (
            "2026-06-12T10:15:30.250Z",
            T.replace(microsecond=250_000),
            "2026-06-12T10:15:30.250000Z",
        ),
        (
            "2026-06-12T03:15:30.5-0700",
            T.replace(microsecond=500_000),
            "2026-06-12T10:15:30.500000Z",
        ),
    ],
)
def test_timestamp_forms_and_ids_in_utc(timestamp: str, expected: datetime, id_time: str) -> None:
    """Every offset form gives the same instant, and the id names it in UTC."""
    ping = only(parse_overland(batch(point(timestamp))))
    assert isinstance(ping, Ping)
    assert ping.timestamp == expected and ping.timestamp.tzinfo is UTC
    assert ping.id == f"overland:iphone-jane:{id_time}"


def test_a_point_sent_again_in_another_offset_is_the_same_id() -> None:
    """A queue re-sent after the phone crossed a time zone still gives duplicates."""
    first = only(parse_overland(batch(point("2026-06-12T03:15:30-0700"))))
    again = only(parse_overland(batch(point("2026-06-12T06:15:30-0400"))))
    assert isinstance(first, Ping) and isinstance(again, Ping)
    assert first.id == again.id


def test_minus_one_is_unknown() -> None:
    """iOS reports -1 for what it does not know: accuracy, speed, course, altitude, battery."""
    ping = only(
        parse_overland(
            batch(
                point(
                    horizontal_accuracy=-1,
                    speed=-1,
                    course=-1,
                    vertical_accuracy=-1,
                    battery_level=-1,
                )
            )
        )
    )
    assert isinstance(ping, Ping)
    assert (ping.accuracy_m, ping.speed_mps, dict(ping.signals)) == (None, None, {})


def test_a_minimal_android_point() -> None:
    """Overland for Android sends fewer properties; the missing ones are unknown."""
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [2.294481, 48.85837]},
        "properties": {
            "timestamp": "2026-06-12T10:15:30Z",
            "device_id": "pixel-7",
            "battery_level": 0.5,
            "motion": ["walking"],
            "wifi": "",
        },
    }
    ping = only(parse_overland(batch(feature)))
    assert isinstance(ping, Ping)
    assert (ping.lat, ping.lon, ping.device_id) == (48.85837, 2.294481, "pixel-7")
    assert (ping.accuracy_m, ping.speed_mps) == (None, None)
    assert dict(ping.signals) == {"battery_pct": 50.0}


def test_current_trip_and_tracking_stats_are_not_fixes() -> None:
    """``current`` and ``trip`` are not read; visit and app-event features give no item."""
    visit = point(
        action="visit",
        arrival_date="2026-06-12T02:50:00-0700",
        departure_date="2026-06-12T03:10:00-0700",
    )
    app_event = point(action="app_paused")
    body = batch(
        point(),
        visit,
        app_event,
        point("2026-06-12T03:16:30-0700"),
        current=point("2026-06-12T03:59:00-0700"),
        trip={
            "distance": 4210.5,
            "mode": "bicycle",
            "start": "2026-06-12T02:40:00-0700",
            "current_location": point("2026-06-12T03:59:00-0700"),
            "start_location": point("2026-06-12T02:40:00-0700"),
        },
    )
    items = parse_overland(body)
    assert [type(item) for item in items] == [Ping, Ping]
    assert [item.timestamp for item in items] == [T, T.replace(minute=16)]
    assert OVERLAND_REPLY == {"result": "ok"}


@pytest.mark.parametrize("device_id", ["", "   ", None])
def test_no_device_id_is_refused_saying_where_to_set_it(device_id: object) -> None:
    """Overland sends an empty string until a Device ID is set in its settings."""
    feature = point(device_id=device_id)
    if device_id is None:
        del feature["properties"]["device_id"]
    rejection = rejection_of(feature)
    assert rejection.detail == (
        "locations[0]: field 'properties.device_id' is empty: set a Device ID in Overland's "
        "settings (Receiver Endpoint) so that its points can be told from other devices'"
    )


def test_a_numeric_device_id_is_its_text() -> None:
    """A setup link such as overland://setup?device_id=1 may give a number."""
    ping = only(parse_overland(batch(point(device_id=7))))
    assert isinstance(ping, Ping) and ping.device_id == "7"


def geometry(kind: str, coordinates: Any) -> dict[str, Any]:
    feature = point()
    feature["geometry"] = {"type": kind, "coordinates": coordinates}
    return feature


@pytest.mark.parametrize(
    ("feature", "detail"),
    [
        (
            geometry("LineString", [[-122.68, 45.52], [-122.67, 45.53]]),
            "geometry type 'LineString' is not a Point: only points are fixes",
        ),
        (
            geometry("Polygon", [[[0, 0], [1, 0], [1, 1], [0, 0]]]),
            "geometry type 'Polygon' is not a Point",
        ),
        (geometry("Point", [-122.680466]), "field 'geometry.coordinates': expected [lon, lat]"),
        (geometry("Point", None), "field 'geometry.coordinates': expected [lon, lat]"),
        (
            geometry("Point", ["-122.680466", "45.521563"]),
            "field 'geometry.coordinates': expected two numbers, [lon, lat]",
        ),
        ({**point(), "geometry": None}, "field 'geometry' is missing or not an object"),
        ({**point(), "type": "FeatureCollection"}, "field 'type' must be 'Feature', got 'Feat"),
        ({**point(), "properties": None}, "field 'properties' is missing or not an object"),
        (point(timestamp=""), "field 'properties.timestamp' is missing"),
        (point(timestamp=1781259330), "field 'properties.timestamp': expected an ISO 8601"),
        (point(timestamp="12/06/2026 10:15"), "field 'properties.timestamp': '12/06/2026 10:15'"),
        (
            point(timestamp="2026-06-12T10:15:30"),
            "field 'properties.timestamp': '2026-06-12T10:15:30' has no time zone",
        ),
        (point(speed="4"), "field 'properties.speed': expected a number, got str"),
        (point(horizontal_accuracy=True), "field 'properties.horizontal_accuracy': expected a"),
        (point(battery_level="89%"), "field 'properties.battery_level': expected a number"),
        ("not a feature", "expected a GeoJSON Feature object, got str"),
    ],
)
def test_bad_features_give_a_rejection_naming_index_and_field(feature: Any, detail: str) -> None:
    """A bad feature rejects that point only; the detail says which one and what is wrong."""
    rejection = rejection_of(feature)
    assert rejection.detail.startswith("locations[0]: " + detail), rejection.detail


def test_one_bad_feature_never_costs_the_batch() -> None:
    """Good points around a bad one still become pings; the bad one carries its device."""
    bad = geometry("MultiPoint", [[-122.68, 45.52]])
    items = parse_overland(batch(point(), bad, point("2026-06-12T03:16:30-0700")))
    assert [type(item) for item in items] == [Ping, Rejection, Ping]
    rejection = items[1]
    assert isinstance(rejection, Rejection)
    assert rejection.detail.startswith("locations[1]: geometry type 'MultiPoint'")
    assert rejection.device_id == "iphone-jane"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([point()], "expected a JSON object with 'locations', got list"),
        (None, "expected a JSON object with 'locations', got NoneType"),
        ({"type": "FeatureCollection", "features": []}, "'locations' must be a list"),
        ({"locations": point()}, "'locations' must be a list of GeoJSON Features, got dict"),
    ],
)
def test_a_body_that_is_not_overland_raises(body: object, message: str) -> None:
    """Not an Overland batch at all: a PingError the HTTP layer answers with 400."""
    with pytest.raises(PingError, match="Overland") as info:
        parse_overland(copy.deepcopy(body))
    assert message in str(info.value)


def test_an_empty_batch_gives_nothing() -> None:
    """A batch of no points is valid (the app may send only a trip)."""
    assert parse_overland({"locations": [], "trip": {"distance": 0}}) == []
