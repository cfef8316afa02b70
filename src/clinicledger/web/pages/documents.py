"""The practice's printed documents, from the invoice and payment screens: the tax invoice
at ``/invoices/{number}.pdf`` and the payment receipt at ``/payments/{payment}/receipt.pdf``,
as ``clinicledger invoice print`` and ``payment receipt`` print them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response

from clinicledger.domain.permissions import Action
from clinicledger.render.pdf import MEDIA_TYPE
from clinicledger.services import documents
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)


def pdf_response(data: bytes, filename: str, *, attachment: bool = False) -> Response:
    shown = "attachment" if attachment else "inline"
    return Response(
        data,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'{shown}; filename="{filename}"'},
    )


@router.get("/invoices/{number}.pdf")
def invoice_pdf(number: str, clerk: Annotated[Clerk, page(Action.PATIENT_READ)]) -> Response:
    found = documents.tax_invoice(clerk.engine, number)
    letterhead = documents.letterhead(clerk.engine, now=clerk.now)
    return pdf_response(documents.invoice_pdf(found, letterhead), f"{found.number}.pdf")


@router.get("/payments/{payment}/receipt.pdf")
def receipt_pdf(payment: str, clerk: Annotated[Clerk, page(Action.PATIENT_READ)]) -> Response:
    found = documents.payment_receipt(clerk.engine, payment)
    letterhead = documents.letterhead(clerk.engine, now=clerk.now)
    return pdf_response(documents.receipt_pdf(found, letterhead), f"{found.number}-receipt.pdf")
