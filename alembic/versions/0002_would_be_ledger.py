"""The ledger of what monitor rules and holdout groups would have fired.

Their would-be moments count for those rules' caps, cooldowns and shared limits, so that
"would have fired" means what a live rule would really have sent; kept in the database they
survive a restart and are shared by every process.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "would_be_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("consumer_id", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("moment_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_would_be_ledger")),
        sa.UniqueConstraint(
            "rule_id", "key", "moment_id", name=op.f("uq_would_be_ledger_rule_id_key_moment_id")
        ),
    )
    op.create_index(
        op.f("ix_would_be_ledger_consumer_id"), "would_be_ledger", ["consumer_id"], unique=False
    )
    op.create_index(
        "ix_would_be_ledger_rule_id_key_at_s",
        "would_be_ledger",
        ["rule_id", "key", "at_s"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_would_be_ledger_rule_id_key_at_s", table_name="would_be_ledger")
    op.drop_index(op.f("ix_would_be_ledger_consumer_id"), table_name="would_be_ledger")
    op.drop_table("would_be_ledger")
