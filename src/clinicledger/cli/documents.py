"""``invoice print INV --output FILE.pdf`` and ``payment receipt PAY --output FILE.pdf``: the
tax invoice and the payment receipt, printed as the web app prints them
(``services/documents.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import later, needs, settings
from clinicledger.cli.invoices import invoice_app
from clinicledger.cli.output import out
from clinicledger.cli.payments import payment_app
from clinicledger.domain.permissions import Action
from clinicledger.render.files import Output, write_whole

if TYPE_CHECKING:
    from clinicledger.services import documents
else:
    documents = later("clinicledger.services.documents")  # WeasyPrint's: only to print

PdfFile = Annotated[str, typer.Option(metavar="FILE.pdf", help="The PDF file to write")]


def _written(path: str, data: bytes, number: str) -> None:
    write_whole([Output(path=path, data=data, field="output")])
    out({"printed": number, "output": path, "bytes": len(data)}, f"printed {number} to {path}")


@invoice_app.command("print")
@needs(Action.PATIENT_READ)
def invoice_print(
    invoice: Annotated[str, typer.Argument(metavar="INVOICE", help="The invoice, e.g. INV-000042")],
    output: PdfFile,
) -> None:
    """Print an invoice as PDF: a tax invoice where GST was charged, with each line's GST,
    the totals, what is paid and what is owing."""
    found = documents.tax_invoice(settings.engine, invoice)
    letterhead = documents.letterhead(settings.engine, now=settings.clock())
    _written(output, documents.invoice_pdf(found, letterhead), found.number)


@payment_app.command("receipt")
@needs(Action.PATIENT_READ)
def payment_receipt(
    payment: Annotated[str, typer.Argument(metavar="PAYMENT", help="The payment, e.g. PAY-000042")],
    output: PdfFile,
) -> None:
    """Print a payment's receipt as PDF: who paid, how much and how, and where it went."""
    found = documents.payment_receipt(settings.engine, payment)
    letterhead = documents.letterhead(settings.engine, now=settings.clock())
    _written(output, documents.receipt_pdf(found, letterhead), found.number)
