"""Master data: the practice, locations, providers, patients, payers, items, products.

Each kind of master is added, edited, deactivated and activated again, listed and shown.
The rules a kind's values must pass are written once per kind (``_provider_values`` and
its siblings) and serve both add and edit; the rule over a whole row (a provider's company
ABN needs the company's name) is checked on the row as it will be stored. A code never
changes: payments, imported files and other programs know a master by it. A deactivated
master is kept for history and takes no new invoices
(:func:`clinicledger.store.lookups.id_for_code` with ``active``); payments, allocations and
reports go on as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import available_timezones

from clinicledger.domain.choices import PayerKind
from clinicledger.domain.errors import Conflict, InvalidInput
from clinicledger.domain.masters import LIST_ROWS_MAX
from clinicledger.domain.money import check_positive
from clinicledger.domain.records import PracticeRecord
from clinicledger.domain.text import (
    MAX_NAME_LENGTH,
    check_abn,
    check_code,
    check_name,
    check_plain,
    check_text,
    listed,
)
from clinicledger.store import ledger, lookups, masters, schema
from clinicledger.store.engine import Engine
from clinicledger.store.masters import MasterList, MasterRecord, Value
from clinicledger.store.uow import UnitOfWork, reading

DEFAULT_PRACTICE_NAME = "My Practice"


def init_ledger(engine: Engine, make_uow: Callable[[], UnitOfWork]) -> bool:
    """Create or upgrade the schema and the practice row; True if the practice is new.
    Several at once make it once: the upgrades take turns (``store.schema``), and the
    practice is looked for and made under the ledger's write lock, so every later one
    finds it and returns False."""
    schema.upgrade(engine)
    with make_uow() as uow:
        if lookups.practice(uow.conn) is not None:  # read under the lock: another run made it
            return False
        masters.insert_practice(uow.conn, name=DEFAULT_PRACTICE_NAME)
        uow.audit("practice.create", "practice", {"name": DEFAULT_PRACTICE_NAME})
        uow.commit()
    return True


def set_practice(
    uow: UnitOfWork,
    *,
    name: str | None = None,
    abn: str | None = None,
    gst_registered: bool | None = None,
    timezone: str | None = None,
    currency: str | None = None,
    locale: str | None = None,
) -> None:
    values: dict[str, Value] = {}
    if name is not None:
        values["name"] = check_name(name)
    if abn is not None:
        values["abn"] = check_abn(abn)
    if gst_registered is not None:
        values["gst_registered"] = gst_registered
    if timezone is not None:
        values["timezone"] = _check_zone(timezone)
    if currency is not None:
        # ISO 4217: three ASCII letters (str.isalpha takes any script's, and 'ß'.upper()
        # is two letters)
        if _CURRENCY.fullmatch(check_plain(currency, field="currency")) is None:
            raise InvalidInput(
                "currency",
                f"'{currency}' is not a currency code (e.g. AUD)",
                code="currency_malformed",
            )
        values["currency"] = currency.upper()
    if locale is not None:
        values["locale"] = _check_locale(locale)
    if not values:
        raise InvalidInput(
            "practice",
            "nothing to change: give a name, ABN, GST registration, time zone, currency or locale",
            code="nothing_to_change",
            key="practice",
            fields="name abn gst_registered timezone currency locale",
        )
    with uow:
        if "timezone" in values:
            _check_zone_change(uow, str(values["timezone"]))
        masters.update_practice(uow.conn, values)
        uow.audit("practice.update", "practice", values)
        uow.commit()


_CURRENCY = re.compile("[A-Za-z]{3}")
# A locale's name as Babel spells it: language, then script and territory (en_AU, zh_Hant_TW)
_LOCALE = re.compile("[a-z]{2,3}(_[A-Z][a-z]{3})?(_([A-Z]{2}|[0-9]{3}))?")


def _check_locale(locale: str) -> str:
    """A locale Babel has the data of (how money and dates are written), by its name."""
    from babel import Locale, UnknownLocaleError  # not on the path of any other command

    name = check_plain(locale, field="locale")
    try:
        if _LOCALE.fullmatch(name) is None:
            raise ValueError(name)
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        raise InvalidInput(
            "locale",
            f"'{locale}' is not a locale this app knows (e.g. en_AU, en_NZ, en_GB)",
            code="locale_unknown",
        ) from None
    return name


def _check_zone(timezone: str) -> str:
    """A time zone of the IANA database by its key (``Australia/Sydney``). Only a key the
    database lists: ``ZoneInfo`` also tries a folder of it (``Australia``: an
    IsADirectoryError) or a name too long for a file (an OSError)."""
    check_plain(timezone, field="timezone")
    if timezone not in available_timezones():
        raise InvalidInput(
            "timezone",
            f"'{timezone}' is not a time zone (e.g. Australia/Sydney)",
            code="timezone_unknown",
        )
    return timezone


def _check_zone_change(uow: UnitOfWork, timezone: str) -> None:
    """The time zone may change only while the ledger holds no practice's data. Business
    dates were read in the zone when entries were made, and an as-known-at moment given in
    local time is read in it: a new zone would make a report as known at a past moment say
    something else than it said then (DESIGN.md: it must reproduce it to the cent). The
    same zone again changes nothing and is not refused."""
    current = lookups.require_practice(uow.conn).timezone
    if timezone != current and ledger.has_entries(uow.conn):
        raise Conflict(
            f"the time zone cannot change from {current} once the ledger holds entries "
            "(business dates and as-known-at moments are read in it)",
            code="timezone_fixed",
            field="timezone",
            timezone=current,
        )


# ---------------------------------------------------------------- the rules of each kind
#
# Each takes the values given (``None``: not given) and returns them checked, by the column
# they are stored in. Add passes every value; edit passes the ones to change. An optional
# column given as empty text is cleared.


def _name_values(*, name: str | None) -> dict[str, Value]:
    """A location's or a patient's: a name."""
    return _given(name=None if name is None else check_name(name))


def _payer_values(*, name: str | None, kind: PayerKind | None) -> dict[str, Value]:
    return _given(
        name=None if name is None else check_name(name),
        kind=None if kind is None else kind.value,
    )


def _provider_values(
    *,
    name: str | None,
    company_name: str | None,
    company_abn: str | None,
    company_gst_registered: bool | None,
) -> dict[str, Value]:
    values = _given(
        name=None if name is None else check_name(name),
        company_gst_registered=company_gst_registered,
    )
    # blank clears; a control character is refused, not taken for blank
    if company_name is not None:
        check_plain(company_name, field="company_name")
        values["company_name"] = (
            check_name(company_name, field="company_name") if company_name.strip() else None
        )
    if company_abn is not None:
        check_plain(company_abn, field="company_abn")
        values["company_abn"] = (
            check_abn(company_abn, field="company_abn") if company_abn.strip() else None
        )
    return values


def _check_company(row: Mapping[str, Value]) -> None:
    """A provider's company ABN and GST registration belong to the company: no company
    name, neither (an RCTI names the company)."""
    if row.get("company_name") is None and (
        row.get("company_abn") is not None or row.get("company_gst_registered")
    ):
        raise InvalidInput(
            "company_name",
            "a company ABN or GST registration needs the company's name",
            code="company_name_missing",
        )


def _item_values(
    *, description: str | None, fee_cents: int | None, taxable: bool | None
) -> dict[str, Value]:
    return _given(
        description=None if description is None else check_name(description, field="description"),
        fee_cents=None if fee_cents is None else check_positive(fee_cents, field="fee"),
        taxable=taxable,
    )


def _product_values(
    *, title: str | None, fee_cents: int | None, taxable: bool | None
) -> dict[str, Value]:
    return _given(
        title=None if title is None else check_name(title, field="title"),
        fee_cents=None if fee_cents is None else check_positive(fee_cents, field="fee"),
        taxable=taxable,
    )


def _given(**values: Value) -> dict[str, Value]:
    return {column: value for column, value in values.items() if value is not None}


# What an edit of each kind can change, by field (as errors name them); for the refusal
# of an edit that changes nothing.
FIELDS: dict[str, tuple[str, ...]] = {
    "location": ("name",),
    "provider": ("name", "company_name", "company_abn", "company_gst_registered"),
    "patient": ("name",),
    "payer": ("name", "kind"),
    "item": ("description", "fee", "taxable"),
    "product": ("title", "fee", "taxable"),
}


def check_row(kind: str, row: Mapping[str, Value]) -> None:
    """The rules over a whole row, as it will be stored (only a provider has one)."""
    if kind == "provider":
        _check_company(row)


def _check_title(uow: UnitOfWork, kind: str, row: Mapping[str, Value], own: int | None) -> None:
    """A product's title is unique (an invoice line names its product by title): refuse
    one that another product holds."""
    if kind != "product" or "title" not in row:
        return
    title = row["title"]
    if masters.taken(uow.conn, kind, "title", title, besides=own):
        raise Conflict(
            f"product title '{title}' is already taken", code="title_taken", field="title"
        )


# ---------------------------------------------------------------- add


def _add(uow: UnitOfWork, kind: str, code: str, values: dict[str, Value]) -> int:
    code = check_code(code)
    row = {"code": code, **values}
    check_row(kind, row)
    with uow:
        if masters.taken(uow.conn, kind, "code", code):
            raise Conflict(
                f"{kind} code '{code}' is already taken", code="code_taken", field="code"
            )
        _check_title(uow, kind, row, None)
        other = masters.other_party_with_code(uow.conn, kind, code)
        if other is not None:
            raise Conflict(
                f"{kind} code '{code}' is already taken (by a {other})",
                code="code_taken",
                field="code",
            )
        new_id = insert_master(uow, kind, row)
        uow.commit()
    return new_id


def insert_master(uow: UnitOfWork, kind: str, values: dict[str, Value]) -> int:
    """Insert one master row with its audit record, inside the caller's unit of work."""
    new_id = masters.insert_master(uow.conn, kind, values)
    uow.audit(f"{kind}.create", f"{kind}:{values['code']}", {"id": new_id})
    return new_id


