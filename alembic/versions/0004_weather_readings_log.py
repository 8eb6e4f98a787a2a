"""Weather readings as a log: every reading a sweep stored, numbered in commit order.

The table of 0001 (one row per key and time, never written) is made again: a number per row
(what a process following new readings remembers), the key, the provider, when the reading was
observed and until when it holds, when it was fetched, and the whole reading as JSON. A
reading is stored once per key, provider and observation time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("weather_readings")
    op.create_table(
        "weather_readings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reading", DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weather_readings")),
        sa.UniqueConstraint(
            "key",
            "source",
            "observed_at",
            name=op.f("uq_weather_readings_key_source_observed_at"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_weather_readings_key_observed_at",
        "weather_readings",
        ["key", "observed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_weather_readings_key_observed_at", table_name="weather_readings")
    op.drop_table("weather_readings")
    op.create_table(
        "weather_readings",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("reading", DOC, nullable=False),
        sa.PrimaryKeyConstraint("key", "observed_at", name=op.f("pk_weather_readings")),
    )
