"""``demo [--serve]``: build the demo practice (generated people only) and show its
balances; with ``--serve``, a login for each role and the web app over it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import app, later, needs, settings
from clinicledger.cli.progress import progress_bar
from clinicledger.cli.serve import Host, Port, address, serve_web
from clinicledger.domain.permissions import Action

if TYPE_CHECKING:
    from clinicledger import demo as demo_module
    from clinicledger.demo import DemoSummary
    from clinicledger.services import users
else:
    demo_module = later("clinicledger.demo")
    users = later("clinicledger.services.users")


@app.command()
@needs(Action.LEDGER_SETUP)
def demo(
    seed: Annotated[
        int, typer.Option(metavar="NUMBER", help="Another seed builds another practice")
    ] = 1,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then make a login for each role (new passwords, printed) and serve the "
            "web app until Ctrl-C",
        ),
    ] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Build a realistic demo practice (generated people only) and print its balances."""

    with progress_bar("building the demo practice") as tell:  # a terminal only
        summary = demo_module.build(settings.engine, seed=seed, progress=tell)
    if settings.as_json:
        print(json.dumps(summary.as_json()))
    else:
        print_summary(summary)
    if serve:
        logins = users.demo_logins(settings.uow)
        shown = address(host, port)
        if settings.as_json:
            banner = json.dumps(
                {
                    "address": shown,
                    "logins": [
                        {"name": x.name, "role": x.role.value, "password": x.password}
                        for x in logins
                    ],
                }
            )
        else:
            banner = "\n".join(
                [f"\nThe demo practice is at {shown} (Ctrl-C stops it). Log in as:"]
                + [f"  {login.name:<10} password {login.password}" for login in logins]
                + [""]
            )
        serve_web(host, port, banner=banner)


def print_summary(result: DemoSummary) -> None:
    """The demo practice's balances, as a practice manager would want to see them first."""
    from rich.console import Console
    from rich.table import Table

    from clinicledger.domain.money import format_cents as f

    s = result.summary
    console = Console()
    state = "built" if result.built else "already built"
    console.print(
        f"[bold]{demo_module.DEMO_NAME}[/bold]: {state} (seed {result.seed}), "
        f"{demo_module.START.isoformat()} to {demo_module.END.isoformat()}"
    )
    counts = Table(title="What is in the ledger", show_header=False)
    for name, number in s.counts.items():
        counts.add_row(name, str(number))
    console.print(counts)
    money = Table(title="Money (AUD)")
    money.add_column("")
    money.add_column("amount", justify="right")
    for label, cents in (
        ("charged (incl. GST)", s.charged_cents),
        ("  of which GST", s.gst_cents),
        ("received", s.received_cents),
        ("applied to lines", s.applied_cents),
        ("  of which credit used", s.credit_used_cents),
        ("refunded", s.refunded_cents),
        ("reversed (dishonoured)", s.reversed_cents),
        ("adjusted off (write-offs, discounts)", s.adjusted_cents),
        ("owed by patients", s.patients_owing_cents),
        ("patients' unapplied credit", s.patients_credit_cents),
    ):
        money.add_row(label, f(cents))
    console.print(money)
    payers = Table(title="Payers")
    for column in ("code", "name", "kind", "owing", "unallocated"):
        payers.add_column(column, justify="right" if column in ("owing", "unallocated") else "left")
    for p in s.payers:
        payers.add_row(p.code, p.name, p.kind, f(p.owing_cents), f(p.unallocated_cents))
    console.print(payers)
    console.print(f"lines still open to insurance: {s.open_insurance_lines}")
    verdict = (
        "[green]ok[/green]"
        if not result.violations
        else (f"[red]{result.violations} violation(s)[/red]")
    )
    console.print(f"clinicledger check: {verdict}")
    console.print("Try: clinicledger balance --patient PT0001   |   clinicledger check")