def add_location(uow: UnitOfWork, *, code: str, name: str) -> int:
    return _add(uow, "location", code, _name_values(name=name))


def add_provider(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    company_name: str | None = None,
    company_abn: str | None = None,
    company_gst_registered: bool = False,
) -> int:
    return _add(
        uow,
        "provider",
        code,
        _provider_values(
            name=name,
            company_name=company_name,
            company_abn=company_abn,
            company_gst_registered=company_gst_registered,
        ),
    )


def add_patient(uow: UnitOfWork, *, code: str, name: str) -> int:
    return _add(uow, "patient", code, _name_values(name=name))


def add_payer(uow: UnitOfWork, *, code: str, name: str, kind: PayerKind) -> int:
    return _add(uow, "payer", code, _payer_values(name=name, kind=kind))


def add_item(
    uow: UnitOfWork, *, code: str, description: str, fee_cents: int, taxable: bool = False
) -> int:
    return _add(
        uow,
        "item",
        code,
        _item_values(description=description, fee_cents=fee_cents, taxable=taxable),
    )


def add_product(
    uow: UnitOfWork, *, code: str, title: str, fee_cents: int, taxable: bool = True
) -> int:
    return _add(
        uow, "product", code, _product_values(title=title, fee_cents=fee_cents, taxable=taxable)
    )


