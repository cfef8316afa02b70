"""``period close``, ``balance`` and ``check``: closing the books, and proving them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli import errors
from clinicledger.cli.app import app, later, needs, settings, sub_app
from clinicledger.cli.output import money, out
from clinicledger.cli.parse import parse_date
from clinicledger.domain.chain import parse_head
from clinicledger.domain.permissions import Action
from clinicledger.shapes import balances as shapes
from clinicledger.shapes import periods as period_shapes

if TYPE_CHECKING:
    from clinicledger.services import balances, check, periods
else:
    balances = later("clinicledger.services.balances")
    check = later("clinicledger.services.check")
    periods = later("clinicledger.services.periods")

period_app = sub_app("period", "Accounting periods.")


@period_app.command("close")
@needs(Action.PERIOD_CLOSE)
def period_close(
    through: Annotated[
        str, typer.Argument(metavar="YYYY-MM-DD", help="The last day of the period to close")
    ],
) -> None:
    """Close everything up to and including a date: it cannot change afterwards."""
    day = parse_date(through, field="date")
    closed = periods.close_period(settings.uow(), periods.ClosePeriod(through=day))
    data = period_shapes.closed(day, closed)
    kept = data["balances_kept_at"]
    out(
        data,
        f"closed everything up to {day.isoformat()}; balances kept at {', '.join(kept)}\n"
        f"head: {closed.head}  (keep it: 'clinicledger check --expect-head {closed.head}' "
        "proves later that nothing before it changed)",
    )


@period_app.command("list")
@needs(Action.PERIOD_CLOSE)
def period_list() -> None:
    """List the period closes, the latest first, with the head each recorded."""
    found = periods.list_closes(settings.engine)
    out(
        period_shapes.close_list(found),
        "\n".join(f"{close.through.isoformat()}  {close.head}  {close.actor}" for close in found)
        or "no period has been closed",
    )


@app.command()
@needs(Action.BALANCE_READ)
def balance(
    patient: Annotated[str | None, typer.Option(metavar="CODE", help="A patient's balance")] = None,
    payer: Annotated[str | None, typer.Option(metavar="CODE", help="A payer's balance")] = None,
    invoice: Annotated[
        str | None, typer.Option(metavar="INVOICE", help="What an invoice still owes")
    ] = None,
    line: Annotated[str | None, typer.Option(metavar="LINE", help="What a line still owes")] = None,
    as_of: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="As of this date (default: all)")
    ] = None,
    as_known_at: Annotated[
        str | None,
        typer.Option(metavar="TIMESTAMP", help="As the ledger knew it at this moment"),
    ] = None,
) -> None:
    """A balance, as of a date and as known at a time."""
    found = balances.asked_balance(
        settings.reader(),
        patient=patient,
        payer=payer,
        invoice=invoice,
        line=line,
        as_of=as_of,
        as_known_at=as_known_at,
    )
    subject, key, view = found.subject, found.key, found.view
    out(
        shapes.balance(found),
        f"{subject} {key}: balance {money(view.balance_cents)}"
        + (
            f" (owing {money(view.charges_cents)}, credit {money(view.unallocated_cents)})"
            if subject in ("patient", "payer")
            else ""
        ),
    )


@app.command("check")
@needs(Action.LEDGER_CHECK)
def check_command(
    print_head: Annotated[
        bool, typer.Option("--print-head", help="Also print the head of the ledger's chains")
    ] = False,
    expect_head: Annotated[
        str | None,
        typer.Option(
            metavar="ENTRIES/AUDIT_RECORDS:HASH",
            help="A head kept from earlier (a period close prints it): the ledger must "
            "still extend it",
        ),
    ] = None,
) -> None:
    """Verify money conservation over the whole journal, both hash chains and the money
    of payments and lines; exit 1 on any violation."""
    expected = parse_head(expect_head) if expect_head is not None else None
    result = check.check_ledger(settings.engine, expect=expected)
    data = period_shapes.checked(result, head=print_head)
    lines = [
        f"checked {result.entries} entries, {result.postings} postings: "
        + ("ok" if not result.violations else f"{len(result.violations)} violation(s)")
    ] + [f"  {v.code}: {v.message}" for v in result.violations]
    if print_head:
        lines.append(f"head: {result.head}")
    out(data, "\n".join(lines))
    if result.violations:
        raise typer.Exit(errors.EXIT_FINDINGS)
