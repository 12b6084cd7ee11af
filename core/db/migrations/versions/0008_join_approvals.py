"""需求待批: the company setting "foremen's postings need approval" and the shortage requests
waiting for a dispatcher

Revision ID: 0008_join_approvals
Revises: 0007_company_admin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_join_approvals"
down_revision = "0007_company_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "postings_need_approval", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "shortage_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("trade_code", sa.String(length=30), nullable=False),
        sa.Column("min_grade", sa.SmallInteger(), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("contact_name", sa.String(length=30), nullable=False),
        sa.Column("contact_phone", sa.String(length=11), nullable=False),
        sa.Column("ring", sa.String(length=10), nullable=False),
        sa.Column("requested_by_account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("shortage_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_account_id"],
            ["account.id"],
            name=op.f("fk_shortage_request_decided_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_shortage_request_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["min_grade"], ["grade.level"], name=op.f("fk_shortage_request_min_grade_grade")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_shortage_request_project_id_project")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_account_id"],
            ["account.id"],
            name=op.f("fk_shortage_request_requested_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["shortage_id"],
            ["shortage_posting.id"],
            name=op.f("fk_shortage_request_shortage_id_shortage_posting"),
        ),
        sa.ForeignKeyConstraint(
            ["trade_code"], ["trade.code"], name=op.f("fk_shortage_request_trade_code_trade")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortage_request")),
    )
    with op.batch_alter_table("shortage_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shortage_request_pending", ["enterprise_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shortage_request_requested_by_account_id"),
            ["requested_by_account_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("shortage_request")
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_column("postings_need_approval")
