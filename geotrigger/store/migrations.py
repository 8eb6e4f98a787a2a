"""Alembic, driven from the command line of geotrigger: upgrade, current revision, heads.

The migrations live in the source checkout's ``alembic/`` folder (one head); the database URL
comes from ``--database-url`` or ``GEOTRIGGER_DATABASE_URL``.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from geotrigger.errors import ConfigError
from geotrigger.store.database import connect, ensure_database

MIGRATIONS = Path(__file__).resolve().parents[2] / "alembic"


def config(url: str | None = None) -> Config:
    """Alembic's configuration for the migrations folder (and ``url``, when given)."""
    if not (MIGRATIONS / "env.py").is_file():
        raise ConfigError(
            f"the migrations folder is missing: {MIGRATIONS.name}/ (a source checkout)"
        )
    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        alembic_config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return alembic_config


def heads() -> list[str]:
    """The head revisions of the migrations (there must be exactly one)."""
    return list(ScriptDirectory.from_config(config()).get_heads())


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``; a fresh database is created (the SQLite
    file, or the PostgreSQL database when the server lets this user create it)."""
    ensure_database(url)
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` back to ``revision`` (``base``: no tables)."""
    command.downgrade(config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it has none."""
    engine = connect(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