# ---------------------------------------------------------------- edit, deactivate, activate


@dataclass(frozen=True, slots=True, kw_only=True)
class Changed:
    """What an edit, deactivation or activation did to a master: its id and code, and
    each column it changed (was, now); none if the master already was so."""

    id: int
    code: str
    changes: Mapping[str, tuple[Value, Value]]


def _edit(uow: UnitOfWork, kind: str, code: str, values: dict[str, Value]) -> Changed:
    """Change the columns in ``values`` (already checked by the kind's rules) of the
    ``kind`` with ``code``, with an audit record of each (was, now) in the same
    transaction. Values equal to the stored ones change nothing and write nothing, so
    that a retried edit is harmless."""
    if not values:
        fields = FIELDS[kind]
        raise InvalidInput(
            kind,
            f"nothing to change for {code}: give a new {listed(fields)}",
            code="nothing_to_change",
            key=code,
            fields=" ".join(fields),
        )
    with uow:
        found = masters.master_record(uow.conn, kind, code)
        check_row(kind, {**found.values, **values})
        _check_title(uow, kind, values, found.id)
        changes = {
            column: (found.values[column], value)
            for column, value in values.items()
            if found.values[column] != value
        }
        if changes:
            masters.update_master(
                uow.conn, kind, found.id, {column: now for column, (_, now) in changes.items()}
            )
            uow.audit(
                f"{kind}.update",
                f"{kind}:{found.code}",
                {column: [was, now] for column, (was, now) in changes.items()},
            )
            uow.commit()
    return Changed(id=found.id, code=found.code, changes=changes)


