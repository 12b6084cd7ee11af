"""The dispatch rings in the bot: a company's default ring for new postings and the hours
after which an internal posting opens to the market by itself

Revision ID: 0011_rings
Revises: 0010_contact_exchange
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_rings"
down_revision = "0010_contact_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "default_ring", sa.String(length=10), nullable=False, server_default="market"
            )
        )
        batch_op.add_column(
            sa.Column(
                "internal_open_hours", sa.SmallInteger(), nullable=False, server_default="24"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_column("internal_open_hours")
        batch_op.drop_column("default_ring")
