"""Read queries over the journal and the master tables, shared by services and reports.
The reads a plain command needs too (a code's id, the practice, a line's or a payment's
record, a party's balance) are SQL text in :mod:`clinicledger.store.lookups`.

Every balance is a sum of postings, optionally limited to ``effective_date <= as_of`` and
``recorded_at <= as_known_at``; for the balances a closing keeps (:data:`KEPT_BALANCES`),
the same sum is read as the latest closing plus the postings after it
(:func:`account_balances`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Generator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Subquery,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler

from clinicledger.domain.choices import InsuranceStatus, LineKind
from clinicledger.domain.ids import in_id_range
from clinicledger.domain.journal import Account, EntryKind, Posting
from clinicledger.store import tables as t
from clinicledger.store.sql import Sql, sqlite_value

P = t.postings

MASTER_TABLES = {
    "location": t.locations,
    "provider": t.providers,
    "patient": t.patients,
    "payer": t.payers,
    "item": t.items,
    "product": t.products,
}


# Rows read at a time by a report that streams its rows (SQLite: fetched in batches from
# its cursor; PostgreSQL: a server-side cursor, so that the server sends them as asked).
STREAM_BATCH = 2000
_CURSOR_NAMES = itertools.count()  # a server-side cursor's name, new for each


def driver_statement(conn: Connection, query: ClauseElement) -> tuple[str, Any]:
    """``query`` as ``conn``'s driver runs it: its text and its parameters (on SQLite a
    list by position, each as :func:`~clinicledger.store.sql.sqlite_value` keeps it; on
    PostgreSQL a mapping by name)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    values = compiled.construct_params() or {}
    if conn.dialect.name == "sqlite":
        return compiled.string, [sqlite_value(values[k]) for k in compiled.positiontup or ()]
    return compiled.string, values


def stream_rows(conn: Connection, query: ClauseElement) -> Generator[tuple[Any, ...], None, None]:
    """The rows of ``query`` as the database's driver gives them (plain tuples: on SQLite
    a date or an instant is its text, as :mod:`clinicledger.store.sql` says), read
    :data:`STREAM_BATCH` at a time as they are iterated, inside ``conn``'s transaction.
    Its cursor is closed when the rows are all read or the generator is closed: a reader
    that stops part-way closes it before its transaction ends (a PostgreSQL server-side
    cursor cannot be closed after).

    Why the driver's rows: SQLAlchemy makes a ``Row`` of each, and a month's income
    allocation and receipts took 6-7% longer so (bench, issue 9); SQLAlchemy still writes
    the statement (:func:`driver_statement`)."""
    statement, values = driver_statement(conn, query)
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor: Any
    if conn.dialect.name == "sqlite":
        cursor = driver.execute(statement, values)
    else:
        cursor = driver.cursor(name=f"clinicledger_rows_{next(_CURSOR_NAMES)}")
        cursor.itersize = STREAM_BATCH
        cursor.execute(statement, values)
    try:
        while batch := cursor.fetchmany(STREAM_BATCH):
            yield from batch
    finally:
        cursor.close()


def is_empty(conn: Connection) -> bool:
    """No entries and no patients yet: a ledger that holds no practice's data."""
    return (
        conn.execute(select(t.entries.c.id).limit(1)).first() is None
        and conn.execute(select(t.patients.c.id).limit(1)).first() is None
    )


def has_entries(conn: Connection) -> bool:
    """Has the journal any entry yet?"""
    return conn.execute(select(t.entries.c.id).limit(1)).first() is not None


def service_label() -> ColumnElement[Any]:
    """A line's service as the reports name it (reference 000, "Services"): the item code,
    "Cancellation" for a cancellation fee, the product's title, or "Opening balance". The
    query must join ``lines`` and outer-join ``items`` and ``products``."""
    return case(
        (t.lines.c.kind == LineKind.CANCELLATION.value, literal("Cancellation")),
        (t.lines.c.kind == LineKind.PRODUCT.value, t.products.c.title),
        (t.lines.c.kind == LineKind.OPENING.value, literal("Opening balance")),
        else_=t.items.c.code,
    )


