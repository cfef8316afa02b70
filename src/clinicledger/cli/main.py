"""``clinicledger [--db URL] [--now TIMESTAMP] [--json] COMMAND ...``

The command surface is a contract (issue 2): add freely, never rename.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, replace
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from clinicledger import demo as demo_module
from clinicledger.cli import errors
from clinicledger.cli.parse import (
    parse_date,
    parse_instant,
    parse_line_spec,
    parse_targets,
)
from clinicledger.domain.errors import UserError
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.money import cents_from_text, format_cents
from clinicledger.domain.rules import (
    AdjustmentReason,
    PayerKind,
    PaymentMethod,
    parse_choice,
)
from clinicledger.render.formats import (
    LARGE_TABLE_ROWS,
    row_count,
    to_csv,
    to_json,
    to_table,
    to_text,
)
from clinicledger.reports.aging_trend import aging_chart
from clinicledger.reports.base import PRESETS, Report, ReportParams, preset_range
from clinicledger.services import (
    balances,
    check,
    imports,
    invoicing,
    masters,
    payments,
    periods,
    reporting,
)
from clinicledger.services.common import practice_instant, practice_today
from clinicledger.store import schema
from clinicledger.store.engine import open_engine
from clinicledger.store.uow import UnitOfWork, to_naive_utc

DEFAULT_DB = "./clinicledger.db"


@dataclass
class Settings:
    db: str = DEFAULT_DB
    now_text: str | None = None
    as_json: bool = False
    debug: bool = False
    create: bool = False  # init and demo may create the database
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.db, create=self.create)
        return self._engine

    def today(self) -> dt.date:
        """Today at the practice, by the command's clock."""
        now = (
            parse_instant(self.now_text, field="now")
            if self.now_text is not None
            else dt.datetime.now(dt.UTC)
        )
        return practice_today(self.engine, now)

    def uow(self) -> UnitOfWork:
        if self.now_text is not None:
            now = parse_instant(self.now_text, field="now")
            return UnitOfWork(self.engine, now=now, strict_clock=True)
        return UnitOfWork(self.engine, now=dt.datetime.now(dt.UTC))


settings = Settings()

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    help="Accounts receivable and practice billing for health practices.",
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            help="Database URL or SQLite file path "
            "(default: $CLINICLEDGER_DB, else ./clinicledger.db)"
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            help="Clock for the entries this command records "
            "(default: $CLINICLEDGER_NOW, else the real clock)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    if settings._engine is not None:  # a second run() in one process: its own --db
        settings._engine.dispose()
        settings._engine = None
    settings.create = ctx.invoked_subcommand in ("init", "demo")
    settings.db = db or os.environ.get("CLINICLEDGER_DB") or DEFAULT_DB
    settings.now_text = now or os.environ.get("CLINICLEDGER_NOW") or None
    settings.as_json = as_json
    settings.debug = debug
    if not settings.create and not schema.is_current(settings.engine):
        raise UserError(
            "this database is not initialised or is out of date: run 'clinicledger init'",
            code="not_initialised",
            field="db",
        )


def out(data: dict[str, Any], text: str) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text``."""
    print(json.dumps(data) if settings.as_json else text)


def money(cents: int) -> str:
    return format_cents(cents)


# ---------------------------------------------------------------- set-up and master data


@app.command()
def init() -> None:
    """Create (or upgrade) the ledger's database."""
    created = masters.init_ledger(settings.engine, settings.uow)
    out({"created": created}, "initialised a new ledger" if created else "ledger is up to date")


practice_app = typer.Typer(help="The practice's details.", no_args_is_help=True)
app.add_typer(practice_app, name="practice")


