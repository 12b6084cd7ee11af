"""indexes for ten times the province (issue 17): matching's candidates of one city (trade,
city, status, grade: ix_*_match has the grade range before the city), and the reporting rate's
per-project look-ups (a project's postings by update time, a team's workers by status change)

Revision ID: 0009_scale_indexes
Revises: 0008_join_approvals
"""

from __future__ import annotations

from alembic import op

revision = "0009_scale_indexes"
down_revision = "0008_join_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_shortage_match_city",
        "shortage_posting",
        ["trade_code", "city_code", "status", "min_grade"],
    )
    op.create_index(
        "ix_idle_match_city", "idle_posting", ["trade_code", "city_code", "status", "grade_level"]
    )
    op.create_index(
        "ix_shortage_project_updated", "shortage_posting", ["project_id", "updated_at"]
    )
    op.create_index("ix_worker_team_changed", "worker", ["team_id", "status_changed_at"])


def downgrade() -> None:
    op.drop_index("ix_worker_team_changed", table_name="worker")
    op.drop_index("ix_shortage_project_updated", table_name="shortage_posting")
    op.drop_index("ix_idle_match_city", table_name="idle_posting")
    op.drop_index("ix_shortage_match_city", table_name="shortage_posting")
