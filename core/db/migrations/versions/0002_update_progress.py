"""processed_update: claimed_at and account_id, so an update claimed but never finished is
told to its user after a crash (issue 15, defect 5)

Revision ID: 0002_update_progress
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_update_progress"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = "status IN ('received', 'claimed')"


def upgrade() -> None:
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_processed_update_open",
            ["status", "claimed_at"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_update_open")
        batch_op.drop_column("account_id")
        batch_op.drop_column("claimed_at")
