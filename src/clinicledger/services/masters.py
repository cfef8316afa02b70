"""Master data: the practice, locations, providers, patients, payers, items, products."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clinicledger.domain.choices import PayerKind
from clinicledger.domain.errors import Conflict, InvalidInput
from clinicledger.domain.money import check_positive
from clinicledger.domain.text import check_abn, check_code, check_name
from clinicledger.store import ledger, masters, schema
from clinicledger.store.engine import Engine
from clinicledger.store.masters import Value
from clinicledger.store.uow import UnitOfWork

DEFAULT_PRACTICE_NAME = "My Practice"


def init_ledger(engine: Engine, make_uow: Callable[[], UnitOfWork]) -> bool:
    """Create or upgrade the schema and the practice row; True if the practice is new."""
    schema.upgrade(engine)
    with make_uow() as uow:
        if ledger.practice(uow.conn) is not None:
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
) -> None:
    values: dict[str, Value] = {}
    if name is not None:
        values["name"] = check_name(name)
    if abn is not None:
        values["abn"] = check_abn(abn)
    if gst_registered is not None:
        values["gst_registered"] = gst_registered
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                "timezone",
                f"'{timezone}' is not a time zone (e.g. Australia/Sydney)",
                code="timezone_unknown",
            ) from None
        values["timezone"] = timezone
    if currency is not None:
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidInput(
                "currency",
                f"'{currency}' is not a currency code (e.g. AUD)",
                code="currency_malformed",
            )
        values["currency"] = currency.upper()
    if not values:
        raise InvalidInput(
            "practice",
            "nothing to change: give a name, ABN, GST registration, time zone or currency",
            code="nothing_to_change",
        )
    with uow:
        masters.update_practice(uow.conn, values)
        uow.audit("practice.update", "practice", values)
        uow.commit()


def _add(
    uow: UnitOfWork,
    kind: str,
    values: dict[str, Value],
    unique: tuple[str, ...] = ("code",),
) -> int:
    code = check_code(str(values["code"]))
    with uow:
        for column in unique:
            if masters.taken(uow.conn, kind, column, values[column]):
                raise Conflict(
                    f"{kind} {column} '{values[column]}' is already taken",
                    code=f"{column}_taken",
                    field=column,
                )
        other = masters.other_party_with_code(uow.conn, kind, code)
        if other is not None:
            raise Conflict(
                f"{kind} code '{code}' is already taken (by a {other})",
                code="code_taken",
                field="code",
            )
        new_id = insert_master(uow, kind, values)
        uow.commit()
    return new_id


def insert_master(uow: UnitOfWork, kind: str, values: dict[str, Value]) -> int:
    """Insert one master row with its audit record, inside the caller's unit of work."""
    new_id = masters.insert_master(uow.conn, kind, values)
    uow.audit(f"{kind}.create", f"{kind}:{values['code']}", {"id": new_id})
    return new_id


def add_location(uow: UnitOfWork, *, code: str, name: str) -> int:
    return _add(uow, "location", {"code": code, "name": check_name(name)})


def add_provider(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    company_name: str | None = None,
    company_abn: str | None = None,
    company_gst_registered: bool = False,
) -> int:
    if company_name is None and (company_abn is not None or company_gst_registered):
        raise InvalidInput(
            "company_name",
            "a company ABN or GST registration needs the company's name",
            code="company_name_missing",
        )
    return _add(
        uow,
        "provider",
        {
            "code": code,
            "name": check_name(name),
            "company_name": check_name(company_name, field="company_name")
            if company_name
            else None,
            "company_abn": check_abn(company_abn, field="company_abn") if company_abn else None,
            "company_gst_registered": company_gst_registered,
        },
    )


def add_patient(uow: UnitOfWork, *, code: str, name: str) -> int:
    return _add(uow, "patient", {"code": code, "name": check_name(name)})


def add_payer(uow: UnitOfWork, *, code: str, name: str, kind: PayerKind) -> int:
    return _add(uow, "payer", {"code": code, "name": check_name(name), "kind": kind.value})


def add_item(
    uow: UnitOfWork, *, code: str, description: str, fee_cents: int, taxable: bool = False
) -> int:
    return _add(
        uow,
        "item",
        {
            "code": code,
            "description": check_name(description, field="description"),
            "fee_cents": check_positive(fee_cents, field="fee"),
            "taxable": taxable,
        },
    )


def add_product(
    uow: UnitOfWork, *, code: str, title: str, fee_cents: int, taxable: bool = True
) -> int:
    return _add(
        uow,
        "product",
        {
            "code": code,
            "title": check_name(title, field="title"),
            "fee_cents": check_positive(fee_cents, field="fee"),
            "taxable": taxable,
        },
        unique=("code", "title"),
    )