@practice_app.command("set")
def practice_set(
    name: Annotated[str | None, typer.Option()] = None,
    abn: Annotated[str | None, typer.Option()] = None,
    gst_registered: Annotated[
        bool | None, typer.Option("--gst-registered/--not-gst-registered")
    ] = None,
    timezone: Annotated[str | None, typer.Option()] = None,
    currency: Annotated[str | None, typer.Option()] = None,
) -> None:
    masters.set_practice(
        settings.uow(),
        name=name,
        abn=abn,
        gst_registered=gst_registered,
        timezone=timezone,
        currency=currency,
    )
    out({"updated": True}, "practice updated")


def _master_command(kind: str) -> typer.Typer:
    sub = typer.Typer(help=f"{kind.capitalize()}s.", no_args_is_help=True)
    app.add_typer(sub, name=kind)
    return sub


location_app = _master_command("location")
provider_app = _master_command("provider")
patient_app = _master_command("patient")
payer_app = _master_command("payer")
item_app = _master_command("item")
product_app = _master_command("product")


def _created(kind: str, code: str, new_id: int) -> None:
    out({"id": new_id, "code": code}, f"added {kind} {code}")


@location_app.command("add")
def location_add(code: str, name: Annotated[str, typer.Option()]) -> None:
    _created("location", code, masters.add_location(settings.uow(), code=code, name=name))


@provider_app.command("add")
def provider_add(
    code: str,
    name: Annotated[str, typer.Option()],
    company_name: Annotated[str | None, typer.Option()] = None,
    company_abn: Annotated[str | None, typer.Option()] = None,
    company_gst_registered: Annotated[bool, typer.Option()] = False,
) -> None:
    _created(
        "provider",
        code,
        masters.add_provider(
            settings.uow(),
            code=code,
            name=name,
            company_name=company_name,
            company_abn=company_abn,
            company_gst_registered=company_gst_registered,
        ),
    )


@patient_app.command("add")
def patient_add(code: str, name: Annotated[str, typer.Option()]) -> None:
    _created("patient", code, masters.add_patient(settings.uow(), code=code, name=name))


@payer_app.command("add")
def payer_add(
    code: str,
    name: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option(help="fund|medicare|dva|insurer|third-party")],
) -> None:
    _created(
        "payer",
        code,
        masters.add_payer(
            settings.uow(), code=code, name=name, kind=parse_choice(PayerKind, kind, field="kind")
        ),
    )


@item_app.command("add")
def item_add(
    code: str,
    description: Annotated[str, typer.Option()],
    fee: Annotated[str, typer.Option()],
    taxable: Annotated[bool, typer.Option()] = False,
) -> None:
    _created(
        "item",
        code,
        masters.add_item(
            settings.uow(),
            code=code,
            description=description,
            fee_cents=cents_from_text(fee, field="fee"),
            taxable=taxable,
        ),
    )


@product_app.command("add")
def product_add(
    code: str,
    title: Annotated[str, typer.Option()],
    fee: Annotated[str, typer.Option()],
    taxable: Annotated[bool, typer.Option("--taxable/--gst-free")] = True,
) -> None:
    _created(
        "product",
        code,
        masters.add_product(
            settings.uow(),
            code=code,
            title=title,
            fee_cents=cents_from_text(fee, field="fee"),
            taxable=taxable,
        ),
    )


# ---------------------------------------------------------------- invoices and lines

invoice_app = typer.Typer(help="Invoices.", no_args_is_help=True)
app.add_typer(invoice_app, name="invoice")
line_app = typer.Typer(help="Invoice lines.", no_args_is_help=True)
app.add_typer(line_app, name="line")


