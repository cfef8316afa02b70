"""index entries by kind and time recorded

Income allocation (payments applied, by entry date) and the finance summary (services
invoiced, by created date) look for entries of some kinds recorded in a period. Without
planner statistics SQLite started from every receivable posting instead (bench, 1M lines:
1.2-1.9 s for a month); with this index it reads the period's entries of those kinds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 08:10:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_kind_recorded", "entries", ["kind", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_entries_kind_recorded", table_name="entries")
