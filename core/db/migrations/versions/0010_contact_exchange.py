"""📞 交换电话: contact exchange requests between a shortage and an idle posting (issue 11)

Revision ID: 0010_contact_exchange
Revises: 0009_scale_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_contact_exchange"
down_revision = "0009_scale_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_exchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortage_id", sa.Integer(), nullable=False),
        sa.Column("idle_posting_id", sa.Integer(), nullable=False),
        sa.Column("requester_side", sa.String(length=8), nullable=False),
        sa.Column("requester_account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shortage_id"],
            ["shortage_posting.id"],
            name=op.f("fk_contact_exchange_shortage_id_shortage_posting"),
        ),
        sa.ForeignKeyConstraint(
            ["idle_posting_id"],
            ["idle_posting.id"],
            name=op.f("fk_contact_exchange_idle_posting_id_idle_posting"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_account_id"],
            ["account.id"],
            name=op.f("fk_contact_exchange_requester_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_account_id"],
            ["account.id"],
            name=op.f("fk_contact_exchange_decided_by_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_exchange")),
        sa.UniqueConstraint(
            "shortage_id", "idle_posting_id", name=op.f("uq_contact_exchange_shortage_id")
        ),
    )
    op.create_index("ix_contact_exchange_idle_posting_id", "contact_exchange", ["idle_posting_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_exchange_idle_posting_id", table_name="contact_exchange")
    op.drop_table("contact_exchange")
