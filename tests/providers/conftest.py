"""Fixtures of the provider tests: one local fixture server per test module, reset per test
(defined beside the server, so that other test folders take the same ones)."""

from __future__ import annotations

from tests.providers.server import server, shared_server

__all__ = ["server", "shared_server"]
