"""a covering index for patient balances

SQLite keeps no statistics, so with the (account, effective_date) index of 0004 it read
every party's postings up to the date for a patient's balance as of a date (bench: 0.7 s).
With the dates, portion and amount in the patient's own index it reads that patient's
postings alone (0.5 ms).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 06:20:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COVERED = ["effective_date", "recorded_at", "payer_id", "amount_cents"]


def upgrade() -> None:
    op.drop_index("ix_postings_patient", table_name="postings")
    op.create_index("ix_postings_patient", "postings", ["patient_id", "account", *COVERED])


def downgrade() -> None:
    op.drop_index("ix_postings_patient", table_name="postings")
    op.create_index("ix_postings_patient", "postings", ["patient_id", "account"])
