"""``patient account CODE``: a patient's invoices, payments, credit and balance, as the
front desk sees them on the account page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import later, needs, settings
from clinicledger.cli.masters import patient_app
from clinicledger.cli.output import money, out
from clinicledger.domain.ids import format_id
from clinicledger.domain.permissions import Action
from clinicledger.shapes import accounts as shapes

if TYPE_CHECKING:
    from clinicledger.services import accounts
else:
    accounts = later("clinicledger.services.accounts")


@patient_app.command("account")
@needs(Action.PATIENT_READ)
def patient_account(
    code: Annotated[str, typer.Argument(metavar="CODE", help="The patient's code")],
) -> None:
    """Show a patient's account: invoices and what each line owes, payments and where they
    went, credit, and the balance."""
    found = accounts.patient_account(settings.engine, code, now=settings.clock())
    b = found.balance
    lines = [
        f"{found.patient.code} {found.patient.values['name']}: balance {money(b.balance_cents)}"
        f" (owing {money(b.charges_cents)}, credit {money(b.unallocated_cents)})"
    ]
    for invoice in found.invoices:
        lines.append(
            f"{format_id('invoice', invoice.number)}  {invoice.invoice_date}  "
            f"total {money(invoice.total_cents)}  owing {money(invoice.owing_cents)}"
            + (f"  billed to {invoice.billed_to_code}" if invoice.billed_to_code else "")
        )
        for line in invoice.lines:
            lines.append(
                f"  {format_id('line', line.id)}  {line.description:<30} "
                f"{money(line.fee_cents):>10}  owing {money(line.owing_cents):>10}"
                + ("  deleted" if line.deleted else "")
            )
    for payment in found.payments:
        went = ", ".join(
            f"{format_id('line', line_id)} {money(cents)}" for line_id, cents in payment.applied_to
        )
        lines.append(
            f"{format_id('payment', payment.id)}  {payment.received_date}  {payment.method}  "
            f"{money(payment.amount_cents)}  unallocated {money(payment.unallocated_cents)}"
            + (f"  applied: {went}" if went else "")
            + ("  reversed" if payment.reversed else "")
        )
    out(shapes.account(found), "\n".join(lines))
