"""Delivery is tested on both databases of the store's tests (a SQLite file, a fresh PostGIS)."""

from tests.store.conftest import database_url, engine

__all__ = ["database_url", "engine"]
