"""Master data: the practice's details, and the locations, providers, payers, items and
products (list with a search and the deactivated ones on request, add, edit, deactivate,
activate), and a patient's edit. Managers change them; everyone reads them.

The kinds alike share one list template and one form template, driven by each kind's
fields (:data:`KINDS`); their routes are made in a loop (:func:`_kind_routes`). A form's
text is read here into what the service takes (a fee into cents, a payer's kind into its
word, a box into a bool); the rules are the service's, and its refusal lands beside the
field it names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from clinicledger.domain.choices import PayerKind, parse_choice
from clinicledger.domain.errors import UserError
from clinicledger.domain.masters import LIST_ROWS_MAX
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.permissions import Action, may
from clinicledger.services import masters
from clinicledger.shapes import masters as shapes
from clinicledger.store.uow import UnitOfWork
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

if TYPE_CHECKING:
    from clinicledger.store.masters import MasterRecord

router = APIRouter(include_in_schema=False)

# What a page says after a change it redirected from (a word in the address, never text
# from it).
NOTICES = {
    "added": "Added.",
    "saved": "Saved.",
    "unchanged": "Nothing changed: it already had those values.",
    "deactivated": "Deactivated: kept for history, refused for new invoices.",
    "activated": "Active again.",
}


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a master's form: ``text``, ``money`` (a fee), ``check`` (a box) or
    ``choice`` (one of ``choices``)."""

    name: str
    label: str
    type: str = "text"
    hint: str = ""
    choices: tuple[str, ...] = ()
    listed: bool = False  # a column of the list too


@dataclass(frozen=True, slots=True)
class Kind:
    kind: str
    plural: str  # its path, and its title
    title: str  # one of them
    article: str  # "a" or "an", before the title
    fields: tuple[Field, ...]  # the code's field comes first, on the add form only
    add: Callable[..., int]
    edit: Callable[..., masters.Changed]
    new_defaults: Mapping[str, str] = field(default_factory=dict)  # a new one's boxes

    @property
    def path(self) -> str:
        return f"/{self.plural.lower()}"


CODE = Field("code", "Code", hint="Letters, digits, . _ - / (it never changes)", listed=True)
NAME = Field("name", "Name", listed=True)

KINDS: dict[str, Kind] = {
    kind.kind: kind
    for kind in (
        Kind(
            "location",
            "Locations",
            "location",
            "a",
            (CODE, NAME),
            masters.add_location,
            masters.edit_location,
        ),
        Kind(
            "provider",
            "Providers",
            "provider",
            "a",
            (
                CODE,
                NAME,
                Field(
                    "company_name",
                    "Company name",
                    hint="The provider's own company, for RCTIs (empty: none)",
                    listed=True,
                ),
                Field("company_abn", "Company ABN", hint="11 digits (empty: none)"),
                Field("company_gst_registered", "The company is registered for GST", "check"),
            ),
            masters.add_provider,
            masters.edit_provider,
        ),
        Kind(
            "payer",
            "Payers",
            "payer",
            "a",
            (
                CODE,
                NAME,
                Field("kind", "Kind", "choice", choices=tuple(PayerKind), listed=True),
            ),
            masters.add_payer,
            masters.edit_payer,
        ),
        Kind(
            "item",
            "Items",
            "item",
            "an",
            (
                CODE,
                Field("description", "Description", listed=True),
                Field("fee", "Default fee", "money", hint="GST included, e.g. 95.00", listed=True),
                Field("taxable", "GST applies (most health services are GST-free)", "check"),
            ),
            masters.add_item,
            masters.edit_item,
        ),
        Kind(
            "product",
            "Products",
            "product",
            "a",
            (
                CODE,
                Field("title", "Title", hint="The product's name on an invoice line", listed=True),
                Field("fee", "Price", "money", hint="GST included, e.g. 24.95", listed=True),
                Field("taxable", "GST applies", "check"),
            ),
            masters.add_product,
            masters.edit_product,
            new_defaults={"taxable": "true"},
        ),
    )
}
PATIENT = Kind(
    "patient", "Patients", "patient", "a", (CODE, NAME), masters.add_patient, masters.edit_patient
)


def _typed(kind: Kind, form: Mapping[str, Any], *, with_code: bool) -> dict[str, str]:
    """What the form sent, as text (a box: "true" when ticked)."""
    typed = {}
    for one in kind.fields:
        if one.name == "code" and not with_code:
            continue
        sent = form.get(one.name)
        if one.type == "check":
            typed[one.name] = "true" if sent else ""
        else:
            typed[one.name] = sent.strip() if isinstance(sent, str) else ""
    return typed


