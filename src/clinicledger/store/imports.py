"""Imports in storage: each file imported (by kind and content hash), and the opening
balances already brought in."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from clinicledger.domain.journal import EntryKind
from clinicledger.store import tables as t


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
