"""Invoices as ``invoice create|show`` print them and ``/api/v1/invoices`` returns them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinicledger.domain.ids import format_id
from clinicledger.domain.money import format_cents
from clinicledger.shapes.accounts import line

if TYPE_CHECKING:  # a shape is built on every start-up path: it loads no database library
    from clinicledger.services.desk import InvoiceView
    from clinicledger.services.invoicing import CreatedInvoice


def created(invoice: CreatedInvoice) -> dict[str, Any]:
    """The answer of ``invoice create``: the invoice, its total, and each line made."""
    return {
        "id": format_id("invoice", invoice.number),
        "number": invoice.number,
        "total": format_cents(invoice.total_cents),
        "lines": [
            {
                "id": format_id("line", c.id),
                "kind": c.kind.value,
                "amount": format_cents(c.amount_cents),
                "gst": format_cents(c.gst_cents),
                "service_date": c.service_date.isoformat() if c.service_date else None,
            }
            for c in invoice.lines
        ],
    }


def invoice(found: InvoiceView) -> dict[str, Any]:
    """``invoice show``: who it is for and billed to, its totals, and every line (deleted
    ones too, marked) with its fee, GST, what is paid and what each party owes, and the
    payments applied to its lines."""
    header = found.header
    return {
        "id": format_id("invoice", header.number),
        "number": header.number,
        "invoice_date": header.invoice_date.isoformat(),
        "patient": None
        if header.patient_code is None
        else {"code": header.patient_code, "name": header.patient_name},
        "billed_to": None
        if header.billed_to_code is None
        else {"code": header.billed_to_code, "name": header.billed_to_name},
        "location": header.location_code,
        "total": format_cents(found.total_cents),
        "gst": format_cents(found.gst_cents),
        "paid": format_cents(found.paid_cents),
        "adjusted": format_cents(found.adjusted_cents),
        "owing": format_cents(found.owing_cents),
        "patient_owing": format_cents(found.patient_owing_cents),
        "payer_owing": format_cents(found.payer_owing_cents),
        "lines": [line(item) for item in found.lines],
        "allocations": [
            {
                "id": format_id("allocation", a.id),
                "line": format_id("line", a.line_id),
                "payment": format_id("payment", a.payment_id),
                "amount": format_cents(a.amount_cents),
            }
            for a in found.allocations
        ],
    }


def insurance_status(line_id: int, status: str) -> dict[str, Any]:
    """A line opened to insurance or closed (``line status``)."""
    return {"id": format_id("line", line_id), "insurance": status}
