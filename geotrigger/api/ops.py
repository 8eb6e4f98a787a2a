"""Health, readiness and metrics: ``/healthz`` (the process answers), ``/readyz`` (the
database answers and the place index is loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from geotrigger.api.bodies import json_response
from geotrigger.api.metrics import CONTENT_TYPE
from geotrigger.api.service import service_of
from geotrigger.store.database import check_reachable

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and the place index is loaded")
def readyz(request: Request) -> Any:  # a plain function: run in a worker thread
    service = service_of(request)
    checks: dict[str, str] = {}
    try:
        check_reachable(service.durable.engine)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason is the class only
        checks["database"] = f"unreachable ({type(exc).__name__})"
    places = len(service.ingestor.live.moments.book.places)
    checks["index"] = f"{places} places" if places else "empty"
    ready = checks["database"] == "ok" and places > 0
    return json_response({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    service = service_of(request)
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)
