"""Master data: ``/api/v1/practice`` and ``/api/v1/{locations,providers,payers,items,
products}`` (list with ``search`` and ``inactive``, show, add, edit, deactivate, activate),
and a patient's edit, deactivation and activation under ``/api/v1/patients``; the same
objects as ``clinicledger --json practice show|set`` and ``KIND list|show|add|edit|
deactivate|activate``.

Written without ``from __future__ import annotations``: the routes of the kinds alike are
made in a loop (:func:`_alike`), and FastAPI reads their parameters' types from the
function it is given, which a postponed annotation would leave as text."""

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from clinicledger.domain.choices import PayerKind, parse_choice
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action
from clinicledger.services import masters
from clinicledger.shapes import masters as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(tags=["master data"], responses=ERRORS)

Reader = Annotated[Clerk, api(Action.MASTER_READ)]
Writer = Annotated[Clerk, api(Action.MASTER_WRITE)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _cents(fee: str | None) -> int | None:
    return None if fee is None else cents_from_text(fee, field="fee")


def _created(new_id: int, code: str) -> JSONResponse:
    return JSONResponse(shapes.created(new_id, code), status_code=201)


# ---------------------------------------------------------------- the practice


@router.get("/practice")
def show_practice(clerk: Reader) -> dict[str, Any]:
    """The practice's name, ABN, GST registration, time zone, currency, and the day its
    books are closed through."""
    return shapes.practice(masters.practice(clerk.engine))


class PracticeChange(_Body):
    name: str | None = None
    abn: str | None = None
    gst_registered: bool | None = None
    timezone: str | None = None
    currency: str | None = None
    locale: str | None = None  # how money and dates are written, e.g. en_AU


@router.patch("/practice")
def set_practice(change: PracticeChange, clerk: Writer) -> dict[str, Any]:
    """Change the practice's name, ABN, GST registration, time zone (only while the ledger
    holds no entries), currency or locale."""
    masters.set_practice(
        clerk.uow(),
        name=change.name,
        abn=change.abn,
        gst_registered=change.gst_registered,
        timezone=change.timezone,
        currency=change.currency,
        locale=change.locale,
    )
    return {"updated": True}


# ---------------------------------------------------------------- each kind's add and edit


class NewLocation(_Body):
    code: str
    name: str


class LocationChange(_Body):
    name: str | None = None


@router.post("/locations", status_code=201, tags=["locations"])
def add_location(new: NewLocation, clerk: Writer) -> JSONResponse:
    """Add a location."""
    return _created(masters.add_location(clerk.uow(), code=new.code, name=new.name), new.code)


class NewProvider(_Body):
    code: str
    name: str
    company_name: str | None = None
    company_abn: str | None = None
    company_gst_registered: bool = False


class ProviderChange(_Body):
    name: str | None = None
    company_name: str | None = None  # "" clears it
    company_abn: str | None = None  # "" clears it
    company_gst_registered: bool | None = None


@router.post("/providers", status_code=201, tags=["providers"])
def add_provider(new: NewProvider, clerk: Writer) -> JSONResponse:
    """Add a provider, with the company it bills through if any (for RCTIs)."""
    new_id = masters.add_provider(
        clerk.uow(),
        code=new.code,
        name=new.name,
        company_name=new.company_name,
        company_abn=new.company_abn,
        company_gst_registered=new.company_gst_registered,
    )
    return _created(new_id, new.code)


class NewPayer(_Body):
    code: str
    name: str
    kind: str  # fund, medicare, dva, insurer, third-party


class PayerChange(_Body):
    name: str | None = None
    kind: str | None = None


@router.post("/payers", status_code=201, tags=["payers"])
def add_payer(new: NewPayer, clerk: Writer) -> JSONResponse:
    """Add a payer: a health fund, Medicare, DVA, an insurer or a third party."""
    kind = parse_choice(PayerKind, new.kind, field="kind")
    return _created(
        masters.add_payer(clerk.uow(), code=new.code, name=new.name, kind=kind), new.code
    )


class NewItem(_Body):
    code: str
    description: str
    fee: str  # GST included, e.g. "100.00"
    taxable: bool = False


class ItemChange(_Body):
    description: str | None = None
    fee: str | None = None
    taxable: bool | None = None


@router.post("/items", status_code=201, tags=["items"])
def add_item(new: NewItem, clerk: Writer) -> JSONResponse:
    """Add an item: a service and its default fee."""
    new_id = masters.add_item(
        clerk.uow(),
        code=new.code,
        description=new.description,
        fee_cents=cents_from_text(new.fee, field="fee"),
        taxable=new.taxable,
    )
    return _created(new_id, new.code)


class NewProduct(_Body):
    code: str
    title: str
    fee: str
    taxable: bool = True


class ProductChange(_Body):
    title: str | None = None
    fee: str | None = None
    taxable: bool | None = None


@router.post("/products", status_code=201, tags=["products"])
def add_product(new: NewProduct, clerk: Writer) -> JSONResponse:
    """Add a product: goods sold, with its price."""
    new_id = masters.add_product(
        clerk.uow(),
        code=new.code,
        title=new.title,
        fee_cents=cents_from_text(new.fee, field="fee"),
        taxable=new.taxable,
    )
    return _created(new_id, new.code)


class PatientChange(_Body):
    name: str | None = None


# The edits, after the routes that end in /deactivate and /activate (:func:`_alike`): a
# code may hold a "/", so "/locations/{code}" would take "MAIN/deactivate" as a code.
def _edits() -> None:
    @router.patch("/locations/{code:path}", tags=["locations"])
    def edit_location(code: str, change: LocationChange, clerk: Writer) -> dict[str, Any]:
        """Change a location's name."""
        return shapes.changed(masters.edit_location(clerk.uow(), code=code, name=change.name))

    @router.patch("/providers/{code:path}", tags=["providers"])
    def edit_provider(code: str, change: ProviderChange, clerk: Writer) -> dict[str, Any]:
        """Change a provider's name or company ("" clears the company's name or ABN)."""
        done = masters.edit_provider(
            clerk.uow(),
            code=code,
            name=change.name,
            company_name=change.company_name,
            company_abn=change.company_abn,
            company_gst_registered=change.company_gst_registered,
        )
        return shapes.changed(done)

    @router.patch("/payers/{code:path}", tags=["payers"])
    def edit_payer(code: str, change: PayerChange, clerk: Writer) -> dict[str, Any]:
        """Change a payer's name or kind."""
        kind = None if change.kind is None else parse_choice(PayerKind, change.kind, field="kind")
        return shapes.changed(
            masters.edit_payer(clerk.uow(), code=code, name=change.name, kind=kind)
        )

    @router.patch("/items/{code:path}", tags=["items"])
    def edit_item(code: str, change: ItemChange, clerk: Writer) -> dict[str, Any]:
        """Change an item's description, default fee (lines charged from now on) or GST."""
        done = masters.edit_item(
            clerk.uow(),
            code=code,
            description=change.description,
            fee_cents=_cents(change.fee),
            taxable=change.taxable,
        )
        return shapes.changed(done)

    @router.patch("/products/{code:path}", tags=["products"])
    def edit_product(code: str, change: ProductChange, clerk: Writer) -> dict[str, Any]:
        """Change a product's title, price (lines charged from now on) or GST."""
        done = masters.edit_product(
            clerk.uow(),
            code=code,
            title=change.title,
            fee_cents=_cents(change.fee),
            taxable=change.taxable,
        )
        return shapes.changed(done)

    @router.patch("/patients/{code:path}", tags=["patients"])
    def edit_patient(
        code: str,
        change: PatientChange,
        clerk: Annotated[Clerk, api(Action.PATIENT_WRITE)],
    ) -> dict[str, Any]:
        """Change a patient's name."""
        return shapes.changed(masters.edit_patient(clerk.uow(), code=code, name=change.name))


# ---------------------------------------------------------------- what every kind has alike

PLURALS = {
    "location": "locations",
    "provider": "providers",
    "payer": "payers",
    "item": "items",
    "product": "products",
}


def _alike(kind: str, plural: str) -> None:
    """List, show, deactivate and activate (a patient: deactivate and activate only; the
    patients' own module lists and shows them)."""
    reads, writes = (
        (Action.PATIENT_READ, Action.PATIENT_WRITE)
        if kind == "patient"
        else (Action.MASTER_READ, Action.MASTER_WRITE)
    )

    def deactivate(code: str, clerk: Annotated[Clerk, api(writes)]) -> dict[str, Any]:
        return shapes.changed(masters.deactivate(clerk.uow(), kind, code))

    def activate(code: str, clerk: Annotated[Clerk, api(writes)]) -> dict[str, Any]:
        return shapes.changed(masters.activate(clerk.uow(), kind, code))

    for verb, route, words in (
        ("deactivate", deactivate, "kept for history, refused for new invoices"),
        ("activate", activate, "again"),
    ):
        router.add_api_route(
            f"/{plural}/{{code:path}}/{verb}",
            route,
            methods=["POST"],
            name=f"{verb}_{kind}",
            summary=f"{verb.capitalize()} a {kind}",
            description=f"{verb.capitalize()} a {kind}, {words}.",
            tags=[plural],
        )
    if kind == "patient":
        return

    def list_(
        clerk: Annotated[Clerk, api(reads)], search: str = "", inactive: bool = False
    ) -> dict[str, Any]:
        found = masters.list_masters(clerk.engine, kind, search=search or None, inactive=inactive)
        return shapes.master_list(kind, found)

    def show(code: str, clerk: Annotated[Clerk, api(reads)]) -> dict[str, Any]:
        return shapes.master(masters.show_master(clerk.engine, kind, code))

    router.add_api_route(
        f"/{plural}",
        list_,
        methods=["GET"],
        name=f"list_{plural}",
        summary=f"List {plural}",
        description=f"The {plural} by code (at most 500, and how many more match): those "
        "whose code or name contains `search`, in any case; the active ones unless "
        "`inactive`.",
        tags=[plural],
    )
    router.add_api_route(
        f"/{plural}/{{code:path}}",
        show,
        methods=["GET"],
        name=f"show_{kind}",
        summary=f"Show a {kind}",
        description=f"One {kind}, every column.",
        tags=[plural],
    )


for _kind, _plural in (*PLURALS.items(), ("patient", "patients")):
    _alike(_kind, _plural)
_edits()
