"""enterprise registry: USCC, out-of-province mark, address, status and suspension reason

Revision ID: 0002_enterprise_registry
Revises: 0003_channels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_enterprise_registry"
# main already holds 0002/0003; chained after them so this branch has one head (lead renumbers)
down_revision = "0003_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uscc", sa.String(length=18), nullable=True))
        batch_op.add_column(
            sa.Column(
                "out_of_province", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("address", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), nullable=False, server_default="active")
        )
        batch_op.add_column(sa.Column("suspended_reason", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_enterprise_uscc"), ["uscc"])


def downgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_enterprise_uscc"), type_="unique")
        batch_op.drop_column("suspended_reason")
        batch_op.drop_column("status")
        batch_op.drop_column("address")
        batch_op.drop_column("out_of_province")
        batch_op.drop_column("uscc")
