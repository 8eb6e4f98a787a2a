"""The HTTP API against a real server on 127.0.0.1: ingestion (own format and the tracker
apps'), auth and scopes, limits (413, 429), idempotency, consumers (consent, erasure), explain,
admin views, health and metrics — with the shipped examples loaded, as ``make run`` serves."""

from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy import event

from geotrigger.api.security import LOOKUP_BURST, client_network
from geotrigger.auth import split_key
from geotrigger.ratelimit import MemoryRateLimiter
from tests.api.running import Api

STOCKMANN = (60.1686, 24.9412)  # inside the department store's footprint
_ids = itertools.count()


def _consumer(api: Api, likes: str = "clothes", consent: bool = True) -> tuple[str, str]:
    """A new consumer with one device; (consumer id, device id)."""
    n = next(_ids)
    consumer_id, device = f"c-api-{n}-{time.time_ns()}", f"d-api-{n}-{time.time_ns()}"
    profile = {
        "devices": [device],
        "consent": {"location_marketing": consent},
        "affinities": {likes: 0.8},
    }
    answer = api.put(f"/v1/consumers/{consumer_id}", api.key, json=profile)
    assert answer.status_code == 200, answer.text
    return consumer_id, device


def _walk_in(device: str, prefix: str = "p") -> list[dict[str, Any]]:
    now = time.time()
    lat, lon = STOCKMANN
    return [
        {"id": f"{prefix}1", "device_id": device, "lat": lat, "lon": lon, "accuracy_m": 8.0,
         "timestamp": now - 20},
        {"id": f"{prefix}2", "device_id": device, "lat": lat + 0.0001, "lon": lon,
         "accuracy_m": 8.0, "timestamp": now},
    ]  # fmt: skip


def test_two_pings_into_the_store_fire_the_welcome_moment(api: Api) -> None:
    consumer_id, device = _consumer(api)
    answer = api.post("/v1/pings", api.key, json=_walk_in(device))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 2 and body["rejected"] == 0 and body["moments"] == 1
    second = body["results"][1]
    assert {"kind": "enter", "place_id": "stockmann-helsinki"}.items() <= next(
        t for t in second["transitions"] if t["place_id"] == "stockmann-helsinki"
    ).items()
    [moment] = second["moments"]
    assert moment["rule_id"] == "api-demo-welcome" and moment["channel"] == "push"
    assert "Stockmann" in moment["message"]
    # explain: the decision is kept, with its reason
    story = api.get(f"/v1/consumers/{consumer_id}/decisions", api.key).json()
    fired = [d for d in story["decisions"] if d["outcome"] == "fired"]
    assert [d["rule_id"] for d in fired] == ["api-demo-welcome"]


def test_a_ping_sent_again_gets_its_first_answer_and_is_not_processed_twice(api: Api) -> None:
    _, device = _consumer(api)
    first = api.post("/v1/pings", api.key, json=_walk_in(device, "again")).json()
    again = api.post("/v1/pings", api.key, json=_walk_in(device, "again")).json()
    assert [r.get("repeated") for r in again["results"]] == [True, True]
    [fired] = first["results"][1]["moments"]
    [told] = again["results"][1]["moments"]  # the same moment, by id; no place, no message
    assert told == {k: fired[k] for k in ("id", "rule_id", "channel", "expires_at")}
    assert again["results"][1]["transitions"] == []
    assert again["moments"] == first["moments"] == 1  # the same moment, not a second one


def test_withdrawn_consent_is_in_force_at_the_next_ping(api: Api) -> None:
    consumer_id, device = _consumer(api)
    withdrawn = api.put(
        f"/v1/consumers/{consumer_id}/consent/location_marketing", api.key, json={"given": False}
    )
    assert withdrawn.status_code == 200
    body = api.post("/v1/pings", api.key, json=_walk_in(device)).json()
    assert body["moments"] == 0
    story = api.get(f"/v1/consumers/{consumer_id}/decisions", api.key).json()
    gates = {d["gate"] for d in story["decisions"] if d["rule_id"] == "api-demo-welcome"}
    assert gates == {"consent"}


def test_erasure_deletes_everything_and_a_second_one_finds_nothing(api: Api) -> None:
    consumer_id, device = _consumer(api)
    api.post("/v1/pings", api.key, json=_walk_in(device))
    erased = api.delete(f"/v1/consumers/{consumer_id}", api.key)
    assert erased.status_code == 200
    deleted = erased.json()["deleted"]
    assert deleted["consumers"] == 1 and deleted["moments"] == 1 and deleted["decisions"] >= 1
    assert api.get(f"/v1/consumers/{consumer_id}/decisions", api.key).json()["decisions"] == []
    assert api.delete(f"/v1/consumers/{consumer_id}", api.key).status_code == 404
    # the device's state went too, from memory as well: walking in again is a new enter
    profile = {"devices": [device], "consent": {"location_marketing": True}}
    assert api.put(f"/v1/consumers/{consumer_id}", api.key, json=profile).status_code == 200
    again = api.post("/v1/pings", api.key, json=_walk_in(device, "after")).json()
    kinds = {(t["kind"], t["place_id"]) for t in again["results"][1]["transitions"]}
    assert ("enter", "stockmann-helsinki") in kinds


