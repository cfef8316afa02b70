"""The journal is append-only: database triggers refuse UPDATE and DELETE on entries,
postings and the audit log, on SQLite and PostgreSQL alike, whoever asks; and no client
can replace, delete or renumber a row of the journal, its history, or the payments, lines
and invoices whose money the services read (migrations 0013 and 0014)."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from clinicledger.store import tables as t

from .harness import Cli, snapshot


def refused(engine: Engine, statement: str, refusal: str) -> None:
    """``statement``, run through the application's engine, is refused with ``refusal``
    and changes nothing at all."""
    before = snapshot(engine)
    with pytest.raises(DBAPIError, match=refusal), engine.begin() as conn:
        conn.execute(text(statement))
    assert snapshot(engine) == before


CHANGES = {
    "UPDATE": {
        "entries": "UPDATE entries SET reason = 'tidied up' WHERE id = 1",
        "postings": "UPDATE postings SET amount_cents = 0 WHERE id = 1",
        "audit_log": "UPDATE audit_log SET actor = 'nobody' WHERE id = 1",
    },
    "DELETE": {
        "entries": "DELETE FROM entries WHERE id = 12",
        "postings": "DELETE FROM postings WHERE entry_id = 12",
        "audit_log": "DELETE FROM audit_log WHERE id = 1",
    },
}


@pytest.mark.parametrize("table", ["entries", "postings", "audit_log"])
@pytest.mark.parametrize("action", ["UPDATE", "DELETE"])
def test_the_journal_refuses_to_change(
    engine: Engine, practice: None, table: str, action: str
) -> None:
    refused(engine, CHANGES[action][table], f"{table} is append-only")


# ---------------------------------------------------------------- issue 8: past the triggers

APPEND_ONLY = ("entries", "postings", "audit_log", "closings", "closing_balances")
ROW_ONE = {
    "entries": "(1, '2024-03-01 00:00:00', '2024-03-01', 'intruder', 'charge', NULL, NULL, "
    "NULL, NULL)",
    "postings": "(1, 1, 'RECEIVABLE', 999, '2024-03-01', '2024-03-01 00:00:00', 1, NULL, 1, "
    "1, 1, 1, NULL, NULL, 'charge')",  # entry_kind last: migration 0018 added it
    "audit_log": "(1, '2024-03-01 00:00:00', 'intruder', 'x', 'y', '{}', 'p', 'h', NULL)",
}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("table", ["entries", "postings", "audit_log"])
@pytest.mark.parametrize("verb", ["REPLACE INTO", "INSERT OR REPLACE INTO"])
def test_sqlite_refuses_to_replace_a_journal_row(
    engine: Engine, practice: None, table: str, verb: str
) -> None:
    # refused through the application's own connections: a REPLACE deletes the row it
    # replaces, which the DELETE trigger refuses (recursive_triggers, store/engine.py)
    refused(engine, f"{verb} {table} VALUES {ROW_ONE[table]}", f"{table} is append-only")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_refuses_an_upsert_that_rewrites_an_entry(engine: Engine, practice: None) -> None:
    refused(
        engine,
        f"INSERT INTO entries VALUES {ROW_ONE['entries']} "
        "ON CONFLICT (id) DO UPDATE SET actor = 'intruder'",
        "entries is append-only",
    )


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_postgresql_refuses_to_truncate_the_journal(
    engine: Engine, practice: None, table: str
) -> None:
    refused(engine, f"TRUNCATE {table} CASCADE", f"{table} is append-only")


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE payments SET amount_cents = 1 WHERE id = 1",
        "UPDATE lines SET fee_cents = 1 WHERE id = 1",
        "UPDATE lines SET gst_cents = 1 WHERE id = 1",
    ],
)
def test_the_money_of_payments_and_lines_is_fixed_once_written(
    engine: Engine, practice: None, change: str
) -> None:
    refused(engine, change, "fixed once written")
    with engine.begin() as conn:  # what is not money still changes, through the services
        conn.execute(text("UPDATE payments SET note = 'seen' WHERE id = 1"))


# ------------------------------------------ rows kept whoever asks (issue 8, gaps G2 and G9)

# The tables whose rows the ledger never removes: the journal and its history, and the
# rows whose money the services read (a payment's amount, a line's fee, its invoice);
# each with its UNIQUE columns besides the id, as store/tables.py declares them (a
# column made unique there is tested here, and must be guarded by a migration).
KEPT = {
    name: tuple(
        column.name
        for column in t.metadata.tables[name].columns
        if column.unique and not column.primary_key
    )
    for name in (*t.APPEND_ONLY_TABLES, "invoices", "payments", "lines")
}


@pytest.fixture
def every_table(cli: Cli, practice: None) -> None:
    """The practice with a row in every kept table: a line opened to insurance, a line
    deleted with its payments un-allocated, a period closed, a payment with a key."""
    cli.ok("line", "status", "L-000003", "--insurance", "open")
    cli.ok("line", "delete", "L-000001", "--reason", "keyed in error", "--cascade")
    cli.ok("period", "close", "2024-03-01")
    cli.ok(
        "payment", "record", "--from", "P2", "--amount", "12.00", "--method", "cash",
        "--received", "2024-03-02", "--location", "MAIN", "--idempotency-key", "desk-1",
    )  # fmt: skip


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def rewrites(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """Statements that would rewrite the first row of ``table`` past UPDATE and DELETE
    triggers: REPLACE and its spellings on its id, an UPSERT on its id, and a REPLACE of a
    new row holding another row's unique value (which deletes that row)."""
    names = columns_of(conn, table)
    first = f"(SELECT min(id) FROM {table})"
    same = f"SELECT * FROM {table} WHERE id = {first}"
    made = {
        "REPLACE INTO": f"REPLACE INTO {table} {same}",
        "INSERT OR REPLACE INTO": f"INSERT OR REPLACE INTO {table} {same}",
        "UPSERT": f"INSERT INTO {table} {same} ON CONFLICT (id) DO UPDATE SET id = excluded.id",
    }
    for unique in KEPT[table]:
        picked = ", ".join(
            f"(SELECT max(id) + 1 FROM {table})" if name == "id" else name for name in names
        )
        made[f"REPLACE on {unique}"] = (
            f"REPLACE INTO {table} SELECT {picked} FROM {table} "
            f"WHERE {unique} IS NOT NULL ORDER BY id LIMIT 1"
        )
    return made


