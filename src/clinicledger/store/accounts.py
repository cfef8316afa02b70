"""A patient's account as it stands: their invoices and lines with what each owes, and
their payments with where each went. SQL text (store/sql.py): a front desk opens an
account for every patient at the counter, so these run often, and each reads one
patient's rows through the postings' patient and payment indexes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clinicledger.domain.choices import InsuranceStatus, LineKind, PaymentMethod
from clinicledger.store.sql import Db, Sql, as_date, as_instant

_LINES = Sql(
    "SELECT i.number, i.invoice_date, location.code, payer.code, l.id, l.kind, item.code,"
    " item.description, product.title, provider.code, l.service_date, l.fee_cents,"
    " l.gst_cents, l.client_billable, l.insurance_status, l.deleted_at"
    " FROM invoices AS i JOIN lines AS l ON l.invoice_id = i.id"
    " JOIN locations AS location ON location.id = i.location_id"
    " LEFT OUTER JOIN payers AS payer ON payer.id = i.payer_id"
    " LEFT OUTER JOIN items AS item ON item.id = l.item_id"
    " LEFT OUTER JOIN products AS product ON product.id = l.product_id"
    " LEFT OUTER JOIN providers AS provider ON provider.id = l.provider_id"
    " WHERE i.patient_id = :patient_id ORDER BY i.number, l.id"
)
# What each line owes, by portion (the patient's own: payer_id NULL) and whether a payment
# moved it (an allocation or its undoing) or something else did (the charge, adjustments,
# gap transfers, a deletion).
_LINE_SUMS = Sql(
    "SELECT line_id, payer_id IS NULL, payment_id IS NULL, sum(amount_cents) FROM postings"
    " WHERE patient_id = :patient_id AND account = 'RECEIVABLE'"
    " GROUP BY line_id, payer_id IS NULL, payment_id IS NULL"
)
_PAYMENTS = Sql(
    "SELECT p.id, p.received_date, p.method, p.amount_cents, p.reference, location.code,"
    " p.reversed_at, p.opening FROM payments AS p"
    " JOIN locations AS location ON location.id = p.location_id"
    " WHERE p.patient_id = :patient_id ORDER BY p.received_date, p.id"
)
_PAYMENT_SUMS = Sql(
    "SELECT payment_id, account, line_id, sum(amount_cents) FROM postings"
    " WHERE payment_id IN (SELECT id FROM payments WHERE patient_id = :patient_id)"
    " AND account IN ('UNALLOCATED', 'REFUNDED', 'RECEIVABLE')"
    " GROUP BY payment_id, account, line_id"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLine:
    id: int
    invoice_number: int
    kind: LineKind
    description: str  # "90801 Consultation", a product's title, "Cancellation"
    provider_code: str | None
    service_date: dt.date | None
    fee_cents: int
    gst_cents: int
    paid_cents: int  # payments applied to it now, the patient's and payers'
    patient_owing_cents: int  # the patient's own portion
    payer_owing_cents: int  # the billed-to payer's portion
    client_billable: bool
    insurance_status: InsuranceStatus
    deleted: bool

    @property
    def owing_cents(self) -> int:
        return self.patient_owing_cents + self.payer_owing_cents


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInvoice:
    number: int
    invoice_date: dt.date
    location_code: str
    billed_to_code: str | None  # a payer's code; None: billed to the patient
    lines: tuple[AccountLine, ...]

    @property
    def total_cents(self) -> int:
        return sum(line.fee_cents for line in self.lines if not line.deleted)

    @property
    def owing_cents(self) -> int:
        return sum(line.owing_cents for line in self.lines)

    @property
    def patient_owing_cents(self) -> int:
        return sum(line.patient_owing_cents for line in self.lines)

    @property
    def payer_owing_cents(self) -> int:
        return sum(line.payer_owing_cents for line in self.lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountPayment:
    id: int
    received_date: dt.date
    method: PaymentMethod
    opening: bool  # a credit brought in from another program
    amount_cents: int
    reference: str | None
    location_code: str
    reversed: bool
    applied_cents: int
    refunded_cents: int
    unallocated_cents: int
    applied_to: tuple[tuple[int, int], ...]  # (line id, amount in cents), by line


def _description(kind: str, item_code: str | None, item_text: str | None, title: str | None) -> str:
    if kind == LineKind.CANCELLATION:
        return "Cancellation"
    if kind == LineKind.PRODUCT:
        return str(title)
    if kind == LineKind.OPENING:
        return "Opening balance"
    return f"{item_code} {item_text}"


def invoices(conn: Db, patient_id: int) -> tuple[AccountInvoice, ...]:
    """The patient's invoices by number, each with its lines (deleted ones too)."""
    sums: dict[tuple[int, bool, bool], int] = {}
    for line_id, patients_own, not_payment, cents in _LINE_SUMS.run(
        conn, {"patient_id": patient_id}
    ).fetchall():
        sums[(line_id, bool(patients_own), bool(not_payment))] = int(cents)
    found: dict[int, tuple[tuple[dt.date, str, str | None], list[AccountLine]]] = {}
    for row in _LINES.run(conn, {"patient_id": patient_id}).fetchall():
        (number, invoice_date, location, payer, line_id, kind, item_code, item_text, title,
         provider, service_date, fee_cents, gst_cents, billable, status,
         deleted_at) = row  # fmt: skip
        day = as_date(invoice_date)
        assert day is not None
        lines = found.setdefault(number, ((day, location, payer), []))[1]
        owing = {
            own: sums.get((line_id, own, True), 0) + sums.get((line_id, own, False), 0)
            for own in (True, False)
        }
        lines.append(
            AccountLine(
                id=line_id,
                invoice_number=number,
                kind=LineKind(kind),
                description=_description(kind, item_code, item_text, title),
                provider_code=provider,
                service_date=as_date(service_date),
                fee_cents=int(fee_cents),
                gst_cents=int(gst_cents),
                paid_cents=-(
                    sums.get((line_id, True, False), 0) + sums.get((line_id, False, False), 0)
                ),
                patient_owing_cents=owing[True],
                payer_owing_cents=owing[False],
                client_billable=bool(billable),
                insurance_status=InsuranceStatus(status),
                deleted=as_instant(deleted_at) is not None,
            )
        )
    return tuple(
        AccountInvoice(
            number=number,
            invoice_date=day,
            location_code=location,
            billed_to_code=payer,
            lines=tuple(lines),
        )
        for number, ((day, location, payer), lines) in found.items()
    )


