"""The API as production runs it, for the ingestion benchmark: ``python -m geotrigger serve``
(uvicorn, one worker) in a subprocess on a free local port, ready once ``/readyz`` answers 200."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from geotrigger.cli.serve import REPO

START_TIMEOUT_S = 120.0  # 100k places are read from SQLite and indexed before it answers


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_server(url: str, folder: Path) -> Iterator[str]:
    """``geotrigger serve`` on ``url`` in a subprocess; yields its base URL once it is ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "geotrigger", "serve", "--database-url", url]
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder
    )
    try:
        wait_ready(base, process, folder / "server.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``/readyz`` answers 200; RuntimeError if the server exits or is too slow."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the API server exited with {process.returncode}: {tail}")
        try:
            if requests.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the API server at {base} was not ready within {START_TIMEOUT_S:.0f} s")
