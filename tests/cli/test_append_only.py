"""The journal is append-only: database triggers refuse UPDATE and DELETE on entries,
postings and the audit log, on SQLite and PostgreSQL alike, whoever asks."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from .harness import snapshot

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
    before = snapshot(engine)

    with pytest.raises(DBAPIError, match=f"{table} is append-only"), engine.begin() as conn:
        conn.execute(text(CHANGES[action][table]))

    assert snapshot(engine) == before


# ---------------------------------------------------------------- issue 8: past the triggers

APPEND_ONLY = ("entries", "postings", "audit_log", "closings", "closing_balances")
ROW_ONE = {
    "entries": "(1, '2024-03-01 00:00:00', '2024-03-01', 'intruder', 'charge', NULL, NULL, "
    "NULL, NULL)",
    "postings": "(1, 1, 'RECEIVABLE', 999, '2024-03-01', '2024-03-01 00:00:00', 1, NULL, 1, "
    "1, 1, 1, NULL, NULL)",
    "audit_log": "(1, '2024-03-01 00:00:00', 'intruder', 'x', 'y', '{}', 'p', 'h', NULL)",
}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("table", ["entries", "postings", "audit_log"])
@pytest.mark.parametrize("verb", ["REPLACE INTO", "INSERT OR REPLACE INTO"])
def test_sqlite_refuses_to_replace_a_journal_row(
    engine: Engine, practice: None, table: str, verb: str
) -> None:
    before = snapshot(engine)
    with pytest.raises(DBAPIError, match=f"{table} is append-only"), engine.begin() as conn:
        conn.execute(text(f"{verb} {table} VALUES {ROW_ONE[table]}"))
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_refuses_an_upsert_that_rewrites_an_entry(engine: Engine, practice: None) -> None:
    before = snapshot(engine)
    with pytest.raises(DBAPIError, match="entries is append-only"), engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO entries VALUES {ROW_ONE['entries']} "
                "ON CONFLICT (id) DO UPDATE SET actor = 'intruder'"
            )
        )
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_postgresql_refuses_to_truncate_the_journal(
    engine: Engine, practice: None, table: str
) -> None:
    before = snapshot(engine)
    with pytest.raises(DBAPIError, match=f"{table} is append-only"), engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert snapshot(engine) == before


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
    before = snapshot(engine)
    with pytest.raises(DBAPIError, match=r"append-only|fixed once written"), engine.begin() as c:
        c.execute(text(change))
    assert snapshot(engine) == before
    with engine.begin() as conn:  # what is not money still changes, through the services
        conn.execute(text("UPDATE payments SET note = 'seen' WHERE id = 1"))