def payments(conn: Db, patient_id: int) -> tuple[AccountPayment, ...]:
    """The patient's payments by date received, each with where its money is now."""
    applied: dict[int, dict[int, int]] = {}
    held: dict[tuple[int, str], int] = {}
    for payment_id, account, line_id, cents in _PAYMENT_SUMS.run(
        conn, {"patient_id": patient_id}
    ).fetchall():
        if account == "RECEIVABLE":
            if int(cents):
                applied.setdefault(payment_id, {})[line_id] = -int(cents)
        else:
            held[(payment_id, account)] = held.get((payment_id, account), 0) - int(cents)
    found = []
    for row in _PAYMENTS.run(conn, {"patient_id": patient_id}).fetchall():
        payment_id, received, method, amount, reference, location, reversed_at, opening = row
        day = as_date(received)
        assert day is not None
        lines = applied.get(payment_id, {})
        found.append(
            AccountPayment(
                id=payment_id,
                received_date=day,
                method=PaymentMethod(method),
                opening=bool(opening),
                amount_cents=int(amount),
                reference=reference,
                location_code=location,
                reversed=reversed_at is not None,
                applied_cents=sum(lines.values()),
                refunded_cents=held.get((payment_id, "REFUNDED"), 0),
                unallocated_cents=held.get((payment_id, "UNALLOCATED"), 0),
                applied_to=tuple(sorted(lines.items())),
            )
        )
    return tuple(found)
