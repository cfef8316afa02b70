"""index the audit log by action and subject

Reports rebuild a line's history (deletion, insurance status) from its audit records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:00:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_action_subject", "audit_log", ["action", "subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action_subject", table_name="audit_log")
