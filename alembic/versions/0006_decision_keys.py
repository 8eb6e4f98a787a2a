"""Decision keys: each stored decision gets its candidate's key, unique, so that a batch that
runs again after a crash stores no decision twice.

The key is the digest of rule, consumer, place and event (the id the candidate's moment has or
would have). Rows stored before this migration keep no key (NULL): their candidates are not
derived again, and NULLs never collide in the unique index on either database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:15:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("key", sa.String(length=32), nullable=True))
    op.create_index("ix_decisions_key", "decisions", ["key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_decisions_key", table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("key")
