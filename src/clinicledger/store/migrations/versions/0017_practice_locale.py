"""the practice's locale: how its money and dates are written on its pages and papers

Issue 10: amounts and dates are shown in the practice's locale (Babel's name, e.g. en_AU,
the default for every practice so far), set with ``practice set --locale``, instead of in
one locale given to the whole web app.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE, not a batch rebuild: a rebuilt table would lose its triggers
    op.add_column(
        "practice", sa.Column("locale", sa.String(20), nullable=False, server_default="en_AU")
    )


def downgrade() -> None:
    op.execute("ALTER TABLE practice DROP COLUMN locale")
