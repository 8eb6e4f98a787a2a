"""``POST /v1/pings``: geotrigger's own ingestion format, one ping or a batch.

The body is one ping object, a list of them, or ``{"pings": [...]}`` (at most ``MAX_BATCH``;
beyond it, or beyond ``MAX_BODY_BYTES``, 413 before the whole body is read). The answer lists,
in order, what became of each ping: accepted (with its transitions and the moments it fired)
or rejected with the reason. A ping sent again (same device and id) gets its first answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from geotrigger.api.bodies import decode_json, json_body, json_response, read_body
from geotrigger.api.security import IngestKey, only_own_devices
from geotrigger.api.service import service_of
from geotrigger.errors import PingError, Where
from geotrigger.jobs.answers import PingAnswer
from geotrigger.model import Ping, Rejection, RejectReason
from geotrigger.pings.parse import parse_ping

router = APIRouter(tags=["ingestion"])

PING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["device_id", "lat", "lon", "timestamp"],
    "properties": {
        "id": {
            "type": "string",
            "description": "the client's ping id: a ping sent again is not processed twice",
        },
        "device_id": {"type": "string", "minLength": 1},
        "consumer_id": {"type": "string"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "timestamp": {
            "oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": "ISO 8601 with an offset, or epoch seconds",
        },
        "accuracy_m": {"type": "number", "minimum": 0},
        "speed_mps": {"type": "number"},
        "signals": {"type": "object", "additionalProperties": {"type": "number"}},
    },
}
BATCH_SCHEMA: dict[str, Any] = {
    "oneOf": [
        PING_SCHEMA,
        {"type": "array", "items": PING_SCHEMA, "maxItems": 1000},
        {
            "type": "object",
            "required": ["pings"],
            "properties": {"pings": {"type": "array", "items": PING_SCHEMA, "maxItems": 1000}},
        },
    ]
}
ANSWERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "rejected": {"type": "integer"},
        "moments": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "status": {"enum": ["accepted", "rejected"]},
                    "id": {"type": "string"},
                    "reason": {"type": "string"},
                    "detail": {"type": "string"},
                    "transitions": {"type": "array", "items": {"type": "object"}},
                    "moments": {"type": "array", "items": {"type": "object"}},
                    "repeated": {"type": "boolean"},
                },
            },
        },
    },
}


def records_of(document: Any, max_batch: int) -> list[Any]:
    """The ping records of a body: one object, a list, or ``{"pings": [...]}``."""
    if isinstance(document, dict) and "pings" in document:
        document = document["pings"]
    records = document if isinstance(document, list) else [document]
    if len(records) > max_batch:
        raise HTTPException(413, f"{len(records)} pings in one request; at most {max_batch}")
    return records


def parse_records(records: list[Any]) -> list[Ping | Rejection]:
    """Each record as a ping, or a rejection naming its position and the field."""
    items: list[Ping | Rejection] = []
    for index, record in enumerate(records):
        try:
            items.append(parse_ping(record, where=Where(source="the request", line=index + 1)))
        except PingError as exc:
            ping_id = record.get("id") if isinstance(record, dict) else None
            items.append(
                Rejection(
                    reason=RejectReason.MALFORMED,
                    detail=f"ping {index}: {exc.reason}",
                    ping_id=ping_id if isinstance(ping_id, str) else None,
                )
            )
    return items


def answers_document(answers: list[PingAnswer]) -> dict[str, Any]:
    """The response body: counts and one answer per ping, in order."""
    return {
        "accepted": sum(a.status == "accepted" for a in answers),
        "rejected": sum(a.status == "rejected" for a in answers),
        "moments": sum(len(a.moments) for a in answers),
        "results": [a.document() for a in answers],
    }


@router.post(
    "/v1/pings",
    summary="Post one ping or a batch",
    openapi_extra=json_body(BATCH_SCHEMA),
    responses={
        200: {"content": {"application/json": {"schema": ANSWERS_SCHEMA}}},
        400: {"description": "the body is not JSON"},
        413: {"description": "more than 1000 pings, or a body over 4 MiB"},
    },
)
async def post_pings(request: Request, key: IngestKey) -> Any:
    service = service_of(request)
    document = decode_json(await read_body(request, service.max_body_bytes))
    items = only_own_devices(key, parse_records(records_of(document, service.max_batch)))
    answers = await run_in_threadpool(service.ingestor.ingest, items)
    return json_response(answers_document(answers))
