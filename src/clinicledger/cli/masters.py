"""``init``, ``practice set`` and the master data: locations, providers, patients, payers,
items and products."""

from __future__ import annotations

from typing import Annotated

import typer

from clinicledger.cli.app import app, settings, sub_app
from clinicledger.cli.output import out
from clinicledger.domain.choices import PayerKind, parse_choice
from clinicledger.domain.money import cents_from_text
from clinicledger.services import masters


@app.command()
def init() -> None:
    """Create (or upgrade) the ledger's database."""
    created = masters.init_ledger(settings.engine, settings.uow)
    out({"created": created}, "initialised a new ledger" if created else "ledger is up to date")


practice_app = sub_app("practice", "The practice's details.")


@practice_app.command("set")
def practice_set(
    name: Annotated[str | None, typer.Option(help="The practice's name")] = None,
    abn: Annotated[str | None, typer.Option(help="Its ABN (11 digits)")] = None,
    gst_registered: Annotated[
        bool | None,
        typer.Option("--gst-registered/--not-gst-registered", help="Registered for GST or not"),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Its time zone, e.g. Australia/Sydney")
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Its currency code, e.g. AUD")] = None,
) -> None:
    """Change the practice's name, ABN, GST registration, time zone or currency."""
    masters.set_practice(
        settings.uow(),
        name=name,
        abn=abn,
        gst_registered=gst_registered,
        timezone=timezone,
        currency=currency,
    )
    out({"updated": True}, "practice updated")


location_app = sub_app("location", "Locations: where services are given and money taken.")
provider_app = sub_app("provider", "Providers: the practitioners who give the services.")
patient_app = sub_app("patient", "Patients.")
payer_app = sub_app("payer", "Payers: health funds, Medicare, DVA, insurers, third parties.")
item_app = sub_app("item", "Items: the services charged, with their default fees.")
product_app = sub_app("product", "Products: goods sold, with their prices.")

Code = Annotated[str, typer.Argument(metavar="CODE", help="Its code (never changes)")]
Fee = Annotated[str, typer.Option(metavar="AMOUNT", help="Default fee, GST included")]


def _created(kind: str, code: str, new_id: int) -> None:
    out({"id": new_id, "code": code}, f"added {kind} {code}")


@location_app.command("add")
def location_add(
    code: Code, name: Annotated[str, typer.Option(help="The location's name")]
) -> None:
    """Add a location."""
    _created("location", code, masters.add_location(settings.uow(), code=code, name=name))


@provider_app.command("add")
def provider_add(
    code: Code,
    name: Annotated[str, typer.Option(help="The provider's name")],
    company_name: Annotated[
        str | None, typer.Option(help="The provider's own company, for RCTIs")
    ] = None,
    company_abn: Annotated[str | None, typer.Option(help="That company's ABN")] = None,
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
def patient_add(code: Code, name: Annotated[str, typer.Option(help="The patient's name")]) -> None:
    """Add a patient."""
    _created("patient", code, masters.add_patient(settings.uow(), code=code, name=name))


@payer_app.command("add")
def payer_add(
    code: Code,
    name: Annotated[str, typer.Option(help="The payer's name")],
    kind: Annotated[
        str, typer.Option(metavar="KIND", help="fund|medicare|dva|insurer|third-party")
    ],
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
def item_add(
    code: Code,
    description: Annotated[str, typer.Option(help="What the service is")],
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
def product_add(
    code: Code,
    title: Annotated[str, typer.Option(help="The product's name on an invoice line")],
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
