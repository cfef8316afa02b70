"""What the front desk's invoice and payment screens read about one invoice or one
payment: its header with the names of whoever it is about, its lines with what each owes,
and a party's open lines. Each reads one invoice's, payment's or party's rows through the
postings' invoice, payment and line indexes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Join, and_, case, func, select

from clinicledger.domain.choices import InsuranceStatus, LineKind, PaymentMethod
from clinicledger.domain.journal import Account
from clinicledger.store import tables as t
from clinicledger.store.accounts import AccountLine
from clinicledger.store.sql import as_date

P = t.postings


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceHeader:
    id: int
    number: int
    invoice_date: dt.date
    patient_code: str | None
    patient_name: str | None
    billed_to_code: str | None  # a payer's code; None: billed to the patient
    billed_to_name: str | None
    location_code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentHeader:
    id: int
    patient_code: str | None  # set when a patient paid
    payer_code: str | None  # set when a payer paid
    party_name: str
    location_code: str
    method: PaymentMethod
    amount_cents: int
    received_date: dt.date
    reference: str | None
    processor_fee_cents: int | None
    note: str | None
    opening: bool
    reversed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LineLabel:
    """A line as a list of lines names it."""

    id: int
    invoice_number: int
    patient_code: str | None
    description: str
    provider_code: str | None
    service_date: dt.date | None
    fee_cents: int


def _lines_labelled() -> Join:
    """Lines with what names them: their invoice, item or product, and provider."""
    return (
        t.lines.join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .outerjoin(t.items, t.items.c.id == t.lines.c.item_id)
        .outerjoin(t.products, t.products.c.id == t.lines.c.product_id)
        .outerjoin(t.providers, t.providers.c.id == t.lines.c.provider_id)
    )


def _description(kind: str, item_code: str | None, item_text: str | None, title: str | None) -> str:
    if kind == LineKind.CANCELLATION:
        return "Cancellation"
    if kind == LineKind.PRODUCT:
        return str(title)
    if kind == LineKind.OPENING:
        return "Opening balance"
    return f"{item_code} {item_text}"


def invoice_header(conn: Connection, number: int) -> InvoiceHeader | None:
    row = conn.execute(
        select(
            t.invoices.c.id,
            t.invoices.c.number,
            t.invoices.c.invoice_date,
            t.patients.c.code,
            t.patients.c.name,
            t.payers.c.code,
            t.payers.c.name,
            t.locations.c.code,
        )
        .select_from(t.invoices)
        .join(t.locations, t.locations.c.id == t.invoices.c.location_id)
        .outerjoin(t.patients, t.patients.c.id == t.invoices.c.patient_id)
        .outerjoin(t.payers, t.payers.c.id == t.invoices.c.payer_id)
        .where(t.invoices.c.number == number)
    ).first()
    if row is None:
        return None
    day = as_date(row[2])
    assert day is not None
    return InvoiceHeader(
        id=row[0],
        number=row[1],
        invoice_date=day,
        patient_code=row[3],
        patient_name=row[4],
        billed_to_code=row[5],
        billed_to_name=row[6],
        location_code=row[7],
    )


def invoice_lines(conn: Connection, invoice_id: int) -> tuple[AccountLine, ...]:
    """An invoice's lines (deleted ones too), each with what it owes now, by portion."""
    owing: dict[tuple[int, bool], int] = {}
    paid: dict[int, int] = {}
    own = case((P.c.payer_id.is_(None), 1), else_=0)
    by_a_payment = case((P.c.payment_id.is_(None), 0), else_=1)
    for line_id, patients_own, by_payment, cents in conn.execute(
        select(P.c.line_id, own, by_a_payment, func.sum(P.c.amount_cents))
        .where(P.c.invoice_id == invoice_id, P.c.account == Account.RECEIVABLE.value)
        .group_by(P.c.line_id, own, by_a_payment)
    ).all():
        key = (int(line_id), bool(patients_own))
        owing[key] = owing.get(key, 0) + int(cents)
        if by_payment:
            paid[int(line_id)] = paid.get(int(line_id), 0) - int(cents)
    rows = conn.execute(
        select(
            t.lines.c.id,
            t.lines.c.kind,
            t.items.c.code,
            t.items.c.description,
            t.products.c.title,
            t.providers.c.code,
            t.lines.c.service_date,
            t.lines.c.fee_cents,
            t.lines.c.gst_cents,
            t.lines.c.client_billable,
            t.lines.c.insurance_status,
            t.lines.c.deleted_at,
            t.invoices.c.number,
        )
        .select_from(_lines_labelled())
        .where(t.lines.c.invoice_id == invoice_id)
        .order_by(t.lines.c.id)
    ).all()
    return tuple(
        AccountLine(
            id=row[0],
            invoice_number=row[12],
            kind=LineKind(row[1]),
            description=_description(row[1], row[2], row[3], row[4]),
            provider_code=row[5],
            service_date=as_date(row[6]),
            fee_cents=int(row[7]),
            gst_cents=int(row[8]),
            paid_cents=paid.get(row[0], 0),
            patient_owing_cents=owing.get((row[0], True), 0),
            payer_owing_cents=owing.get((row[0], False), 0),
            client_billable=bool(row[9]),
            insurance_status=InsuranceStatus(row[10]),
            deleted=row[11] is not None,
        )
        for row in rows
    )


