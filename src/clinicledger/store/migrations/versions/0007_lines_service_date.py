"""index lines by service date

The unearned report looks for lines whose service is after a date; without this index it
read every receivable posting (bench, 1M lines: 3.5 s to 0.06 s for that query).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 06:45:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lines_service_date", "lines", ["service_date"])


def downgrade() -> None:
    op.drop_index("ix_lines_service_date", table_name="lines")
