"""``init``, ``practice set`` and the master data: locations, providers, patients, payers,
items and products, each with ``add``, ``list``, ``show``, ``edit``, ``deactivate`` and
``activate``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clinicledger.cli.app import app, later, needs, settings, sub_app
from clinicledger.cli.output import out
from clinicledger.cli.parse import words
from clinicledger.domain.choices import PayerKind, parse_choice
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action
from clinicledger.shapes import masters as shapes

if TYPE_CHECKING:
    from clinicledger.services import masters
else:
    masters = later("clinicledger.services.masters")
from clinicledger.domain.masters import LABELS, LIST_ROWS_MAX


@app.command()
@needs(Action.LEDGER_SETUP)
def init() -> None:
    """Create (or upgrade) the ledger's database."""
    created = masters.init_ledger(settings.engine, settings.uow)
    out({"created": created}, "initialised a new ledger" if created else "ledger is up to date")


practice_app = sub_app("practice", "The practice's details.")


@practice_app.command("set")
@needs(Action.MASTER_WRITE)
def practice_set(
    name: Annotated[str | None, typer.Option(metavar="NAME", help="The practice's name")] = None,
    abn: Annotated[str | None, typer.Option(metavar="ABN", help="Its ABN (11 digits)")] = None,
    gst_registered: Annotated[
        bool | None,
        typer.Option("--gst-registered/--not-gst-registered", help="Registered for GST or not"),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(metavar="ZONE", help="Its time zone, e.g. Australia/Sydney")
    ] = None,
    currency: Annotated[
        str | None, typer.Option(metavar="CODE", help="Its currency code, e.g. AUD")
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(metavar="LOCALE", help="How its money and dates are written, e.g. en_AU"),
    ] = None,
) -> None:
    """Change the practice's name, ABN, GST registration, time zone, currency or locale."""
    masters.set_practice(
        settings.uow(),
        name=name,
        abn=abn,
        gst_registered=gst_registered,
        timezone=timezone,
        currency=currency,
        locale=locale,
    )
    out({"updated": True}, "practice updated")


@practice_app.command("show")
@needs(Action.MASTER_READ)
def practice_show() -> None:
    """Show the practice's details."""
    shown = shapes.practice(masters.practice(settings.engine))
    out(shown, "\n".join(f"{key}: {_text(value)}" for key, value in shown.items()))


location_app = sub_app("location", "Locations: where services are given and money taken.")
provider_app = sub_app("provider", "Providers: the practitioners who give the services.")
patient_app = sub_app("patient", "Patients.")
payer_app = sub_app("payer", "Payers: health funds, Medicare, DVA, insurers, third parties.")
item_app = sub_app("item", "Items: the services charged, with their default fees.")
product_app = sub_app("product", "Products: goods sold, with their prices.")

Code = Annotated[str, typer.Argument(metavar="CODE", help="Its code (never changes)")]
Fee = Annotated[str, typer.Option(metavar="AMOUNT", help="Default fee, GST included")]
Found = Annotated[str, typer.Argument(metavar="CODE", help="Its code")]


def _created(kind: str, code: str, new_id: int) -> None:
    out(shapes.created(new_id, code), f"added {kind} {code}")


@location_app.command("add")
@needs(Action.MASTER_WRITE)
def location_add(
    code: Code, name: Annotated[str, typer.Option(metavar="NAME", help="The location's name")]
) -> None:
    """Add a location."""
    _created("location", code, masters.add_location(settings.uow(), code=code, name=name))


@provider_app.command("add")
@needs(Action.MASTER_WRITE)
def provider_add(
    code: Code,
    name: Annotated[str, typer.Option(metavar="NAME", help="The provider's name")],
    company_name: Annotated[
        str | None, typer.Option(metavar="NAME", help="The provider's own company, for RCTIs")
    ] = None,
    company_abn: Annotated[
        str | None, typer.Option(metavar="ABN", help="That company's ABN")
    ] = None,
    company_gst_registered: Annotated[
        bool, typer.Option(help="That company is registered for GST")
    ] = False,
) -> None:
    """Add a provider."""
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
@needs(Action.PATIENT_WRITE)
def patient_add(
    code: Code, name: Annotated[str, typer.Option(metavar="NAME", help="The patient's name")]
) -> None:
    """Add a patient."""
    _created("patient", code, masters.add_patient(settings.uow(), code=code, name=name))


