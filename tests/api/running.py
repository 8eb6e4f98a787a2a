"""A real geotrigger API on 127.0.0.1 (uvicorn in a thread) over a SQLite file with the
shipped examples applied, and keys to call it with."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from geotrigger.api.app import create_app
from geotrigger.api.service import Service, open_service
from geotrigger.auth import Scope
from geotrigger.cli.serve import prepare_examples
from geotrigger.config import Settings
from geotrigger.store.api_keys import create_key
from geotrigger.store.database import transaction


@dataclass
class Api:
    """A running API: its base URL, its database and keys of each kind."""

    base: str
    database_url: str
    service: Service
    key: str  # ingest, read, admin
    read_only: str
    slow: str  # one request a second

    def get(self, path: str, key: str | None = None, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, key, **kwargs)

    def post(self, path: str, key: str | None = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, key, **kwargs)

    def put(self, path: str, key: str | None = None, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, key, **kwargs)

    def delete(self, path: str, key: str | None = None) -> requests.Response:
        return self.call("DELETE", path, key)

    def call(self, method: str, path: str, key: str | None, **kwargs: Any) -> requests.Response:
        headers = {**_auth(key), **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=10, **kwargs)


def _auth(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(service: Service) -> tuple[str, uvicorn.Server, threading.Thread]:
    """The app of ``service`` on a free port, in a thread; returns once it answers."""
    port = free_port()
    config = uvicorn.Config(
        create_app(service), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder: Path = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{folder / 'geotrigger.sqlite3'}"
    key = prepare_examples(url)
    with transaction(url) as conn:
        _, read_only = create_key(conn, name="reader", scopes=[Scope.READ], now=datetime.now(UTC))
        _, slow = create_key(
            conn, name="slow", scopes=[Scope.INGEST], rate_per_s=1.0, now=datetime.now(UTC)
        )
    service = open_service(url, Settings())
    base, server, thread = serve(service)
    try:
        yield Api(base, url, service, key, read_only, slow)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()
