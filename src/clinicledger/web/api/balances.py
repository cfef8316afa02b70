"""``/api/v1/balances``: the same object as ``clinicledger --json balance``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from clinicledger.domain.permissions import Action
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
    found = balances.asked_balance(
        clerk.engine,
        patient=patient,
        payer=payer,
        invoice=invoice,
        line=line,
        as_of=as_of,
        as_known_at=as_known_at,
    )
    return shapes.balance(found)
