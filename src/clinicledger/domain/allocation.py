"""Applying money to lines: which lines a payment may pay, how much it may apply, and how
money is spread oldest first. Plain functions over records: no database."""

from __future__ import annotations

from clinicledger.domain.errors import Conflict, InvalidInput, OverAllocation
from clinicledger.domain.ids import format_id
from clinicledger.domain.money import check_positive, format_cents
from clinicledger.domain.records import LineRecord, PaymentRecord


def check_line_payable(payment: PaymentRecord, line: LineRecord, *, field: str = "to") -> None:
    """May ``payment`` be applied to ``line``? Not to a deleted line; a payer's payment
    only to a line billed to that payer; a patient's payment only to that patient's own
    lines."""
    line_label = format_id("line", line.id)
    payment_label = format_id("payment", payment.id)
    if line.deleted_at is not None:
        raise Conflict(f"line {line_label} was deleted", code="line_deleted", field=field)
    if payment.payer_id is not None and line.payer_id != payment.payer_id:
        raise Conflict(
            f"line {line_label} is not billed to payer {payment.party_code}, who made payment "
            f"{payment_label}",
            code="line_not_billed_to_payer",
            field=field,
        )
    if payment.payer_id is None and line.patient_id != payment.patient_id:
        raise InvalidInput(
            field,
            f"line {line_label} is not a line of the patient who made payment {payment_label}",
            code="line_of_other_patient",
        )


def check_allocation(
    *,
    payment_id: int,
    unallocated_cents: int,
    line_id: int,
    owing_cents: int,
    amount_cents: int,
) -> None:
    """An allocation takes no more than the payment has unallocated, nor more than the
    line's portion owes."""
    check_positive(amount_cents, field="to")
    payment_label = format_id("payment", payment_id)
    line_label = format_id("line", line_id)
    if amount_cents > unallocated_cents:
        raise OverAllocation(
            f"payment {payment_label} has {format_cents(unallocated_cents)} unallocated; "
            f"cannot allocate {format_cents(amount_cents)} to line {line_label}",
            code="allocation_exceeds_payment",
            field="to",
            available_cents=unallocated_cents,
            requested_cents=amount_cents,
            payment_id=payment_id,
            line_id=line_id,
        )
    if amount_cents > owing_cents:
        raise OverAllocation(
            f"line {line_label} has {format_cents(owing_cents)} owing; "
            f"cannot allocate {format_cents(amount_cents)} from payment {payment_label}",
            code="allocation_exceeds_line",
            field="to",
            available_cents=owing_cents,
            requested_cents=amount_cents,
            payment_id=payment_id,
            line_id=line_id,
        )


def check_line_reduction(*, line_id: int, owing_cents: int, amount_cents: int, what: str) -> None:
    """An adjustment or transfer may not take a line's portion below zero."""
    check_positive(amount_cents, field="amount")
    if amount_cents > owing_cents:
        raise OverAllocation(
            f"line {format_id('line', line_id)} has {format_cents(owing_cents)} owing; "
            f"cannot {what} {format_cents(amount_cents)}",
            code="exceeds_line_balance",
            field="amount",
            available_cents=owing_cents,
            requested_cents=amount_cents,
            line_id=line_id,
        )


def plan_oldest_first(
    available_cents: int, owing: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    """Spread ``available_cents`` over ``(line_id, owing_cents)`` in the order given
    (oldest first); returns ``(line_id, amount_cents)`` for each line that gets money."""
    plan: list[tuple[int, int]] = []
    left = available_cents
    for line_id, owing_cents in owing:
        if left <= 0:
            break
        take = min(left, owing_cents)
        if take > 0:
            plan.append((line_id, take))
            left -= take
    return tuple(plan)
