"""Invoices: create one of several lines (services, products, cancellation fees; a fee
left blank is the item's or product's), and an invoice's page (each line with its fee,
GST, what is paid and what is owing; its corrections, a button opening it to insurance or
closing it, its tax invoice as PDF).

The form works without JavaScript: it has :data:`ROWS` line rows and a row left without
a charge is ignored. It carries a one-time idempotency key, so that a form submitted
twice (a double click, a reload) posts one invoice."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData

from clinicledger.domain.choices import InsuranceStatus, LineKind, parse_choice
from clinicledger.domain.errors import IdempotencyConflict, InvalidInput, UserError
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action, may
from clinicledger.domain.text import parse_date
from clinicledger.services import desk, invoicing, masters
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import CSRF_FIELD, Clerk, page

ROWS = 5  # line rows of a new invoice's form (a script adds more)
KEY_FIELD = "idempotency_key"


class IdConvertor(Convertor[str]):
    """A path's id: ``INV-000012`` or ``12``, and nothing more, so that
    ``/invoices/INV-000012.pdf`` is left to the route of the PDF."""

    regex = r"(?:[A-Za-z]+-)?[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("ledger_id", IdConvertor())

router = APIRouter(include_in_schema=False)


def one_time_key() -> str:
    """A form's idempotency key: the same form posted twice posts once."""
    return f"form-{secrets.token_urlsafe(18)}"