def _arguments(kind: Kind, typed: Mapping[str, str], *, adding: bool) -> dict[str, Any]:
    """The service's keyword arguments from the typed text. An optional text left empty
    is left out when adding and clears it when editing (a provider's company)."""
    found: dict[str, Any] = {}
    for one in kind.fields:
        if one.name not in typed:
            continue
        text = typed[one.name]
        if one.type == "check":
            found[one.name] = bool(text)
        elif one.type == "money":
            found["fee_cents"] = cents_from_text(text, field=one.name)
        elif one.type == "choice":
            found[one.name] = parse_choice(PayerKind, text, field=one.name)
        elif adding and not text and one.name.startswith("company_"):
            continue
        else:
            found[one.name] = text
    return found


def _record_values(kind: Kind, code: str, shown: Mapping[str, Any]) -> dict[str, str]:
    """A stored master as the form shows it."""
    values = {"code": code}
    for one in kind.fields:
        value = shown.get(one.name)
        if one.type == "check":
            values[one.name] = "true" if value else ""
        else:
            values[one.name] = "" if value is None else str(value)
    return values


def _to(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={notice}", 303)


def _notice(done: str) -> str:
    return NOTICES.get(done, "")


def _code_path(kind: Kind, code: str) -> str:
    return f"{kind.path}/{quote(code, safe='/')}"


# ---------------------------------------------------------------- the index and the practice


@router.get("/masters")
def index(request: Request, clerk: Annotated[Clerk, page(Action.MASTER_READ)]) -> HTMLResponse:
    return render(request, clerk, "masters/index.html", kinds=list(KINDS.values()))


def _practice_values(shown: Mapping[str, Any]) -> dict[str, str]:
    return {
        "name": shown["name"],
        "abn": shown["abn"] or "",
        "gst_registered": "true" if shown["gst_registered"] else "",
        "timezone": shown["timezone"],
        "currency": shown["currency"],
        "locale": shown["locale"],
    }


@router.get("/practice")
def practice(
    request: Request, clerk: Annotated[Clerk, page(Action.MASTER_READ)], done: str = ""
) -> HTMLResponse:
    shown = shapes.practice(masters.practice(clerk.engine))
    return render(
        request,
        clerk,
        "masters/practice.html",
        values=_practice_values(shown),
        shown=shown,
        notice=_notice(done),
        may_write=may(clerk.caller.role, Action.MASTER_WRITE),
    )


@router.post("/practice")
async def set_practice(
    request: Request, clerk: Annotated[Clerk, page(Action.MASTER_WRITE)]
) -> Response:
    form = await request.form()
    typed = {
        name: str(form.get(name, "")).strip()
        for name in ("name", "abn", "timezone", "currency", "locale")
    }
    typed["gst_registered"] = "true" if form.get("gst_registered") else ""
    try:
        await run_in_threadpool(
            masters.set_practice,
            clerk.uow(),
            name=typed["name"],
            abn=typed["abn"] or None,  # an ABN once given is changed, not removed
            gst_registered=bool(typed["gst_registered"]),
            timezone=typed["timezone"],
            currency=typed["currency"],
            locale=typed["locale"],
        )
    except UserError as error:
        shown = shapes.practice(masters.practice(clerk.engine))
        return form_page(
            request,
            clerk,
            "masters/practice.html",
            error,
            values=typed,
            shown=shown,
            notice="",
            may_write=True,
        )
    return _to("/practice", "saved")


# ---------------------------------------------------------------- a patient's edit


@router.get("/patients/{code:path}/edit")
def edit_patient_form(
    request: Request, code: str, clerk: Annotated[Clerk, page(Action.PATIENT_WRITE)], done: str = ""
) -> HTMLResponse:
    record = masters.show_master(clerk.engine, "patient", code)
    return _form(request, clerk, PATIENT, record, values=None, notice=_notice(done))


@router.post("/patients/{code:path}/edit")
async def edit_patient(
    request: Request, code: str, clerk: Annotated[Clerk, page(Action.PATIENT_WRITE)]
) -> Response:
    return await _edit(request, clerk, PATIENT, code, f"/patients/{quote(code, safe='/')}/edit")


# ---------------------------------------------------------------- the kinds alike


def _form(
    request: Request,
    clerk: Clerk,
    kind: Kind,
    record: MasterRecord | None,
    *,
    values: Mapping[str, str] | None,
    notice: str = "",
    error: UserError | None = None,
) -> HTMLResponse:
    """The add form (no ``record``) or a master's edit form."""
    if values is None:
        values = (
            dict(kind.new_defaults)
            if record is None
            else _record_values(kind, record.code, shapes.master(record))
        )
    # where the form posts an edit, and where deactivate and activate are posted below it
    edit_path = active_path = None
    if record is not None:
        active_path = (
            f"/patients/{quote(record.code, safe='/')}"
            if kind is PATIENT
            else _code_path(kind, record.code)
        )
        edit_path = f"{active_path}/edit" if kind is PATIENT else active_path
    context: dict[str, Any] = {
        "kind": kind,
        "record": record,
        "edit_path": edit_path,
        "active_path": active_path,
        "notice": notice,
        "may_write": may(
            clerk.caller.role, Action.PATIENT_WRITE if kind is PATIENT else Action.MASTER_WRITE
        ),
    }
    if error is not None:
        return form_page(request, clerk, "masters/form.html", error, values=values, **context)
    return render(request, clerk, "masters/form.html", values=dict(values), **context)


async def _edit(request: Request, clerk: Clerk, kind: Kind, code: str, back: str) -> Response:
    form = await request.form()
    typed = _typed(kind, form, with_code=False)
    try:
        arguments = _arguments(kind, typed, adding=False)
        done = await run_in_threadpool(lambda: kind.edit(clerk.uow(), code=code, **arguments))
    except UserError as error:
        record = masters.show_master(clerk.engine, kind.kind, code)
        return _form(request, clerk, kind, record, values={"code": code, **typed}, error=error)
    return _to(back, "saved" if done.changes else "unchanged")


async def _set_active(
    clerk: Clerk, kind: Kind, code: str, active: bool, back: str
) -> RedirectResponse:
    change: Callable[[UnitOfWork, str, str], masters.Changed] = (
        masters.activate if active else masters.deactivate
    )
    done = await run_in_threadpool(change, clerk.uow(), kind.kind, code)
    notice = ("activated" if active else "deactivated") if done.changes else "unchanged"
    return _to(back, notice)


def _kind_routes(kind: Kind) -> None:
    path = kind.path

    @router.get(path, name=f"list_{kind.plural.lower()}")
    def list_(
        request: Request,
        clerk: Annotated[Clerk, page(Action.MASTER_READ)],
        search: str = "",
        inactive: bool = False,
        done: str = "",
    ) -> HTMLResponse:
        found = masters.list_masters(
            clerk.engine, kind.kind, search=search.strip() or None, inactive=inactive
        )
        return render(
            request,
            clerk,
            "masters/list.html",
            kind=kind,
            rows=[
                {**shapes.master(record), "fee_cents": record.values.get("fee_cents")}
                for record in found.rows
            ],
            more_rows=found.more,
            limit=LIST_ROWS_MAX,
            values={"search": search, "inactive": inactive},
            notice=_notice(done),
            may_write=may(clerk.caller.role, Action.MASTER_WRITE),
        )

    @router.get(f"{path}/new", name=f"new_{kind.kind}")
    def new(request: Request, clerk: Annotated[Clerk, page(Action.MASTER_WRITE)]) -> HTMLResponse:
        return _form(request, clerk, kind, None, values=None)

    @router.post(f"{path}/new", name=f"add_{kind.kind}")
    async def add(request: Request, clerk: Annotated[Clerk, page(Action.MASTER_WRITE)]) -> Response:
        form = await request.form()
        typed = _typed(kind, form, with_code=True)
        try:
            arguments = _arguments(kind, typed, adding=True)
            await run_in_threadpool(lambda: kind.add(clerk.uow(), **arguments))
        except UserError as error:
            return _form(request, clerk, kind, None, values=typed, error=error)
        return _to(path, "added")

    @router.post(f"{path}/{{code:path}}/deactivate", name=f"deactivate_{kind.kind}")
    async def deactivate(
        code: str, clerk: Annotated[Clerk, page(Action.MASTER_WRITE)]
    ) -> RedirectResponse:
        return await _set_active(clerk, kind, code, False, _code_path(kind, code))

    @router.post(f"{path}/{{code:path}}/activate", name=f"activate_{kind.kind}")
    async def activate(
        code: str, clerk: Annotated[Clerk, page(Action.MASTER_WRITE)]
    ) -> RedirectResponse:
        return await _set_active(clerk, kind, code, True, _code_path(kind, code))

    @router.get(f"{path}/{{code:path}}", name=f"show_{kind.kind}")
    def show(
        request: Request,
        code: str,
        clerk: Annotated[Clerk, page(Action.MASTER_READ)],
        done: str = "",
    ) -> HTMLResponse:
        record = masters.show_master(clerk.engine, kind.kind, code)
        return _form(request, clerk, kind, record, values=None, notice=_notice(done))

    @router.post(f"{path}/{{code:path}}", name=f"edit_{kind.kind}")
    async def edit(
        request: Request, code: str, clerk: Annotated[Clerk, page(Action.MASTER_WRITE)]
    ) -> Response:
        return await _edit(request, clerk, kind, code, _code_path(kind, code))


@router.post("/patients/{code:path}/deactivate")
async def deactivate_patient(
    code: str, clerk: Annotated[Clerk, page(Action.PATIENT_WRITE)]
) -> RedirectResponse:
    return await _set_active(clerk, PATIENT, code, False, f"/patients/{quote(code, safe='/')}/edit")


@router.post("/patients/{code:path}/activate")
async def activate_patient(
    code: str, clerk: Annotated[Clerk, page(Action.PATIENT_WRITE)]
) -> RedirectResponse:
    return await _set_active(clerk, PATIENT, code, True, f"/patients/{quote(code, safe='/')}/edit")


for _kind in KINDS.values():
    _kind_routes(_kind)
