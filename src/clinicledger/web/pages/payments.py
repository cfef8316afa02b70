"""Payments: record one (from a patient or a payer), allocate it (the payer's open lines
with what each still owes, amounts typed or applied oldest first, what is left shown as
it is typed, a refusal beside the line it is about), and a payment's page (where its
money went, its corrections, its receipt as PDF).

Each form carries a one-time idempotency key, so that a form submitted twice posts once.
The allocation form works without JavaScript: what is left is shown again after it is
submitted; ``static/allocate.js`` keeps it up to date as amounts are typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicledger.domain.choices import PaymentMethod, parse_choice
from clinicledger.domain.errors import InvalidInput, OverAllocation, UserError
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action, may
from clinicledger.domain.text import parse_date
from clinicledger.services import desk, masters, payments
from clinicledger.services.desk import PaymentView
from clinicledger.web.errors import form_page
from clinicledger.web.pages.invoices import KEY_FIELD, Choice, one_time_key, renew_key, typed
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)

FIELDS = ("from", "amount", "method", "received", "location", "reference", "fee", "note")


def _new_context(clerk: Clerk) -> dict[str, Any]:
    return {
        "methods": [Choice(m.value, m.value) for m in PaymentMethod],
        "locations": [
            Choice(r.code, f"{r.code} · {r.values['name']}")
            for r in masters.list_masters(clerk.engine, "location").rows
        ],
    }


@router.get("/payments/new")
def new_payment(
    request: Request,
    clerk: Annotated[Clerk, page(Action.PAYMENT_RECORD)],
    patient: str = "",
    payer: str = "",
) -> HTMLResponse:
    values = {
        "from": patient or payer,
        "received": desk.today(clerk.engine, clerk.now).isoformat(),
        KEY_FIELD: one_time_key(),
    }
    context = _new_context(clerk)
    locations = context["locations"]
    if len(locations) == 1:
        values["location"] = locations[0].value
    return render(request, clerk, "payments/new.html", values=values, **context)


@router.post("/payments/new")
async def record_payment(
    request: Request, clerk: Annotated[Clerk, page(Action.PAYMENT_RECORD)]
) -> Response:
    values = typed(await request.form())
    got = {name: values.get(name, "").strip() for name in FIELDS}
    try:
        command = payments.RecordPayment(
            from_code=got["from"],
            amount_cents=cents_from_text(got["amount"], field="amount"),
            method=parse_choice(PaymentMethod, got["method"], field="method"),
            received_date=parse_date(got["received"], field="received"),
            location_code=got["location"],
            reference=got["reference"] or None,
            processor_fee_cents=cents_from_text(got["fee"], field="fee", allow_zero=True)
            if got["fee"]
            else None,
            note=got["note"] or None,
        )
        made = payments.record_payment(
            clerk.uow(), command, idempotency_key=values.get(KEY_FIELD) or None
        )
    except UserError as error:
        renew_key(values, error)
        return form_page(
            request, clerk, "payments/new.html", error, values=values, **_new_context(clerk)
        )
    return RedirectResponse(f"/payments/{format_id('payment', made)}/allocate", 303)


@router.get("/payments/{payment:ledger_id}")
def payment_page(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PATIENT_READ)]
) -> HTMLResponse:
    found = desk.show_payment(clerk.engine, parse_id("payment", payment))
    role = clerk.caller.role
    return render(
        request,
        clerk,
        "payments/show.html",
        payment=found,
        label=format_id("payment", found.header.id),
        may={
            "allocate": may(role, Action.PAYMENT_ALLOCATE),
            "unallocate": may(role, Action.PAYMENT_UNALLOCATE),
            "refund": may(role, Action.PAYMENT_REFUND),
            "reverse": may(role, Action.PAYMENT_REVERSE),
        },
    )


def typed_total(values: dict[str, str]) -> int:
    """What the typed amounts add up to (those that are amounts)."""
    total = 0
    for name, text in values.items():
        if name.startswith("to-") and text.strip():
            try:
                total += cents_from_text(text, field=name)
            except InvalidInput:
                continue
    return total


def typed_targets(values: dict[str, str]) -> tuple[payments.Target, ...]:
    """The amounts typed beside the lines (fields ``to-L-...``)."""
    return tuple(
        (parse_id("line", name.removeprefix("to-"), field=name), cents_from_text(text, field=name))
        for name, text in values.items()
        if name.startswith("to-") and text.strip()
    )


def refused_at(error: UserError) -> str | None:
    """Where a refusal of the allocation form is shown: beside the line it is about."""
    if isinstance(error, OverAllocation) and error.line_id is not None:
        return f"to-{format_id('line', error.line_id)}"
    return error.field


def _allocation_form(
    request: Request,
    clerk: Clerk,
    found: PaymentView,
    values: dict[str, str],
    error: UserError | None = None,
    error_at: str | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "payment": found,
        "label": format_id("payment", found.header.id),
        "typed_cents": typed_total(values),
        "error_at": error_at,
    }
    if error is not None:
        return form_page(request, clerk, "payments/allocate.html", error, values=values, **context)
    return render(request, clerk, "payments/allocate.html", values=values, **context)


@router.get("/payments/{payment:ledger_id}/allocate")
def allocation_page(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_ALLOCATE)]
) -> HTMLResponse:
    found = desk.show_payment(clerk.engine, parse_id("payment", payment))
    return _allocation_form(request, clerk, found, {KEY_FIELD: one_time_key()})


@router.post("/payments/{payment:ledger_id}/allocate")
async def allocate(
    request: Request, payment: str, clerk: Annotated[Clerk, page(Action.PAYMENT_ALLOCATE)]
) -> Response:
    payment_id = parse_id("payment", payment)
    values = typed(await request.form())
    auto = values.get("action") == "auto"
    try:
        payments.allocate(
            clerk.uow(),
            payments.Allocate(
                payment_id=payment_id, targets=() if auto else typed_targets(values), auto=auto
            ),
            idempotency_key=values.get(KEY_FIELD) or None,
        )
    except UserError as error:
        renew_key(values, error)
        found = desk.show_payment(clerk.engine, payment_id)
        return _allocation_form(request, clerk, found, values, error, refused_at(error))
    return RedirectResponse(f"/payments/{format_id('payment', payment_id)}", 303)
