"""Payments: receiving money, applying it to lines, undoing that, refunds, reversals and
patient credit. Every check reads under the unit of work's write lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update

from clinicledger.domain.errors import Conflict, InvalidInput, NotFound, OverAllocation
from clinicledger.domain.ids import format_id, in_id_range
from clinicledger.domain.journal import ALLOCATION_KINDS, Account, Entry, EntryKind
from clinicledger.domain.money import check_positive, format_cents
from clinicledger.domain.rules import (
    PaymentMethod,
    allocation_postings,
    check_allocation,
    check_period_open,
    check_text,
    plan_oldest_first,
    receipt_postings,
    refund_postings,
    reversal_postings,
)
from clinicledger.services.common import (
    MAX_NOTE_LENGTH,
    business_today,
    check_not_future,
    require_reason,
)
from clinicledger.store import ledger
from clinicledger.store import tables as t
from clinicledger.store.uow import UnitOfWork

P = t.postings


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    id: int
    line_id: int
    payment_id: int
    amount_cents: int


def record_payment(
    uow: UnitOfWork,
    *,
    from_code: str,
    amount_cents: int,
    method: PaymentMethod,
    received_date: dt.date,
    location_code: str,
    reference: str | None = None,
    processor_fee_cents: int | None = None,
    note: str | None = None,
) -> int:
    """Money received from a patient or a payer; until applied it is unallocated."""
    check_positive(amount_cents, field="amount")
    reference = check_text(reference, field="reference", max_length=100)
    note = check_text(note, field="note", max_length=MAX_NOTE_LENGTH)
    if processor_fee_cents is not None and not 0 <= processor_fee_cents <= amount_cents:
        raise InvalidInput(
            "fee", "the processor fee must be between 0.00 and the amount", code="fee_out_of_range"
        )
    with uow:
        conn = uow.conn
        patient_id, payer_id = _party(uow, from_code)
        location_id = ledger.id_for_code(conn, "location", location_code)
        check_not_future(received_date, business_today(uow), field="received")
        check_period_open(received_date, ledger.closed_through(conn), field="received")
        payment_id: int = conn.execute(
            insert(t.payments)
            .values(
                patient_id=patient_id,
                payer_id=payer_id,
                location_id=location_id,
                method=method.value,
                amount_cents=amount_cents,
                received_date=received_date,
                reference=reference,
                processor_fee_cents=processor_fee_cents,
                note=note,
                recorded_at=uow.stamp(),
            )
            .returning(t.payments.c.id)
        ).scalar_one()
        ref = ledger.payment_ref(ledger.payment_row(conn, payment_id))
        uow.append(
            Entry(
                kind=EntryKind.PAYMENT,
                effective_date=received_date,
                note=note,
                postings=receipt_postings(ref, amount_cents),
            )
        )
        uow.audit(
            "payment.record",
            format_id("payment", payment_id),
            {"amount_cents": amount_cents, "method": method.value},
        )
        uow.commit()
    return payment_id


def _party(uow: UnitOfWork, code: str) -> tuple[int | None, int | None]:
    """(patient id, payer id) of the party a code names; exactly one is set."""
    patient = uow.conn.execute(
        select(t.patients.c.id).where(t.patients.c.code == code)
    ).scalar_one_or_none()
    payer = uow.conn.execute(
        select(t.payers.c.id).where(t.payers.c.code == code)
    ).scalar_one_or_none()
    if patient is not None and payer is not None:
        raise InvalidInput(
            "from", f"'{code}' names both a patient and a payer", code="party_ambiguous"
        )
    if patient is None and payer is None:
        raise NotFound("patient or payer", f"'{code}'", field="from")
    return patient, payer


def _live_payment(uow: UnitOfWork, payment_id: int) -> Row[Any]:
    row = ledger.payment_row(uow.conn, payment_id)
    if row.reversed_at is not None:
        raise Conflict(
            f"payment {format_id('payment', payment_id)} was reversed",
            code="payment_reversed",
            field="payment",
        )
    return row


def allocate(
    uow: UnitOfWork, *, payment_id: int, targets: Sequence[tuple[int, int]]
) -> tuple[Allocation, ...]:
    """Apply a payment to lines: ``targets`` are ``(line_id, amount_cents)``."""
    if not targets:
        raise InvalidInput(
            "to", "name at least one LINE=AMOUNT, or use --auto", code="allocation_target_missing"
        )
    with uow:
        payment = _live_payment(uow, payment_id)
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        made = tuple(
            _apply(uow, payment, line_id, amount, today, EntryKind.ALLOCATION)
            for line_id, amount in targets
        )
        uow.commit()
    return made


def auto_allocate(uow: UnitOfWork, *, payment_id: int) -> tuple[Allocation, ...]:
    """Apply a payment's unallocated money to its party's lines, oldest service first."""
    with uow:
        payment = _live_payment(uow, payment_id)
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        available = ledger.payment_unallocated_cents(uow.conn, payment_id)
        owing = _owing_lines(uow, patient_id=payment.patient_id, payer_id=payment.payer_id)
        made = tuple(
            _apply(uow, payment, line_id, amount, today, EntryKind.ALLOCATION)
            for line_id, amount in plan_oldest_first(available, owing)
        )
        uow.commit()
    return made


def _owing_lines(
    uow: UnitOfWork, *, patient_id: int | None, payer_id: int | None
) -> tuple[tuple[int, int], ...]:
    """(line id, owing) of a party's lines with money owing, oldest service first."""
    party = (
        P.c.payer_id == payer_id
        if payer_id is not None
        else and_(P.c.patient_id == patient_id, P.c.payer_id.is_(None))
    )
    owing = func.sum(P.c.amount_cents)
    rows = uow.conn.execute(
        select(P.c.line_id, owing.label("owing_cents"))
        .join(t.lines, t.lines.c.id == P.c.line_id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .where(party, P.c.account == Account.RECEIVABLE.value, t.lines.c.deleted_at.is_(None))
        .group_by(P.c.line_id, t.lines.c.service_date, t.invoices.c.invoice_date)
        .having(owing > 0)
        .order_by(func.coalesce(t.lines.c.service_date, t.invoices.c.invoice_date), P.c.line_id)
    ).all()
    return tuple((int(r.line_id), int(r.owing_cents)) for r in rows)


def _apply(
    uow: UnitOfWork,
    payment: Row[Any],
    line_id: int,
    amount_cents: int,
    today: dt.date,
    kind: EntryKind,
) -> Allocation:
    conn = uow.conn
    line = ledger.line_row(conn, line_id, field="to")
    line_label = format_id("line", line_id)
    payment_label = format_id("payment", payment.id)
    if line.deleted_at is not None:
        raise Conflict(f"line {line_label} was deleted", code="line_deleted", field="to")
    if payment.payer_id is not None and line.payer_id != payment.payer_id:
        payer_code = conn.execute(
            select(t.payers.c.code).where(t.payers.c.id == payment.payer_id)
        ).scalar_one()
        raise Conflict(
            f"line {line_label} is not billed to payer {payer_code}, who made payment "
            f"{payment_label}",
            code="line_not_billed_to_payer",
            field="to",
        )
    if payment.payer_id is None and line.patient_id != payment.patient_id:
        raise InvalidInput(
            "to",
            f"line {line_label} is not a line of the patient who made payment {payment_label}",
            code="line_of_other_patient",
        )
    check_allocation(
        payment_label=payment_label,
        unallocated_cents=ledger.payment_unallocated_cents(conn, payment.id),
        line_label=line_label,
        owing_cents=ledger.line_owing_cents(conn, line_id, payment.payer_id),
        amount_cents=amount_cents,
    )
    entry_id = uow.append(
        Entry(
            kind=kind,
            effective_date=today,
            postings=allocation_postings(
                ledger.payment_ref(payment),
                ledger.line_ref(line, payer_id=payment.payer_id),
                amount_cents,
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


def unallocate(uow: UnitOfWork, *, allocation_id: int, reason: str) -> int:
    """Undo an allocation with a reversing entry; its money is unallocated again."""
    reason = require_reason(reason)
    with uow:
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        entry_id = unallocate_in(uow, allocation_id, reason, today)
        uow.commit()
    return entry_id


def unallocate_in(uow: UnitOfWork, allocation_id: int, reason: str, today: dt.date) -> int:
    """The reversing entry of an allocation, inside the caller's unit of work."""
    conn = uow.conn
    label = format_id("allocation", allocation_id)
    entry = (
        conn.execute(select(t.entries).where(t.entries.c.id == allocation_id)).one_or_none()
        if in_id_range(allocation_id)
        else None
    )
    if entry is None or entry.kind not in {k.value for k in ALLOCATION_KINDS}:
        raise NotFound("allocation", label, field="allocation")
    undone = conn.execute(
        select(t.entries.c.id).where(t.entries.c.reverses == allocation_id)
    ).first()
    if undone is not None:
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


def refund(uow: UnitOfWork, *, payment_id: int, amount_cents: int, reason: str) -> int:
    """Pay back part of a payment's unallocated money."""
    check_positive(amount_cents, field="amount")
    reason = require_reason(reason)
    with uow:
        payment = _live_payment(uow, payment_id)
        label = format_id("payment", payment_id)
        unallocated = ledger.payment_unallocated_cents(uow.conn, payment_id)
        if amount_cents > unallocated:
            raise OverAllocation(
                f"payment {label} has {format_cents(unallocated)} unallocated; cannot refund "
                f"{format_cents(amount_cents)}",
                code="refund_exceeds_unallocated",
                field="amount",
            )
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        entry_id = uow.append(
            Entry(
                kind=EntryKind.REFUND,
                effective_date=today,
                reason=reason,
                postings=refund_postings(ledger.payment_ref(payment), amount_cents),
            )
        )
        uow.audit("payment.refund", label, {"entry": entry_id, "amount_cents": amount_cents})
        uow.commit()
    return entry_id


def reverse_payment(uow: UnitOfWork, *, payment_id: int, reason: str) -> int:
    """Undo a whole payment (a dishonoured cheque, a payment keyed twice): its allocations
    are un-allocated, then the receipt is reversed. Refused once money was refunded from it."""
    reason = require_reason(reason)
    with uow:
        payment = _live_payment(uow, payment_id)
        label = format_id("payment", payment_id)
        refunded = ledger.payment_refunded_cents(uow.conn, payment_id)
        if refunded:
            raise Conflict(
                f"payment {label} has {format_cents(refunded)} refunded; a payment with "
                "refunds cannot be reversed",
                code="payment_refunded",
                field="payment",
            )
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        for allocation in ledger.live_allocations(uow.conn, payment_id=payment_id):
            unallocate_in(uow, allocation.id, f"payment {label} reversed: {reason}", today)
        entry_id = uow.append(
            Entry(
                kind=EntryKind.PAYMENT_REVERSAL,
                effective_date=today,
                reason=reason,
                postings=reversal_postings(
                    ledger.payment_ref(payment), payment.amount_cents, opening=payment.opening
                ),
            )
        )
        uow.conn.execute(
            update(t.payments).where(t.payments.c.id == payment_id).values(reversed_at=uow.stamp())
        )
        uow.audit("payment.reverse", label, {"entry": entry_id, "reason": reason})
        uow.commit()
    return entry_id


def apply_credit(
    uow: UnitOfWork, *, patient_code: str, targets: Sequence[tuple[int, int]] | None
) -> tuple[Allocation, ...]:
    """Apply a patient's credit (unallocated money of earlier payments, oldest first) to
    lines: the named ``targets``, or (``None``) the patient's oldest owing lines."""
    with uow:
        patient_id = ledger.id_for_code(uow.conn, "patient", patient_code)
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        sources = _credit_payments(uow, patient_id)
        credit = sum(amount for _, amount in sources)
        if targets is None:
            targets = plan_oldest_first(
                credit, _owing_lines(uow, patient_id=patient_id, payer_id=None)
            )
        elif not targets:
            raise InvalidInput(
                "to",
                "name at least one LINE=AMOUNT, or use --auto",
                code="allocation_target_missing",
            )
        for line_id, amount in targets:
            check_positive(amount, field="to")
            ledger.line_row(uow.conn, line_id, field="to")
        wanted = sum(amount for _, amount in targets)
        if wanted > credit:
            raise OverAllocation(
                f"patient {patient_code} has {format_cents(credit)} credit; cannot apply "
                f"{format_cents(wanted)}",
                code="credit_exceeded",
                field="to",
            )
        made: list[Allocation] = []
        remaining = dict(sources)
        for line_id, amount in targets:
            for payment_id, part in plan_oldest_first(amount, tuple(remaining.items())):
                payment = ledger.payment_row(uow.conn, payment_id)
                made.append(_apply(uow, payment, line_id, part, today, EntryKind.CREDIT_APPLIED))
                remaining[payment_id] -= part
        uow.commit()
    return tuple(made)


def _credit_payments(uow: UnitOfWork, patient_id: int) -> tuple[tuple[int, int], ...]:
    """(payment id, unallocated) of a patient's own payments with money left, oldest first."""
    unallocated = -func.sum(P.c.amount_cents)
    rows = uow.conn.execute(
        select(P.c.payment_id, unallocated.label("cents"))
        .join(t.payments, t.payments.c.id == P.c.payment_id)
        .where(
            P.c.account == Account.UNALLOCATED.value,
            t.payments.c.patient_id == patient_id,
            t.payments.c.reversed_at.is_(None),
        )
        .group_by(P.c.payment_id, t.payments.c.received_date)
        .having(unallocated > 0)
        .order_by(t.payments.c.received_date, P.c.payment_id)
    ).all()
    return tuple((int(r.payment_id), int(r.cents)) for r in rows)
