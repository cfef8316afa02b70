"""The front desk's reads of one invoice and one payment (``invoice show``, ``payment
show``; the invoice and payment screens): an invoice's lines with their fee, GST, what is
paid and what each still owes; a payment, where its money went (each allocation still
standing), and the open lines of whoever paid, with what each still owes that party, for
allocating what is left; a patient's credit and the patient's open lines, for applying
it. Each is one read, in one consistent view of the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clinicledger.domain.errors import NotFound
from clinicledger.domain.ids import format_id, in_id_range
from clinicledger.domain.journal import Account
from clinicledger.store import desk, ledger, lookups
from clinicledger.store.accounts import AccountLine
from clinicledger.store.desk import InvoiceHeader, LineLabel, PaymentHeader
from clinicledger.store.engine import Connection, Engine
from clinicledger.store.ledger import LiveAllocation
from clinicledger.store.uow import reading

OPEN_LINES_MAX = 500  # the open lines a payment lists, oldest first

__all__ = [
    "AppliedLine",
    "CreditView",
    "InvoiceView",
    "LineLabel",
    "OpenLine",
    "PaymentView",
    "allocation_payment",
    "line_invoice",
    "patient_credit",
    "show_invoice",
    "show_payment",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceView:
    header: InvoiceHeader
    lines: tuple[AccountLine, ...]
    allocations: tuple[LiveAllocation, ...]  # payments applied to its lines now, oldest first

    @property
    def live_lines(self) -> tuple[AccountLine, ...]:
        return tuple(line for line in self.lines if not line.deleted)

    @property
    def total_cents(self) -> int:
        return sum(line.fee_cents for line in self.live_lines)

    @property
    def gst_cents(self) -> int:
        return sum(line.gst_cents for line in self.live_lines)

    @property
    def paid_cents(self) -> int:
        return sum(line.paid_cents for line in self.lines)

    @property
    def adjusted_cents(self) -> int:
        """Taken off the live lines by adjustments (write-offs, discounts, corrections)."""
        return sum(adjusted_cents(line) for line in self.live_lines)

    @property
    def patient_owing_cents(self) -> int:
        return sum(line.patient_owing_cents for line in self.lines)

    @property
    def payer_owing_cents(self) -> int:
        return sum(line.payer_owing_cents for line in self.lines)

    @property
    def owing_cents(self) -> int:
        return self.patient_owing_cents + self.payer_owing_cents


def _invoice_view(conn: Connection, header: InvoiceHeader) -> InvoiceView:
    lines = desk.invoice_lines(conn, header.id)
    applied = [a for line in lines for a in ledger.live_allocations(conn, line_id=line.id)]
    return InvoiceView(
        header=header, lines=lines, allocations=tuple(sorted(applied, key=lambda a: a.id))
    )


def adjusted_cents(line: AccountLine) -> int:
    """What adjustments took off a line: its fee less what is paid and what is owing."""
    return 0 if line.deleted else line.fee_cents - line.paid_cents - line.owing_cents


def show_invoice(engine: Engine, number: int) -> InvoiceView:
    """Invoice ``number`` (its INV- number) and its lines."""
    label = format_id("invoice", number) if in_id_range(number) else str(number)
    with reading(engine) as conn:
        header = desk.invoice_header(conn, number) if in_id_range(number) else None
        if header is None:
            raise NotFound("invoice", label, field="invoice")
        return _invoice_view(conn, header)


def line_invoice(engine: Engine, line_id: int) -> tuple[InvoiceView, AccountLine]:
    """The invoice that holds line ``line_id``, and the line in it."""
    label = format_id("line", line_id) if in_id_range(line_id) else str(line_id)
    with reading(engine) as conn:
        number = desk.invoice_number_of_line(conn, line_id) if in_id_range(line_id) else None
        header = None if number is None else desk.invoice_header(conn, number)
        if header is None:
            raise NotFound("line", label, field="line")
        found = _invoice_view(conn, header)
    return found, next(line for line in found.lines if line.id == line_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedLine:
    """An allocation of the payment still standing: where part of it went."""

    allocation_id: int
    line: LineLabel
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenLine:
    """A line the payment's party still owes on, and how much."""

    line: LineLabel
    owing_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentView:
    header: PaymentHeader
    applied_cents: int
    refunded_cents: int
    unallocated_cents: int
    allocations: tuple[AppliedLine, ...]
    open_lines: tuple[OpenLine, ...]  # oldest service first, at most OPEN_LINES_MAX
    open_more: int  # the open lines beyond those (a fund owed on thousands of lines)

    @property
    def party_code(self) -> str:
        return self.header.patient_code or self.header.payer_code or ""

    @property
    def party_kind(self) -> str:
        return "patient" if self.header.patient_code is not None else "payer"

    @property
    def open_owing_cents(self) -> int:
        return sum(line.owing_cents for line in self.open_lines)


