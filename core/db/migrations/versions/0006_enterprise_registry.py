"""enterprise registry: USCC, out-of-province mark, address, status and suspension reason;
applications to join (申请入驻) and the company admin flag of an account

Revision ID: 0006_enterprise_registry
Revises: 0005_dispatch
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_enterprise_registry"
# main already holds 0002–0004; chained after them so this branch has one head (lead renumbers)
down_revision = "0005_dispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uscc", sa.String(length=18), nullable=True))
        batch_op.add_column(
            sa.Column("out_of_province", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("address", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), nullable=False, server_default="active")
        )
        batch_op.add_column(sa.Column("suspended_reason", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_enterprise_uscc"), ["uscc"])
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "enterprise_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("city_code", sa.String(length=6), nullable=False),
        sa.Column("contact_name", sa.String(length=30), nullable=False),
        sa.Column("contact_phone", sa.String(length=11), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_enterprise_application_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["county_code"],
            ["region.code"],
            name=op.f("fk_enterprise_application_county_code_region"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_account_id"],
            ["account.id"],
            name=op.f("fk_enterprise_application_decided_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_enterprise_application_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_application")),
    )
    with op.batch_alter_table("enterprise_application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enterprise_application_applicant", ["telegram_user_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enterprise_application_uscc"), ["uscc"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enterprise_application_county_code"), ["county_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enterprise_application_city_code"), ["city_code"], unique=False
        )


def downgrade() -> None:
    op.drop_table("enterprise_application")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_enterprise_uscc"), type_="unique")
        batch_op.drop_column("suspended_reason")
        batch_op.drop_column("status")
        batch_op.drop_column("address")
        batch_op.drop_column("out_of_province")
        batch_op.drop_column("uscc")