@invoice_app.command("create")
def invoice_create(
    patient: Annotated[str, typer.Option()],
    location: Annotated[str, typer.Option()],
    line: Annotated[
        list[str],
        typer.Option(
            help="item=CODE,provider=DR,date=YYYY-MM-DD"
            "[,fee=A]... | product=TITLE,fee=A | "
            "cancellation,provider=DR,date=D,fee=A"
        ),
    ],
    billed_to: Annotated[str | None, typer.Option()] = None,
) -> None:
    specs = [parse_line_spec(text, n=n) for n, text in enumerate(line, 1)]
    invoice = invoicing.create_invoice(
        settings.uow(),
        patient_code=patient,
        location_code=location,
        billed_to_code=billed_to,
        lines=specs,
    )
    number = format_id("invoice", invoice.number)
    out(
        {
            "id": number,
            "number": invoice.number,
            "total": money(invoice.total_cents),
            "lines": [
                {
                    "id": format_id("line", c.id),
                    "kind": c.kind.value,
                    "amount": money(c.amount_cents),
                    "gst": money(c.gst_cents),
                    "service_date": c.service_date.isoformat() if c.service_date else None,
                }
                for c in invoice.lines
            ],
        },
        "\n".join(
            [f"created invoice {number}, total {money(invoice.total_cents)}"]
            + [
                f"  {format_id('line', c.id)}  {c.kind.value:<12} {money(c.amount_cents):>10}"
                for c in invoice.lines
            ]
        ),
    )


@line_app.command("status")
def line_status(line: str, insurance: Annotated[str, typer.Option(help="open|closed")]) -> None:
    line_id = parse_id("line", line)
    if insurance not in ("open", "closed"):
        raise UserError(
            f"insurance: '{insurance}' is not open or closed",
            code="choice_unknown",
            field="insurance",
        )
    invoicing.set_insurance_status(settings.uow(), line_id=line_id, open_=insurance == "open")
    out(
        {"id": format_id("line", line_id), "insurance": insurance},
        f"line {format_id('line', line_id)} is {insurance} to insurance",
    )


@line_app.command("adjust")
def line_adjust(
    line: str,
    amount: Annotated[str, typer.Option()],
    reason: Annotated[
        str, typer.Option(help="write-off|discount|fee-correction|bad-debt|small-balance")
    ],
    note: Annotated[str | None, typer.Option()] = None,
    patient_portion: Annotated[
        bool, typer.Option(help="Adjust the patient's portion of a line billed to a payer")
    ] = False,
) -> None:
    line_id = parse_id("line", line)
    entry_id = invoicing.adjust_line(
        settings.uow(),
        line_id=line_id,
        amount_cents=cents_from_text(amount, field="amount"),
        reason=parse_choice(AdjustmentReason, reason, field="reason"),
        note=note,
        patient_portion=patient_portion,
    )
    out(
        {
            "id": format_id("entry", entry_id),
            "line": format_id("line", line_id),
            "amount": money(cents_from_text(amount, field="amount")),
        },
        f"adjusted line {format_id('line', line_id)} by {amount}",
    )


@line_app.command("transfer")
def line_transfer(
    line: str,
    amount: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()],
    to_patient: Annotated[bool, typer.Option("--to-patient")] = False,
) -> None:
    if not to_patient:
        raise UserError(
            "to_patient: say --to-patient (the only transfer there is)",
            code="transfer_target_missing",
            field="to_patient",
        )
    line_id = parse_id("line", line)
    cents = cents_from_text(amount, field="amount")
    entry_id = invoicing.transfer_to_patient(
        settings.uow(), line_id=line_id, amount_cents=cents, reason=reason
    )
    out(
        {
            "id": format_id("entry", entry_id),
            "line": format_id("line", line_id),
            "amount": money(cents),
        },
        f"moved {money(cents)} of line {format_id('line', line_id)} to the patient",
    )


@line_app.command("delete")
def line_delete(
    line: str,
    reason: Annotated[str, typer.Option()],
    cascade: Annotated[bool, typer.Option()] = False,
) -> None:
    line_id = parse_id("line", line)
    entry_id = invoicing.delete_line(
        settings.uow(), line_id=line_id, reason=reason, cascade=cascade
    )
    out(
        {"id": format_id("entry", entry_id), "line": format_id("line", line_id)},
        f"deleted line {format_id('line', line_id)}",
    )


# ---------------------------------------------------------------- payments and credit

payment_app = typer.Typer(help="Payments.", no_args_is_help=True)
app.add_typer(payment_app, name="payment")
credit_app = typer.Typer(help="Patient credit.", no_args_is_help=True)
app.add_typer(credit_app, name="credit")