def test_without_a_valid_key_401_and_outside_its_scope_403(api: Api) -> None:
    pings = _walk_in("nobody")
    missing = api.post("/v1/pings", json=pings)
    assert missing.status_code == 401 and "WWW-Authenticate" in missing.headers
    assert api.post("/v1/pings", "gk_000000000000_wrong", json=pings).status_code == 401
    assert api.post("/v1/pings", "not a key", json=pings).status_code == 401
    refused = api.post("/v1/pings", api.read_only, json=pings)
    assert refused.status_code == 403 and "ingest" in refused.json()["error"]
    assert api.get("/v1/places?limit=1", api.read_only).status_code == 200
    assert api.delete("/v1/consumers/x", api.read_only).status_code == 403


def test_guessing_key_ids_gets_429_before_any_database_read(api: Api) -> None:
    service = api.service
    reads: list[str] = []

    def seen(*args: object) -> None:
        if "api_keys" in str(args[2]):
            reads.append(str(args[2]))

    api.get("/v1/places?limit=1", api.read_only)  # a key in use, found already
    read_only = split_key(api.read_only)
    assert read_only is not None
    service.keys.forget(read_only[0])  # as when its cache entry is old: the next use reads
    event.listen(service.durable.engine, "before_cursor_execute", seen)
    try:
        answers = [
            api.get("/v1/places?limit=1", f"gk_{n:012x}_{'s' * 43}")
            for n in range(int(LOOKUP_BURST) + 20)
        ]
        statuses = [a.status_code for a in answers]
        first_refused = statuses.index(429)  # the burst (less what refilled meanwhile)...
        assert first_refused >= LOOKUP_BURST - 1 and set(statuses[:first_refused]) == {401}
        assert set(statuses) == {401, 429}
        assert len(reads) == statuses.count(401)  # ...and beyond it, refused unread
        refused = answers[first_refused]
        assert int(refused.headers["Retry-After"]) >= 1
        assert "unknown API keys" in refused.json()["error"]
        # an id asked for already is answered from memory, and a key found once is not
        # limited, even when it must be read again
        assert api.get("/v1/places?limit=1", f"gk_{0:012x}_{'s' * 43}").status_code == 401
        assert api.get("/v1/places?limit=1", api.read_only).status_code == 200
    finally:
        event.remove(service.durable.engine, "before_cursor_execute", seen)
        service.lookups = MemoryRateLimiter()  # the other tests share this server


def test_unknown_keys_are_counted_per_ipv4_address_or_ipv6_network() -> None:
    assert client_network("192.0.2.7") == "192.0.2.7"
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9")
    assert client_network("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("testclient") == "testclient"


def test_over_its_rate_a_key_gets_429_with_retry_after(api: Api) -> None:
    statuses = [api.post("/v1/pings", api.slow, json=[]).status_code for _ in range(5)]
    assert 429 in statuses
    refused = api.post("/v1/pings", api.slow, json=[])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_too_many_pings_or_too_big_a_body_is_413(api: Api) -> None:
    many = [{"device_id": "d", "lat": 60.0, "lon": 24.0, "timestamp": 0}] * 1001
    assert api.post("/v1/pings", api.key, json=many).status_code == 413
    huge = b"[" + b" " * (api.service.max_body_bytes + 10) + b"]"
    answer = api.post("/v1/pings", api.key, data=huge, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_bad_records_are_rejected_one_by_one_and_bad_json_is_400(api: Api) -> None:
    _, device = _consumer(api)
    records = [*_walk_in(device, "mixed"), {"device_id": device, "lat": "north"}]
    body = api.post("/v1/pings", api.key, json=records).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "rejected"]
    assert body["results"][2]["reason"] == "malformed" and "ping 2" in body["results"][2]["detail"]
    broken = api.post("/v1/pings", api.key, data=b'{"device_id": ', headers={})
    assert broken.status_code == 400 and "JSON" in broken.json()["error"]


def test_owntracks_with_basic_auth_gets_an_empty_array(api: Api) -> None:
    _, device = _consumer(api)
    user, phone = device.split("-", 1)[0], device
    token = base64.b64encode(f"{user}:{api.key}".encode()).decode()
    now = int(time.time())
    for tst in (now - 20, now):
        message = {
            "_type": "location", "lat": STOCKMANN[0], "lon": STOCKMANN[1], "tst": tst,
            "acc": 8, "batt": 80, "tid": "ph", "conn": "w",
        }  # fmt: skip
        answer = requests.post(
            api.base + "/v1/owntracks",
            json=message,
            headers={"Authorization": f"Basic {token}", "X-Limit-U": user, "X-Limit-D": phone},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json() == []
    ignored = requests.post(
        api.base + "/v1/owntracks",
        json={"_type": "lwt", "tst": now},
        headers={"Authorization": f"Basic {token}", "X-Limit-U": user, "X-Limit-D": phone},
        timeout=10,
    )
    assert ignored.status_code == 200 and ignored.json() == []


def test_overland_gets_exactly_result_ok(api: Api) -> None:
    _, device = _consumer(api)
    now = datetime.now(UTC)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [STOCKMANN[1], STOCKMANN[0]]},
            "properties": {
                "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "horizontal_accuracy": 8,
                "speed": -1,
                "device_id": device,
            },
        }
    ]
    answer = api.post("/v1/overland", api.key, json={"locations": features})
    assert answer.status_code == 200 and answer.text == json.dumps({"result": "ok"}).replace(
        " ", ""
    )
    assert api.post("/v1/overland", api.key, json={"nope": []}).status_code == 400


