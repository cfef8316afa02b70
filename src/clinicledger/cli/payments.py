"""``payment record|allocate|unallocate|refund|reverse`` and ``credit apply``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import IdempotencyKey, later, needs, settings, sub_app
from clinicledger.cli.output import entry_done, money, out
from clinicledger.cli.parse import parse_date, parse_targets, words
from clinicledger.domain.choices import PaymentMethod, parse_choice
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action
from clinicledger.shapes import payments as shapes

if TYPE_CHECKING:
    from clinicledger.services import desk, payments
else:
    payments = later("clinicledger.services.payments")
    desk = later("clinicledger.services.desk")

payment_app = sub_app("payment", "Payments.")
credit_app = sub_app("credit", "Patient credit.")

Payment = Annotated[str, typer.Argument(metavar="PAYMENT", help="The payment, e.g. PAY-000042")]
Reason = Annotated[str, typer.Option(metavar="TEXT", help="Why (kept with the entry)")]
Targets = Annotated[
    list[str] | None,
    typer.Option(metavar="LINE=AMOUNT", help="A line and the amount to apply to it (repeat)"),
]
Auto = Annotated[bool, typer.Option("--auto", help="Apply to the oldest services first")]


@payment_app.command("record")
@needs(Action.PAYMENT_RECORD)
def payment_record(
    from_: Annotated[str, typer.Option("--from", metavar="CODE", help="The patient or payer")],
    amount: Annotated[str, typer.Option(metavar="AMOUNT", help="How much, e.g. 30.00")],
    method: Annotated[
        str,
        typer.Option(
            metavar="METHOD",
            help=words(PaymentMethod),
        ),
    ],
    received: Annotated[str, typer.Option(metavar="YYYY-MM-DD", help="The day it was received")],
    location: Annotated[str, typer.Option(metavar="CODE", help="Where it was received")],
    reference: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT", help="A cheque number, a card receipt, a transfer's reference"
        ),
    ] = None,
    fee: Annotated[
        str | None, typer.Option(metavar="AMOUNT", help="The card processor's fee")
    ] = None,
    note: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A note kept with the payment")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Record money received from a patient or a payer."""
    cents = cents_from_text(amount, field="amount")
    payment_id = payments.record_payment(
        settings.uow(),
        payments.RecordPayment(
            from_code=from_,
            amount_cents=cents,
            method=parse_choice(PaymentMethod, method, field="method"),
            received_date=parse_date(received, field="received"),
            location_code=location,
            reference=reference,
            processor_fee_cents=cents_from_text(fee, field="fee", allow_zero=True)
            if fee is not None
            else None,
            note=note,
        ),
        idempotency_key=idempotency_key,
    )
    label = format_id("payment", payment_id)
    out(shapes.recorded(payment_id, cents), f"recorded payment {label} of {money(cents)}")


def _allocations_out(made: tuple[payments.Allocation, ...]) -> None:
    out(
        shapes.allocations(made),
        "\n".join(
            [f"{len(made)} allocation(s)"]
            + [
                f"  {format_id('allocation', a.id)}  {format_id('payment', a.payment_id)} -> "
                f"{format_id('line', a.line_id)}  {money(a.amount_cents):>10}"
                for a in made
            ]
        ),
    )


@payment_app.command("show")
@needs(Action.PATIENT_READ)
def payment_show(payment: Payment) -> None:
    """Show a payment: where its money went, and the lines its payer still owes on."""
    found = desk.show_payment(settings.engine, parse_id("payment", payment))
    head = found.header
    lines = [
        f"{format_id('payment', head.id)}  {head.received_date}  {head.method.value}  "
        f"{money(head.amount_cents)} from {found.party_code} {head.party_name}"
        + ("  reversed" if head.reversed else ""),
        f"applied {money(found.applied_cents)}  refunded {money(found.refunded_cents)}  "
        f"unallocated {money(found.unallocated_cents)}",
    ]
    for a in found.allocations:
        lines.append(
            f"  {format_id('allocation', a.allocation_id)}  {format_id('line', a.line.id)}  "
            f"{a.line.description:<30} {money(a.amount_cents):>10}"
        )
    if found.open_lines:
        lines.append("open lines:")
        lines += [
            f"  {format_id('line', o.line.id)}  {o.line.description:<30} "
            f"owing {money(o.owing_cents):>10}"
            for o in found.open_lines
        ]
        if found.open_more:
            lines.append(f"  ... and {found.open_more} more")
    out(shapes.payment(found), "\n".join(lines))


@payment_app.command("allocate")
@needs(Action.PAYMENT_ALLOCATE)
def payment_allocate(
    payment: Payment, to: Targets = None, auto: Auto = False, idempotency_key: IdempotencyKey = None
) -> None:
    """Apply a payment to lines: the ones named, or the oldest owing."""
    made = payments.allocate(
        settings.uow(),
        payments.Allocate(
            payment_id=parse_id("payment", payment), targets=parse_targets(to or []), auto=auto
        ),
        idempotency_key=idempotency_key,
    )
    _allocations_out(made)


@payment_app.command("unallocate")
@needs(Action.PAYMENT_UNALLOCATE)
def payment_unallocate(
    allocation: Annotated[
        str, typer.Argument(metavar="ALLOCATION", help="The allocation, e.g. AL-000005")
    ],
    reason: Reason,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Undo an allocation: its money is unallocated again."""
    allocation_id = parse_id("allocation", allocation)
    entry_id = payments.unallocate(
        settings.uow(),
        payments.Unallocate(allocation_id=allocation_id, reason=reason),
        idempotency_key=idempotency_key,
    )
    entry_done(
        "allocation",
        allocation_id,
        entry_id,
        f"un-allocated {format_id('allocation', allocation_id)}",
    )


@payment_app.command("refund")
@needs(Action.PAYMENT_REFUND)
def payment_refund(
    payment: Payment,
    amount: Annotated[str, typer.Option(metavar="AMOUNT", help="How much to pay back")],
    reason: Reason,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Pay back part of a payment's unallocated money."""
    payment_id = parse_id("payment", payment)
    cents = cents_from_text(amount, field="amount")
    entry_id = payments.refund(
        settings.uow(),
        payments.Refund(payment_id=payment_id, amount_cents=cents, reason=reason),
        idempotency_key=idempotency_key,
    )
    entry_done(
        "payment",
        payment_id,
        entry_id,
        f"refunded {money(cents)} of payment {format_id('payment', payment_id)}",
        amount=money(cents),
    )


@payment_app.command("reverse")
@needs(Action.PAYMENT_REVERSE)
def payment_reverse(
    payment: Payment, reason: Reason, idempotency_key: IdempotencyKey = None
) -> None:
    """Undo a whole payment (a dishonoured cheque, a payment keyed twice)."""
    payment_id = parse_id("payment", payment)
    entry_id = payments.reverse_payment(
        settings.uow(),
        payments.ReversePayment(payment_id=payment_id, reason=reason),
        idempotency_key=idempotency_key,
    )
    entry_done(
        "payment", payment_id, entry_id, f"reversed payment {format_id('payment', payment_id)}"
    )


@credit_app.command("apply")
@needs(Action.PAYMENT_ALLOCATE)
def credit_apply(
    patient: Annotated[str, typer.Argument(metavar="CODE", help="The patient")],
    to: Targets = None,
    auto: Auto = False,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Apply a patient's credit (unapplied money of earlier payments) to lines."""
    made = payments.apply_credit(
        settings.uow(),
        payments.ApplyCredit(patient_code=patient, targets=parse_targets(to or []), auto=auto),
        idempotency_key=idempotency_key,
    )
    _allocations_out(made)
