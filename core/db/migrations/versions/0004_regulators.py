"""regulators: data API key scopes (realname_export)

Revision ID: 0004_regulators
Revises: 0003_channels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_regulators"
down_revision = "0003_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=60), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("scopes")