def typed(form: FormData) -> dict[str, str]:
    """What a form sent, as text (its CSRF token aside)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}


def renew_key(values: dict[str, str], error: UserError) -> None:
    """A form refused because its key already posted something else (it was changed and
    sent again after it posted): opened again with a new key, so that sending it once
    more posts it as what it now says."""
    if isinstance(error, IdempotencyConflict):
        values[KEY_FIELD] = one_time_key()


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


def _choices(clerk: Clerk) -> tuple[dict[str, list[Choice]], dict[str, int]]:
    """What the form's lists offer: the active locations, payers, providers, and what a
    line can charge (items, products, a cancellation fee); and each charge's own fee,
    shown beside it."""
    engine = clerk.engine

    def listed(kind: str) -> list[Choice]:
        return [
            Choice(r.code, f"{r.code} · {r.values['name']}")
            for r in masters.list_masters(engine, kind).rows
        ]

    items = masters.list_masters(engine, "item").rows
    products = masters.list_masters(engine, "product").rows
    charges = [Choice(f"item:{r.code}", f"{r.code} {r.values['description']}") for r in items]
    charges += [
        Choice(f"product:{r.values['title']}", f"{r.values['title']} (product)") for r in products
    ]
    charges.append(Choice("cancellation", "Cancellation fee"))
    fees = {f"item:{r.code}": int(r.values["fee_cents"] or 0) for r in items}
    fees |= {f"product:{r.values['title']}": int(r.values["fee_cents"] or 0) for r in products}
    lists = {
        "locations": listed("location"),
        "payers": listed("payer"),
        "providers": listed("provider"),
        "charges": charges,
    }
    return lists, fees


def _form(
    request: Request,
    clerk: Clerk,
    values: dict[str, str],
    rows: int,
    error: UserError | None = None,
    error_at: str | None = None,
) -> HTMLResponse:
    lists, fees = _choices(clerk)
    context: dict[str, Any] = {
        "choices": lists,
        "fees": fees,
        "rows": rows,
        "error_at": error_at,
    }
    if error is not None:
        return form_page(request, clerk, "invoices/new.html", error, values=values, **context)
    return render(request, clerk, "invoices/new.html", values=values, **context)


@router.get("/invoices/new")
def new_invoice(
    request: Request, clerk: Annotated[Clerk, page(Action.INVOICE_CREATE)], patient: str = ""
) -> HTMLResponse:
    today = desk.today(clerk.engine, clerk.now).isoformat()
    values = {"patient": patient, KEY_FIELD: one_time_key()}
    locations = masters.list_masters(clerk.engine, "location").rows
    if len(locations) == 1:
        values["location"] = locations[0].code
    for n in range(1, ROWS + 1):
        values[f"line-{n}-date"] = today
    return _form(request, clerk, values, ROWS)


def _row_spec(values: dict[str, str], n: int, position: int) -> invoicing.LineSpec:
    """Row ``n`` of the form, the ``position``-th line of the invoice."""
    field = f"line {position}"
    charge = values.get(f"line-{n}-charge", "")
    kind_word, _, key = charge.partition(":")
    if kind_word not in ("item", "product", "cancellation"):
        raise InvalidInput(field, f"'{charge}' is not a charge of this form", code="line_malformed")
    kind = {"item": LineKind.SERVICE, "product": LineKind.PRODUCT}.get(
        kind_word, LineKind.CANCELLATION
    )
    date_text = values.get(f"line-{n}-date", "").strip()
    fee_text = values.get(f"line-{n}-fee", "").strip()
    provider = values.get(f"line-{n}-provider", "").strip()
    return invoicing.LineSpec(
        kind=kind,
        item_code=key if kind is LineKind.SERVICE else None,
        product_title=key if kind is LineKind.PRODUCT else None,
        provider_code=provider or None if kind is not LineKind.PRODUCT else None,
        service_date=parse_date(date_text, field=field)
        if date_text and kind is not LineKind.PRODUCT
        else None,
        fee_cents=cents_from_text(fee_text, field=field) if fee_text else None,
    )


@router.post("/invoices/new")
async def create_invoice(
    request: Request, clerk: Annotated[Clerk, page(Action.INVOICE_CREATE)]
) -> Response:
    values = typed(await request.form())
    rows = max(
        [ROWS]
        + [
            int(k.split("-")[1])
            for k in values
            if k.startswith("line-") and k.split("-")[1].isdigit()
        ]
    )
    used = [n for n in range(1, rows + 1) if values.get(f"line-{n}-charge", "").strip()]
    row_of = {f"line {position}": n for position, n in enumerate(used, 1)}
    try:
        specs = tuple(_row_spec(values, n, position) for position, n in enumerate(used, 1))
        command = invoicing.CreateInvoice(
            patient_code=values.get("patient", "").strip(),
            location_code=values.get("location", "").strip(),
            billed_to_code=values.get("billed_to", "").strip() or None,
            lines=specs,
        )
        made = invoicing.create_invoice(
            clerk.uow(), command, idempotency_key=values.get(KEY_FIELD) or None
        )
    except UserError as error:
        renew_key(values, error)
        at = f"line-{row_of[error.field]}" if error.field in row_of else error.field
        if error.field == "line":
            at = "line-1"
        return _form(request, clerk, values, rows, error, at)
    return RedirectResponse(f"/invoices/{format_id('invoice', made.number)}", 303)


def _invoice_page(
    request: Request, clerk: Clerk, found: desk.InvoiceView, error: UserError | None = None
) -> HTMLResponse:
    role = clerk.caller.role
    context: dict[str, Any] = {
        "invoice": found,
        "label": format_id("invoice", found.header.number),
        "may_correct": {
            "adjust": may(role, Action.LINE_ADJUST),
            "transfer": may(role, Action.LINE_TRANSFER),
            "delete": may(role, Action.LINE_DELETE),
            "unallocate": may(role, Action.PAYMENT_UNALLOCATE),
            "status": may(role, Action.LINE_STATUS),
        },
        "may_pay": may(role, Action.PAYMENT_RECORD),
        "may_invoice": may(role, Action.INVOICE_CREATE),
    }
    if error is not None:
        return form_page(request, clerk, "invoices/show.html", error, values={}, **context)
    return render(request, clerk, "invoices/show.html", **context)


@router.get("/invoices/{number:ledger_id}")
def invoice_page(
    request: Request, number: str, clerk: Annotated[Clerk, page(Action.PATIENT_READ)]
) -> HTMLResponse:
    return _invoice_page(
        request, clerk, desk.show_invoice(clerk.engine, parse_id("invoice", number))
    )


@router.post("/lines/{line:ledger_id}/status")
async def line_status(
    request: Request, line: str, clerk: Annotated[Clerk, page(Action.LINE_STATUS)]
) -> Response:
    """Open a line to insurance or close it; back to its invoice's page, where a refusal
    is shown above the lines."""
    line_id = parse_id("line", line)
    found, _ = desk.line_invoice(clerk.engine, line_id)
    values = typed(await request.form())
    try:
        insurance = parse_choice(
            InsuranceStatus, values.get("insurance", ""), field="insurance", either=True
        )
        invoicing.set_insurance_status(
            clerk.uow(), invoicing.SetInsuranceStatus(line_id=line_id, status=insurance)
        )
    except UserError as error:
        return _invoice_page(request, clerk, found, error)  # nothing was written
    label = format_id("invoice", found.header.number)
    return RedirectResponse(f"/invoices/{label}#{format_id('line', line_id)}", 303)
