"""The databases the store is tested on: a SQLite file, and a fresh PostgreSQL/PostGIS database.

Every test that takes ``database_url`` runs once on each. The PostGIS one is a new database per
test (created, then dropped), on the server of ``GEOTRIGGER_TEST_POSTGRES_URL`` (default: the
local PostgreSQL); without it the test is skipped locally and fails in CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from geotrigger.store import migrations
from geotrigger.store.database import connect, ensure_database
from tests.conftest import require

SERVER_URL = os.environ.get(
    "GEOTRIGGER_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/geotrigger_test"
)


def _fresh_postgres() -> Iterator[str]:
    url = make_url(SERVER_URL).set(database=f"geotrigger_store_{uuid.uuid4().hex[:10]}")
    rendered = url.render_as_string(hide_password=False)
    try:
        ensure_database(rendered)
    except OperationalError as exc:
        require(False, f"PostgreSQL is not reachable: {str(exc.orig).strip()}")
    try:
        yield rendered
    finally:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in a temporary folder, or a fresh PostGIS database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'geotrigger.sqlite3'}"
        return
    yield from _fresh_postgres()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated, empty database of each kind (see ``database_url``), connected."""
    migrations.upgrade(database_url)
    engine = connect(database_url)
    yield engine
    engine.dispose()
