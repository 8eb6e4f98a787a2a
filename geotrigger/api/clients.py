"""Ingestion in the formats real tracker apps speak, so that a phone running one of them feeds
geotrigger with no code of ours on it.

* ``POST /v1/owntracks`` — OwnTracks in HTTP mode (HTTP Basic with the key as the password);
  the reply is the JSON array ``[]``.
* ``POST /v1/overland`` — Overland (the key as the access token: ``Authorization: Bearer``);
  the reply is exactly ``{"result": "ok"}`` once the batch is processed, so the app deletes it;
  anything else (and any error status) makes it send the batch again — as a batch none of whose
  locations can be read gets (400 with the reason, e.g. no Device ID set in the app).
* ``GET`` or ``POST /v1/osmand`` — Traccar Client and OsmAnd (the key as ``?key=`` in the URL):
  query or form parameters, or Traccar Client 9's JSON body.

The pings go through the same ingestion as ``/v1/pings``. Records that cannot be pings are
counted as rejected; the app is not told (it would only send them again).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from geotrigger.api.bodies import decode_form, decode_json, json_body, json_response, read_body
from geotrigger.api.security import IngestKey, only_own_devices
from geotrigger.api.service import Service, service_of
from geotrigger.auth import ApiKey
from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings.osmand import parse_osmand
from geotrigger.pings.overland import OVERLAND_REPLY, parse_overland
from geotrigger.pings.owntracks import OWNTRACKS_REPLY, parse_owntracks

router = APIRouter(tags=["tracker apps"])


async def _ingest(service: Service, key: ApiKey, items: list[Ping | Rejection]) -> None:
    """Through the ingestor, off the event loop (the engine takes the time of a batch); pings
    of devices the key may not speak for are rejected."""
    if len(items) > service.max_batch:
        raise HTTPException(
            413, f"{len(items)} locations in one request; at most {service.max_batch}"
        )
    await run_in_threadpool(service.ingestor.ingest, only_own_devices(key, items))


def _parsed(parse: Any, *args: Any, **kwargs: Any) -> list[Ping | Rejection]:
    try:
        items: list[Ping | Rejection] = parse(*args, **kwargs)
    except PingError as exc:
        raise HTTPException(400, str(exc)) from None
    return items


@router.post(
    "/v1/owntracks",
    summary="OwnTracks (HTTP mode)",
    openapi_extra=json_body({"type": ["object", "array"]}),
)
async def owntracks(request: Request, key: IngestKey) -> Any:
    service = service_of(request)
    body = decode_json(await read_body(request, service.max_body_bytes))
    headers = {name.lower(): value for name, value in request.headers.items()}
    # the query is read as given: a mapping whose repeated names keep their last value
    items = _parsed(parse_owntracks, body, headers=headers, query=request.query_params)
    await _ingest(service, key, items)
    return json_response(OWNTRACKS_REPLY)


@router.post(
    "/v1/overland",
    summary="Overland",
    openapi_extra=json_body(
        {
            "type": "object",
            "required": ["locations"],
            "properties": {"locations": {"type": "array", "items": {"type": "object"}}},
        }
    ),
)
async def overland(request: Request, key: IngestKey) -> Any:
    service = service_of(request)
    body = decode_json(await read_body(request, service.max_body_bytes))
    items = _parsed(parse_overland, body)
    rejected = [i for i in items if isinstance(i, Rejection)]
    if rejected and len(rejected) == len(items):  # nothing would be kept: the app keeps them
        raise HTTPException(400, f"no location could be read: {rejected[0].detail}")
    await _ingest(service, key, items)
    return json_response(OVERLAND_REPLY)


@router.get(
    "/v1/osmand", summary="Traccar Client and OsmAnd (parameters)", operation_id="osmand_get"
)
@router.post(
    "/v1/osmand",
    summary="Traccar Client and OsmAnd (form parameters, or Traccar Client 9's JSON)",
    operation_id="osmand_post",
)
async def osmand(request: Request, key: IngestKey) -> Response:
    service = service_of(request)
    params = dict(request.query_params)
    body: Any = None
    if request.method == "POST":
        raw = await read_body(request, service.max_body_bytes)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json" and raw.strip():
            body = decode_json(raw)
        elif raw.strip():
            params.update(decode_form(raw))
    params.pop("key", None)  # the API key (in the URL or the form) is no fix's parameter
    await _ingest(service, key, _parsed(parse_osmand, params, body))
    return Response(status_code=200)
