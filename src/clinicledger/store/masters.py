"""Writing the practice's details and its master data (locations, providers, patients,
payers, items, products). Reads are in :mod:`clinicledger.store.ledger`."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, insert, select, update

from clinicledger.store import tables as t
from clinicledger.store.ledger import MASTER_TABLES

Value = str | int | bool | None


def insert_practice(conn: Connection, *, name: str) -> None:
    conn.execute(insert(t.practice).values(id=1, name=name))


def update_practice(conn: Connection, values: Mapping[str, Value]) -> None:
    conn.execute(update(t.practice).where(t.practice.c.id == 1).values(**values))


def taken(conn: Connection, kind: str, column: str, value: Value) -> bool:
    """Does a ``kind`` already have ``value`` in its unique ``column`` (code, title)?"""
    table = MASTER_TABLES[kind]
    return conn.execute(select(table.c.id).where(table.c[column] == value)).first() is not None


def other_party_with_code(conn: Connection, kind: str, code: str) -> str | None:
    """Patients and payers share one set of codes (a payment is taken from a code that
    names either): the other kind holding ``code``, if any."""
    other = {"patient": "payer", "payer": "patient"}.get(kind)
    if other is None:
        return None
    return other if taken(conn, other, "code", code) else None


def insert_master(conn: Connection, kind: str, values: Mapping[str, Value]) -> int:
    table = MASTER_TABLES[kind]
    new_id: int = conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    return new_id


def existing_master(conn: Connection, kind: str, code: str) -> dict[str, Value] | None:
    """A master row's values by column (without its id), if ``code`` names one."""
    table = MASTER_TABLES[kind]
    row = conn.execute(select(table).where(table.c.code == code)).one_or_none()
    if row is None:
        return None
    return {key: value for key, value in row._mapping.items() if key != "id"}
