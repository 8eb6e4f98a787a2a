"""The service's tables: API keys (hashed), deliveries per moment and webhook destination,
outcomes of moments, ingestion receipts (idempotent pings), and when scheduled jobs last ran.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", DOC, nullable=False),
        sa.Column("rate_per_s", sa.Float(), nullable=True),
        sa.Column("device_prefix", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("moment_id", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["moment_id"],
            ["moments.id"],
            name=op.f("fk_deliveries_moment_id_moments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "moment_id", "destination", name=op.f("uq_deliveries_moment_id_destination")
        ),
    )
    op.create_index(
        "ix_deliveries_status_next_attempt_at",
        "deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("moment_id", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("consumer_id", sa.String(length=200), nullable=False),
        sa.Column("cohort", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", DOC, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("moment_id", "kind", name=op.f("uq_outcomes_moment_id_kind")),
    )
    op.create_index(op.f("ix_outcomes_consumer_id"), "outcomes", ["consumer_id"], unique=False)
    op.create_index("ix_outcomes_rule_id_kind", "outcomes", ["rule_id", "kind"], unique=False)
    op.create_table(
        "ping_receipts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("result", DOC, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ping_receipts")),
    )
    op.create_index(
        "ix_ping_receipts_received_at", "ping_receipts", ["received_at"], unique=False
    )
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_index("ix_ping_receipts_received_at", table_name="ping_receipts")
    op.drop_table("ping_receipts")
    op.drop_index("ix_outcomes_rule_id_kind", table_name="outcomes")
    op.drop_index(op.f("ix_outcomes_consumer_id"), table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("api_keys")
