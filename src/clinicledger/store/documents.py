"""What the practice's printed documents read: an invoice with its lines (what each
charged, its GST, what was paid on it and what it still owes) and a payment with where its
money went. Small frozen records; the documents are put together in
``services/documents.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clinicledger.domain.choices import LineKind
from clinicledger.store.accounts import _description
from clinicledger.store.sql import Db, Sql, as_date, as_instant

_INVOICE = Sql(
    "SELECT i.id, i.number, i.invoice_date, patient.code, patient.name, payer.code, payer.name,"
    " location.name FROM invoices AS i"
    " JOIN locations AS location ON location.id = i.location_id"
    " LEFT OUTER JOIN patients AS patient ON patient.id = i.patient_id"
    " LEFT OUTER JOIN payers AS payer ON payer.id = i.payer_id"
    " WHERE i.number = :number"
)
_LINES = Sql(
    "SELECT l.id, l.kind, item.code, item.description, product.title, provider.name,"
    " l.service_date, l.fee_cents, l.gst_cents FROM lines AS l"
    " LEFT OUTER JOIN items AS item ON item.id = l.item_id"
    " LEFT OUTER JOIN products AS product ON product.id = l.product_id"
    " LEFT OUTER JOIN providers AS provider ON provider.id = l.provider_id"
    " WHERE l.invoice_id = :invoice_id AND l.deleted_at IS NULL ORDER BY l.id"
)
# What each line owes now, split by whether a payment moved it (an allocation or its undoing).
_LINE_SUMS = Sql(
    "SELECT line_id, payment_id IS NULL, sum(amount_cents) FROM postings"
    " WHERE account = 'RECEIVABLE'"
    " AND line_id IN (SELECT id FROM lines WHERE invoice_id = :invoice_id)"
    " GROUP BY line_id, payment_id IS NULL"
)
_PAYMENT = Sql(
    "SELECT p.id, p.received_date, p.method, p.amount_cents, p.reference, p.reversed_at,"
    " patient.code, patient.name, payer.code, payer.name, location.name FROM payments AS p"
    " JOIN locations AS location ON location.id = p.location_id"
    " LEFT OUTER JOIN patients AS patient ON patient.id = p.patient_id"
    " LEFT OUTER JOIN payers AS payer ON payer.id = p.payer_id"
    " WHERE p.id = :payment_id"
)
_HELD = Sql(
    "SELECT account, sum(amount_cents) FROM postings"
    " WHERE payment_id = :payment_id AND account IN ('UNALLOCATED', 'REFUNDED')"
    " GROUP BY account"
)
_APPLIED = Sql(
    "SELECT po.line_id, i.number, l.kind, item.code, item.description, product.title,"
    " l.service_date, sum(po.amount_cents) FROM postings AS po"
    " JOIN lines AS l ON l.id = po.line_id JOIN invoices AS i ON i.id = l.invoice_id"
    " LEFT OUTER JOIN items AS item ON item.id = l.item_id"
    " LEFT OUTER JOIN products AS product ON product.id = l.product_id"
    " WHERE po.payment_id = :payment_id AND po.account = 'RECEIVABLE'"
    " GROUP BY po.line_id, i.number, l.kind, item.code, item.description, product.title,"
    " l.service_date ORDER BY po.line_id"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    code: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLineRecord:
    id: int
    description: str
    provider_name: str | None
    service_date: dt.date | None
    fee_cents: int  # GST-inclusive
    gst_cents: int
    paid_cents: int  # payments applied to it now
    owing_cents: int  # what it still owes, the patient's and a payer's portions


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRecord:
    number: int
    invoice_date: dt.date
    patient: Party | None
    billed_to: Party | None  # a payer; None: billed to the patient
    location_name: str
    lines: tuple[InvoiceLineRecord, ...]  # the live ones: a deleted line is no sale


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedRecord:
    line_id: int
    invoice_number: int
    description: str
    service_date: dt.date | None
    amount_cents: int  # applied now (allocations less un-allocations)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentDocumentRecord:
    id: int
    received_date: dt.date
    method: str
    amount_cents: int
    reference: str | None
    reversed: bool
    patient: Party | None
    payer: Party | None
    location_name: str
    applied: tuple[AppliedRecord, ...]
    unallocated_cents: int
    refunded_cents: int


def _party(code: str | None, name: str | None) -> Party | None:
    return None if code is None else Party(code=code, name=str(name))


def invoice(conn: Db, number: int) -> InvoiceRecord | None:
    """Invoice ``number`` (its INV- number) with its live lines, or None."""
    found = _INVOICE.one(conn, {"number": number})
    if found is None:
        return None
    invoice_id, number, invoice_date, p_code, p_name, b_code, b_name, location = found
    sums: dict[tuple[int, bool], int] = {}
    for line_id, not_payment, cents in _LINE_SUMS.run(conn, {"invoice_id": invoice_id}):
        sums[(line_id, bool(not_payment))] = int(cents)
    lines = []
    for row in _LINES.run(conn, {"invoice_id": invoice_id}).fetchall():
        line_id, kind, item_code, item_text, title, provider, service_date, fee, gst = row
        lines.append(
            InvoiceLineRecord(
                id=line_id,
                description=_description(LineKind(kind), item_code, item_text, title),
                provider_name=provider,
                service_date=as_date(service_date),
                fee_cents=int(fee),
                gst_cents=int(gst),
                paid_cents=-sums.get((line_id, False), 0),
                owing_cents=sums.get((line_id, False), 0) + sums.get((line_id, True), 0),
            )
        )
    day = as_date(invoice_date)
    assert day is not None
    return InvoiceRecord(
        number=int(number),
        invoice_date=day,
        patient=_party(p_code, p_name),
        billed_to=_party(b_code, b_name),
        location_name=location,
        lines=tuple(lines),
    )


def payment(conn: Db, payment_id: int) -> PaymentDocumentRecord | None:
    """Payment ``payment_id`` with where its money is now, or None."""
    found = _PAYMENT.one(conn, {"payment_id": payment_id})
    if found is None:
        return None
    (pid, received, method, amount, reference, reversed_at, p_code, p_name, y_code, y_name,
     location) = found  # fmt: skip
    held = {account: -int(cents) for account, cents in _HELD.run(conn, {"payment_id": pid})}
    applied = tuple(
        AppliedRecord(
            line_id=line_id,
            invoice_number=int(number),
            description=_description(LineKind(kind), item_code, item_text, title),
            service_date=as_date(service_date),
            amount_cents=-int(cents),
        )
        for line_id, number, kind, item_code, item_text, title, service_date, cents in _APPLIED.run(
            conn, {"payment_id": pid}
        ).fetchall()
        if int(cents)
    )
    day = as_date(received)
    assert day is not None
    return PaymentDocumentRecord(
        id=pid,
        received_date=day,
        method=method,
        amount_cents=int(amount),
        reference=reference,
        reversed=as_instant(reversed_at) is not None,
        patient=_party(p_code, p_name),
        payer=_party(y_code, y_name),
        location_name=location,
        applied=applied,
        unallocated_cents=held.get("UNALLOCATED", 0),
        refunded_cents=held.get("REFUNDED", 0),
    )
