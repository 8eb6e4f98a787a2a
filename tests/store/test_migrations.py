"""Alembic owns the schema: one head, a fresh database made by ``db upgrade``, no drift from
the tables the code declares, and the way back down. On SQLite and on real PostGIS."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect, text

from geotrigger.cli import main
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.tables import metadata
from tests.store.conftest import _fresh_postgres


def test_the_migrations_have_one_head() -> None:
    assert len(migrations.heads()) == 1


def test_upgrade_creates_every_table_and_is_idempotent(database_url: str) -> None:
    assert migrations.current(database_url) is None
    migrations.upgrade(database_url)
    migrations.upgrade(database_url)  # a second time changes nothing
    assert migrations.current(database_url) == migrations.heads()[0]
    engine = connect(database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    engine.dispose()


def test_the_schema_matches_the_tables_the_code_declares(database_url: str) -> None:
    """Autogenerate finds nothing to do after the migrations: they and tables.py agree."""
    migrations.upgrade(database_url)
    engine = connect(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": alembic_helpers.include_object, "compare_type": False},
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    # the GiST index exists on PostGIS only, made by the migration, not declared in tables.py
    diff = [d for d in diff if not (d[0] == "remove_index" and d[1].name == "ix_places_geometry")]
    assert diff == []


def test_downgrade_to_base_removes_every_table(database_url: str) -> None:
    migrations.upgrade(database_url)
    migrations.downgrade(database_url, "base")
    engine = connect(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version", "spatial_ref_sys"}
    engine.dispose()


def test_db_upgrade_command(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    head = migrations.heads()[0]
    assert f"schema at revision {head}" in capsys.readouterr().out
    assert main(["db", "current", "--database-url", database_url]) == 0
    assert capsys.readouterr().out.rstrip().endswith(head)


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/nested/folder/gt.sqlite3"  # the folder is made
    migrations.upgrade(url)
    engine = connect(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_postgis_places_have_a_gist_index() -> None:
    """On PostGIS the geometry is a real geometry column with a GiST index."""
    for url in _fresh_postgres():
        migrations.upgrade(url)
        engine = connect(url)
        with engine.connect() as connection:
            index = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_places_geometry'")
            ).scalar()
            kind = connection.execute(
                text(
                    "SELECT udt_name FROM information_schema.columns "
                    "WHERE table_name = 'places' AND column_name = 'geometry'"
                )
            ).scalar()
        engine.dispose()
        assert index is not None and "USING gist" in index
        assert kind == "geometry"


def test_a_bad_database_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--database-url", "mysql://x@localhost/db"]) == 1
    assert "only sqlite and postgresql are supported" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url",
    [
        "postgres ql://u:s3cret@h/db",  # not a URL at all
        "postgresql+psycopg2://u:s3cret@h:54x2/db",  # a port that is no number
        "postgresql+psycopg2://u:s3cret@127.0.0.1:1/db",  # nobody listening
    ],
)
def test_a_password_is_never_printed(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "s3cret" not in err and "***" in err and "Traceback" not in err