def _posting(row: Any) -> Posting:
    """A row with the postings table's dimension columns and ``amount_cents``."""
    return Posting(
        account=Account(row.account),
        amount_cents=int(row.amount_cents),
        patient_id=row.patient_id,
        payer_id=row.payer_id,
        provider_id=row.provider_id,
        location_id=row.location_id,
        invoice_id=row.invoice_id,
        line_id=row.line_id,
        payment_id=row.payment_id,
        reason=row.reason,
    )


def entry_postings(conn: Connection, entry_id: int) -> tuple[Posting, ...]:
    """The postings of one entry, as domain values."""
    rows = conn.execute(select(P).where(P.c.entry_id == entry_id).order_by(P.c.id)).all()
    return tuple(_posting(r) for r in rows)


def line_totals(conn: Connection, line_id: int) -> tuple[Posting, ...]:
    """What a line holds in each account, per portion and dimension (zero sums left out):
    the postings whose negation brings the line back to nothing."""
    dims = (
        P.c.account,
        P.c.patient_id,
        P.c.payer_id,
        P.c.provider_id,
        P.c.location_id,
        P.c.invoice_id,
        P.c.line_id,
        P.c.payment_id,
        P.c.reason,
    )
    total = func.sum(P.c.amount_cents)
    rows = conn.execute(
        select(*dims, total.label("amount_cents"))
        .where(P.c.line_id == line_id)
        .group_by(*dims)
        .having(total != 0)
        .order_by(*dims)
    ).all()
    return tuple(_posting(r) for r in rows)


def line_portions(conn: Connection, line_id: int) -> dict[int | None, int]:
    rows = conn.execute(
        select(P.c.payer_id, func.sum(P.c.amount_cents))
        .where(P.c.line_id == line_id, P.c.account == Account.RECEIVABLE.value)
        .group_by(P.c.payer_id)
    ).all()
    return {row[0]: int(row[1]) for row in rows}


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveAllocation:
    id: int  # the allocation entry
    line_id: int
    payment_id: int
    amount_cents: int


def live_allocations(
    conn: Connection, line_id: int | None = None, payment_id: int | None = None
) -> tuple[LiveAllocation, ...]:
    """Allocations not yet undone, oldest first."""
    undoing = t.entries.alias("undoing")
    undone = select(undoing.c.id).where(undoing.c.reverses == t.entries.c.id).exists()
    conditions = [
        t.entries.c.kind.in_(("allocation", "credit_applied")),
        P.c.account == Account.RECEIVABLE.value,
        ~undone,
    ]
    if line_id is not None:
        conditions.append(P.c.line_id == line_id)
    if payment_id is not None:
        conditions.append(P.c.payment_id == payment_id)
    rows = conn.execute(
        select(t.entries.c.id, P.c.line_id, P.c.payment_id, P.c.amount_cents)
        .join(P, P.c.entry_id == t.entries.c.id)
        .where(*conditions)
        .order_by(t.entries.c.id)
    ).all()
    return tuple(
        LiveAllocation(
            id=r.id, line_id=r.line_id, payment_id=r.payment_id, amount_cents=-int(r.amount_cents)
        )
        for r in rows
    )