def payment_header(conn: Connection, payment_id: int) -> PaymentHeader | None:
    p = t.payments
    row = conn.execute(
        select(
            p.c.id,
            t.patients.c.code,
            t.payers.c.code,
            func.coalesce(t.patients.c.name, t.payers.c.name),
            t.locations.c.code,
            p.c.method,
            p.c.amount_cents,
            p.c.received_date,
            p.c.reference,
            p.c.processor_fee_cents,
            p.c.note,
            p.c.opening,
            p.c.reversed_at,
        )
        .select_from(p)
        .join(t.locations, t.locations.c.id == p.c.location_id)
        .outerjoin(t.patients, t.patients.c.id == p.c.patient_id)
        .outerjoin(t.payers, t.payers.c.id == p.c.payer_id)
        .where(p.c.id == payment_id)
    ).first()
    if row is None:
        return None
    day = as_date(row[7])
    assert day is not None
    return PaymentHeader(
        id=row[0],
        patient_code=row[1],
        payer_code=row[2],
        party_name=str(row[3]),
        location_code=row[4],
        method=PaymentMethod(row[5]),
        amount_cents=int(row[6]),
        received_date=day,
        reference=row[8],
        processor_fee_cents=None if row[9] is None else int(row[9]),
        note=row[10],
        opening=bool(row[11]),
        reversed=row[12] is not None,
    )


def payment_held(conn: Connection, payment_id: int) -> dict[str, int]:
    """Where a payment's money is, by account (positive: what the account holds of it)."""
    rows = conn.execute(
        select(P.c.account, func.sum(P.c.amount_cents))
        .where(P.c.payment_id == payment_id)
        .group_by(P.c.account)
    ).all()
    return {str(account): -int(cents) for account, cents in rows}


def line_labels(conn: Connection, line_ids: Iterable[int]) -> dict[int, LineLabel]:
    wanted = sorted(set(line_ids))
    if not wanted:
        return {}
    found: dict[int, LineLabel] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(
                t.lines.c.id,
                t.invoices.c.number,
                t.patients.c.code,
                t.lines.c.kind,
                t.items.c.code,
                t.items.c.description,
                t.products.c.title,
                t.providers.c.code,
                t.lines.c.service_date,
                t.lines.c.fee_cents,
            )
            .select_from(
                _lines_labelled().outerjoin(t.patients, t.patients.c.id == t.invoices.c.patient_id)
            )
            .where(t.lines.c.id.in_(wanted[start : start + 500]))
        ).all()
        for row in rows:
            found[row[0]] = LineLabel(
                id=row[0],
                invoice_number=row[1],
                patient_code=row[2],
                description=_description(row[3], row[4], row[5], row[6]),
                provider_code=row[7],
                service_date=as_date(row[8]),
                fee_cents=int(row[9]),
            )
    return found


def allocation_payment(conn: Connection, allocation_id: int) -> int | None:
    """The payment an allocation (an allocation or credit-applied entry) applied."""
    found = conn.execute(
        select(P.c.payment_id)
        .join(t.entries, t.entries.c.id == P.c.entry_id)
        .where(
            and_(
                P.c.entry_id == allocation_id,
                t.entries.c.kind.in_(("allocation", "credit_applied")),
                P.c.payment_id.is_not(None),
            )
        )
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def invoice_number_of_line(conn: Connection, line_id: int) -> int | None:
    found = conn.execute(
        select(t.invoices.c.number)
        .join(t.lines, t.lines.c.invoice_id == t.invoices.c.id)
        .where(t.lines.c.id == line_id)
    ).scalar()
    return None if found is None else int(found)