# The journal's own rows and the kept balances: a foreign client's REPLACE there is found
# by ``check`` (the chain, the closings), not refused by a trigger on every insert, which
# doubled the cost of a bulk load (migration 0015).
CHECKED = ("entries", "postings", "audit_log", "closing_balances")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("table", [name for name in KEPT if name not in CHECKED])
def test_any_sqlite_client_is_refused_a_replace(
    engine: Engine, every_table: None, table: str
) -> None:
    """A plain ``sqlite3`` connection, without the application's pragmas (no recursive
    triggers, no foreign keys), cannot replace a kept row either."""
    before = snapshot(engine)
    engine.dispose()
    path = str(engine.url.database)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
        for name, statement in rewrites(conn, table).items():
            with pytest.raises(sqlite3.IntegrityError, match=f"{table}: a row with this"):
                conn.execute(statement)
                pytest.fail(f"{name} went through")
    assert snapshot(engine) == before


# A foreign client's REPLACE of a journal row or a kept balance, with other content: what
# check names for it.
FOREIGN_REPLACES = {
    "postings": (
        "REPLACE INTO postings SELECT id, entry_id, effective_date, recorded_at, account, "
        "amount_cents + 500, patient_id, payer_id, provider_id, location_id, invoice_id, "
        "line_id, payment_id, reason, entry_kind FROM postings WHERE id = 1",
        "E-000001",
    ),
    "entries": (
        "REPLACE INTO entries SELECT id, recorded_at, effective_date, 'someone else', kind, "
        "reason, note, reverses, hash FROM entries WHERE id = 5",
        "E-000005",
    ),
    "audit_log": (
        "REPLACE INTO audit_log SELECT id, recorded_at, actor, action, subject, '{}', "
        "prev_hash, hash, entries FROM audit_log WHERE id = 9",
        "audit record 9",
    ),
    "closing_balances": (
        "REPLACE INTO closing_balances SELECT id, closing_id, account, line_id, payer_id, "
        "patient_id, payment_id, amount_cents + 100 FROM closing_balances "
        "WHERE id = (SELECT min(id) FROM closing_balances)",
        "closing",
    ),
}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("table", CHECKED)
def test_a_foreign_clients_replace_in_the_journal_is_found_by_check(
    cli: Cli, engine: Engine, every_table: None, table: str
) -> None:
    assert cli.ok("check")["ok"] is True
    statement, names = FOREIGN_REPLACES[table]
    path = str(engine.url.database)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert [column for column in columns_of(conn, table)] == [
            c.name for c in t.metadata.tables[table].columns
        ]  # the statement above lists the columns in the table's order
        conn.execute(statement)
    result = cli("check", json=True)
    assert result.status == 1, result
    assert any(names in v["message"] for v in result.json()["violations"]), result


