"""Corrections, for billing: un-allocate, refund and reverse a payment; adjust a line
(write-off, discount, fee correction), move its gap to the patient, delete it (with the
payments applied to it, if asked). Each asks for its reason, is reached from the payment's
or the invoice's page, and goes back there when done. Each form carries a one-time
idempotency key, so that a form submitted twice posts once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicledger.domain.choices import AdjustmentReason, parse_choice
from clinicledger.domain.errors import NotFound, UserError
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action
from clinicledger.services import desk, invoicing, payments
from clinicledger.web.errors import form_page
from clinicledger.web.pages.invoices import KEY_FIELD, Choice, one_time_key, renew_key, typed
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | select | check
    hint: str = ""
    options: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class Correction:
    """One correction's form: its title, what it asks, its button, and a word of what
    it does."""

    title: str
    fields: tuple[Field, ...]
    button: str
    warning: str = ""


REASON = Field("reason", "Reason", hint="Why: kept with the entry, shown in the adjustments report")
AMOUNT = Field("amount", "Amount", hint="e.g. 30.00")


def _show(
    request: Request,
    clerk: Clerk,
    correction: Correction,
    subject: dict[str, Any],
    values: dict[str, str],
    error: UserError | None = None,
) -> HTMLResponse:
    context = {"correction": correction, **subject}
    if error is not None:
        return form_page(request, clerk, "corrections/form.html", error, values=values, **context)
    return render(request, clerk, "corrections/form.html", values=values, **context)


def _done(
    request: Request,
    clerk: Clerk,
    correction: Correction,
    subject: dict[str, Any],
    values: dict[str, str],
    apply: Callable[[str | None], None],
    back: str,
) -> Response:
    try:
        apply(values.get(KEY_FIELD) or None)
    except UserError as error:
        renew_key(values, error)
        return _show(request, clerk, correction, subject, values, error)
    return RedirectResponse(back, 303)


# ---------------------------------------------------------------- a payment's corrections


def _payment(clerk: Clerk, payment: str) -> dict[str, Any]:
    found = desk.show_payment(clerk.engine, parse_id("payment", payment))
    label = format_id("payment", found.header.id)
    return {"payment": found, "line": None, "invoice": None, "back": f"/payments/{label}"}


REFUND = Correction(
    "Refund part of a payment",
    (AMOUNT, REASON),
    "Refund",
    warning="Only money not applied to a line can be paid back: un-allocate first if need be.",
)
REVERSE = Correction(
    "Reverse a payment",
    (REASON,),
    "Reverse the whole payment",
    warning="A dishonoured cheque or a payment keyed twice: its allocations are undone, "
    "then the payment itself.",
)


@router.get("/payments/{payment:ledger_id}/refund")
def refund_form(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_REFUND)]
) -> HTMLResponse:
    return _show(request, clerk, REFUND, _payment(clerk, payment), {KEY_FIELD: one_time_key()})


@router.post("/payments/{payment:ledger_id}/refund")
async def refund(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_REFUND)]
) -> Response:
    subject = _payment(clerk, payment)
    values = typed(await request.form())

    def apply(key: str | None) -> None:
        payments.refund(
            clerk.uow(),
            payments.Refund(
                payment_id=subject["payment"].header.id,
                amount_cents=cents_from_text(values.get("amount", ""), field="amount"),
                reason=values.get("reason", ""),
            ),
            idempotency_key=key,
        )

    return _done(request, clerk, REFUND, subject, values, apply, subject["back"])


@router.get("/payments/{payment:ledger_id}/reverse")
def reverse_form(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_REVERSE)]
) -> HTMLResponse:
    return _show(request, clerk, REVERSE, _payment(clerk, payment), {KEY_FIELD: one_time_key()})


@router.post("/payments/{payment:ledger_id}/reverse")
async def reverse(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_REVERSE)]
) -> Response:
    subject = _payment(clerk, payment)
    values = typed(await request.form())

    def apply(key: str | None) -> None:
        payments.reverse_payment(
            clerk.uow(),
            payments.ReversePayment(
                payment_id=subject["payment"].header.id, reason=values.get("reason", "")
            ),
            idempotency_key=key,
        )

    return _done(request, clerk, REVERSE, subject, values, apply, subject["back"])


def _unallocation(subject: dict[str, Any]) -> Correction:
    choices = tuple(
        Choice(
            format_id("allocation", a.allocation_id),
            f"{format_id('allocation', a.allocation_id)} · {format_id('line', a.line.id)} "
            f"{a.line.description}",
        )
        for a in subject["payment"].allocations
    )
    return Correction(
        "Un-allocate",
        (Field("allocation", "Allocation", kind="select", options=choices), REASON),
        "Un-allocate",
        warning="The money goes back to the payment, unallocated; the line owes it again.",
    )


@router.get("/payments/{payment:ledger_id}/unallocate")
def unallocate_form(
    request: Request,
    payment: str,
    clerk: Annotated[Clerk, page(Action.PAYMENT_UNALLOCATE)],
    allocation: str = "",
) -> HTMLResponse:
    subject = _payment(clerk, payment)
    values = {"allocation": allocation, KEY_FIELD: one_time_key()}
    return _show(request, clerk, _unallocation(subject), subject, values)


@router.post("/payments/{payment:ledger_id}/unallocate")
async def unallocate(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_UNALLOCATE)]
) -> Response:
    subject = _payment(clerk, payment)
    values = typed(await request.form())
    payment_id = subject["payment"].header.id

    def apply(key: str | None) -> None:
        allocation_id = parse_id("allocation", values.get("allocation", ""))
        if desk.allocation_payment(clerk.engine, allocation_id) != payment_id:
            raise NotFound(
                "allocation",
                f"{format_id('allocation', allocation_id)} of payment "
                f"{format_id('payment', payment_id)}",
                field="allocation",
            )
        payments.unallocate(
            clerk.uow(),
            payments.Unallocate(allocation_id=allocation_id, reason=values.get("reason", "")),
            idempotency_key=key,
        )

    return _done(request, clerk, _unallocation(subject), subject, values, apply, subject["back"])


# ---------------------------------------------------------------- a line's corrections


def _line(clerk: Clerk, line: str) -> dict[str, Any]:
    invoice, found = desk.line_invoice(clerk.engine, parse_id("line", line))
    number = format_id("invoice", invoice.header.number)
    return {"payment": None, "line": found, "invoice": invoice, "back": f"/invoices/{number}"}


def _adjustment(subject: dict[str, Any]) -> Correction:
    fields = [
        AMOUNT,
        Field(
            "reason",
            "Reason",
            kind="select",
            options=tuple(Choice(r.value, r.value) for r in AdjustmentReason),
        ),
        Field("note", "Note", hint="What happened (optional; kept with the entry)"),
    ]
    if subject["invoice"].header.billed_to_code:
        fields.append(
            Field(
                "patient_portion",
                "Adjust the patient's portion (the gap), not the payer's",
                kind="check",
            )
        )
    return Correction(
        "Adjust a line", tuple(fields), "Adjust",
        warning="Takes the amount off what the line owes: a write-off, a discount, a fee "
        "correction.",
    )  # fmt: skip


TRANSFER = Correction(
    "Move the gap to the patient",
    (AMOUNT, REASON),
    "Move to the patient",
    warning="Part of what the payer owes on this line becomes the patient's to pay.",
)
DELETE = Correction(
    "Delete a line",
    (
        REASON,
        Field(
            "cascade",
            "Un-allocate the payments applied to it first",
            kind="check",
            hint="Without it, a line with payments applied is refused",
        ),
    ),
    "Delete the line",
    warning="For a line keyed in error: its charge is reversed; nothing is erased.",
)


@router.get("/lines/{line:ledger_id}/adjust")
def adjust_form(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_ADJUST)]
) -> HTMLResponse:
    subject = _line(clerk, line)
    values = {"reason": "write-off", KEY_FIELD: one_time_key()}
    return _show(request, clerk, _adjustment(subject), subject, values)


@router.post("/lines/{line:ledger_id}/adjust")
async def adjust(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_ADJUST)]
) -> Response:
    subject = _line(clerk, line)
    values = typed(await request.form())

    def apply(key: str | None) -> None:
        invoicing.adjust_line(
            clerk.uow(),
            invoicing.AdjustLine(
                line_id=subject["line"].id,
                amount_cents=cents_from_text(values.get("amount", ""), field="amount"),
                reason=parse_choice(AdjustmentReason, values.get("reason", ""), field="reason"),
                note=values.get("note", "").strip() or None,
                patient_portion=bool(values.get("patient_portion")),
            ),
            idempotency_key=key,
        )

    return _done(request, clerk, _adjustment(subject), subject, values, apply, subject["back"])


@router.get("/lines/{line:ledger_id}/transfer")
def transfer_form(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_TRANSFER)]
) -> HTMLResponse:
    return _show(request, clerk, TRANSFER, _line(clerk, line), {KEY_FIELD: one_time_key()})


@router.post("/lines/{line:ledger_id}/transfer")
async def transfer(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_TRANSFER)]
) -> Response:
    subject = _line(clerk, line)
    values = typed(await request.form())

    def apply(key: str | None) -> None:
        invoicing.transfer(
            clerk.uow(),
            invoicing.Transfer(
                line_id=subject["line"].id,
                amount_cents=cents_from_text(values.get("amount", ""), field="amount"),
                reason=values.get("reason", ""),
                to_patient=True,
            ),
            idempotency_key=key,
        )

    return _done(request, clerk, TRANSFER, subject, values, apply, subject["back"])


@router.get("/lines/{line:ledger_id}/delete")
def delete_form(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_DELETE)]
) -> HTMLResponse:
    return _show(request, clerk, DELETE, _line(clerk, line), {KEY_FIELD: one_time_key()})


@router.post("/lines/{line:ledger_id}/delete")
async def delete(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_DELETE)]
) -> Response:
    subject = _line(clerk, line)
    values = typed(await request.form())

    def apply(key: str | None) -> None:
        invoicing.delete_line(
            clerk.uow(),
            invoicing.DeleteLine(
                line_id=subject["line"].id,
                reason=values.get("reason", ""),
                cascade=bool(values.get("cascade")),
            ),
            idempotency_key=key,
        )

    return _done(request, clerk, DELETE, subject, values, apply, subject["back"])
