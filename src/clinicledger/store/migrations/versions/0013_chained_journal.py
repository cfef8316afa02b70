"""the journal is hash-chained, its head kept, and its money guarded

- entries.hash: each entry's hash covers its fields, its postings and the entry before it
  (domain/chain.py), filled here for the journal so far;
- audit_log.entries: the entries each audit record records ("id:hash ..."), part of its
  hash from now on (records written before keep theirs and link by their moment);
- ledger_clock: the head of both chains (counts and last hashes), kept by every unit of
  work in the row it already locks, and the first entry whose audit record names it;
- payments.amount_cents and lines.fee_cents / gst_cents cannot change once written;
- PostgreSQL: TRUNCATE is refused on the append-only tables (row triggers do not see it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:00:00
"""

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from clinicledger.domain.chain import GENESIS_HASH, entry_hash

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "entries",
    "postings",
    "audit_log",
    "closings",
    "closing_balances",
    "insurance_status_changes",
    "deletion_unallocations",
    "idempotency_keys",
)
GUARDED = {"payments": ("amount_cents",), "lines": ("fee_cents", "gst_cents")}
POSTING_FACTS = (
    "account, amount_cents, patient_id, payer_id, provider_id, location_id, invoice_id, "
    "line_id, payment_id, reason"
)
BATCH = 5_000
CLOCK_COLUMNS = (
    ("entries_count", sa.BigInteger(), "0"),
    ("entries_hash", sa.String(64), GENESIS_HASH),
    ("audit_count", sa.BigInteger(), "0"),
    ("audit_hash", sa.String(64), GENESIS_HASH),
    ("linked_from_entry", sa.Integer(), None),
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, kind, default in CLOCK_COLUMNS:
        op.add_column(
            "ledger_clock", sa.Column(name, kind, nullable=default is None, server_default=default)
        )
    op.add_column("entries", sa.Column("hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("entries", sa.Text(), nullable=True))
    _without_update_trigger("entries", postgresql, _chain_the_journal)
    _keep_the_heads()
    for table, columns in GUARDED.items():
        _guard(table, columns, postgresql)
    if postgresql:
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
            )


def _chain_the_journal() -> None:
    """Each entry's hash, in id order: its postings in id order, and the one before."""
    conn = op.get_bind()
    prev = GENESIS_HASH
    # streamed (yield_per on the statements, not the connection: the connection goes on
    # to run the trigger statements)
    entries = conn.execute(
        sa.text(
            "SELECT id, recorded_at, effective_date, actor, kind, reason, note, reverses "
            "FROM entries ORDER BY id"
        ).execution_options(yield_per=BATCH)
    )
    postings = conn.execute(
        sa.text(
            f"SELECT entry_id, {POSTING_FACTS} FROM postings ORDER BY entry_id, id"
        ).execution_options(yield_per=BATCH)
    )
    pending = next(postings, None)
    done = []
    for e in entries:
        while pending is not None and pending[0] < e.id:
            pending = next(postings, None)
        own = []
        while pending is not None and pending[0] == e.id:
            own.append(tuple(pending[1:]))
            pending = next(postings, None)
        prev = entry_hash(
            prev,
            entry_id=e.id,
            recorded_at=_moment(e.recorded_at),
            effective_date=_day(e.effective_date),
            actor=e.actor,
            kind=e.kind,
            reason=e.reason,
            note=e.note,
            reverses=e.reverses,
            postings=own,
        )
        done.append({"id": e.id, "hash": prev})
        if len(done) == BATCH:
            _keep_hashes(done)
            done = []
    if done:
        _keep_hashes(done)


def _keep_hashes(rows: list[dict[str, object]]) -> None:
    op.get_bind().execute(sa.text("UPDATE entries SET hash = :hash WHERE id = :id"), rows)


def _moment(value: object) -> dt.datetime:  # SQLite hands back text from a raw query
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _keep_the_heads() -> None:
    conn = op.get_bind()
    entries = conn.execute(sa.text("SELECT count(*) FROM entries")).scalar_one()
    last_entry = conn.execute(
        sa.text("SELECT hash FROM entries ORDER BY id DESC LIMIT 1")
    ).scalar_one_or_none()
    audits = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    last_audit = conn.execute(
        sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
    ).scalar_one_or_none()
    # the entries so far were written before audit records named them (none: NULL)
    after = conn.execute(sa.text("SELECT max(id) + 1 FROM entries")).scalar_one()
    conn.execute(
        sa.text(
            "UPDATE ledger_clock SET entries_count = :entries, entries_hash = :entries_hash, "
            "audit_count = :audits, audit_hash = :audit_hash, linked_from_entry = :after"
        ),
        {
            "entries": entries,
            "entries_hash": last_entry or GENESIS_HASH,
            "audits": audits,
            "audit_hash": last_audit or GENESIS_HASH,
            "after": after,
        },
    )


def _without_update_trigger(table: str, postgresql: bool, work: Callable[[], None]) -> None:
    """Run ``work`` with the table's append-only UPDATE trigger lifted, then put it back."""
    name = f"{table}_no_update"
    op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgresql else ""))
    work()
    if postgresql:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def _guard(table: str, columns: tuple[str, ...], postgresql: bool) -> None:
    """Refuse any change of ``columns`` once a row is written: money the services read."""
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    name = f"{table}_money_fixed"
    if postgresql:
        differs = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({differs}) EXECUTE FUNCTION refuse_change()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"WHEN {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{table}: its amounts are fixed once written'); END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    for table in GUARDED:
        op.execute(f"DROP TRIGGER {table}_money_fixed" + (f" ON {table}" if postgresql else ""))
    # ALTER TABLE, not a batch rebuild: a rebuilt table would lose its append-only triggers
    op.execute("ALTER TABLE audit_log DROP COLUMN entries")
    op.execute("ALTER TABLE entries DROP COLUMN hash")
    for name, _, _ in CLOCK_COLUMNS:
        op.execute(f"ALTER TABLE ledger_clock DROP COLUMN {name}")
