"""Imports in storage: each file imported (by kind and content hash), and the opening
balances already brought in."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Connection, insert, select

from clinicledger.domain.journal import EntryKind
from clinicledger.store import bulk
from clinicledger.store import tables as t
from clinicledger.store.ledger import MASTER_TABLES
from clinicledger.store.masters import Value
from clinicledger.store.sql import as_date


def imported_rows(conn: Connection, *, kind: str, sha256: str) -> int | None:
    """How many rows the file of ``kind`` with this content had, if it was imported."""
    summary = conn.execute(
        select(t.imports.c.summary).where(t.imports.c.kind == kind, t.imports.c.sha256 == sha256)
    ).scalar_one_or_none()
    return None if summary is None else int(json.loads(summary)["rows"])


def keep_import(
    conn: Connection, *, kind: str, sha256: str, rows: int, created: int, recorded_at: dt.datetime
) -> None:
    conn.execute(
        insert(t.imports).values(
            kind=kind,
            sha256=sha256,
            recorded_at=recorded_at,
            summary=json.dumps({"rows": rows, "created": created}),
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """An opening balance already brought in: a charge is positive, a credit negative."""

    date: dt.date
    amount_cents: int
    location_id: int
    note: str | None


def existing_opening(conn: Connection, party: str, party_id: int) -> Opening | None:
    """A party's opening balance, if it has one."""
    column = "patient_id" if party == "patient" else "payer_id"
    E, P = t.entries, t.postings
    note = (
        select(E.c.note)
        .join(P, P.c.entry_id == E.c.id)
        .where(E.c.kind == EntryKind.OPENING_BALANCE.value, P.c.line_id == t.lines.c.id)
        .limit(1)
        .scalar_subquery()
    )
    charge = conn.execute(
        select(
            t.invoices.c.invoice_date,
            t.lines.c.fee_cents,
            t.invoices.c.location_id,
            note.label("note"),
        )
        .join(t.lines, t.lines.c.invoice_id == t.invoices.c.id)
        .where(t.invoices.c.opening.is_(True), t.invoices.c[column] == party_id)
    ).first()
    if charge is not None:
        return Opening(
            date=charge.invoice_date,
            amount_cents=int(charge.fee_cents),
            location_id=charge.location_id,
            note=charge.note,
        )
    credit = conn.execute(
        select(
            t.payments.c.received_date,
            t.payments.c.amount_cents,
            t.payments.c.location_id,
            t.payments.c.note,
        ).where(t.payments.c.opening.is_(True), t.payments.c[column] == party_id)
    ).first()
    if credit is not None:
        return Opening(
            date=credit.received_date,
            amount_cents=-int(credit.amount_cents),
            location_id=credit.location_id,
            note=credit.note,
        )
    return None


# ---------------------------------------------------------------- many rows at once
#
# An import reads what it decides on with one query per kind of row (in chunks of keys,
# store/bulk.py), not one per row, and writes with executemany.


def existing_masters(
    conn: Connection, kind: str, codes: Iterable[str]
) -> dict[str, dict[str, Value]]:
    """The ``kind`` rows among ``codes``: each one's values by column (without its id),
    by code."""
    table = MASTER_TABLES[kind]
    columns = [column.name for column in table.c if column.name != "id"]
    found: dict[str, dict[str, Value]] = {}
    for row in bulk.rows_by_keys(
        conn, f"SELECT {', '.join(columns)} FROM {table.name}", "code", codes
    ):
        values = dict(zip(columns, row, strict=True))
        for name in columns:  # as SQLAlchemy reads them: SQLite keeps a boolean as 0 or 1
            if isinstance(table.c[name].type, Boolean) and values[name] is not None:
                values[name] = bool(values[name])
        found[str(values["code"])] = values
    return found


def ids_for_codes(conn: Connection, kind: str, codes: Iterable[str]) -> dict[str, int]:
    """The ids of the ``kind`` rows among ``codes``, by code (active or not)."""
    table = MASTER_TABLES[kind].name
    return {
        str(code): int(found_id)
        for code, found_id in bulk.rows_by_keys(
            conn, f"SELECT code, id FROM {table}", "code", codes
        )
    }


def insert_masters(conn: Connection, kind: str, rows: Sequence[Mapping[str, Value]]) -> list[int]:
    """Insert master rows of ``kind`` in order; their ids, as one insert at a time would
    have given them."""
    table = MASTER_TABLES[kind].name
    ids = bulk.reserve_ids(conn, table, len(rows))
    bulk.insert_rows(conn, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return ids


def existing_openings(conn: Connection, party: str, party_ids: Iterable[int]) -> dict[int, Opening]:
    """The opening balances already brought in of the ``party`` (patient, payer) with
    ``party_ids``, by party id: :func:`existing_opening` of each, in a few queries."""
    column = "patient_id" if party == "patient" else "payer_id"
    found: dict[int, Opening] = {}
    wanted = list(party_ids)
    charges = (
        f"SELECT invoices.{column}, invoices.invoice_date, lines.fee_cents,"
        " invoices.location_id, (SELECT entries.note FROM entries JOIN postings"
        " ON postings.entry_id = entries.id WHERE entries.kind = :kind"
        " AND postings.line_id = lines.id LIMIT 1)"
        " FROM invoices JOIN lines ON lines.invoice_id = invoices.id"
    )
    opening = {"opening": True, "kind": EntryKind.OPENING_BALANCE.value}
    for party_id, date, fee_cents, location_id, note in bulk.rows_by_keys(
        conn,
        charges,
        f"invoices.{column}",
        wanted,
        where="invoices.opening = :opening",
        params=opening,
    ):
        found.setdefault(
            int(party_id),
            Opening(
                date=_date(date),
                amount_cents=int(fee_cents),
                location_id=int(location_id),
                note=note,
            ),
        )
    credits = f"SELECT {column}, received_date, amount_cents, location_id, note FROM payments"
    for party_id, date, amount_cents, location_id, note in bulk.rows_by_keys(
        conn, credits, column, wanted, where="opening = :opening", params={"opening": True}
    ):
        found.setdefault(
            int(party_id),
            Opening(
                date=_date(date),
                amount_cents=-int(amount_cents),
                location_id=int(location_id),
                note=note,
            ),
        )
    return found


def _date(value: object) -> dt.date:
    found = as_date(value)
    assert found is not None  # the column is NOT NULL
    return found


def insert_openings(
    conn: Connection,
    *,
    invoices: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    payments: Sequence[Mapping[str, Any]],
) -> None:
    """Opening charges (an invoice and its one line each) and credits (a payment each),
    their ids already reserved."""
    bulk.insert_rows(conn, "invoices", invoices)
    bulk.insert_rows(conn, "lines", lines)
    bulk.insert_rows(conn, "payments", payments)