def time_conditions(
    as_of: dt.date | None, as_known_at: dt.datetime | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if as_of is not None:
        conditions.append(P.c.effective_date <= as_of)
    if as_known_at is not None:
        conditions.append(P.c.recorded_at <= as_known_at)
    return conditions


def closed_through(conn: Connection) -> dt.date | None:
    return conn.execute(
        select(t.practice.c.closed_through).where(t.practice.c.id == 1)
    ).scalar_one_or_none()


# The balances a closing keeps (tables.closing_balances), and what identifies each one: a
# line portion (its billed-to party and its patient), or a payment (whose party is the
# payment's own, whatever its postings carry).
KEPT_BALANCES: dict[Account, tuple[str, ...]] = {
    Account.RECEIVABLE: ("line_id", "payer_id", "patient_id"),
    Account.UNALLOCATED: ("payment_id",),
    Account.RETAINED: ("payment_id",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Closing:
    id: int
    as_of: dt.date
    recorded_at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> Closing:
        """From a row of ``closings``."""
        return cls(id=row.id, as_of=row.as_of, recorded_at=row.recorded_at)


def closing_before(
    conn: Connection, *, as_of: dt.date | None, as_known_at: dt.datetime | None
) -> Closing | None:
    """The latest closing on or before ``as_of`` that was made by ``as_known_at``."""
    c = t.closings
    query = select(c.c.id, c.c.as_of, c.c.recorded_at).order_by(c.c.as_of.desc()).limit(1)
    if as_of is not None:
        query = query.where(c.c.as_of <= as_of)
    if as_known_at is not None:
        query = query.where(c.c.recorded_at <= as_known_at)
    row = conn.execute(query).one_or_none()
    return None if row is None else Closing.of(row)


def balances_since(
    closing: Closing | None,
    account: Account,
    *,
    as_of: dt.date | None,
    as_known_at: dt.datetime | None,
) -> Subquery:
    """Every non-zero balance of ``account`` (one of :data:`KEPT_BALANCES`) as of
    ``as_of`` as known at ``as_known_at``: ``closing``'s kept balances plus the postings
    dated after it. Columns: the account's keys and ``amount_cents``.

    ``closing`` must be on or before ``as_of`` and made by ``as_known_at``. Then this is
    exact, because a closed period cannot change: nothing dated on or before a closing is
    recorded after it, so the closing holds exactly the postings up to its date that were
    known at ``as_known_at`` (``check`` proves both halves of that)."""
    keys = KEPT_BALANCES[account]
    later = [P.c.account == account.value, *time_conditions(as_of, as_known_at)]
    parts = []
    if closing is not None:
        kept = t.closing_balances
        kept_rows = select(*(kept.c[k] for k in keys), kept.c.amount_cents).where(
            kept.c.closing_id == closing.id, kept.c.account == account.value
        )
        if as_of == closing.as_of:  # nothing after it: the kept balances, as they are
            return kept_rows.subquery()
        later.append(P.c.effective_date > closing.as_of)
        parts.append(kept_rows)
    parts.append(select(*(P.c[k] for k in keys), P.c.amount_cents).where(*later))
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    total = func.sum(rows.c.amount_cents)
    return (
        select(
            *(rows.c[k] for k in keys),
            total.label("amount_cents"),
        )
        .group_by(*(rows.c[k] for k in keys))
        .having(total != 0)
        .subquery()
    )


def account_balances(
    conn: Connection,
    account: Account,
    *,
    as_of: dt.date | None,
    as_known_at: dt.datetime | None,
) -> Subquery:
    """:func:`balances_since` the latest closing that applies: one closed month's kept
    balances and the postings after it, rather than all of history."""
    closing = closing_before(conn, as_of=as_of, as_known_at=as_known_at)
    return balances_since(closing, account, as_of=as_of, as_known_at=as_known_at)


def _owing_lines(party: str) -> Sql:
    return Sql(
        "SELECT p.line_id, sum(p.amount_cents) FROM postings AS p"
        " JOIN lines AS l ON l.id = p.line_id JOIN invoices AS i ON i.id = l.invoice_id"
        f" WHERE {party} AND p.account = '{Account.RECEIVABLE.value}' AND l.deleted_at IS NULL"
        " GROUP BY p.line_id, l.service_date, i.invoice_date HAVING sum(p.amount_cents) > 0"
        " ORDER BY coalesce(l.service_date, i.invoice_date), p.line_id"
    )


# As SQL text: an automatic allocation asks it on the write path (store/sql.py says why).
_PAYER_OWING_LINES = _owing_lines("p.payer_id = :payer_id")
_PATIENT_OWING_LINES = _owing_lines("p.patient_id = :patient_id AND p.payer_id IS NULL")


def owing_lines(
    conn: Connection, *, patient_id: int | None, payer_id: int | None
) -> tuple[tuple[int, int], ...]:
    """(line id, owing) of a party's live lines with money owing, oldest service first: a
    payer's portions, or (``payer_id`` None) the patient's own."""
    if payer_id is not None:
        cursor = _PAYER_OWING_LINES.run(conn, {"payer_id": payer_id})
    else:
        cursor = _PATIENT_OWING_LINES.run(conn, {"patient_id": patient_id})
    return tuple((int(line_id), int(owing)) for line_id, owing in cursor.fetchall())


def credit_payments(conn: Connection, patient_id: int) -> tuple[tuple[int, int], ...]:
    """(payment id, unallocated) of a patient's own live payments with money left, oldest
    first: the patient's credit."""
    unallocated = -func.sum(P.c.amount_cents)
    rows = conn.execute(
        select(P.c.payment_id, unallocated.label("cents"))
        .join(t.payments, t.payments.c.id == P.c.payment_id)
        .where(
            P.c.account == Account.UNALLOCATED.value,
            t.payments.c.patient_id == patient_id,
            t.payments.c.reversed_at.is_(None),
        )
        .group_by(P.c.payment_id, t.payments.c.received_date)
        .having(unallocated > 0)
        .order_by(t.payments.c.received_date, P.c.payment_id)
    ).all()
    return tuple((int(r.payment_id), int(r.cents)) for r in rows)


def entry_kind(conn: Connection, entry_id: int) -> EntryKind | None:
    """The kind of entry ``entry_id``, or None if there is no such entry."""
    if not in_id_range(entry_id):
        return None
    kind = conn.execute(
        select(t.entries.c.kind).where(t.entries.c.id == entry_id)
    ).scalar_one_or_none()
    return None if kind is None else EntryKind(kind)


def undone(conn: Connection, entry_id: int) -> bool:
    """Has an entry reversed ``entry_id``?"""
    return (
        conn.execute(select(t.entries.c.id).where(t.entries.c.reverses == entry_id)).first()
        is not None
    )


# Ids per IN (...) list: well inside SQLite's and psycopg's limits on bound parameters.
IN_ONE_QUERY = 5_000


def insurance_status_at(
    conn: Connection, current: dict[int, InsuranceStatus], known: dt.datetime
) -> dict[int, InsuranceStatus]:
    """Each line's insurance status as it was known at ``known``, from the lines' current
    status and their changes (``insurance_status_changes``): the last change recorded by
    then; a line changed only after then had the status its first change replaced."""
    c = t.insurance_status_changes
    then = dict(current)
    line_ids = sorted(current)
    for start in range(0, len(line_ids), IN_ONE_QUERY):
        chunk = line_ids[start : start + IN_ONE_QUERY]
        history: dict[int, list[tuple[dt.datetime, str, str]]] = {}
        for r in conn.execute(
            select(c.c.line_id, c.c.recorded_at, c.c.status, c.c.previous)
            .where(c.c.line_id.in_(chunk))
            .order_by(c.c.id)
        ):
            history.setdefault(int(r.line_id), []).append((r.recorded_at, r.status, r.previous))
        for line_id, changes in history.items():
            before = [status for at, status, _ in changes if at <= known]
            then[line_id] = InsuranceStatus(before[-1] if before else changes[0][2])
    return then


def deletion_unallocated(
    conn: Connection, line_ids: Collection[int], known: dt.datetime | None
) -> dict[int, dict[int, int]]:
    """Payment id -> line id -> money of the patient's own portions that the deletion of
    one of ``line_ids`` un-allocated (its cascade), as known at ``known``."""
    d = t.deletion_unallocations
    found: dict[int, dict[int, int]] = {}
    ids = sorted(line_ids)
    for start in range(0, len(ids), IN_ONE_QUERY):
        chunk = ids[start : start + IN_ONE_QUERY]
        query = (
            select(P.c.line_id, P.c.payment_id, P.c.amount_cents)
            .join(d, d.c.unallocation_id == P.c.entry_id)
            .where(
                d.c.line_id.in_(chunk),
                P.c.account == Account.RECEIVABLE.value,
                P.c.payer_id.is_(None),
            )
        )
        if known is not None:
            query = query.where(P.c.recorded_at <= known)
        for u in conn.execute(query):
            by_line = found.setdefault(int(u.payment_id), {})
            by_line[int(u.line_id)] = by_line.get(int(u.line_id), 0) + int(u.amount_cents)
    return found
