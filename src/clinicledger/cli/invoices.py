"""``invoice create`` and the corrections of a line: ``line status|adjust|transfer|delete``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import IdempotencyKey, later, needs, settings, sub_app
from clinicledger.cli.output import entry_done, money, out
from clinicledger.cli.parse import parse_line_spec, words
from clinicledger.domain.choices import AdjustmentReason, InsuranceStatus, parse_choice
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action
from clinicledger.shapes import invoices as shapes

if TYPE_CHECKING:
    from clinicledger.services import desk, invoicing
else:
    invoicing = later("clinicledger.services.invoicing")
    desk = later("clinicledger.services.desk")

invoice_app = sub_app("invoice", "Invoices.")
line_app = sub_app("line", "Invoice lines.")

Line = Annotated[str, typer.Argument(metavar="LINE", help="The line, e.g. L-000107")]
Amount = Annotated[str, typer.Option(metavar="AMOUNT", help="How much, e.g. 30.00")]
Reason = Annotated[str, typer.Option(metavar="TEXT", help="Why (kept with the entry)")]


@invoice_app.command("create")
@needs(Action.INVOICE_CREATE)
def invoice_create(
    patient: Annotated[str, typer.Option(metavar="CODE", help="The patient")],
    location: Annotated[str, typer.Option(metavar="CODE", help="The billing location")],
    line: Annotated[
        list[str],
        typer.Option(
            metavar="SPEC",
            help="A line (repeat for more): item=CODE,provider=DR,date=YYYY-MM-DD"
            "[,fee=A]... | product=TITLE,fee=A | "
            "cancellation,provider=DR,date=D,fee=A",
        ),
    ],
    billed_to: Annotated[
        str | None, typer.Option(metavar="CODE", help="The payer billed (default: the patient)")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Charge a patient for one or more lines."""
    specs = tuple(parse_line_spec(text, n=n) for n, text in enumerate(line, 1))
    invoice = invoicing.create_invoice(
        settings.uow(),
        invoicing.CreateInvoice(
            patient_code=patient, location_code=location, billed_to_code=billed_to, lines=specs
        ),
        idempotency_key=idempotency_key,
    )
    number = format_id("invoice", invoice.number)
    out(
        shapes.created(invoice),
        "\n".join(
            [f"created invoice {number}, total {money(invoice.total_cents)}"]
            + [
                f"  {format_id('line', c.id)}  {c.kind.value:<12} {money(c.amount_cents):>10}"
                for c in invoice.lines
            ]
        ),
    )


@invoice_app.command("show")
@needs(Action.PATIENT_READ)
def invoice_show(
    invoice: Annotated[str, typer.Argument(metavar="INVOICE", help="The invoice, e.g. INV-000012")],
) -> None:
    """Show an invoice: its lines with fee, GST, what is paid and what each still owes."""
    found = desk.show_invoice(settings.engine, parse_id("invoice", invoice))
    head = found.header
    who = f"{head.patient_code} {head.patient_name}" if head.patient_code else ""
    lines = [
        f"{format_id('invoice', head.number)}  {head.invoice_date}  {who}"
        + (f"  billed to {head.billed_to_code}" if head.billed_to_code else ""),
        f"total {money(found.total_cents)}  GST {money(found.gst_cents)}  "
        f"paid {money(found.paid_cents)}  owing {money(found.owing_cents)}",
    ]
    for line in found.lines:
        lines.append(
            f"  {format_id('line', line.id)}  {line.description:<30} "
            f"{money(line.fee_cents):>10}  GST {money(line.gst_cents):>8}  "
            f"paid {money(line.paid_cents):>10}  owing {money(line.owing_cents):>10}"
            + ("  deleted" if line.deleted else "")
        )
    out(shapes.invoice(found), "\n".join(lines))


@line_app.command("status")
@needs(Action.LINE_STATUS)
def line_status(
    line: Line,
    insurance: Annotated[
        str,
        typer.Option(
            metavar=words(InsuranceStatus), help="Open to insurance (a claim pending), or not"
        ),
    ],
) -> None:
    """Open a line to insurance, or close it."""
    line_id = parse_id("line", line)
    status = parse_choice(InsuranceStatus, insurance, field="insurance", either=True)
    invoicing.set_insurance_status(
        settings.uow(), invoicing.SetInsuranceStatus(line_id=line_id, status=status)
    )
    out(
        shapes.insurance_status(line_id, status.value),
        f"line {format_id('line', line_id)} is {status.value} to insurance",
    )


@line_app.command("adjust")
@needs(Action.LINE_ADJUST)
def line_adjust(
    line: Line,
    amount: Amount,
    reason: Annotated[
        str,
        typer.Option(
            metavar="REASON", help="write-off|discount|fee-correction|bad-debt|small-balance"
        ),
    ],
    note: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A note kept with the adjustment")
    ] = None,
    patient_portion: Annotated[
        bool, typer.Option(help="Adjust the patient's portion of a line billed to a payer")
    ] = False,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Take an amount off what a line owes (write-off, discount, fee correction)."""
    line_id = parse_id("line", line)
    cents = cents_from_text(amount, field="amount")
    entry_id = invoicing.adjust_line(
        settings.uow(),
        invoicing.AdjustLine(
            line_id=line_id,
            amount_cents=cents,
            reason=parse_choice(AdjustmentReason, reason, field="reason"),
            note=note,
            patient_portion=patient_portion,
        ),
        idempotency_key=idempotency_key,
    )
    entry_done(
        "line",
        line_id,
        entry_id,
        f"adjusted line {format_id('line', line_id)} by {amount}",
        amount=money(cents),
    )


@line_app.command("transfer")
@needs(Action.LINE_TRANSFER)
def line_transfer(
    line: Line,
    amount: Amount,
    reason: Reason,
    to_patient: Annotated[
        bool, typer.Option("--to-patient", help="Move it to the patient (the gap)")
    ] = False,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Move part of a payer's portion of a line to the patient (the gap)."""
    line_id = parse_id("line", line)
    cents = cents_from_text(amount, field="amount")
    entry_id = invoicing.transfer(
        settings.uow(),
        invoicing.Transfer(
            line_id=line_id, amount_cents=cents, reason=reason, to_patient=to_patient
        ),
        idempotency_key=idempotency_key,
    )
    entry_done(
        "line",
        line_id,
        entry_id,
        f"moved {money(cents)} of line {format_id('line', line_id)} to the patient",
        amount=money(cents),
    )


@line_app.command("delete")
@needs(Action.LINE_DELETE)
def line_delete(
    line: Line,
    reason: Reason,
    cascade: Annotated[
        bool, typer.Option(help="Un-allocate the payments applied to it first")
    ] = False,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Delete a line keyed in error (its charge is reversed; nothing is erased)."""
    line_id = parse_id("line", line)
    entry_id = invoicing.delete_line(
        settings.uow(),
        invoicing.DeleteLine(line_id=line_id, reason=reason, cascade=cascade),
        idempotency_key=idempotency_key,
    )
    entry_done("line", line_id, entry_id, f"deleted line {format_id('line', line_id)}")
