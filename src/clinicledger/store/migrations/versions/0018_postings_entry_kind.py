"""each posting carries its entry's kind, and a line's postings are one covering index

A line's sums by kind of entry (what was charged, adjusted, deleted, receipted) are what
the finance summary and the line-level reports add up, for hundreds of thousands of lines
in a year. Each posting read the entry it belongs to for its kind: one more lookup per
posting, a third of the finance summary's year (issue 9, target 5). The kind is copied
onto the posting, as its entry's dates already are (``check`` proves every copy equal to
its entry's), and ``ix_postings_line`` covers a line's receivable postings by kind, so
that those sums read the index alone. (Not their ``recorded_at`` too: a report as known at
an earlier moment reads each posting's row, as before: an index with it was no faster
without ``as_known_at``, and larger by every posting's 26 characters of it.)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COVERING = ["line_id", "account", "entry_kind", "amount_cents"]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    # ALTER TABLE, not a batch rebuild: a rebuilt table would lose its triggers
    op.add_column(
        "postings", sa.Column("entry_kind", sa.String(30), nullable=False, server_default="")
    )
    # the append-only table's UPDATE trigger lifted for the copy, then put back
    op.execute("DROP TRIGGER postings_no_update" + (" ON postings" if postgresql else ""))
    if postgresql:
        op.execute(
            "UPDATE postings SET entry_kind = entries.kind FROM entries "
            "WHERE entries.id = postings.entry_id"
        )
        op.execute(
            "CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
    else:
        op.execute(
            "UPDATE postings SET entry_kind = "
            "(SELECT kind FROM entries WHERE entries.id = postings.entry_id)"
        )
        op.execute(
            "CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings "
            "BEGIN SELECT RAISE(ABORT, 'postings is append-only'); END"
        )
    op.drop_index("ix_postings_line", table_name="postings")
    op.create_index("ix_postings_line", "postings", COVERING)


def downgrade() -> None:
    op.drop_index("ix_postings_line", table_name="postings")
    op.create_index("ix_postings_line", "postings", ["line_id", "account"])
    op.execute("ALTER TABLE postings DROP COLUMN entry_kind")
