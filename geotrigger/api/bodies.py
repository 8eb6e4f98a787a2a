"""Request bodies: read with a size limit (413 before the whole body is read), decoded as
JSON or form data, with errors that say what is wrong."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import HTTPException, Request, Response


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body; 413 as soon as it is known to exceed ``max_bytes`` (from its declared
    length, before reading it, or while reading a body without one)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise HTTPException(400, "Content-Length is not a number") from None
        if length > max_bytes:
            raise HTTPException(413, f"the body is {length} bytes; at most {max_bytes} accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(413, f"the body is over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes) -> Any:
    """The body as JSON; 400 naming the position of the first error."""
    if not body.strip():
        raise HTTPException(400, "the body is empty: a JSON document was expected")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None


def decode_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a mapping (last value wins)."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise HTTPException(400, "the form body is not UTF-8") from None


def json_response(document: Any, status_code: int = 200) -> Response:
    """``document`` as a JSON response (orjson: datetimes as RFC 3339)."""
    return Response(orjson.dumps(document), status_code=status_code, media_type="application/json")


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI of a required JSON body of ``schema`` (the routes read bodies themselves,
    with a size limit, so FastAPI cannot derive it)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
