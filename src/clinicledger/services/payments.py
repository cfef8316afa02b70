"""Payments: receiving money, applying it to lines, undoing that, refunds, reversals and
patient credit. Every check reads under the unit of work's write lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import ClassVar

from clinicledger.domain.allocation import (
    check_allocation,
    check_line_payable,
    plan_oldest_first,
)
from clinicledger.domain.choices import PaymentMethod
from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import Conflict, InvalidInput, NotFound, OverAllocation
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import ALLOCATION_KINDS, Entry, EntryKind
from clinicledger.domain.money import check_positive, format_cents
from clinicledger.domain.periods import check_not_future, check_period_open
from clinicledger.domain.postings import (
    PaymentRef,
    allocation_postings,
    receipt_postings,
    refund_postings,
    reversal_postings,
)
from clinicledger.domain.records import PaymentRecord
from clinicledger.domain.text import MAX_NOTE_LENGTH, check_text, require_reason
from clinicledger.services.common import business_today, open_today
from clinicledger.services.usecase import ENTRY_ID, ResultCodec, set_field, use_case
from clinicledger.store import billing, ledger, lookups
from clinicledger.store.uow import UnitOfWork

Target = tuple[int, int]  # (line id, amount in cents)


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    id: int
    line_id: int
    payment_id: int
    amount_cents: int


ALLOCATIONS: ResultCodec[tuple[Allocation, ...]] = ResultCodec(
    dump=lambda made: [asdict(a) for a in made],
    load=lambda data: tuple(Allocation(**a) for a in data),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPayment:
    INPUTS: ClassVar[dict[str, str]] = {"processor_fee_cents": "fee"}

    from_code: str  # a patient's or a payer's code
    amount_cents: int
    method: PaymentMethod
    received_date: dt.date
    location_code: str
    reference: str | None = None
    processor_fee_cents: int | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        check_positive(self.amount_cents, field="amount")
        set_field(self, "reference", check_text(self.reference, field="reference", max_length=100))
        set_field(self, "note", check_text(self.note, field="note", max_length=MAX_NOTE_LENGTH))
        fee = self.processor_fee_cents
        if fee is not None and not 0 <= fee <= self.amount_cents:
            raise InvalidInput(
                "fee",
                "the processor fee must be between 0.00 and the amount",
                code="fee_out_of_range",
            )


@use_case(ENTRY_ID)
def record_payment(uow: UnitOfWork, command: RecordPayment) -> int:
    """Money received from a patient or a payer; until applied it is unallocated. Returns
    the payment's id."""
    amount_cents, reference, note = command.amount_cents, command.reference, command.note
    fee = command.processor_fee_cents
    conn = uow.conn
    patient_id, payer_id = _party(uow, command.from_code)
    location_id = lookups.id_for_code(conn, "location", command.location_code)
    check_in_range(command.received_date, field="received")
    check_not_future(command.received_date, business_today(uow), field="received")
    check_period_open(command.received_date, uow.closed_through, field="received")
    payment_id = billing.insert_payment(
        conn,
        patient_id=patient_id,
        payer_id=payer_id,
        location_id=location_id,
        method=command.method,
        amount_cents=amount_cents,
        received_date=command.received_date,
        reference=reference,
        processor_fee_cents=fee,
        note=note,
        recorded_at=uow.stamp(),
    )
    payment = PaymentRef(
        payment_id=payment_id, patient_id=patient_id, payer_id=payer_id, location_id=location_id
    )
    uow.append(
        Entry(
            kind=EntryKind.PAYMENT,
            effective_date=command.received_date,
            note=note,
            postings=receipt_postings(payment, amount_cents),
        )
    )
    uow.audit(
        "payment.record",
        format_id("payment", payment_id),
        {"amount_cents": amount_cents, "method": command.method.value},
    )
    return payment_id


def _party(uow: UnitOfWork, code: str) -> tuple[int | None, int | None]:
    """(patient id, payer id) of the party a code names; exactly one is set."""
    patient, payer = lookups.party_ids(uow.conn, code)
    if patient is not None and payer is not None:
        raise InvalidInput(
            "from", f"'{code}' names both a patient and a payer", code="party_ambiguous"
        )
    if patient is None and payer is None:
        raise NotFound("patient or payer", f"'{code}'", field="from")
    return patient, payer


