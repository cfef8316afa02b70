"""``/api/v1/invoices``: create an invoice of several lines, and show one; the same
objects as ``clinicledger --json invoice create|show``. A create sent with an
``Idempotency-Key`` header posts once: a retry with the same key and body answers the
first invoice again; the same key with another body is refused (409
``idempotency_conflict``, naming the field that differs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from clinicledger.domain.choices import LineKind
from clinicledger.domain.ids import parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action
from clinicledger.domain.text import parse_date
from clinicledger.services import desk, invoicing
from clinicledger.shapes import invoices as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/invoices", tags=["invoices"], responses=ERRORS)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Post once: a retry with the same key and body answers the first result",
    ),
]


class NewLine(BaseModel):
    """One line: a service (``item``, ``provider``, ``date``), a product (``product``, its
    title) or a cancellation (``provider``, ``date``, ``fee``). A service's or product's
    fee defaults to the item's or product's."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["service", "product", "cancellation"] = "service"
    item: str | None = None
    product: str | None = None
    provider: str | None = None
    date: str | None = None
    fee: str | None = None
    client_billable: bool = True
    insurance: Literal["open", "closed"] = "closed"
    inpatient: bool = False


class NewInvoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient: str
    location: str
    billed_to: str | None = None
    lines: list[NewLine]


def line_spec(line: NewLine, n: int) -> invoicing.LineSpec:
    """A line as the use case takes it; a refusal names the line by position."""
    field = f"line {n}"
    return invoicing.LineSpec(
        kind=LineKind(line.kind),
        item_code=line.item,
        product_title=line.product,
        provider_code=line.provider,
        service_date=parse_date(line.date, field=field) if line.date else None,
        fee_cents=cents_from_text(line.fee, field=field) if line.fee else None,
        client_billable=line.client_billable,
        insurance_open=line.insurance == "open",
        inpatient=line.inpatient,
    )


def create_command(new: NewInvoice) -> invoicing.CreateInvoice:
    return invoicing.CreateInvoice(
        patient_code=new.patient,
        location_code=new.location,
        billed_to_code=new.billed_to or None,
        lines=tuple(line_spec(line, n) for n, line in enumerate(new.lines, 1)),
    )


@router.post("", status_code=201)
def create_invoice(
    new: NewInvoice,
    clerk: Annotated[Clerk, api(Action.INVOICE_CREATE)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Charge a patient for one or more lines."""
    made = invoicing.create_invoice(
        clerk.uow(), create_command(new), idempotency_key=idempotency_key
    )
    return JSONResponse(shapes.created(made), status_code=201)


@router.get("/{number}")
def show_invoice(number: str, clerk: Annotated[Clerk, api(Action.PATIENT_READ)]) -> dict[str, Any]:
    """An invoice: its lines with fee, GST, what is paid and what each party owes."""
    return shapes.invoice(desk.show_invoice(clerk.engine, parse_id("invoice", number)))