def test_traccar_client_with_the_key_in_the_url(api: Api) -> None:
    _, device = _consumer(api)
    params = {
        "id": device,
        "lat": STOCKMANN[0],
        "lon": STOCKMANN[1],
        "timestamp": int(time.time()),
        "speed": 0.5,
        "accuracy": 8,
        "key": api.key,
    }
    assert requests.get(api.base + "/v1/osmand", params=params, timeout=10).status_code == 200
    key = {"key": params.pop("key")}  # Traccar Client posts its form to the URL it was given
    posted = requests.post(api.base + "/v1/osmand", params=key, data=params, timeout=10)
    assert posted.status_code == 200
    params["key"] = key["key"]
    params["key"] = "gk_000000000000_wrong"
    assert requests.get(api.base + "/v1/osmand", params=params, timeout=10).status_code == 401


def test_admin_views_health_and_metrics(api: Api) -> None:
    places = api.get("/v1/places?limit=5", api.key).json()
    assert places["total"] > 1000 and len(places["places"]) == 5
    store = api.get("/v1/places/stockmann-helsinki", api.key).json()
    assert store["name"] == "Stockmann Helsinki centre" and store["geometry"]["type"] == "Polygon"
    assert api.get("/v1/places/nowhere", api.key).status_code == 404
    rules = {r["id"] for r in api.get("/v1/rules", api.key).json()["rules"]}
    assert {"api-demo-welcome", "umbrella-when-rain"} <= rules
    reloaded = api.post("/v1/admin/reload", api.key).json()
    assert reloaded["places"] == places["total"]
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    metrics = api.get("/metrics").text
    assert 'geotrigger_pings_total{reason="",result="accepted"}' in metrics
    assert "geotrigger_request_seconds_bucket" in metrics
    document = api.get("/openapi.json").json()
    assert document["paths"]["/v1/pings"]["post"]["security"]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "basic", "query"}
    assert api.get("/v1/nowhere", api.key).json() == {"error": "Not Found"}


def test_no_coordinates_or_device_ids_in_the_logs(api: Api, caplog: Any) -> None:
    _, device = _consumer(api)
    with caplog.at_level("DEBUG"):
        api.post("/v1/pings", api.key, json=_walk_in(device, "logs"))
        api.post("/v1/pings", api.key, data=b"{", headers={})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert device not in text and "60.168" not in text and api.key not in text


def test_outcomes_of_a_fired_moment_are_recorded_once_each(api: Api) -> None:
    _, device = _consumer(api)
    body = api.post("/v1/pings", api.key, json=_walk_in(device, "outcome")).json()
    [moment] = body["results"][1]["moments"]
    path = f"/v1/moments/{moment['id']}/outcomes"
    delivered = api.post(path, api.key, json={"kind": "delivered"})
    assert delivered.status_code == 201 and delivered.json()["cohort"] == "treated"
    converted = api.post(path, api.key, json={"kind": "converted", "data": {"value": 12.5}})
    assert converted.status_code == 201 and converted.json()["new"] is True
    again = api.post(path, api.key, json={"kind": "converted", "data": {"value": 99}})
    assert again.status_code == 200 and again.json()["new"] is False
    assert api.post(path, api.key, json={"kind": "liked"}).status_code == 400
    unknown = api.post("/v1/moments/" + "0" * 32 + "/outcomes", api.key, json={"kind": "opened"})
    assert unknown.status_code == 404
    assert api.post(path, api.read_only, json={"kind": "opened"}).status_code == 403