@payer_app.command("add")
@needs(Action.MASTER_WRITE)
def payer_add(
    code: Code,
    name: Annotated[str, typer.Option(metavar="NAME", help="The payer's name")],
    kind: Annotated[str, typer.Option(metavar="KIND", help=words(PayerKind))],
) -> None:
    """Add a payer."""
    _created(
        "payer",
        code,
        masters.add_payer(
            settings.uow(), code=code, name=name, kind=parse_choice(PayerKind, kind, field="kind")
        ),
    )


@item_app.command("add")
@needs(Action.MASTER_WRITE)
def item_add(
    code: Code,
    description: Annotated[str, typer.Option(metavar="TEXT", help="What the service is")],
    fee: Fee,
    taxable: Annotated[
        bool, typer.Option(help="GST applies (most health services are free)")
    ] = False,
) -> None:
    """Add an item (a service and its default fee)."""
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
@needs(Action.MASTER_WRITE)
def product_add(
    code: Code,
    title: Annotated[
        str, typer.Option(metavar="TITLE", help="The product's name on an invoice line")
    ],
    fee: Fee,
    taxable: Annotated[
        bool, typer.Option("--taxable/--gst-free", help="GST applies or not")
    ] = True,
) -> None:
    """Add a product."""
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


# ---------------------------------------------------------------- list, show, edit, deactivate

