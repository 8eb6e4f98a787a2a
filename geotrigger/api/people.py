"""Consumers and their story: profile upsert, consent (withdrawal effective at once), erasure,
and the decisions made for them (explain).

* ``PUT /v1/consumers/{id}`` — the profile as in a consumers file (devices, consent,
  affinities, dayparts, segments, traits, time zone); ``admin``.
* ``PUT /v1/consumers/{id}/consent/{purpose}`` ``{"given": false}`` — ``admin``; the next
  decision already sees it (the ingesting engine reloads consumers on every change made here),
  and moments of theirs still queued for delivery are not sent. A purpose the rules do not
  know and the profile does not hold is refused (a typo must not leave consent as it was).
* ``DELETE /v1/consumers/{id}`` — everything stored about them; ``admin``.
* ``GET /v1/consumers/{id}/decisions?since=&until=`` — each decision with its outcome, the gate
  or condition that decided and the reason in plain words; ``read``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from geotrigger.api.bodies import decode_json, json_body, json_response, read_body
from geotrigger.api.security import AdminKey, ReadKey
from geotrigger.api.service import service_of
from geotrigger.consumers.profile import LOCATION_MARKETING
from geotrigger.consumers.record import build_consumer
from geotrigger.store import consumers as repo
from geotrigger.store.decisions import load_decisions
from geotrigger.store.deliveries import cancel_pending

router = APIRouter(tags=["consumers"])

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "devices": {"type": "array", "items": {"type": "string"}},
        "consent": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "timezone": {"type": "string"},
        "segments": {"type": "array", "items": {"type": "string"}},
        "traits": {"type": "object"},
        "affinities": {"type": "object", "additionalProperties": {"type": "number"}},
        "dayparts": {"type": "object"},
    },
}
MAX_PROFILE_BYTES = 64 * 1024
# Purposes a consent change may name: those the rules check, and any the profile already
# holds (so that a misspelt purpose is refused instead of leaving the real one as it was).
KNOWN_PURPOSES = frozenset({LOCATION_MARKETING})


@router.put(
    "/v1/consumers/{consumer_id}",
    summary="Insert or replace a consumer's profile",
    openapi_extra=json_body(PROFILE_SCHEMA),
)
async def put_consumer(consumer_id: str, request: Request, key: AdminKey) -> Any:
    service = service_of(request)
    record = decode_json(await read_body(request, MAX_PROFILE_BYTES))
    if not isinstance(record, dict):
        raise HTTPException(400, "the profile must be a JSON object")
    if record.get("id", consumer_id) != consumer_id:
        raise HTTPException(400, f"the body's id {record.get('id')!r} is not the path's")
    consumer, problems = build_consumer({**record, "id": consumer_id})
    if consumer is None:
        told = "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems)
        raise HTTPException(400, f"consumer {consumer_id!r}: {told}")

    def save() -> bool:
        with service.durable.engine.begin() as conn:
            existed = repo.load_consumer(conn, consumer_id=consumer_id) is not None
            repo.save_consumer(conn, consumer=consumer, now=datetime.now(UTC))
        service.ingestor.refresh()
        return existed

    existed = await run_in_threadpool(save)
    return json_response({"id": consumer_id, "created": not existed}, status_code=200)


@router.put(
    "/v1/consumers/{consumer_id}/consent/{purpose}",
    summary="Give or withdraw consent for a purpose (effective at once)",
    openapi_extra=json_body(
        {
            "type": "object",
            "required": ["given"],
            "properties": {"given": {"type": "boolean"}},
        }
    ),
)
async def put_consent(consumer_id: str, purpose: str, request: Request, key: AdminKey) -> Any:
    service = service_of(request)
    body = decode_json(await read_body(request, 1024))
    given = body.get("given") if isinstance(body, dict) else None
    if not isinstance(given, bool):
        raise HTTPException(400, 'the body must be {"given": true} or {"given": false}')

    def change() -> tuple[bool, int]:
        now = datetime.now(UTC)
        with service.durable.engine.begin() as conn:
            held = repo.load_consumer(conn, consumer_id=consumer_id)
            if held is None:
                return False, 0
            if purpose not in KNOWN_PURPOSES and purpose not in held.consent:
                known = ", ".join(sorted(KNOWN_PURPOSES | set(held.consent)))
                raise HTTPException(400, f"unknown purpose {purpose!r}: one of {known}")
            repo.set_consent(conn, consumer_id=consumer_id, purpose=purpose, given=given, now=now)
            stopped = 0
            if not given and purpose == LOCATION_MARKETING:  # what is queued is not sent
                stopped = cancel_pending(
                    conn, consumer_id=consumer_id, reason="consent withdrawn", now=now
                )
        service.ingestor.refresh()
        return True, stopped

    found, stopped = await run_in_threadpool(change)
    if not found:
        raise HTTPException(404, f"no consumer {consumer_id!r}")
    answer: dict[str, Any] = {"id": consumer_id, "purpose": purpose, "given": given}
    if stopped:
        answer["moments_stopped"] = stopped
    return json_response(answer)


@router.delete("/v1/consumers/{consumer_id}", summary="Erase a consumer and all about them")
async def delete_consumer(consumer_id: str, request: Request, key: AdminKey) -> Any:
    service = service_of(request)

    deleted = await run_in_threadpool(service.ingestor.erase, consumer_id)
    if not any(deleted.values()):
        raise HTTPException(404, f"nothing is stored about consumer {consumer_id!r}")
    return json_response({"id": consumer_id, "deleted": deleted})


@router.get(
    "/v1/consumers/{consumer_id}/decisions",
    summary="Why moments fired or not for a consumer, over a time range",
)
async def get_decisions(
    consumer_id: str,
    request: Request,
    key: ReadKey,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    service = service_of(request)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(400, f"{name} needs a time zone (e.g. 2026-06-12T09:00:00Z)")

    def load() -> list[dict[str, Any]]:
        with service.durable.engine.connect() as conn:
            return load_decisions(conn, consumer_id=consumer_id, start=since, end=until)

    records = await run_in_threadpool(load)
    return json_response(
        {
            "consumer_id": consumer_id,
            "decisions": [
                {
                    key_: record.get(key_)
                    for key_ in (
                        "at",
                        "rule_id",
                        "place_id",
                        "place_name",
                        "trigger",
                        "mode",
                        "outcome",
                        "gate",
                        "condition",
                        "reason",
                        "relevance",
                        "moment",
                    )
                    if key_ in record
                }
                for record in records
            ],
        }
    )
