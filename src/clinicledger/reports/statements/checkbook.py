"""The client ledger statement (``ledger-statement``): a checkbook of every entry that
changes what the patient owes, in date order with a running balance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Account, EntryKind
from clinicledger.domain.money import format_cents
from clinicledger.reports.base import Report, ReportParams, columns_of
from clinicledger.reports.statements.journal import (
    ADJUSTMENT,
    APPLYING_KINDS,
    Journal,
    ending_date,
    known,
    patient_portion,
    read_journal,
    required_patient,
    shown_parameters,
)
from clinicledger.store import tables as t

P, E = t.postings, t.entries


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerStatementRow:
    date: dt.date
    description: str
    charge_cents: int | None  # blank for a payment, as on the page
    payment_cents: int | None  # blank for a charge
    balance_cents: int


def ledger_statement(conn: Connection, params: ReportParams) -> Report:
    """The client ledger statement: a checkbook of the patient's charges and payments."""
    patient_id = required_patient(conn, params, "ledger-statement")
    ending = ending_date(conn, params)
    as_known_at = params.as_known_at
    journal = read_journal(conn, patient_id, ending, as_known_at)
    found = conn.execute(
        select(
            E.c.id,
            E.c.kind,
            E.c.effective_date,
            E.c.reason,
            P.c.account,
            P.c.line_id,
            P.c.payment_id,
            P.c.amount_cents,
        )
        .join(E, E.c.id == P.c.entry_id)
        .where(
            or_(
                and_(P.c.account == Account.RECEIVABLE.value, P.c.line_id.is_not(None)),
                P.c.account == Account.UNALLOCATED.value,
            ),
            E.c.kind.not_in(APPLYING_KINDS),
            P.c.effective_date <= ending,
            *patient_portion(patient_id),
            *known(P.c.recorded_at, as_known_at),
        )
        .order_by(E.c.effective_date, E.c.recorded_at, P.c.id)
    ).all()
    entries: dict[int, list[Any]] = {}
    for r in found:
        entries.setdefault(r.id, []).append(r)
    rows: list[LedgerStatementRow] = []
    balance = 0
    for postings in entries.values():
        first = postings[0]
        cents = sum(int(p.amount_cents) for p in postings)
        balance += cents
        on_line = first.account == Account.RECEIVABLE.value and first.kind != ADJUSTMENT
        rows.append(
            LedgerStatementRow(
                date=first.effective_date,
                description=_description(journal, first),
                charge_cents=cents if on_line else None,
                payment_cents=None if on_line else -cents,
                balance_cents=balance,
            )
        )
    return Report(
        name="ledger-statement",
        parameters=shown_parameters(conn, params, ending),
        columns=columns_of(LedgerStatementRow),
        rows=tuple(rows),
        totals={
            "charge_cents": sum(r.charge_cents or 0 for r in rows),
            "payment_cents": sum(r.payment_cents or 0 for r in rows),
            "balance_cents": balance,
        },
    )


def _description(journal: Journal, posting: Any) -> str:
    kind = posting.kind
    reason = f": {posting.reason}" if posting.reason else ""
    if posting.account == Account.RECEIVABLE.value:
        line = journal.lines.get(posting.line_id)
        label = format_id("line", posting.line_id)
        service = f"{line.service} ({label})" if line is not None else label
        if kind == EntryKind.TRANSFER.value:
            return f"gap transferred to the patient: {service}{reason}"
        if kind == ADJUSTMENT:
            return f"adjustment ({posting.reason}): {service}"
        if kind == EntryKind.LINE_DELETION.value:
            return f"charge deleted: {service}{reason}"
        notes = []
        if line is not None and line.deleted:
            notes.append("deleted")
        if line is not None and not line.client_billable:
            notes.append("not client billable")
        if line is not None and line.open and not line.deleted:
            notes.append("open to insurance")
        return service + "".join(f"; {note}" for note in notes)
    label = format_id("payment", posting.payment_id)
    payment = journal.payments.get(posting.payment_id)
    if kind == EntryKind.REFUND.value:
        return f"refund of payment {label}{reason}"
    if kind == EntryKind.PAYMENT_REVERSAL.value:
        return f"payment {label} reversed{reason}"
    if payment is not None and payment.opening:
        text = f"opening balance (credit) {label}"
    else:
        text = f"payment {label}" + (f" ({payment.method})" if payment is not None else "")
    marks = []
    for line_id, cents in sorted(_applied_to(journal, posting.payment_id).items()):
        line = journal.lines.get(line_id)
        if line is not None and not line.deleted and not line.client_billable and cents:
            marks.append(
                f"{format_cents(cents)} applied to {format_id('line', line_id)}: "
                "charge not client billable"
            )
    for line_id, cents in sorted(journal.cascaded.get(posting.payment_id, {}).items()):
        if cents:
            marks.append(
                f"{format_cents(cents)} was applied to {format_id('line', line_id)}: charge deleted"
            )
    return text + "".join(f"; {mark}" for mark in marks)


def _applied_to(journal: Journal, payment_id: int) -> dict[int, int]:
    return {
        line_id: sums.applied[payment_id]
        for line_id, sums in journal.sums.items()
        if payment_id in sums.applied
    }