def _live_payment(uow: UnitOfWork, payment_id: int) -> PaymentRecord:
    payment = lookups.payment_record(uow.conn, payment_id)
    if payment.reversed_at is not None:
        raise Conflict(
            f"payment {format_id('payment', payment_id)} was reversed",
            code="payment_reversed",
            field="payment",
        )
    return payment


def _targets(targets: tuple[Target, ...], auto: bool) -> None:
    """Money is applied to the lines named, or automatically: exactly one of the two."""
    if auto == bool(targets):
        raise InvalidInput(
            "to",
            "name the lines and amounts to apply, or apply automatically (not both)",
            code="allocation_target_missing",
            auto=auto,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocate:
    """Apply a payment to the ``targets`` named, or (``auto``) to its party's lines,
    oldest service first."""

    INPUTS: ClassVar[dict[str, str]] = {"targets": "to"}

    payment_id: int
    targets: tuple[Target, ...] = ()
    auto: bool = False

    def __post_init__(self) -> None:
        _targets(self.targets, self.auto)


@use_case(ALLOCATIONS)
def allocate(uow: UnitOfWork, command: Allocate) -> tuple[Allocation, ...]:
    payment = _live_payment(uow, command.payment_id)
    today = open_today(uow)
    targets = command.targets
    if command.auto:
        targets = plan_oldest_first(
            lookups.payment_unallocated_cents(uow.conn, payment.id),
            ledger.owing_lines(uow.conn, patient_id=payment.patient_id, payer_id=payment.payer_id),
        )
    return tuple(
        _apply(uow, payment, line_id, amount, today, EntryKind.ALLOCATION)
        for line_id, amount in targets
    )


def _apply(
    uow: UnitOfWork,
    payment: PaymentRecord,
    line_id: int,
    amount_cents: int,
    today: dt.date,
    kind: EntryKind,
) -> Allocation:
    conn = uow.conn
    line = lookups.line_record(conn, line_id, field="to")
    check_line_payable(payment, line)
    check_allocation(
        payment_id=payment.id,
        unallocated_cents=lookups.payment_unallocated_cents(conn, payment.id),
        line_id=line_id,
        owing_cents=lookups.line_owing_cents(conn, line_id, payment.payer_id),
        amount_cents=amount_cents,
    )
    entry_id = uow.append(
        Entry(
            kind=kind,
            effective_date=today,
            postings=allocation_postings(
                payment.ref(), line.ref(payer_id=payment.payer_id), amount_cents
            ),
        )
    )
    uow.audit(
        f"payment.{kind.value}",
        format_id("allocation", entry_id),
        {"payment": payment.id, "line": line_id, "amount_cents": amount_cents},
    )
    return Allocation(
        id=entry_id, line_id=line_id, payment_id=payment.id, amount_cents=amount_cents
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Unallocate:
    allocation_id: int
    reason: str

    def __post_init__(self) -> None:
        set_field(self, "reason", require_reason(self.reason))


@use_case(ENTRY_ID)
def unallocate(uow: UnitOfWork, command: Unallocate) -> int:
    """Undo an allocation with a reversing entry; its money is unallocated again."""
    return unallocate_in(uow, command.allocation_id, command.reason, open_today(uow))


def unallocate_in(uow: UnitOfWork, allocation_id: int, reason: str, today: dt.date) -> int:
    """The reversing entry of an allocation, inside the caller's unit of work."""
    conn = uow.conn
    label = format_id("allocation", allocation_id)
    if ledger.entry_kind(conn, allocation_id) not in ALLOCATION_KINDS:
        raise NotFound("allocation", label, field="allocation")
    if ledger.undone(conn, allocation_id):
        raise Conflict(
            f"allocation {label} was already un-allocated",
            code="allocation_undone",
            field="allocation",
        )
    postings = tuple(p.negated() for p in ledger.entry_postings(conn, allocation_id))
    entry_id = uow.append(
        Entry(
            kind=EntryKind.UNALLOCATION,
            effective_date=today,
            reason=reason,
            reverses=allocation_id,
            postings=postings,
        )
    )
    uow.audit("payment.unallocate", label, {"entry": entry_id, "reason": reason})
    return entry_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Refund:
    payment_id: int
    amount_cents: int
    reason: str

    def __post_init__(self) -> None:
        check_positive(self.amount_cents, field="amount")
        set_field(self, "reason", require_reason(self.reason))


@use_case(ENTRY_ID)
def refund(uow: UnitOfWork, command: Refund) -> int:
    """Pay back part of a payment's unallocated money."""
    amount_cents, reason = command.amount_cents, command.reason
    payment = _live_payment(uow, command.payment_id)
    label = format_id("payment", payment.id)
    unallocated = lookups.payment_unallocated_cents(uow.conn, payment.id)
    if amount_cents > unallocated:
        raise OverAllocation(
            f"payment {label} has {format_cents(unallocated)} unallocated; cannot refund "
            f"{format_cents(amount_cents)}",
            code="refund_exceeds_unallocated",
            field="amount",
            available_cents=unallocated,
            requested_cents=amount_cents,
            payment_id=payment.id,
        )
    entry_id = uow.append(
        Entry(
            kind=EntryKind.REFUND,
            effective_date=open_today(uow),
            reason=reason,
            postings=refund_postings(payment.ref(), amount_cents),
        )
    )
    uow.audit("payment.refund", label, {"entry": entry_id, "amount_cents": amount_cents})
    return entry_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ReversePayment:
    payment_id: int
    reason: str

    def __post_init__(self) -> None:
        set_field(self, "reason", require_reason(self.reason))


@use_case(ENTRY_ID)
def reverse_payment(uow: UnitOfWork, command: ReversePayment) -> int:
    """Undo a whole payment (a dishonoured cheque, a payment keyed twice): its allocations
    are un-allocated, then the receipt is reversed. Refused once money was refunded from it."""
    reason = command.reason
    payment = _live_payment(uow, command.payment_id)
    label = format_id("payment", payment.id)
    refunded = lookups.payment_refunded_cents(uow.conn, payment.id)
    if refunded:
        raise Conflict(
            f"payment {label} has {format_cents(refunded)} refunded; a payment with "
            "refunds cannot be reversed",
            code="payment_refunded",
            field="payment",
        )
    today = open_today(uow)
    for allocation in ledger.live_allocations(uow.conn, payment_id=payment.id):
        unallocate_in(uow, allocation.id, f"payment {label} reversed: {reason}", today)
    entry_id = uow.append(
        Entry(
            kind=EntryKind.PAYMENT_REVERSAL,
            effective_date=today,
            reason=reason,
            postings=reversal_postings(
                payment.ref(), payment.amount_cents, opening=payment.opening
            ),
        )
    )
    billing.mark_payment_reversed(uow.conn, payment.id, recorded_at=uow.stamp())
    uow.audit("payment.reverse", label, {"entry": entry_id, "reason": reason})
    return entry_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyCredit:
    """Apply a patient's credit (unallocated money of earlier payments, oldest first) to
    the ``targets`` named, or (``auto``) to the patient's oldest owing lines."""

    INPUTS: ClassVar[dict[str, str]] = {"targets": "to"}

    patient_code: str
    targets: tuple[Target, ...] = ()
    auto: bool = False

    def __post_init__(self) -> None:
        _targets(self.targets, self.auto)


@use_case(ALLOCATIONS)
def apply_credit(uow: UnitOfWork, command: ApplyCredit) -> tuple[Allocation, ...]:
    conn = uow.conn
    patient_id = lookups.id_for_code(conn, "patient", command.patient_code)
    today = open_today(uow)
    sources = ledger.credit_payments(conn, patient_id)
    credit = sum(amount for _, amount in sources)
    targets = command.targets
    if command.auto:
        targets = plan_oldest_first(
            credit, ledger.owing_lines(conn, patient_id=patient_id, payer_id=None)
        )
    for line_id, amount in targets:
        check_positive(amount, field="to")
        lookups.line_record(conn, line_id, field="to")
    wanted = sum(amount for _, amount in targets)
    if wanted > credit:
        raise OverAllocation(
            f"patient {command.patient_code} has {format_cents(credit)} credit; cannot apply "
            f"{format_cents(wanted)}",
            code="credit_exceeded",
            field="to",
            available_cents=credit,
            requested_cents=wanted,
        )
    made: list[Allocation] = []
    remaining = dict(sources)
    for line_id, amount in targets:
        for payment_id, part in plan_oldest_first(amount, tuple(remaining.items())):
            payment = lookups.payment_record(conn, payment_id)
            made.append(_apply(uow, payment, line_id, part, today, EntryKind.CREDIT_APPLIED))
            remaining[payment_id] -= part
    return tuple(made)
