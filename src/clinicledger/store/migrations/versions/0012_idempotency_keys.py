"""idempotency keys: a retried request with the same key posts once

Each money-moving use case may be given a key; the key, the use case, the command (as
canonical JSON, and its SHA-256) and the result are kept in the same transaction as the
entries the command made. Append-only, like the journal.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:00:02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "idempotency_keys"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("use_case", sa.String(length=60), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("command_sha256", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name=op.f("uq_idempotency_keys_key")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for action in ("UPDATE", "DELETE"):
        name = f"{TABLE}_no_{action.lower()}"
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER {TABLE}_no_{action}" + (f" ON {TABLE}" if postgresql else ""))
    op.drop_table(TABLE)