@payment_app.command("record")
def payment_record(
    from_: Annotated[str, typer.Option("--from", help="patient or payer code")],
    amount: Annotated[str, typer.Option()],
    method: Annotated[
        str,
        typer.Option(
            help="cash|cheque|eftpos|credit-card|hicaps|direct-deposit|online-card|insurance|other"
        ),
    ],
    received: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    location: Annotated[str, typer.Option()],
    reference: Annotated[str | None, typer.Option()] = None,
    fee: Annotated[str | None, typer.Option(help="processor fee")] = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    cents = cents_from_text(amount, field="amount")
    payment_id = payments.record_payment(
        settings.uow(),
        from_code=from_,
        amount_cents=cents,
        method=parse_choice(PaymentMethod, method, field="method"),
        received_date=parse_date(received, field="received"),
        location_code=location,
        reference=reference,
        processor_fee_cents=cents_from_text(fee, field="fee", allow_zero=True)
        if fee is not None
        else None,
        note=note,
    )
    label = format_id("payment", payment_id)
    out({"id": label, "amount": money(cents)}, f"recorded payment {label} of {money(cents)}")


def _allocations_out(made: tuple[payments.Allocation, ...]) -> None:
    out(
        {
            "allocations": [
                {
                    "id": format_id("allocation", a.id),
                    "line": format_id("line", a.line_id),
                    "payment": format_id("payment", a.payment_id),
                    "amount": money(a.amount_cents),
                }
                for a in made
            ]
        },
        "\n".join(
            [f"{len(made)} allocation(s)"]
            + [
                f"  {format_id('allocation', a.id)}  {format_id('payment', a.payment_id)} -> "
                f"{format_id('line', a.line_id)}  {money(a.amount_cents):>10}"
                for a in made
            ]
        ),
    )


@payment_app.command("allocate")
def payment_allocate(
    payment: str,
    to: Annotated[list[str] | None, typer.Option(help="LINE=AMOUNT")] = None,
    auto: Annotated[bool, typer.Option("--auto", help="oldest service first")] = False,
) -> None:
    payment_id = parse_id("payment", payment)
    if auto == bool(to):
        raise UserError(
            "to: give --to LINE=AMOUNT (one or more) or --auto, not both",
            code="allocation_target_missing",
            field="to",
        )
    if auto:
        made = payments.auto_allocate(settings.uow(), payment_id=payment_id)
    else:
        made = payments.allocate(
            settings.uow(), payment_id=payment_id, targets=parse_targets(to or [])
        )
    _allocations_out(made)


@payment_app.command("unallocate")
def payment_unallocate(allocation: str, reason: Annotated[str, typer.Option()]) -> None:
    allocation_id = parse_id("allocation", allocation)
    entry_id = payments.unallocate(settings.uow(), allocation_id=allocation_id, reason=reason)
    out(
        {"id": format_id("entry", entry_id), "allocation": format_id("allocation", allocation_id)},
        f"un-allocated {format_id('allocation', allocation_id)}",
    )


@payment_app.command("refund")
def payment_refund(
    payment: str, amount: Annotated[str, typer.Option()], reason: Annotated[str, typer.Option()]
) -> None:
    payment_id = parse_id("payment", payment)
    cents = cents_from_text(amount, field="amount")
    entry_id = payments.refund(
        settings.uow(), payment_id=payment_id, amount_cents=cents, reason=reason
    )
    out(
        {
            "id": format_id("entry", entry_id),
            "payment": format_id("payment", payment_id),
            "amount": money(cents),
        },
        f"refunded {money(cents)} of payment {format_id('payment', payment_id)}",
    )


@payment_app.command("reverse")
def payment_reverse(payment: str, reason: Annotated[str, typer.Option()]) -> None:
    payment_id = parse_id("payment", payment)
    entry_id = payments.reverse_payment(settings.uow(), payment_id=payment_id, reason=reason)
    out(
        {"id": format_id("entry", entry_id), "payment": format_id("payment", payment_id)},
        f"reversed payment {format_id('payment', payment_id)}",
    )


@credit_app.command("apply")
def credit_apply(
    patient: str,
    to: Annotated[list[str] | None, typer.Option(help="LINE=AMOUNT")] = None,
    auto: Annotated[bool, typer.Option("--auto", help="oldest service first")] = False,
) -> None:
    if auto == bool(to):
        raise UserError(
            "to: give --to LINE=AMOUNT (one or more) or --auto, not both",
            code="allocation_target_missing",
            field="to",
        )
    made = payments.apply_credit(
        settings.uow(), patient_code=patient, targets=None if auto else parse_targets(to or [])
    )
    _allocations_out(made)


# ---------------------------------------------------------------- periods, balances, check

period_app = typer.Typer(help="Accounting periods.", no_args_is_help=True)
app.add_typer(period_app, name="period")


@period_app.command("close")
def period_close(through: Annotated[str, typer.Argument(metavar="YYYY-MM-DD")]) -> None:
    day = parse_date(through, field="date")
    kept = [d.isoformat() for d in periods.close_period(settings.uow(), through=day)]
    out(
        {"closed_through": day.isoformat(), "balances_kept_at": kept},
        f"closed everything up to {day.isoformat()}; balances kept at {', '.join(kept)}",
    )


@app.command()
def balance(
    patient: Annotated[str | None, typer.Option()] = None,
    payer: Annotated[str | None, typer.Option()] = None,
    invoice: Annotated[str | None, typer.Option()] = None,
    line: Annotated[str | None, typer.Option()] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    as_known_at: Annotated[str | None, typer.Option(help="timestamp")] = None,
) -> None:
    """A balance, as of a date and as known at a time."""
    given = {
        k: v
        for k, v in {"patient": patient, "payer": payer, "invoice": invoice, "line": line}.items()
        if v is not None
    }
    if len(given) != 1:
        raise UserError(
            "subject: give exactly one of --patient, --payer, --invoice, --line",
            code="subject_missing",
            field="subject",
        )
    [(subject, key)] = given.items()
    when = parse_date(as_of, field="as_of") if as_of else None
    known = (
        practice_instant(settings.engine, parse_instant(as_known_at, field="as_known_at"))
        if as_known_at
        else None
    )
    view = balances.balance(
        settings.engine,
        patient_code=patient,
        payer_code=payer,
        invoice_number=parse_id("invoice", invoice) if invoice else None,
        line_id=parse_id("line", line) if line else None,
        as_of=when,
        as_known_at=known,
    )
    out(
        {
            "subject": subject,
            "key": key,
            "balance": money(view.balance_cents),
            "charges": money(view.charges_cents),
            "unallocated": money(view.unallocated_cents),
            "as_of": when.isoformat() if when else None,
            "as_known_at": known.isoformat() if known else None,
        },
        f"{subject} {key}: balance {money(view.balance_cents)}"
        + (
            f" (owing {money(view.charges_cents)}, credit {money(view.unallocated_cents)})"
            if subject in ("patient", "payer")
            else ""
        ),
    )


@app.command("check")
def check_command() -> None:
    """Verify money conservation over the whole journal; exit 1 on any violation."""
    result = check.check_ledger(settings.engine)
    out(
        {
            "ok": not result.violations,
            "entries": result.entries,
            "postings": result.postings,
            "violations": [{"code": v.code, "message": v.message} for v in result.violations],
        },
        "\n".join(
            [
                f"checked {result.entries} entries, {result.postings} postings: "
                + ("ok" if not result.violations else f"{len(result.violations)} violation(s)")
            ]
            + [f"  {v.code}: {v.message}" for v in result.violations]
        ),
    )
    if result.violations:
        raise typer.Exit(errors.EXIT_FINDINGS)


# ---------------------------------------------------------------- reports


@app.command("report")
def report_command(
    name: Annotated[
        str, typer.Argument(help="a report, or 'save FAVOURITE REPORT' / 'run FAVOURITE'")
    ],
    more: Annotated[list[str] | None, typer.Argument(help="for save and run")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD, inclusive")] = None,
    to: Annotated[str | None, typer.Option(help="YYYY-MM-DD, inclusive")] = None,
    preset: Annotated[str | None, typer.Option(help=", ".join(PRESETS))] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    as_known_at: Annotated[str | None, typer.Option(help="timestamp")] = None,
    provider: Annotated[str | None, typer.Option()] = None,
    location: Annotated[str | None, typer.Option()] = None,
    patient: Annotated[str | None, typer.Option()] = None,
    payer: Annotated[str | None, typer.Option()] = None,
    basis: Annotated[str | None, typer.Option(help="income-by-provider: restated|snapshot")] = None,
    by: Annotated[
        str | None, typer.Option(help="receipts: entered|service; finance-summary: created|service")
    ] = None,
    by_provider: Annotated[bool, typer.Option(help="receipts: a section per provider")] = False,
    group: Annotated[
        str | None,
        typer.Option(help="finance-summary: item|patient; adjustments: type|reason|actor|none"),
    ] = None,
    types: Annotated[str | None, typer.Option(help="adjustments: comma-separated kinds")] = None,
    detail: Annotated[str | None, typer.Option(help="debtors: summary|detailed")] = None,
    order: Annotated[str | None, typer.Option(help="debtors: age|amount")] = None,
    billed_to: Annotated[
        str | None, typer.Option(help="debtors: patient|fund|medicare|dva|insurer|third-party")
    ] = None,
    interval_days: Annotated[
        int | None, typer.Option(help="debtors, aging-trend: bracket width (30)")
    ] = None,
    older_than_days: Annotated[
        int | None, typer.Option(help="debtors: only debtors with a debt this old")
    ] = None,
    separate_locations: Annotated[
        bool, typer.Option(help="debtors: a section per location")
    ] = False,
    differences_only: Annotated[bool, typer.Option(help="balance-differences")] = False,
    compare: Annotated[
        str | None, typer.Option(help="client-reconciliation: another program's CSV")
    ] = None,
    compare_date_column: Annotated[str | None, typer.Option()] = None,
    compare_amount_column: Annotated[str | None, typer.Option()] = None,
    compare_description_column: Annotated[str | None, typer.Option()] = None,
    chart: Annotated[str | None, typer.Option(help="aging-trend: also draw FILE.png")] = None,
    format_: Annotated[str, typer.Option("--format", help="table|csv|json")] = "table",
    output: Annotated[str | None, typer.Option(help="write to FILE instead of stdout")] = None,
) -> None:
    """Run a report (a read-only query over the journal), or save / run a favourite."""
    if format_ not in ("table", "csv", "json"):
        raise UserError(
            f"format: '{format_}' is not table, csv or json", code="choice_unknown", field="format"
        )
    words = more or []
    options = {
        "basis": basis,
        "by": by,
        "by_provider": by_provider or None,
        "group": group,
        "types": types,
        "detail": detail,
        "order": order,
        "billed_to": billed_to,
        "interval_days": interval_days,
        "older_than_days": older_than_days,
        "separate_locations": separate_locations or None,
        "differences_only": differences_only or None,
        "compare": compare,
        "compare_date_column": compare_date_column,
        "compare_amount_column": compare_amount_column,
        "compare_description_column": compare_description_column,
    }
    first = parse_date(from_, field="from") if from_ else None
    last = parse_date(to, field="to") if to else None
    if preset is not None:
        if first or last:
            raise UserError(
                "preset: give --preset or --from/--to, not both",
                code="range_conflict",
                field="preset",
            )
        if preset not in PRESETS:
            raise UserError(
                f"preset: '{preset}' is not one of {', '.join(PRESETS)}",
                code="choice_unknown",
                field="preset",
            )
    known = (
        practice_instant(settings.engine, parse_instant(as_known_at, field="as_known_at"))
        if as_known_at
        else None
    )
    params = ReportParams(
        from_date=first,
        to_date=last,
        as_of=parse_date(as_of, field="as_of") if as_of else None,
        as_known_at=to_naive_utc(known) if known else None,
        provider=provider,
        location=location,
        patient=patient,
        payer=payer,
        options={key: value for key, value in options.items() if value is not None},
    )
    today = settings.today()
    if name == "save":
        if len(words) != 2:
            raise UserError(
                "usage: report save FAVOURITE REPORT [filters]", code="usage", field="name"
            )
        favourite, report = words
        reporting.save_report(
            settings.uow(), name=favourite, report=report, params=params, preset=preset
        )
        out({"saved": favourite, "report": report}, f"saved {report} as '{favourite}'")
        return
    if name == "run":
        if len(words) != 1 or params != ReportParams() or preset is not None:
            raise UserError(
                "usage: report run FAVOURITE [--format F] [--output FILE]",
                code="usage",
                field="name",
            )
        report, params = reporting.saved_report(settings.engine, words[0], today=today)
    else:
        if words:
            raise UserError(
                f"unexpected words after the report name: {' '.join(words)}",
                code="usage",
                field="name",
            )
        report = name
        if preset is not None:
            first, last = preset_range(preset, today)
            params = replace(params, from_date=first, to_date=last)
    result = reporting.run_report(settings.engine, report, params, today=today)
    if chart is not None:
        if report != "aging-trend":
            raise UserError(
                f"chart: --chart is for aging-trend, not {report}",
                code="filter_not_applicable",
                field="chart",
            )
        aging_chart(result, chart)
    _write_report(result, format_, output)


def _write_report(result: Report, format_: str, output: str | None) -> None:
    if format_ == "table" and row_count(result) <= LARGE_TABLE_ROWS:
        from rich.console import Console

        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(open(output, "w", encoding="utf-8")) if output else None
            Console(file=handle, width=200 if handle else None).print(to_table(result))
        return
    if format_ == "table":
        text = to_text(result)
    else:
        text = to_json(result) + "\n" if format_ == "json" else to_csv(result)
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


# ---------------------------------------------------------------- moving in, demo


@app.command("import")
def import_command(
    kind: Annotated[
        str, typer.Argument(metavar="patients|providers|payers|items|opening-balances")
    ],
    file: Annotated[str, typer.Argument(metavar="FILE.csv")],
) -> None:
    """Import master data or opening balances from a CSV file, all or nothing."""
    result = imports.import_file(settings.uow(), kind=kind, path=file)
    out(
        {
            "kind": kind,
            "file": file,
            "created": result.created,
            "unchanged": result.unchanged,
            "already_imported": result.already_imported,
        },
        f"{file}: "
        + (
            "already imported; nothing changed"
            if result.already_imported
            else f"{result.created} created, {result.unchanged} unchanged"
        ),
    )


@app.command()
def demo(seed: Annotated[int, typer.Option()] = 1) -> None:
    """Build a realistic demo practice (generated people only) and print its balances."""
    if not settings.as_json:
        print("building the demo practice (about half a minute)...", file=sys.stderr)
    summary = demo_module.build(settings.engine, seed=seed)
    if settings.as_json:
        print(json.dumps(summary.as_json()))
    else:
        demo_module.print_summary(summary)


def run(argv: list[str] | None = None) -> int:
    """The console entry point: run a command and map any error to its exit code."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    try:
        result = command.main(args=args, prog_name="clinicledger", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return errors.EXIT_USER_ERROR
    except Exception as exc:  # the one place every error is mapped to an exit code
        as_json = settings.as_json or "--json" in args
        return errors.report(exc, as_json=as_json, debug=settings.debug or "--debug" in args)
    return result if isinstance(result, int) else errors.EXIT_OK


def entry_point() -> None:
    sys.exit(run())