def test_a_misspelt_purpose_is_refused_and_withdrawal_stops_queued_moments(api: Api) -> None:
    consumer_id, device = _consumer(api)
    body = api.post("/v1/pings", api.key, json=_walk_in(device, "queued")).json()
    [moment] = body["results"][1]["moments"]
    typo = api.put(
        f"/v1/consumers/{consumer_id}/consent/location-marketing", api.key, json={"given": False}
    )
    assert typo.status_code == 400 and "location_marketing" in typo.json()["error"]
    withdrawn = api.put(
        f"/v1/consumers/{consumer_id}/consent/location_marketing", api.key, json={"given": False}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["moments_stopped"] == 1
    from sqlalchemy import select

    from geotrigger.store.tables import outbox

    with api.service.durable.engine.connect() as conn:
        status, reason = conn.execute(
            select(outbox.c.status, outbox.c.last_error).where(outbox.c.moment_id == moment["id"])
        ).one()
    assert (status, reason) == ("expired", "consent withdrawn")


def test_overland_without_a_device_id_is_refused_so_the_app_keeps_the_batch(api: Api) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [STOCKMANN[1], STOCKMANN[0]]},
        "properties": {"timestamp": datetime.now(UTC).isoformat(), "device_id": ""},
    }
    answer = api.post("/v1/overland", api.key, json={"locations": [feature]})
    assert answer.status_code == 400 and "Device ID" in answer.json()["error"]


def test_an_ingest_key_cannot_report_outcomes(api: Api) -> None:
    _, device = _consumer(api)
    body = api.post("/v1/pings", api.key, json=_walk_in(device, "scope")).json()
    [moment] = body["results"][1]["moments"]
    path = f"/v1/moments/{moment['id']}/outcomes"
    assert api.post(path, api.slow, json={"kind": "converted"}).status_code == 403


def test_health_answers_while_a_batch_is_decided(api: Api) -> None:
    import threading

    lat, lon = STOCKMANN
    now = time.time()
    batch = [
        {"device_id": f"busy-{i}", "lat": lat, "lon": lon, "timestamp": now - 1, "accuracy_m": 5}
        for i in range(1000)
    ]
    done = threading.Event()

    def post() -> None:
        api.post("/v1/pings", api.key, json=batch)
        done.set()

    worker = threading.Thread(target=post)
    worker.start()
    time.sleep(0.05)
    started = time.perf_counter()
    assert api.get("/healthz").status_code == 200
    waited = time.perf_counter() - started
    busy = not done.is_set()
    worker.join(30)
    assert not busy or waited < 0.1  # the event loop is not held by the batch


def test_a_key_bound_to_a_device_prefix_speaks_for_those_devices_only(api: Api) -> None:
    from geotrigger.auth import Scope
    from geotrigger.store.api_keys import create_key
    from geotrigger.store.database import transaction

    with transaction(api.database_url) as conn:
        _, phone_key = create_key(
            conn,
            name="phones of acme",
            scopes=[Scope.INGEST],
            device_prefix="acme-",
            now=datetime.now(UTC),
        )
    now = time.time()
    pings = [
        {"id": "own", "device_id": "acme-17", "lat": 60.0, "lon": 24.9, "timestamp": now},
        {"id": "other", "device_id": "someone-else", "lat": 60.0, "lon": 24.9, "timestamp": now},
    ]
    body = api.post("/v1/pings", phone_key, json=pings).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["reason"] == "device_not_allowed"
    assert "someone-else" not in body["results"][1]["detail"]


def test_our_failures_get_a_fixed_answer_and_the_database_a_503(
    api: Api, monkeypatch: Any, caplog: Any
) -> None:
    from sqlalchemy.exc import OperationalError

    def database_down(items: object) -> object:
        raise OperationalError("INSERT INTO ping_receipts VALUES (60.1686)", {}, Exception("gone"))

    def bug(items: object) -> object:
        raise RuntimeError("secret detail 60.1686")

    pings = _walk_in("failing-device")
    monkeypatch.setattr(api.service.ingestor, "ingest", database_down)
    with caplog.at_level("DEBUG"):
        down = api.post("/v1/pings", api.key, json=pings)
        monkeypatch.setattr(api.service.ingestor, "ingest", bug)
        broken = api.post("/v1/pings", api.key, json=pings)
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert down.json() == {"error": "the database is unavailable; try again"}
    assert broken.status_code == 500 and broken.json() == {"error": "internal error"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "OperationalError" in logged and "RuntimeError" in logged
    assert "60.1686" not in logged and "secret detail" not in logged
