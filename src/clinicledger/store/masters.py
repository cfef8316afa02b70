"""Writing the practice's details and its master data (locations, providers, patients,
payers, items, products), and reading master rows whole (``show``, ``list``). The reads
the journal's use cases share (a code's id, a priced item) are in
:mod:`clinicledger.store.ledger`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, update
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.masters import LABELS
from clinicledger.domain.text import check_plain
from clinicledger.store import lookups
from clinicledger.store import tables as t
from clinicledger.store.ledger import MASTER_TABLES

Value = str | int | bool | None


def insert_practice(conn: Connection, *, name: str) -> None:
    conn.execute(insert(t.practice).values(id=1, name=name))


def update_practice(conn: Connection, values: Mapping[str, Value]) -> None:
    conn.execute(update(t.practice).where(t.practice.c.id == 1).values(**values))


def taken(
    conn: Connection, kind: str, column: str, value: Value, *, besides: int | None = None
) -> bool:
    """Does a ``kind`` already have ``value`` in its unique ``column`` (code, title), in a
    row other than the one with id ``besides``?"""
    table = MASTER_TABLES[kind]
    query = select(table.c.id).where(table.c[column] == value)
    if besides is not None:
        query = query.where(table.c.id != besides)
    return conn.execute(query).first() is not None


def other_party_with_code(conn: Connection, kind: str, code: str) -> str | None:
    """Patients and payers share one set of codes (a payment is taken from a code that
    names either): the other kind holding ``code``, if any."""
    other = {"patient": "payer", "payer": "patient"}.get(kind)
    if other is None:
        return None
    return other if taken(conn, other, "code", code) else None


def insert_master(conn: Connection, kind: str, values: Mapping[str, Value]) -> int:
    table = MASTER_TABLES[kind]
    new_id: int = conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    return new_id


def existing_master(conn: Connection, kind: str, code: str) -> dict[str, Value] | None:
    """A master row's values by column (without its id), if ``code`` names one."""
    table = MASTER_TABLES[kind]
    row = conn.execute(select(table).where(table.c.code == code)).one_or_none()
    if row is None:
        return None
    return {key: value for key, value in row._mapping.items() if key != "id"}


def update_master(conn: Connection, kind: str, master_id: int, values: Mapping[str, Value]) -> None:
    table = MASTER_TABLES[kind]
    conn.execute(update(table).where(table.c.id == master_id).values(**values))


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterRecord:
    """One master row: its id and code, the kind's own columns in the table's order (a
    fee as integer ``fee_cents``), and whether it is active (takes new invoices)."""

    id: int
    code: str
    values: Mapping[str, Value]
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterList:
    rows: tuple[MasterRecord, ...]
    more: int  # rows that match but are past the bound


def _record(row: Row[Any]) -> MasterRecord:
    values = dict(row._mapping)
    return MasterRecord(
        id=int(values.pop("id")),
        code=str(values.pop("code")),
        active=bool(values.pop("active")),
        values=values,
    )


def master_record(conn: Connection, kind: str, code: str) -> MasterRecord:
    """The ``kind`` with ``code``; an unknown code is refused with the codes it was
    probably meant to be (:func:`clinicledger.store.lookups.not_found`)."""
    check_plain(code, field=kind)
    table = MASTER_TABLES[kind]
    row = conn.execute(select(table).where(table.c.code == code)).one_or_none()
    if row is None:
        raise lookups.not_found(conn, kind, code)
    return _record(row)


def master_list(
    conn: Connection, kind: str, *, search: str | None, inactive: bool, limit: int
) -> MasterList:
    """At most ``limit`` rows of ``kind`` by code: those whose code or label (name,
    description, title) contains ``search`` in any case (``%`` and ``_`` in it are plain
    characters), only the active ones unless ``inactive``; and how many more match."""
    table = MASTER_TABLES[kind]
    conditions: list[ColumnElement[bool]] = []
    if not inactive:
        conditions.append(table.c.active.is_(True))
    if search:
        conditions.append(
            or_(
                table.c.code.icontains(search, autoescape=True),
                table.c[LABELS[kind]].icontains(search, autoescape=True),
            )
        )
    rows = tuple(
        _record(row)
        for row in conn.execute(
            select(table).where(*conditions).order_by(table.c.code).limit(limit)
        )
    )
    more = 0
    if len(rows) == limit:
        matching = conn.execute(select(func.count()).select_from(table).where(*conditions))
        more = int(matching.scalar_one()) - limit
    return MasterList(rows=rows, more=more)
