"""matching reads my county's candidates first (issue 17): (trade, county, status, grade) on
both posting tables, so a big city's thousands of candidates of a common trade are not all
read when the county already fills the list

Revision ID: 0012_match_county
Revises: 0011_rings
"""

from __future__ import annotations

from alembic import op

revision = "0012_match_county"
down_revision = "0011_rings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_shortage_match_county",
        "shortage_posting",
        ["trade_code", "county_code", "status", "min_grade"],
    )
    op.create_index(
        "ix_idle_match_county",
        "idle_posting",
        ["trade_code", "county_code", "status", "grade_level"],
    )


def downgrade() -> None:
    op.drop_index("ix_idle_match_county", table_name="idle_posting")
    op.drop_index("ix_shortage_match_county", table_name="shortage_posting")
