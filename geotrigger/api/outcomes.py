"""``POST /v1/moments/{id}/outcomes``: what a moment achieved — delivered, opened, converted —
reported by the channel, the app or the retailer (``outcomes`` scope: the keys on phones, which
hold ``ingest``, cannot forge conversions).

The body is ``{"kind": "converted", "at": "2026-06-12T09:20:00Z", "data": {"value": 12.5}}``
(``at`` defaults to now). The moment is a fired one or, for lift over holdout, the would-be
moment of a holdout consumer. Each kind is kept once per moment: a report sent again is
answered 200 with the first record; a new one 201. An unknown moment is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from geotrigger.api.bodies import decode_json, json_body, json_response, read_body
from geotrigger.api.security import OutcomesKey
from geotrigger.api.service import service_of
from geotrigger.pings.parse import parse_timestamp
from geotrigger.store.outcomes import RecordedOutcome, record_outcome
from geotrigger.timestamps import rfc3339

router = APIRouter(tags=["outcomes"])
MAX_BODY_BYTES = 8 * 1024

OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["delivered", "opened", "converted"]},
        "at": {"type": "string", "format": "date-time"},
        "data": {"type": "object"},
    },
}


@router.post(
    "/v1/moments/{moment_id}/outcomes",
    summary="Record that a moment was delivered, opened or converted",
    openapi_extra=json_body(OUTCOME_SCHEMA),
    responses={201: {"description": "recorded"}, 200: {"description": "recorded before"}},
)
async def post_outcome(moment_id: str, request: Request, key: OutcomesKey) -> Any:
    service = service_of(request)
    body = decode_json(await read_body(request, MAX_BODY_BYTES))
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object with a 'kind'")
    now = datetime.now(UTC)
    at = now
    if body.get("at") is not None:
        if not isinstance(body["at"], str):
            raise HTTPException(400, "'at' must be an ISO 8601 time with an offset")
        at = parse_timestamp(body["at"])

    def record() -> RecordedOutcome:
        with service.durable.engine.begin() as conn:
            return record_outcome(
                conn,
                moment_id=moment_id,
                kind=str(body.get("kind")),
                at=at,
                data=body.get("data", {}),
                now=now,
            )

    recorded = await run_in_threadpool(record)
    return json_response(
        {
            "moment_id": recorded.moment_id,
            "rule_id": recorded.rule_id,
            "cohort": recorded.cohort.value,
            "kind": recorded.kind.value,
            "at": rfc3339(recorded.at),
            "new": recorded.new,
        },
        status_code=201 if recorded.new else 200,
    )
