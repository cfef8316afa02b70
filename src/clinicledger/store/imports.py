"""Imports in storage: each file imported (by kind and content hash), and the opening
balances already brought in."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, insert, select

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


def existing_opening(conn: Connection, party: str, party_id: int) -> tuple[dt.date, int] | None:
    """(date, signed amount) of a party's opening balance, if it has one: a charge is
    positive, a credit negative."""
    column = "patient_id" if party == "patient" else "payer_id"
    charge = conn.execute(
        select(t.invoices.c.invoice_date, t.lines.c.fee_cents)
        .join(t.lines, t.lines.c.invoice_id == t.invoices.c.id)
        .where(t.invoices.c.opening.is_(True), t.invoices.c[column] == party_id)
    ).first()
    if charge is not None:
        return charge.invoice_date, int(charge.fee_cents)
    credit = conn.execute(
        select(t.payments.c.received_date, t.payments.c.amount_cents).where(
            t.payments.c.opening.is_(True), t.payments.c[column] == party_id
        )
    ).first()
    if credit is not None:
        return credit.received_date, -int(credit.amount_cents)
    return None
