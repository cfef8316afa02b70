"""The practice's printed documents: the tax invoice and the payment receipt, and what every
printed page is headed with (the letterhead: the practice's name and ABN, how it shows
money and dates, in its currency and time zone, and the moment it is printed). Read in one
consistent view; printed by WeasyPrint from ``render/templates/pdf/``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from clinicledger.domain.errors import NotFound
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.records import PracticeRecord
from clinicledger.render.html import Formats
from clinicledger.render.pdf import Letterhead, html_to_pdf, render_html
from clinicledger.store import documents, lookups
from clinicledger.store.documents import InvoiceRecord, Party, PaymentDocumentRecord
from clinicledger.store.engine import Engine
from clinicledger.store.uow import reading


def letterhead(engine: Engine, *, now: dt.datetime) -> Letterhead:
    """The letterhead of a page printed at ``now`` (aware, or the practice's local time),
    in the practice's locale, currency and time zone."""
    with reading(engine) as conn:
        practice = lookups.require_practice(conn)
        printed_at = lookups.practice_instant(conn, now).replace(tzinfo=dt.UTC)
    return Letterhead(
        practice=practice,
        formats=Formats(
            locale=practice.locale, currency=practice.currency, zone=ZoneInfo(practice.timezone)
        ),
        printed_at=printed_at,
    )


# ---------------------------------------------------------------- the tax invoice


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxInvoice:
    """An invoice as the practice prints it. It is a tax invoice (ATO: the words "tax
    invoice", the seller's name and ABN, the date, each item with its price and GST, and
    which items are taxable) when a GST-registered practice charged GST on a line of it;
    otherwise an invoice, which says that no GST was charged."""

    invoice: InvoiceRecord
    practice: PracticeRecord

    @property
    def taxable(self) -> bool:
        return self.practice.gst_registered and any(line.gst_cents for line in self.invoice.lines)

    @property
    def title(self) -> str:
        return "Tax invoice" if self.taxable else "Invoice"

    @property
    def number(self) -> str:
        return format_id("invoice", self.invoice.number)

    @property
    def total_cents(self) -> int:
        return sum(line.fee_cents for line in self.invoice.lines)

    @property
    def gst_cents(self) -> int:
        return sum(line.gst_cents for line in self.invoice.lines)

    @property
    def paid_cents(self) -> int:
        return sum(line.paid_cents for line in self.invoice.lines)

    @property
    def owing_cents(self) -> int:
        return sum(line.owing_cents for line in self.invoice.lines)


def tax_invoice(engine: Engine, invoice: str) -> TaxInvoice:
    """The invoice ``invoice`` (``INV-000042`` or ``42``) as it is printed."""
    number = parse_id("invoice", invoice)
    with reading(engine) as conn:
        practice = lookups.require_practice(conn)
        found = documents.invoice(conn, number)
    if found is None:
        raise NotFound("invoice", format_id("invoice", number), field="invoice")
    return TaxInvoice(invoice=found, practice=practice)


# ---------------------------------------------------------------- the payment receipt


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReceipt:
    payment: PaymentDocumentRecord
    practice: PracticeRecord

    @property
    def number(self) -> str:
        return format_id("payment", self.payment.id)

    @property
    def received_from(self) -> Party | None:
        return self.payment.patient or self.payment.payer

    @property
    def applied_cents(self) -> int:
        return sum(a.amount_cents for a in self.payment.applied)


def payment_receipt(engine: Engine, payment: str) -> PaymentReceipt:
    """The receipt of payment ``payment`` (``PAY-000042`` or ``42``)."""
    payment_id = parse_id("payment", payment)
    with reading(engine) as conn:
        practice = lookups.require_practice(conn)
        found = documents.payment(conn, payment_id)
    if found is None:
        raise NotFound("payment", format_id("payment", payment_id), field="payment")
    return PaymentReceipt(payment=found, practice=practice)


def invoice_pdf(document: TaxInvoice, letterhead: Letterhead) -> bytes:
    return html_to_pdf(render_html("pdf/invoice.html", letterhead, document=document))


def receipt_pdf(document: PaymentReceipt, letterhead: Letterhead) -> bytes:
    return html_to_pdf(render_html("pdf/receipt.html", letterhead, document=document))
