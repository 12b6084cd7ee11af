"""company admin: a project's planned dates and real-name platform code; 进场 / 退场 of a
company's own workers in its teams (team_stay)

Revision ID: 0007_company_admin
Revises: 0006_enterprise_registry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_company_admin"
down_revision = "0006_enterprise_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("planned_end", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("realname_code", sa.String(length=40), nullable=True))
    op.create_table(
        "team_stay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_team_stay_team_id_team")),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["worker.id"], name=op.f("fk_team_stay_worker_id_worker")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_stay")),
    )
    with op.batch_alter_table("team_stay", schema=None) as batch_op:
        batch_op.create_index("ix_team_stay_worker", ["worker_id", "left_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_team_stay_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    op.drop_table("team_stay")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_column("realname_code")
        batch_op.drop_column("planned_end")
        batch_op.drop_column("planned_start")