GROUPS = {
    "location": location_app,
    "provider": provider_app,
    "patient": patient_app,
    "payer": payer_app,
    "item": item_app,
    "product": product_app,
}
Search = Annotated[
    str | None,
    typer.Option(metavar="TEXT", help="Only those whose code or name contains TEXT, in any case"),
]
Inactive = Annotated[bool, typer.Option("--inactive", help="Include deactivated ones")]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _table(rows: list[dict[str, Any]]) -> str:
    """Rows as aligned columns under their keys (the id left out: the code names a row)."""
    keys = [key for key in rows[0] if key != "id"]
    cells = [keys, *([_text(row[key]) for key in keys] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _list(kind: str, search: str | None, inactive: bool) -> None:
    found = masters.list_masters(settings.engine, kind, search=search, inactive=inactive)
    data = shapes.master_list(kind, found)
    rows = data[f"{kind}s"]
    out(
        data,
        _table(rows) if rows else f"no {kind}s" + (f" match '{search}'" if search else ""),
    )
    if found.more and not settings.as_json:
        print(
            f"... and {found.more} more {kind}s: narrow the list with --search",
            file=sys.stderr,
        )


def _show(kind: str, code: str) -> None:
    shown = shapes.master(masters.show_master(settings.engine, kind, code))
    out(shown, "\n".join(f"{key}: {_text(value)}" for key, value in shown.items() if key != "id"))


def _changed(kind: str, done: masters.Changed, verb: str, unchanged: str) -> None:
    """The answer of an edit, deactivation or activation: each column it changed (was,
    now), or that there was nothing to do."""
    data = shapes.changed(done)
    changes = data["changed"]
    if not changes:
        text = f"{kind} {done.code} {unchanged}"
    elif verb == "updated":
        text = f"updated {kind} {done.code}: {', '.join(changes)}"
    else:
        text = f"{verb} {kind} {done.code}"
    out(data, text)


def _register(kind: str, group: typer.Typer) -> None:
    """The commands every kind of master has alike: list, show, deactivate, activate."""
    label = LABELS[kind]
    reads, writes = (
        (Action.PATIENT_READ, Action.PATIENT_WRITE)
        if kind == "patient"
        else (Action.MASTER_READ, Action.MASTER_WRITE)
    )

    @group.command(
        "list",
        help=f"List the {kind}s by code (at most {LIST_ROWS_MAX}); "
        f"--search matches the code or {label}.",
    )
    @needs(reads)
    def list_(search: Search = None, inactive: Inactive = False) -> None:
        _list(kind, search, inactive)

    @group.command("show", help=f"Show one {kind}, every column.")
    @needs(reads)
    def show(code: Found) -> None:
        _show(kind, code)

    @group.command(
        "deactivate", help=f"Deactivate a {kind}: kept for history, refused for new invoices."
    )
    @needs(writes)
    def deactivate(code: Found) -> None:
        _changed(
            kind,
            masters.deactivate(settings.uow(), kind, code),
            "deactivated",
            "was already deactivated",
        )

    @group.command("activate", help=f"Activate a deactivated {kind} again.")
    @needs(writes)
    def activate(code: Found) -> None:
        _changed(
            kind, masters.activate(settings.uow(), kind, code), "activated", "is already active"
        )


for _kind, _group in GROUPS.items():
    _register(_kind, _group)


def _edited(kind: str, done: masters.Changed) -> None:
    _changed(kind, done, "updated", "unchanged: it already had those values")


Name = Annotated[str | None, typer.Option(metavar="NAME", help="A new name")]
NewFee = Annotated[
    str | None,
    typer.Option(
        metavar="AMOUNT", help="A new default fee, GST included (lines charged from now on)"
    ),
]


def _fee_cents(fee: str | None) -> int | None:
    return None if fee is None else cents_from_text(fee, field="fee")


@location_app.command("edit")
@needs(Action.MASTER_WRITE)
def location_edit(code: Found, name: Name = None) -> None:
    """Change a location's name."""
    _edited("location", masters.edit_location(settings.uow(), code=code, name=name))


@provider_app.command("edit")
@needs(Action.MASTER_WRITE)
def provider_edit(
    code: Found,
    name: Name = None,
    company_name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The provider's own company, for RCTIs ('' for none)"),
    ] = None,
    company_abn: Annotated[
        str | None, typer.Option(metavar="ABN", help="That company's ABN ('' for none)")
    ] = None,
    company_gst_registered: Annotated[
        bool | None,
        typer.Option(
            "--company-gst-registered/--no-company-gst-registered",
            help="That company is registered for GST or not",
        ),
    ] = None,
) -> None:
    """Change a provider's name or company."""
    _edited(
        "provider",
        masters.edit_provider(
            settings.uow(),
            code=code,
            name=name,
            company_name=company_name,
            company_abn=company_abn,
            company_gst_registered=company_gst_registered,
        ),
    )


@patient_app.command("edit")
@needs(Action.PATIENT_WRITE)
def patient_edit(code: Found, name: Name = None) -> None:
    """Change a patient's name."""
    _edited("patient", masters.edit_patient(settings.uow(), code=code, name=name))


@payer_app.command("edit")
@needs(Action.MASTER_WRITE)
def payer_edit(
    code: Found,
    name: Name = None,
    kind: Annotated[str | None, typer.Option(metavar="KIND", help=words(PayerKind))] = None,
) -> None:
    """Change a payer's name or kind."""
    _edited(
        "payer",
        masters.edit_payer(
            settings.uow(),
            code=code,
            name=name,
            kind=None if kind is None else parse_choice(PayerKind, kind, field="kind"),
        ),
    )


@item_app.command("edit")
@needs(Action.MASTER_WRITE)
def item_edit(
    code: Found,
    description: Annotated[
        str | None, typer.Option(metavar="TEXT", help="What the service is")
    ] = None,
    fee: NewFee = None,
    taxable: Annotated[
        bool | None, typer.Option("--taxable/--no-taxable", help="GST applies or not")
    ] = None,
) -> None:
    """Change an item's description, default fee or GST."""
    _edited(
        "item",
        masters.edit_item(
            settings.uow(),
            code=code,
            description=description,
            fee_cents=_fee_cents(fee),
            taxable=taxable,
        ),
    )


@product_app.command("edit")
@needs(Action.MASTER_WRITE)
def product_edit(
    code: Found,
    title: Annotated[
        str | None, typer.Option(metavar="TITLE", help="The product's name on an invoice line")
    ] = None,
    fee: NewFee = None,
    taxable: Annotated[
        bool | None, typer.Option("--taxable/--gst-free", help="GST applies or not")
    ] = None,
) -> None:
    """Change a product's title, price or GST."""
    _edited(
        "product",
        masters.edit_product(
            settings.uow(), code=code, title=title, fee_cents=_fee_cents(fee), taxable=taxable
        ),
    )
