"""indexes for reports over a period: entries by kind and date, postings by account and date

Income by provider scans allocation entries by effective date; the aging trend and the
unallocated report scan one account's postings up to a date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 05:20:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_kind_effective", "entries", ["kind", "effective_date"])
    op.create_index("ix_postings_account_effective", "postings", ["account", "effective_date"])


def downgrade() -> None:
    op.drop_index("ix_postings_account_effective", table_name="postings")
    op.drop_index("ix_entries_kind_effective", table_name="entries")
