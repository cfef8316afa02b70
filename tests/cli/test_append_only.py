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
