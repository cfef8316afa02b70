"""the journal's own rows kept by the chain, not by a trigger on every insert

0014 gave every kept table a BEFORE INSERT trigger refusing a row whose id (or other
UNIQUE column) another row holds, so that even a client without the application's
``recursive_triggers`` cannot REPLACE one. On SQLite a row trigger costs as much as the
insert it guards: 500,000 postings with explicit ids took 1.75 times as long to write with
it (bench, issue 9), and a bulk load writes some fifteen million rows.

The journal (entries, postings, the audit log) and the kept closing balances need no such
trigger to be trusted: every row of the first three is in a hash chain that ``check``
recomputes, and every kept balance is proved equal to the journal by ``check``, so a row a
foreign client replaces is found and named (tests/cli/test_append_only.py). The
application's own connections still refuse a REPLACE there (the DELETE triggers fire
under ``recursive_triggers``). The rows whose money the services read before any check
runs (payments, lines, invoices) and the small tables keep their triggers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# 0014's insert triggers that go: the chained tables and the kept balances, by column.
DROPPED = {
    "entries": ("id", "reverses"),
    "postings": ("id",),
    "audit_log": ("id", "hash"),
    "closing_balances": ("id",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL had none: an ON CONFLICT update fires its UPDATE triggers
    for table, columns in DROPPED.items():
        for column in columns:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{column}_kept")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in DROPPED.items():
        for column in columns:
            op.execute(
                f"CREATE TRIGGER {table}_{column}_kept BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {column} = NEW.{column}) "
                f"BEGIN SELECT RAISE(ABORT, '{table}: a row with this {column} exists; "
                "rows are never replaced'); END"
            )
