"""Moving in from another program: master data and opening balances from CSV files.

A file is all-or-nothing and idempotent: the same file again changes nothing (keyed by its
content hash), and a row whose natural key (its code) already exists with the same content
is left as it is; with other content the whole file is refused, naming the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from clinicledger.domain.errors import ImportProblem, ImportRejected, InvalidInput, UserError
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.rules import (
    LineKind,
    check_period_open,
    opening_line_postings,
    receipt_postings,
)
from clinicledger.formats.csv_masters import Row, parse_csv
from clinicledger.services.masters import insert_master, other_party_with_code
from clinicledger.store import ledger
from clinicledger.store import tables as t
from clinicledger.store.uow import UnitOfWork

MASTER_KINDS = {"patients": "patient", "providers": "provider", "payers": "payer", "items": "item"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    created: int
    unchanged: int
    already_imported: bool


def import_file(uow: UnitOfWork, *, kind: str, path: str) -> ImportResult:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(
            "file", f"cannot read {path}: {exc.strerror}", code="file_unreadable"
        ) from None
    name = Path(path).name
    rows, problems = parse_csv(kind, name, data)
    digest = hashlib.sha256(data).hexdigest()
    with uow:
        done = uow.conn.execute(
            select(t.imports.c.summary).where(
                t.imports.c.kind == kind, t.imports.c.sha256 == digest
            )
        ).scalar_one_or_none()
        if done is not None:
            return ImportResult(
                created=0, unchanged=json.loads(done)["rows"], already_imported=True
            )
        if kind == "opening-balances":
            openings, found = _plan_openings(uow, rows)
        else:
            new, found = _plan_masters(uow, MASTER_KINDS[kind], rows)
        everything = sorted((*problems, *found), key=lambda p: p.line)
        if everything:
            raise ImportRejected(name, tuple(everything))
        if kind == "opening-balances":
            for values, party_id, location_id in openings:
                _post_opening(uow, values, party_id, location_id)
            created = len(openings)
        else:
            for values in new:
                insert_master(uow, MASTER_KINDS[kind], values)
            created = len(new)
        summary = {"rows": len(rows), "created": created}
        uow.conn.execute(
            insert(t.imports).values(
                kind=kind, sha256=digest, recorded_at=uow.stamp(), summary=json.dumps(summary)
            )
        )
        uow.audit("import", kind, {"file": name, "sha256": digest, **summary})
        uow.commit()
    return ImportResult(created=created, unchanged=len(rows) - created, already_imported=False)


def _plan_masters(
    uow: UnitOfWork, master: str, rows: tuple[Row, ...]
) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    """The rows to insert, and the problems: codes twice in the file, or already here with
    other content, or taken by the other kind of party."""
    table = ledger.MASTER_TABLES[master]
    problems: list[ImportProblem] = []
    new: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in rows:
        code = row.values["code"]
        if code in seen:
            problems.append(
                ImportProblem(
                    line=row.line,
                    column="code",
                    reason=(f"code '{code}' is also on line {seen[code]}"),
                )
            )
            continue
        seen[code] = row.line
        other = other_party_with_code(uow.conn, master, code)
        if other is not None:
            problems.append(
                ImportProblem(
                    line=row.line, column="code", reason=f"code '{code}' is taken by a {other}"
                )
            )
            continue
        existing = uow.conn.execute(select(table).where(table.c.code == code)).one_or_none()
        if existing is None:
            new.append(row.values)
            continue
        for key, value in row.values.items():
            if existing._mapping[key] != value:
                problems.append(
                    ImportProblem(
                        line=row.line,
                        column=key,
                        reason=(f"{master} '{code}' already exists with another {key}"),
                    )
                )
                break
    return new, problems


def _plan_openings(
    uow: UnitOfWork, rows: tuple[Row, ...]
) -> tuple[list[tuple[dict[str, Any], int, int]], list[ImportProblem]]:
    """(values, party id, location id) of the opening balances to post, and the problems."""
    conn = uow.conn
    problems: list[ImportProblem] = []
    closed = ledger.closed_through(conn)
    todo: list[tuple[dict[str, Any], int, int]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        v = row.values
        key = (v["party"], v["code"])
        if key in seen:
            problems.append(
                ImportProblem(
                    line=row.line,
                    column="code",
                    reason=(
                        f"{v['party']} '{v['code']}' also has an opening balance on line "
                        f"{seen[key]}"
                    ),
                )
            )
            continue
        seen[key] = row.line
        try:
            party_id = ledger.id_for_code(conn, v["party"], v["code"])
            location_id = ledger.id_for_code(conn, "location", v["location"])
            check_period_open(v["date"], closed, field="date")
        except UserError as exc:
            problems.append(ImportProblem(line=row.line, column=_column(exc), reason=exc.message))
            continue
        earlier = _existing_opening(uow, v["party"], party_id)
        if earlier is None:
            todo.append((v, party_id, location_id))
        elif earlier != (v["date"], v["amount_cents"]):
            differs = "date" if earlier[0] != v["date"] else "amount"
            problems.append(
                ImportProblem(
                    line=row.line,
                    column=differs,
                    reason=(
                        f"{v['party']} '{v['code']}' already has an opening balance of another "
                        f"{differs}"
                    ),
                )
            )
    return todo, problems


def _column(exc: UserError) -> str:
    """The file's column an error is about: an unknown patient or payer is its code."""
    return "code" if exc.field in (None, "patient", "payer") else exc.field


