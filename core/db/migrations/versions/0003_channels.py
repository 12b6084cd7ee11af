"""delivery channels (WeCom / DingTalk robots, e-mail) and their outbox

Revision ID: 0003_channels
Revises: 0002_update_progress
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_channels"
down_revision = "0002_update_progress"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("secret_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_delivery_channel_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_channel")),
    )
    with op.batch_alter_table("delivery_channel", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_channel_account_id"), ["account_id"], unique=False
        )
    op.create_table(
        "channel_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=160), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_channel_outbox_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["delivery_channel.id"],
            name=op.f("fk_channel_outbox_channel_id_delivery_channel"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_channel_outbox_dedup_key")),
    )
    with op.batch_alter_table("channel_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_outbox_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            "ix_channel_outbox_due", ["status", "not_before", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_outbox_due")
        batch_op.drop_index(batch_op.f("ix_channel_outbox_channel_id"))
    op.drop_table("channel_outbox")
    with op.batch_alter_table("delivery_channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_channel_account_id"))
    op.drop_table("delivery_channel")
