"""Master data (patients, providers, payers, locations, items, products) as ``show`` and
``list`` print them, and as ``/api/v1/patients`` returns them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinicledger.domain.money import format_cents

if TYPE_CHECKING:  # a shape is built on every start-up path: it loads no database library
    from clinicledger.domain.records import PracticeRecord
    from clinicledger.services.masters import Changed
    from clinicledger.store.masters import MasterList, MasterRecord, Value


def key(column: str) -> str:
    """A column's key: a fee is shown as money, named without its unit."""
    return column.removesuffix("_cents")


def value(column: str, stored: Value) -> Any:
    """A column's value: cents as a decimal string, anything else as it is."""
    return format_cents(int(stored)) if column.endswith("_cents") and stored is not None else stored


def master(record: MasterRecord) -> dict[str, Any]:
    """One master: its id, code, the kind's own columns, and whether it is active."""
    return {
        "id": record.id,
        "code": record.code,
        **{key(column): value(column, stored) for column, stored in record.values.items()},
        "active": record.active,
    }


def master_list(kind: str, found: MasterList) -> dict[str, Any]:
    """A listing: the masters under their kind's plural, and how many more match."""
    return {f"{kind}s": [master(record) for record in found.rows], "more": found.more}


def created(new_id: int, code: str) -> dict[str, Any]:
    """The answer of an ``add``."""
    return {"id": new_id, "code": code}


def changed(done: Changed) -> dict[str, Any]:
    """The answer of an ``edit``, ``deactivate`` or ``activate``: each column it changed
    as [was, now] (none: it already was so)."""
    return {
        "id": done.id,
        "code": done.code,
        "changed": {
            key(column): [value(column, was), value(column, now)]
            for column, (was, now) in done.changes.items()
        },
    }


def practice(record: PracticeRecord) -> dict[str, Any]:
    """The practice's details, as ``practice show`` prints them."""
    return {
        "name": record.name,
        "abn": record.abn,
        "gst_registered": record.gst_registered,
        "timezone": record.timezone,
        "currency": record.currency,
        "locale": record.locale,
        "closed_through": (
            None if record.closed_through is None else record.closed_through.isoformat()
        ),
    }
