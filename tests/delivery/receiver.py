"""A real webhook receiver on 127.0.0.1 for the delivery tests, and the moments they deliver.

The receiver checks every request's Standard Webhooks signature with
:func:`geotrigger.delivery.signing.verify` (a request that fails is answered 401 and recorded
as not verified), then answers what its route's script says: a queue of answers per path, the
last one repeating (a status, headers such as ``Retry-After``, a delay beyond the client's
timeout). It records what it received and counts verified webhook-ids per path, so that a test
can say "each moment exactly once".

    with WebhookReceiver(clock=clock.epoch) as receiver:
        receiver.route("/crm", SECRET, Answer(500), Answer(200))
        ... receiver.url("/crm") ...
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from geotrigger.delivery.destinations import Destination
from geotrigger.delivery.signing import SignatureError, verify
from geotrigger.moments.decision import Moment, moment_id
from geotrigger.rules.model import TriggerKind
from geotrigger.store.history import DatabaseHistory

SECRET = "whsec_" + base64.b64encode(b"the crm's key, 32 bytes long!!!!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"the push service's own key: 32 b").decode()
T0 = datetime(2026, 6, 12, 7, 30, tzinfo=UTC)  # a Friday morning in Helsinki


class FakeClock:
    """A settable now, for due times and backoff without waiting."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def epoch(self) -> float:
        """Now in epoch seconds (what the receiver checks timestamps against)."""
        return self.now.timestamp()


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One scripted answer: a status and headers, sent after ``delay_s``."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """A request the receiver got."""

    path: str
    query: str
    webhook_id: str | None
    timestamp: str | None
    verified: bool
    document: dict[str, Any] | None
    headers: dict[str, str]  # names lower-cased


@dataclass(slots=True)
class _Route:
    secret: str
    answers: deque[Answer]


class WebhookReceiver:
    """A threaded HTTP server on a free port of 127.0.0.1; use as a context manager."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._routes: dict[str, _Route] = {}
        self._received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                answer = receiver._receive(parts.path, parts.query, dict(self.headers), body)
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        """The URL of ``path`` on this receiver."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def route(self, path: str, secret: str, *answers: Answer) -> None:
        """Check requests at ``path`` against ``secret`` and answer ``answers`` in order (the
        last one repeats; none: 200)."""
        with self._lock:
            self._routes[path] = _Route(secret, deque(answers or (Answer(),)))

    def received(self, path: str | None = None) -> list[Received]:
        """The requests received (at ``path``, if given), oldest first."""
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def ids(self, path: str) -> Counter[str]:
        """How many verified requests each webhook-id had at ``path``."""
        return Counter(
            r.webhook_id for r in self.received(path) if r.verified and r.webhook_id is not None
        )

    def _receive(self, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._lock:
            route = self._routes.get(path)
            verified = False
            if route is not None:
                try:
                    verify(route.secret, lowered, body, now=self.clock())
                    verified = True
                except SignatureError:
                    verified = False
            self._received.append(
                Received(
                    path=path,
                    query=query,
                    webhook_id=lowered.get("webhook-id"),
                    timestamp=lowered.get("webhook-timestamp"),
                    verified=verified,
                    document=json.loads(body) if verified else None,
                    headers=lowered,
                )
            )
            if route is None:
                return Answer(status=404)
            if not verified:
                return Answer(status=401)
            return route.answers.popleft() if len(route.answers) > 1 else route.answers[0]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def destination(
    receiver: WebhookReceiver, name: str = "crm", secret: str = SECRET, **fields: Any
) -> Destination:
    """A destination at ``/<name>`` of the receiver (which must route it)."""
    return Destination(name=name, url=receiver.url(f"/{name}"), secret=secret, **fields)


def fired(
    engine: Engine,
    *,
    consumer: str = "consumer-001",
    rule: str = "coffee-nearby",
    place: str = "cafe-regatta",
    channel: str = "push",
    at: datetime = T0,
    ttl_s: float = 600.0,
    event: str = "enter-1",
) -> Moment:
    """A moment fired and recorded as the engine records it (with its outbox row)."""
    moment = Moment(
        id=moment_id(rule, consumer, place, event),
        rule_id=rule,
        consumer_id=consumer,
        place_id=place,
        trigger=TriggerKind.ENTER,
        at=at,
        expires_at=at + timedelta(seconds=ttl_s),
        channel=channel,
        message="A cinnamon bun is waiting at Regatta",
        priority=5,
        relevance=0.82,
        data={"offer": "bun-2026", "discount_pct": 10},
    )
    assert DatabaseHistory(engine).record_moment(moment, spell_id=None) is None
    return moment
