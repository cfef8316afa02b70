"""``/api/v1/lines/{line}/...``: a line's insurance status and its corrections (adjust,
transfer the gap to the patient, delete); the same objects as ``clinicledger --json line
status|adjust|transfer|delete``. Every POST takes an ``Idempotency-Key`` header, as the
payments' do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from clinicledger.domain.choices import AdjustmentReason, InsuranceStatus, parse_choice
from clinicledger.domain.ids import parse_id
from clinicledger.domain.money import cents_from_text, format_cents
from clinicledger.domain.permissions import Action
from clinicledger.services import invoicing
from clinicledger.shapes import entries
from clinicledger.shapes import invoices as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.api.invoices import IdempotencyKey
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/lines", tags=["lines"], responses=ERRORS)


class Status(BaseModel):
    model_config = ConfigDict(extra="forbid")

    insurance: str  # open|closed


@router.post("/{line}/status")
def status(
    line: str,
    body: Status,
    clerk: Annotated[Clerk, api(Action.LINE_STATUS)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Open a line to insurance (a claim is pending on it), or close it."""
    line_id = parse_id("line", line)
    insurance = parse_choice(InsuranceStatus, body.insurance, field="insurance", either=True)
    invoicing.set_insurance_status(
        clerk.uow(),
        invoicing.SetInsuranceStatus(line_id=line_id, status=insurance),
        idempotency_key=idempotency_key,
    )
    return shapes.insurance_status(line_id, insurance.value)


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str
    reason: str  # write-off|discount|fee-correction|bad-debt|small-balance
    note: str | None = None
    patient_portion: bool = False


@router.post("/{line}/adjust")
def adjust(
    line: str,
    body: Adjustment,
    clerk: Annotated[Clerk, api(Action.LINE_ADJUST)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Take an amount off what a line owes (write-off, discount, fee correction)."""
    line_id = parse_id("line", line)
    cents = cents_from_text(body.amount, field="amount")
    entry_id = invoicing.adjust_line(
        clerk.uow(),
        invoicing.AdjustLine(
            line_id=line_id,
            amount_cents=cents,
            reason=parse_choice(AdjustmentReason, body.reason, field="reason"),
            note=body.note or None,
            patient_portion=body.patient_portion,
        ),
        idempotency_key=idempotency_key,
    )
    return entries.entry("line", line_id, entry_id, amount=format_cents(cents))


class NewTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str
    reason: str
    to_patient: bool = False


@router.post("/{line}/transfer")
def transfer(
    line: str,
    body: NewTransfer,
    clerk: Annotated[Clerk, api(Action.LINE_TRANSFER)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Move part of a payer's portion of a line to the patient (the gap)."""
    line_id = parse_id("line", line)
    cents = cents_from_text(body.amount, field="amount")
    entry_id = invoicing.transfer(
        clerk.uow(),
        invoicing.Transfer(
            line_id=line_id, amount_cents=cents, reason=body.reason, to_patient=body.to_patient
        ),
        idempotency_key=idempotency_key,
    )
    return entries.entry("line", line_id, entry_id, amount=format_cents(cents))


class Deletion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str
    cascade: bool = False


@router.post("/{line}/delete")
def delete(
    line: str,
    body: Deletion,
    clerk: Annotated[Clerk, api(Action.LINE_DELETE)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Delete a line keyed in error (its charge is reversed; nothing is erased); with
    ``cascade``, the payments applied to it are un-allocated first."""
    line_id = parse_id("line", line)
    entry_id = invoicing.delete_line(
        clerk.uow(),
        invoicing.DeleteLine(line_id=line_id, reason=body.reason, cascade=body.cascade),
        idempotency_key=idempotency_key,
    )
    return entries.entry("line", line_id, entry_id)
