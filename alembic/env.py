"""Alembic's environment: the one MetaData of geotrigger.store, GeoAlchemy2's helpers.

Run through ``geotrigger db upgrade`` (which passes the database URL), or ``alembic`` with
``-x url=...``.
"""

from __future__ import annotations

from geoalchemy2 import alembic_helpers

from alembic import context
from geotrigger.store.database import connect
from geotrigger.store.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(as_dictionary=True).get(
    "url"
)
if not url:
    raise SystemExit("no database URL: use `geotrigger db upgrade --database-url URL`")


def run() -> None:
    """Run the migrations online, in one transaction per migration."""
    engine = connect(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=alembic_helpers.include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