def show_payment(engine: Engine, payment_id: int) -> PaymentView:
    """Payment ``payment_id``: where its money is, and the lines it could still go to
    (the oldest :data:`OPEN_LINES_MAX` of them, and how many more there are)."""
    label = format_id("payment", payment_id) if in_id_range(payment_id) else str(payment_id)
    with reading(engine) as conn:
        header = desk.payment_header(conn, payment_id) if in_id_range(payment_id) else None
        if header is None:
            raise NotFound("payment", label, field="payment")
        record = lookups.payment_record(conn, payment_id)
        held = desk.payment_held(conn, payment_id)
        live = ledger.live_allocations(conn, payment_id=payment_id)
        owing = (
            ()
            if header.reversed
            else ledger.owing_lines(conn, patient_id=record.patient_id, payer_id=record.payer_id)
        )
        listed = _listed(owing)
        labels = desk.line_labels(
            conn, [a.line_id for a in live] + [line_id for line_id, _ in listed]
        )
        return PaymentView(
            header=header,
            applied_cents=sum(a.amount_cents for a in live),
            refunded_cents=held.get(Account.REFUNDED.value, 0),
            unallocated_cents=held.get(Account.UNALLOCATED.value, 0),
            allocations=tuple(
                AppliedLine(allocation_id=a.id, line=labels[a.line_id], amount_cents=a.amount_cents)
                for a in live
            ),
            open_lines=tuple(
                OpenLine(line=labels[line_id], owing_cents=cents) for line_id, cents in listed
            ),
            open_more=len(owing) - len(listed),
        )


def _listed(owing: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """The open lines a form lists: the oldest :data:`OPEN_LINES_MAX`."""
    return owing[:OPEN_LINES_MAX]


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditView:
    """A patient's credit (unallocated money of the patient's own payments) and the lines
    the patient still owes on, for applying it."""

    patient_code: str
    credit_cents: int
    open_lines: tuple[OpenLine, ...]  # oldest service first, at most OPEN_LINES_MAX
    open_more: int


def patient_credit(engine: Engine, code: str) -> CreditView:
    """The credit patient ``code`` holds, and the lines it could go to."""
    with reading(engine) as conn:
        patient_id = lookups.id_for_code(conn, "patient", code)
        owing = ledger.owing_lines(conn, patient_id=patient_id, payer_id=None)
        listed = _listed(owing)
        labels = desk.line_labels(conn, [line_id for line_id, _ in listed])
        return CreditView(
            patient_code=code,
            credit_cents=sum(cents for _, cents in ledger.credit_payments(conn, patient_id)),
            open_lines=tuple(
                OpenLine(line=labels[line_id], owing_cents=cents) for line_id, cents in listed
            ),
            open_more=len(owing) - len(listed),
        )


def allocation_payment(engine: Engine, allocation_id: int) -> int | None:
    """The payment an allocation applied, if ``allocation_id`` is an allocation."""
    if not in_id_range(allocation_id):
        return None
    with reading(engine) as conn:
        return desk.allocation_payment(conn, allocation_id)


def today(engine: Engine, now: dt.datetime) -> dt.date:
    """The practice's date at ``now`` (for a form's default date)."""
    with reading(engine) as conn:
        return lookups.practice_date(conn, lookups.practice_instant(conn, now))