@pytest.mark.parametrize("table", ["payments", "lines", "invoices"])
def test_the_money_masters_keep_their_rows(engine: Engine, practice: None, table: str) -> None:
    refused(engine, f"DELETE FROM {table} WHERE id = 1", f"{table}: its rows are never removed")


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", ["payments", "lines", "invoices"])
def test_postgresql_refuses_to_truncate_the_money_masters(
    engine: Engine, practice: None, table: str
) -> None:
    refused(engine, f"TRUNCATE {table} CASCADE", f"{table}: its rows are never removed")


UPSERTS = {  # table: (what the upsert changes, the refusal)
    "entries": ("actor = 'intruder'", "entries is append-only"),
    "audit_log": ("detail = '{}'", "audit_log is append-only"),
    "payments": ("amount_cents = 99999", "payments: its amounts are fixed once written"),
    "lines": ("fee_cents = 99999", "lines: its amounts are fixed once written"),
}


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", list(UPSERTS))
def test_postgresql_refuses_an_upsert_that_rewrites_a_row(
    engine: Engine, practice: None, table: str
) -> None:
    change, refusal = UPSERTS[table]
    upsert = (
        f"INSERT INTO {table} SELECT * FROM {table} WHERE id = 1 "
        f"ON CONFLICT (id) DO UPDATE SET {change}"
    )
    refused(engine, upsert, refusal)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("table", "money"),
    [("payments", "amount_cents"), ("payments", "processor_fee_cents"), ("lines", "fee_cents")],
)
def test_a_replaced_row_cannot_change_the_money_the_services_read(
    cli: Cli, engine: Engine, practice: None, table: str, money: str
) -> None:
    """REPLACE through the application's own engine once swapped PAY-000001 (30.00) for a
    999.99 one, and reversing it then posted 999.99 back."""
    with engine.connect() as conn:
        names = [c["name"] for c in inspect(conn).get_columns(table)]
    picked = ", ".join("99999" if name == money else name for name in names)
    replace = f"REPLACE INTO {table} SELECT {picked} FROM {table} WHERE id = 1"
    refused(engine, replace, f"{table}: a row with this id exists")

    reversal = cli.ok("payment", "reverse", "PAY-000001", "--reason", "dishonoured")["id"]
    with engine.connect() as conn:
        drawer = conn.execute(
            text("SELECT amount_cents FROM postings WHERE entry_id = :id AND account = 'UNBANKED'"),
            {"id": int(reversal.removeprefix("E-"))},
        ).scalar_one()
    assert drawer == -3000


def test_a_payments_processor_fee_is_fixed_once_written(engine: Engine, practice: None) -> None:
    change = "UPDATE payments SET processor_fee_cents = 2999 WHERE id = 1"
    refused(engine, change, "payments: its amounts are fixed once written")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE OR REPLACE payments SET id = 1 WHERE id = 2",
        "UPDATE OR REPLACE lines SET id = 1 WHERE id = 2",
        "UPDATE OR REPLACE invoices SET number = 1 WHERE id = 2",
    ],
)
def test_any_sqlite_client_is_refused_a_renumbering_that_replaces(
    engine: Engine, practice: None, statement: str
) -> None:
    before = snapshot(engine)
    engine.dispose()
    refusal = "its keys are fixed once written"
    with (
        contextlib.closing(sqlite3.connect(str(engine.url.database))) as conn,
        pytest.raises(sqlite3.IntegrityError, match=refusal),
    ):
        conn.execute(statement)
    assert snapshot(engine) == before
