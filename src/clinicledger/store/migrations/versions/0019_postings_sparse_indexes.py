"""the postings' indexes by patient, payer, line, payment and invoice hold only the
postings that have one

Most postings have no payer (85% on the bench practice), and about half no line, invoice or
payment (a payment's postings, a charge's): each of these indexes kept an entry for every
posting all the same, under NULL, which no query of the application needs (a patient's own
share is read from the patient's postings, ``payer_id IS NULL`` among them; only the demo's
summary of every patient's share read that NULL range of the payer index, and now reads
the postings by account, on a ledger of a few thousand).
Each index now holds the postings that have its key (``WHERE key IS NOT NULL``), which any
query naming a key (``= :id``, a join on it) can use, on SQLite and PostgreSQL alike: a
posting written maintains fewer indexes, the ledger's file is smaller, and the bench
practice's indexes are built in 19 s rather than 49 s (issue 9, targets 3 and 4).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 23:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# rows sampled per index, as store.engine.SQLITE_ANALYSIS_LIMIT at this revision
ANALYSIS_LIMIT = 400

# name: its columns, the first of them its key
INDEXES = {
    "ix_postings_patient": [
        "patient_id",
        "account",
        "effective_date",
        "recorded_at",
        "payer_id",
        "amount_cents",
    ],
    "ix_postings_payer": ["payer_id", "account", "effective_date", "recorded_at", "amount_cents"],
    "ix_postings_line": ["line_id", "account", "entry_kind", "amount_cents"],
    "ix_postings_payment": ["payment_id", "account"],
    "ix_postings_invoice": ["invoice_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        only = sa.text(f"{columns[0]} IS NOT NULL")
        op.drop_index(name, table_name="postings")
        op.create_index(name, "postings", columns, sqlite_where=only, postgresql_where=only)
    bind = op.get_bind()
    # SQLite forgets the statistics of an index it drops: a ledger analysed at a close
    # (store.engine.refresh_planner_statistics) has its postings' analysed again, as the
    # close does; one never analysed is left so (PostgreSQL keeps its own by table)
    if (
        bind.dialect.name == "sqlite"
        and bind.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
    ):
        bind.exec_driver_sql(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        bind.exec_driver_sql("ANALYZE postings")


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="postings")
        op.create_index(name, "postings", columns)
