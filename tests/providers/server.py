"""A real HTTP server on 127.0.0.1 for provider tests: serves recorded responses and faults.

Routes are matched on the path (the query string is recorded, not matched). Each route holds a
queue of replies; the last reply repeats once the queue is down to one. Every request is
recorded (method, path, query, headers) so a test can assert what the client sent.

    with FixtureServer() as server:
        server.route("/v1/forecast", Reply.file("open_meteo/forecast.json"))
        server.route("/slow", Reply(delay_s=2.0), Reply.json({"ok": True}))
        ... server.url ...
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "weather"


def fixture_path(name: str) -> Path:
    """A recorded file under the shared weather fixtures (``nws/points.json``)."""
    return FIXTURES / name


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One response: status, headers, body; ``delay_s`` before the headers are sent (a read
    timeout), ``truncate`` sends only the first that many bytes of the body and closes,
    ``drop`` closes the connection without sending any response (a connection failure)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    truncate: int | None = None
    drop: bool = False

    @classmethod
    def json(cls, document: Any, status: int = 200, **headers: str) -> Reply:
        body = json.dumps(document).encode()
        return cls(
            status=status, body=body, headers={"Content-Type": "application/json", **headers}
        )

    @classmethod
    def file(cls, name: str, status: int = 200, **headers: str) -> Reply:
        """A recorded fixture file as the body (served as JSON)."""
        body = fixture_path(name).read_bytes()
        content_type = headers.pop("Content_Type", "application/json")
        return cls(status=status, body=body, headers={"Content-Type": content_type, **headers})

    @classmethod
    def html(
        cls, status: int, text: str = "<html><body><h1>Bad Gateway</h1></body></html>"
    ) -> Reply:
        return cls(status=status, body=text.encode(), headers={"Content-Type": "text/html"})


@dataclass(frozen=True, slots=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic()


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1 with a free port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, deque[Reply]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                reply = server._next(
                    Seen(
                        method=self.command,
                        path=parts.path,
                        query=parse_qs(parts.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        at=time.monotonic(),
                    )
                )
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.drop:
                    self.close_connection = True
                    return
                body = reply.body
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    if reply.truncate is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body if reply.truncate is None else body[: reply.truncate])
                    if reply.truncate is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

            do_GET = _serve  # noqa: N815
            do_POST = _serve  # noqa: N815
            do_HEAD = _serve  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval: shutting down waits for the next poll.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` in order at ``path``; the last one repeats."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self.routes[path] = deque(replies)

    def reset(self) -> None:
        """No routes and no requests seen: a shared server as good as a new one."""
        with self._lock:
            self.routes.clear()
            self.requests.clear()

    def seen(self, path: str | None = None) -> list[Seen]:
        """The requests received (at ``path``, if given), oldest first."""
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            queue = self.routes.get(seen.path)
            if queue is None:
                return Reply.json({"error": f"no route {seen.path}"}, status=404)
            return queue.popleft() if len(queue) > 1 else queue[0]

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def nws_stations(*identifiers: str) -> dict[str, Any]:
    """A ``/gridpoints/.../stations`` FeatureCollection (nearest first), as NWS sends it: the
    recordings hold none, so NWS tests build one for the stations they name."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "id": f"https://api.weather.gov/stations/{identifier}",
                "type": "Feature",
                "properties": {
                    "@id": f"https://api.weather.gov/stations/{identifier}",
                    "stationIdentifier": identifier,
                },
            }
            for identifier in identifiers
        ],
    }


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FixtureServer]:
    """One server for the module: starting and stopping one costs about half a second."""
    with FixtureServer() as server:
        yield server


@pytest.fixture
def server(shared_server: FixtureServer) -> FixtureServer:
    """The module's server with no routes and no requests seen yet."""
    shared_server.reset()
    return shared_server