def edit_location(uow: UnitOfWork, *, code: str, name: str | None = None) -> Changed:
    return _edit(uow, "location", code, _name_values(name=name))


def edit_provider(
    uow: UnitOfWork,
    *,
    code: str,
    name: str | None = None,
    company_name: str | None = None,
    company_abn: str | None = None,
    company_gst_registered: bool | None = None,
) -> Changed:
    """Change a provider's name or company; an empty company name or ABN clears it."""
    return _edit(
        uow,
        "provider",
        code,
        _provider_values(
            name=name,
            company_name=company_name,
            company_abn=company_abn,
            company_gst_registered=company_gst_registered,
        ),
    )


def edit_patient(uow: UnitOfWork, *, code: str, name: str | None = None) -> Changed:
    return _edit(uow, "patient", code, _name_values(name=name))


def edit_payer(
    uow: UnitOfWork, *, code: str, name: str | None = None, kind: PayerKind | None = None
) -> Changed:
    return _edit(uow, "payer", code, _payer_values(name=name, kind=kind))


def edit_item(
    uow: UnitOfWork,
    *,
    code: str,
    description: str | None = None,
    fee_cents: int | None = None,
    taxable: bool | None = None,
) -> Changed:
    """Change an item; a new fee is the default of lines charged from now on (a line
    already charged keeps its fee: the journal is immutable)."""
    return _edit(
        uow,
        "item",
        code,
        _item_values(description=description, fee_cents=fee_cents, taxable=taxable),
    )


def edit_product(
    uow: UnitOfWork,
    *,
    code: str,
    title: str | None = None,
    fee_cents: int | None = None,
    taxable: bool | None = None,
) -> Changed:
    """Change a product; a new fee is the default of lines charged from now on."""
    return _edit(
        uow, "product", code, _product_values(title=title, fee_cents=fee_cents, taxable=taxable)
    )


def _set_active(uow: UnitOfWork, kind: str, code: str, active: bool) -> Changed:
    with uow:
        found = masters.master_record(uow.conn, kind, code)
        changes: dict[str, tuple[Value, Value]] = {}
        if found.active != active:
            changes["active"] = (found.active, active)
            masters.update_master(uow.conn, kind, found.id, {"active": active})
            uow.audit(
                f"{kind}.{'activate' if active else 'deactivate'}",
                f"{kind}:{found.code}",
                {"active": [found.active, active]},
            )
            uow.commit()
    return Changed(id=found.id, code=found.code, changes=changes)


def deactivate(uow: UnitOfWork, kind: str, code: str) -> Changed:
    """Deactivate a master (a key of :data:`KINDS`): kept for history and for payments and
    reports, refused for new invoices. Already deactivated: nothing changes."""
    return _set_active(uow, kind, code, False)


def activate(uow: UnitOfWork, kind: str, code: str) -> Changed:
    """Activate a deactivated master again. Already active: nothing changes."""
    return _set_active(uow, kind, code, True)


# ---------------------------------------------------------------- list, show

KINDS = tuple(FIELDS)


def list_masters(
    engine: Engine, kind: str, *, search: str | None = None, inactive: bool = False
) -> MasterList:
    """The ``kind`` (a key of :data:`KINDS`) by code, at most :data:`LIST_ROWS_MAX` of
    them: those whose code or name (an item's description, a product's title) contains
    ``search`` in any case; the active ones only unless ``inactive``."""
    wanted = check_text(search, field="search", max_length=MAX_NAME_LENGTH)
    with reading(engine) as conn:
        return masters.master_list(
            conn, kind, search=wanted, inactive=inactive, limit=LIST_ROWS_MAX
        )


def practice(engine: Engine) -> PracticeRecord:
    """The practice's details: its name, ABN, time zone, currency."""
    with reading(engine) as conn:
        return lookups.require_practice(conn)


def show_master(engine: Engine, kind: str, code: str) -> MasterRecord:
    """The ``kind`` with ``code``, every column."""
    with reading(engine) as conn:
        return masters.master_record(conn, kind, code)
