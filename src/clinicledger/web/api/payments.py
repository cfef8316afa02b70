"""``/api/v1/payments``: record a payment, allocate it, show it, and its corrections
(un-allocate, refund, reverse); the same objects as ``clinicledger --json payment
record|allocate|show|unallocate|refund|reverse``. Every POST takes an
``Idempotency-Key`` header: a retry with the same key and body answers the first result
and posts nothing; the same key with another body is refused (409
``idempotency_conflict``, naming the field that differs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from clinicledger.domain.choices import PaymentMethod, parse_choice
from clinicledger.domain.errors import NotFound
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text, format_cents
from clinicledger.domain.permissions import Action
from clinicledger.domain.text import parse_date
from clinicledger.services import desk, payments
from clinicledger.shapes import entries
from clinicledger.shapes import payments as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.api.invoices import IdempotencyKey
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/payments", tags=["payments"], responses=ERRORS)


class NewPayment(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", description="The patient's or payer's code")
    amount: str
    method: str
    received: str = Field(description="YYYY-MM-DD")
    location: str
    reference: str | None = None
    fee: str | None = None
    note: str | None = None


def record_command(new: NewPayment) -> payments.RecordPayment:
    return payments.RecordPayment(
        from_code=new.from_,
        amount_cents=cents_from_text(new.amount, field="amount"),
        method=parse_choice(PaymentMethod, new.method, field="method"),
        received_date=parse_date(new.received, field="received"),
        location_code=new.location,
        reference=new.reference or None,
        processor_fee_cents=cents_from_text(new.fee, field="fee", allow_zero=True)
        if new.fee
        else None,
        note=new.note or None,
    )


@router.post("", status_code=201)
def record_payment(
    new: NewPayment,
    clerk: Annotated[Clerk, api(Action.PAYMENT_RECORD)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record money received from a patient or a payer."""
    command = record_command(new)
    made = payments.record_payment(clerk.uow(), command, idempotency_key=idempotency_key)
    return JSONResponse(shapes.recorded(made, command.amount_cents), status_code=201)


@router.get("/{payment}")
def show_payment(payment: str, clerk: Annotated[Clerk, api(Action.PATIENT_READ)]) -> dict[str, Any]:
    """A payment: where its money went, and the lines its payer still owes on."""
    return shapes.payment(desk.show_payment(clerk.engine, parse_id("payment", payment)))


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: str
    amount: str


class NewAllocations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[Target] = []
    auto: bool = False

    def targets(self) -> tuple[payments.Target, ...]:
        return tuple(
            (parse_id("line", t.line, field="to"), cents_from_text(t.amount, field="to"))
            for t in self.to
        )


@router.post("/{payment}/allocations", status_code=201)
def allocate(
    payment: str,
    new: NewAllocations,
    clerk: Annotated[Clerk, api(Action.PAYMENT_ALLOCATE)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Apply a payment to the lines named, or (``auto``) to the oldest owing."""
    command = payments.Allocate(
        payment_id=parse_id("payment", payment), targets=new.targets(), auto=new.auto
    )
    made = payments.allocate(clerk.uow(), command, idempotency_key=idempotency_key)
    return JSONResponse(shapes.allocations(made), status_code=201)


class Unallocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allocation: str
    reason: str


def allocation_of(engine: Any, payment_id: int, allocation: str) -> int:
    """The allocation's id, if it is one of the payment's."""
    allocation_id = parse_id("allocation", allocation)
    if desk.allocation_payment(engine, allocation_id) != payment_id:
        raise NotFound(
            "allocation",
            f"{format_id('allocation', allocation_id)} of payment "
            f"{format_id('payment', payment_id)}",
            field="allocation",
        )
    return allocation_id


@router.post("/{payment}/unallocate")
def unallocate(
    payment: str,
    body: Unallocation,
    clerk: Annotated[Clerk, api(Action.PAYMENT_UNALLOCATE)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Undo one of the payment's allocations: its money is unallocated again."""
    allocation_id = allocation_of(clerk.engine, parse_id("payment", payment), body.allocation)
    entry_id = payments.unallocate(
        clerk.uow(),
        payments.Unallocate(allocation_id=allocation_id, reason=body.reason),
        idempotency_key=idempotency_key,
    )
    return entries.entry("allocation", allocation_id, entry_id)


class NewRefund(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str
    reason: str


@router.post("/{payment}/refund")
def refund(
    payment: str,
    body: NewRefund,
    clerk: Annotated[Clerk, api(Action.PAYMENT_REFUND)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Pay back part of a payment's unallocated money."""
    payment_id = parse_id("payment", payment)
    cents = cents_from_text(body.amount, field="amount")
    entry_id = payments.refund(
        clerk.uow(),
        payments.Refund(payment_id=payment_id, amount_cents=cents, reason=body.reason),
        idempotency_key=idempotency_key,
    )
    return entries.entry("payment", payment_id, entry_id, amount=format_cents(cents))


class Reversal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str


@router.post("/{payment}/reverse")
def reverse(
    payment: str,
    body: Reversal,
    clerk: Annotated[Clerk, api(Action.PAYMENT_REVERSE)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Undo a whole payment (a dishonoured cheque, a payment keyed twice)."""
    payment_id = parse_id("payment", payment)
    entry_id = payments.reverse_payment(
        clerk.uow(),
        payments.ReversePayment(payment_id=payment_id, reason=body.reason),
        idempotency_key=idempotency_key,
    )
    return entries.entry("payment", payment_id, entry_id)