def _existing_opening(uow: UnitOfWork, party: str, party_id: int) -> tuple[dt.date, int] | None:
    """(date, signed amount) of a party's opening balance, if it has one."""
    column = "patient_id" if party == "patient" else "payer_id"
    charge = uow.conn.execute(
        select(t.invoices.c.invoice_date, t.lines.c.fee_cents)
        .join(t.lines, t.lines.c.invoice_id == t.invoices.c.id)
        .where(t.invoices.c.opening.is_(True), t.invoices.c[column] == party_id)
    ).first()
    if charge is not None:
        return charge.invoice_date, int(charge.fee_cents)
    credit = uow.conn.execute(
        select(t.payments.c.received_date, t.payments.c.amount_cents).where(
            t.payments.c.opening.is_(True), t.payments.c[column] == party_id
        )
    ).first()
    if credit is not None:
        return credit.received_date, -int(credit.amount_cents)
    return None


def _post_opening(uow: UnitOfWork, v: dict[str, Any], party_id: int, location_id: int) -> None:
    conn = uow.conn
    patient_id = party_id if v["party"] == "patient" else None
    payer_id = party_id if v["party"] == "payer" else None
    amount = v["amount_cents"]
    if amount > 0:
        invoice_id = conn.execute(
            insert(t.invoices)
            .values(
                number=uow.next_invoice_number(),
                patient_id=patient_id,
                payer_id=payer_id,
                location_id=location_id,
                invoice_date=v["date"],
                recorded_at=uow.stamp(),
                opening=True,
            )
            .returning(t.invoices.c.id)
        ).scalar_one()
        line_id = conn.execute(
            insert(t.lines)
            .values(
                invoice_id=invoice_id,
                kind=LineKind.OPENING.value,
                service_date=v["date"],
                fee_cents=amount,
                gst_cents=0,
            )
            .returning(t.lines.c.id)
        ).scalar_one()
        ref = ledger.line_ref(ledger.line_row(conn, line_id), payer_id=payer_id)
        postings = opening_line_postings(ref, amount)
    else:
        payment_id = conn.execute(
            insert(t.payments)
            .values(
                patient_id=patient_id,
                payer_id=payer_id,
                location_id=location_id,
                method="other",
                amount_cents=-amount,
                received_date=v["date"],
                note=v.get("note"),
                recorded_at=uow.stamp(),
                opening=True,
            )
            .returning(t.payments.c.id)
        ).scalar_one()
        ref_payment = ledger.payment_ref(ledger.payment_row(conn, payment_id))
        postings = receipt_postings(ref_payment, -amount, opening=True)
    uow.append(
        Entry(
            kind=EntryKind.OPENING_BALANCE,
            effective_date=v["date"],
            note=v.get("note"),
            postings=postings,
        )
    )
