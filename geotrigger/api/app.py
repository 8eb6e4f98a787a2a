"""The ASGI application: routers, errors as JSON, request latency into the metrics.

Errors: every error is ``{"error": "<what is wrong>"}`` with its status; a GeotriggerError
carries its own status (an InputError is 400); nothing else leaks a traceback or a value of
the request (no coordinates, no keys). Logs carry the route, status and time only.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geotrigger import __version__
from geotrigger.api import admin, clients, ingest, ops, outcomes, people
from geotrigger.api.service import Service
from geotrigger.errors import GeotriggerError
from geotrigger.store.database import is_database_failure

log = logging.getLogger("geotrigger.api")


def create_app(service: Service) -> FastAPI:
    """The API over ``service``."""
    app = FastAPI(
        title="geotrigger",
        version=__version__,
        description="Location and environment trigger engine: pings in, moments out.",
    )
    app.state.service = service
    routers = (ingest.router, clients.router, people.router, outcomes.router, admin.router)
    for router in (*routers, ops.router):
        app.include_router(router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return JSONResponse({"error": f"invalid request: {where}"}, status_code=422)

    @app.exception_handler(GeotriggerError)
    async def geotrigger_error(request: Request, exc: GeotriggerError) -> Response:
        if exc.http_status < 500:  # the caller's mistake, named: safe to tell
            return JSONResponse({"error": str(exc)}, status_code=exc.http_status)
        return _failure(request, exc)

    app.add_middleware(_Timed, service=service)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class _Timed:
    """Request latency by route template and status into the metrics, and our own failures
    answered here (nothing reaches the server's logging, which would print the exception's
    text). A plain ASGI middleware: no per-request task or body copy."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        responded = False

        async def sending(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if responded:  # too late for another answer: logged by class, the stream ends
                log.error("%s failed while answering: %s", _route(scope), type(exc).__name__)
            else:
                failure = _failure(Request(scope), exc)
                status = failure.status_code
                await failure(scope, receive, send)
        self.service.metrics.latency.labels(_route(scope), str(status)).observe(
            time.perf_counter() - started
        )


def _route(scope: Scope) -> str:
    """The route template a request matched (never its values), or "unmatched"."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


def _failure(request: Request, exc: Exception) -> Response:
    """Our failure, not the caller's: a fixed answer (503 when the database is the cause, so
    the client retries) and a log line with the route and the class only — a message may hold
    a database URL, a statement's values or a provider's URL."""
    route = _route(request.scope)
    database = is_database_failure(exc)
    log.error("%s failed: %s", route, type(exc).__name__)
    if database:
        return JSONResponse(
            {"error": "the database is unavailable; try again"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"error": "internal error"}, status_code=500)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the three ways a key can be sent (every /v1 operation
    takes any one of them)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "Bearer KEY"},
            "basic": {"type": "http", "scheme": "basic", "description": "the key as the password"},
            "query": {"type": "apiKey", "in": "query", "name": "key"},
        }
        for path, operations in schema.get("paths", {}).items():
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"basic": []}, {"query": []}]
                    operation.setdefault("responses", {}).update(_AUTH_RESPONSES)
        app.openapi_schema = schema
    return app.openapi_schema


_AUTH_RESPONSES = {
    "401": {"description": "no API key, or not a valid one"},
    "403": {"description": "the key lacks this endpoint's scope"},
    "429": {"description": "over the key's rate; see Retry-After"},
}
