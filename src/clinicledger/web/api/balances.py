"""``/api/v1/balances``: the same object as ``clinicledger --json balance``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from clinicledger.domain.ids import parse_id
from clinicledger.domain.permissions import Action
from clinicledger.domain.text import parse_date, parse_instant
from clinicledger.services import balances
from clinicledger.shapes import balances as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/balances", tags=["balances"], responses=ERRORS)


@router.get("")
def balance(
    clerk: Annotated[Clerk, api(Action.BALANCE_READ)],
    patient: str | None = None,
    payer: str | None = None,
    invoice: str | None = None,
    line: str | None = None,
    as_of: str | None = None,
    as_known_at: str | None = None,
) -> dict[str, Any]:
    """The balance of exactly one of a patient, a payer, an invoice or a line, as of a
    date and as known at a moment (a naive one is the practice's local time)."""
    subject, key = shapes.subject_of(patient=patient, payer=payer, invoice=invoice, line=line)
    when = parse_date(as_of, field="as_of") if as_of else None
    view = balances.balance(
        clerk.engine,
        patient_code=patient,
        payer_code=payer,
        invoice_number=parse_id("invoice", invoice) if invoice else None,
        line_id=parse_id("line", line) if line else None,
        as_of=when,
        as_known_at=parse_instant(as_known_at, field="as_known_at") if as_known_at else None,
    )
    return shapes.balance(view, subject=subject, key=key, as_of=when)
