"""typed history of line state: insurance-status changes, and what a deletion un-allocated

The statements and client-reconciliation reports replayed a line's insurance status, and
the allocations a cascaded deletion undid, from the audit log's JSON. They are facts the
reports rely on, so each gets a table of its own, filled here from the audit records
written so far. Append-only, like the journal.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:00:01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("insurance_status_changes", "deletion_unallocations")


def upgrade() -> None:
    op.create_table(
        "insurance_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("previous", sa.String(length=10), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_insurance_status_changes_line_id", "insurance_status_changes", ["line_id"])
    op.create_table(
        "deletion_unallocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("unallocation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"]),
        sa.ForeignKeyConstraint(["unallocation_id"], ["entries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "unallocation_id", name=op.f("uq_deletion_unallocations_unallocation_id")
        ),
    )
    op.create_index("ix_deletion_unallocations_line_id", "deletion_unallocations", ["line_id"])
    _backfill()
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            if postgresql:
                # refuse_change() is 0001's
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def _line_id(subject: str) -> int:
    return int(subject.removeprefix("L-"))


def _backfill() -> None:
    """The audit records so far: 'line.insurance_status' (detail ``{"status",
    "previous"}``; ``previous`` missing from the earliest records: the other status) and
    'line.delete' (detail ``{"unallocated": [allocation ids]}``)."""
    conn = op.get_bind()
    changes = []
    for row in conn.execute(
        sa.text(
            "SELECT subject, recorded_at, detail FROM audit_log "
            "WHERE action = 'line.insurance_status' ORDER BY id"
        )
    ):
        detail = json.loads(row.detail)
        status = str(detail["status"])
        previous = detail.get("previous") or ("closed" if status == "open" else "open")
        changes.append(
            {
                "line_id": _line_id(row.subject),
                "status": status,
                "previous": str(previous),
                "recorded_at": row.recorded_at,
            }
        )
    if changes:
        conn.execute(
            sa.text(
                "INSERT INTO insurance_status_changes (line_id, status, previous, recorded_at) "
                "VALUES (:line_id, :status, :previous, :recorded_at)"
            ),
            changes,
        )
    undone = []
    for row in conn.execute(
        sa.text("SELECT subject, detail FROM audit_log WHERE action = 'line.delete' ORDER BY id")
    ):
        for allocation_id in json.loads(row.detail).get("unallocated", ()):
            unallocation = conn.execute(
                sa.text("SELECT id FROM entries WHERE reverses = :id"), {"id": int(allocation_id)}
            ).scalar_one()
            undone.append({"line_id": _line_id(row.subject), "unallocation_id": unallocation})
    if undone:
        conn.execute(
            sa.text(
                "INSERT INTO deletion_unallocations (line_id, unallocation_id) "
                "VALUES (:line_id, :unallocation_id)"
            ),
            undone,
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{action}" + (f" ON {table}" if postgresql else ""))
    op.drop_index("ix_deletion_unallocations_line_id", table_name="deletion_unallocations")
    op.drop_table("deletion_unallocations")
    op.drop_index("ix_insurance_status_changes_line_id", table_name="insurance_status_changes")
    op.drop_table("insurance_status_changes")
