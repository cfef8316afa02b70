"""rows kept whoever asks: no replace, no delete, no renumbering

0001-0013 refuse UPDATE and DELETE on the journal and its history, and a change of the
money on payments and lines. Past them:

- SQLite: REPLACE (INSERT OR REPLACE, an UPSERT's replace) deletes the row it replaces,
  and a DELETE trigger sees that only with ``PRAGMA recursive_triggers``, which the
  application sets but another client need not. A BEFORE INSERT trigger sees every
  insert, whoever makes it: each kept table refuses a row whose id, or any other UNIQUE
  column, another row already holds (a REPLACE on ``entries.reverses`` or
  ``audit_log.hash`` would delete the row that held it). ``UPDATE OR REPLACE`` that
  renumbers a payment, line or invoice onto another's id or number deletes that one: ids
  (and invoice numbers) cannot change;
- payments, lines and invoices: the application never deletes one (a line is deleted by
  its ``deleted_at`` and a reversing entry; a payment is reversed), and a REPLACE of a
  payment once swapped its amount for the one its reversal then posted. DELETE is refused
  (and, PostgreSQL, TRUNCATE);
- payments.processor_fee_cents is fixed once written, like the amount.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Mapping

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Each kept table and its UNIQUE columns besides the id (store/tables.py).
KEPT = {
    "entries": ("reverses",),
    "postings": (),
    "audit_log": ("hash",),
    "closings": ("as_of",),
    "closing_balances": (),
    "insurance_status_changes": (),
    "deletion_unallocations": ("unallocation_id",),
    "idempotency_keys": ("key",),
    "invoices": ("number",),
    "payments": (),
    "lines": (),
}
# Rows the services update (a status, a reversal's moment) but never delete; their keys.
MASTERS = {"payments": ("id",), "lines": ("id",), "invoices": ("id", "number")}
# 0013's money guards, worded as on SQLite on PostgreSQL too, and a payment's processor fee
GUARDED = {"payments": ("amount_cents", "processor_fee_cents"), "lines": ("fee_cents", "gst_cents")}
GUARDED_0013 = {"payments": ("amount_cents",), "lines": ("fee_cents", "gst_cents")}
REMOVED = "its rows are never removed"
RENUMBERED = "its keys are fixed once written"
FIXED = "its amounts are fixed once written"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # a trigger's refusal, worded by its argument (0001's refuse_change() says
        # "append-only", which payments and lines are not)
        op.execute(
            "CREATE FUNCTION refuse_because() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '%: %', TG_TABLE_NAME, TG_ARGV[0]; END $$"
        )
    else:
        for table, uniques in KEPT.items():
            for column in ("id", *uniques):
                op.execute(
                    f"CREATE TRIGGER {table}_{column}_kept BEFORE INSERT ON {table} "
                    f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {column} = NEW.{column}) "
                    f"BEGIN SELECT RAISE(ABORT, '{table}: a row with this {column} exists; "
                    "rows are never replaced'); END"
                )
    for table, keys in MASTERS.items():
        _refuse(f"{table}_no_delete", table, "DELETE", REMOVED, postgresql)
        _refuse(
            f"{table}_keys_fixed",
            table,
            f"UPDATE OF {', '.join(keys)}",
            RENUMBERED,
            postgresql,
            changed=keys,
        )
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_because('{REMOVED}')"
            )
    _guard(GUARDED, postgresql)


def _guard(guarded: Mapping[str, tuple[str, ...]], postgresql: bool, *, function: str = "") -> None:
    """(Re)make the triggers that refuse a change of the money columns ``guarded``."""
    for table, columns in guarded.items():
        _drop(f"{table}_money_fixed", table, postgresql)
        _refuse(
            f"{table}_money_fixed",
            table,
            f"UPDATE OF {', '.join(columns)}",
            FIXED,
            postgresql,
            changed=columns,
            function=function,
        )


def _refuse(
    name: str,
    table: str,
    action: str,
    why: str,
    postgresql: bool,
    *,
    changed: tuple[str, ...] = (),
    function: str = "",
) -> None:
    """A row trigger ``name`` refusing ``action`` (``DELETE``, ``UPDATE OF c``) on
    ``table`` because ``why``; with ``changed``, only if one of those columns changes.
    PostgreSQL's refusal is ``function`` (default: ``refuse_because`` saying why)."""
    if postgresql:
        differs = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in changed)
        refusal = function or f"refuse_because('{why}')"
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {action} ON {table} FOR EACH ROW "
            + (f"WHEN ({differs}) " if changed else "")
            + f"EXECUTE FUNCTION {refusal}"
        )
    else:
        differs = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in changed)
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
            + (f"WHEN {differs} " if changed else "")
            + f"BEGIN SELECT RAISE(ABORT, '{table}: {why}'); END"
        )


def _drop(name: str, table: str, postgresql: bool) -> None:
    op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgresql else ""))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _guard(GUARDED_0013, postgresql, function="refuse_change()")
    for table in MASTERS:
        for name in ("no_delete", "keys_fixed") + (("no_truncate",) if postgresql else ()):
            _drop(f"{table}_{name}", table, postgresql)
    if postgresql:
        op.execute("DROP FUNCTION refuse_because()")
    else:
        for table, uniques in KEPT.items():
            for column in ("id", *uniques):
                _drop(f"{table}_{column}_kept", table, postgresql)
