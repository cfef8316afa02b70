"""``/api/v1/invoices/{number}/pdf`` and ``/api/v1/payments/{payment}/receipt``: the tax invoice
and the payment receipt as PDF (``application/pdf``), as ``clinicledger invoice print`` and
``payment receipt`` write them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import Response

from clinicledger.domain.permissions import Action
from clinicledger.render.pdf import MEDIA_TYPE
from clinicledger.services import documents
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(tags=["documents"], responses=ERRORS)
PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "The PDF", "content": {MEDIA_TYPE: {}}}
}


@router.get("/invoices/{number}/pdf", response_class=Response, responses=PDF)
def invoice_pdf(number: str, clerk: Annotated[Clerk, api(Action.PATIENT_READ)]) -> Response:
    """The invoice (``INV-000042`` or ``42``) as printed: a tax invoice where GST was
    charged, each line with its GST, the totals, what is paid and what is owing."""
    found = documents.tax_invoice(clerk.engine, number)
    letterhead = documents.letterhead(clerk.engine, now=clerk.now)
    return Response(documents.invoice_pdf(found, letterhead), media_type=MEDIA_TYPE)


@router.get("/payments/{payment}/receipt", response_class=Response, responses=PDF)
def payment_receipt(payment: str, clerk: Annotated[Clerk, api(Action.PATIENT_READ)]) -> Response:
    """The payment's (``PAY-000042`` or ``42``) receipt as printed."""
    found = documents.payment_receipt(clerk.engine, payment)
    letterhead = documents.letterhead(clerk.engine, now=clerk.now)
    return Response(documents.receipt_pdf(found, letterhead), media_type=MEDIA_TYPE)
