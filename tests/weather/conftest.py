"""Fixtures of the weather tests: the provider tests' local fixture server (the weather
command is tested against it)."""

from __future__ import annotations

from tests.providers.server import server, shared_server

__all__ = ["server", "shared_server"]
