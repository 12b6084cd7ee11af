"""dispatch life: period, arrivals, wages, arrears alerts, prompts, earned credit

Revision ID: 0005_dispatch
Revises: 0004_regulators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dispatch"
down_revision = "0004_regulators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_date", sa.Date(), nullable=True))

    op.create_table(
        "dispatch_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("arrival", sa.String(length=10), nullable=False),
        sa.Column("arrived_on", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_account_id", sa.Integer(), nullable=True),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("replaces_assignment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_account_id"],
            ["account.id"],
            name=op.f("fk_dispatch_assignment_answered_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_dispatch_assignment_deal_id_deal")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_dispatch_assignment_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_assignment_id"],
            ["dispatch_assignment.id"],
            name=op.f("fk_dispatch_assignment_replaces_assignment_id_dispatch_assignment"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["worker.id"], name=op.f("fk_dispatch_assignment_worker_id_worker")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_assignment")),
        sa.UniqueConstraint("deal_id", "worker_id", name=op.f("uq_dispatch_assignment_deal_id")),
    )
    with op.batch_alter_table("dispatch_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispatch_assignment_deal_id"), ["deal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dispatch_assignment_worker_id"), ["worker_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dispatch_assignment_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            "ix_dispatch_assignment_open", ["released_on", "deal_id"], unique=False
        )

    op.create_table(
        "wage_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("person_days", sa.Integer(), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("payer_answer", sa.String(length=10), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=True),
        sa.Column("payer_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("labor_answer", sa.String(length=12), nullable=True),
        sa.Column("received_fen", sa.BigInteger(), nullable=True),
        sa.Column("workers_paid", sa.Boolean(), nullable=True),
        sa.Column("labor_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_wage_period_deal_id_deal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wage_period")),
        sa.UniqueConstraint("deal_id", "month", name=op.f("uq_wage_period_deal_id")),
    )
    with op.batch_alter_table("wage_period", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wage_period_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wage_period_due_on"), ["due_on"], unique=False)

    op.create_table(
        "arrears_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wage_period_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("city_code", sa.String(length=6), nullable=False),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_arrears_alert_deal_id_deal")
        ),
        sa.ForeignKeyConstraint(
            ["wage_period_id"],
            ["wage_period.id"],
            name=op.f("fk_arrears_alert_wage_period_id_wage_period"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrears_alert")),
        sa.UniqueConstraint("wage_period_id", name=op.f("uq_arrears_alert_wage_period_id")),
    )
    with op.batch_alter_table("arrears_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_arrears_alert_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(
            "ix_arrears_alert_region", ["status", "city_code", "county_code"], unique=False
        )

    op.create_table(
        "dispatch_prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_dispatch_prompt_deal_id_deal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_prompt")),
        sa.UniqueConstraint("deal_id", "kind", "day", name=op.f("uq_dispatch_prompt_deal_id")),
    )

    op.create_table(
        "enterprise_credit",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_enterprise_credit_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_enterprise_credit")),
    )

    # deals accepted before this revision: their workers are on site from the start date
    op.execute(
        """
        INSERT INTO dispatch_assignment (deal_id, worker_id, enterprise_id, due_on, arrival,
                                         created_at)
        SELECT d.id, dw.worker_id, d.idle_enterprise_id, d.start_date, 'pending',
               COALESCE(d.accepted_at, d.updated_at)
        FROM deal d JOIN deal_worker dw ON dw.deal_id = d.id
        WHERE d.status = 'accepted'
        """
    )


def downgrade() -> None:
    op.drop_table("enterprise_credit")
    op.drop_table("dispatch_prompt")
    with op.batch_alter_table("arrears_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_arrears_alert_region")
        batch_op.drop_index(batch_op.f("ix_arrears_alert_deal_id"))
    op.drop_table("arrears_alert")
    with op.batch_alter_table("wage_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wage_period_due_on"))
        batch_op.drop_index(batch_op.f("ix_wage_period_deal_id"))
    op.drop_table("wage_period")
    with op.batch_alter_table("dispatch_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_dispatch_assignment_open")
        batch_op.drop_index(batch_op.f("ix_dispatch_assignment_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_dispatch_assignment_worker_id"))
        batch_op.drop_index(batch_op.f("ix_dispatch_assignment_deal_id"))
    op.drop_table("dispatch_assignment")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_column("end_date")
