"""What the three statements read, in one pass per report: the patient and the ending date
asked for, and the journal up to it as known then. Each line of the patient's portion with
its state (client billable, open to insurance, deleted) and its sums, the patients' own
payments, what a cascaded deletion un-allocated, and each patient's ledger balance.

A line's state is ordinary state, not entries, so it is taken as known then from its own
history (``store.ledger``): a line is deleted once its ``deleted_at`` is, and its insurance
status is the one recorded last by then (``insurance_status_changes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.choices import InsuranceStatus
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.journal import ALLOCATION_KINDS, Account, EntryKind
from clinicledger.reports.base import ReportParams
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

APPLYING_KINDS = tuple(k.value for k in (*ALLOCATION_KINDS, EntryKind.UNALLOCATION))
ADJUSTMENT = EntryKind.ADJUSTMENT.value
_IN_ONE_QUERY = 500  # ids listed in an IN (...); beyond this, read all and filter here


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    id: int
    patient_id: int
    service_date: dt.date  # the date of service; a product's invoice date
    client_billable: bool
    open: bool  # open to insurance, as known then
    deleted: bool  # as known then
    service: str  # item code and description, product title, "Cancellation"


@dataclass(slots=True)
class LineSums:
    """The postings to the patient's portion of one line."""

    by_end_cents: int = 0  # not payments, dated on or before the ending date
    later_cents: int = 0  # not payments, dated after it
    charged_cents: int = 0  # charges, transfers, deletion: any date
    adjusted_cents: int = 0  # adjustments (positive = taken off): any date
    applied: dict[int, int] = field(default_factory=dict)  # payment id -> applied now

    @property
    def applied_cents(self) -> int:
        return sum(self.applied.values())

    @property
    def balance_cents(self) -> int:
        """What the balance statement shows owing on the line."""
        return self.charged_cents - self.adjusted_cents - self.applied_cents


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    id: int
    patient_id: int
    received_date: dt.date
    method: str
    opening: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Journal:
    ending: dt.date
    lines: dict[int, Line]
    sums: dict[int, LineSums]
    payments: dict[int, Payment]
    not_applying_by_end: dict[int, int]  # payment id -> receipt, refunds, reversals <= D
    cascaded: dict[int, dict[int, int]]  # payment id -> line id -> un-allocated on deletion
    ledger_balances: dict[int, int]  # patient id -> ledger balance at the ending date

    def sums_of(self, line: Line) -> LineSums:
        return self.sums.get(line.id, LineSums())


def required_patient(conn: Connection, params: ReportParams, report: str) -> int:
    """The id of the patient a statement is for; a statement needs one."""
    if params.patient is None:
        raise InvalidInput(
            "patient", f"{report} needs a patient", code="patient_missing", report=report
        )
    return lookups.id_for_code(conn, "patient", params.patient)


def shown_parameters(conn: Connection, params: ReportParams, ending: dt.date) -> dict[str, Any]:
    """The parameters as the report shows them, with the ending date it used."""
    shown = params.describe(lookups.practice_zone(conn))
    shown.setdefault("as_of", ending.isoformat())
    return shown


def known(column: Any, as_known_at: dt.datetime | None) -> list[ColumnElement[bool]]:
    return [] if as_known_at is None else [column <= as_known_at]


def patient_portion(patient_id: int | None) -> list[ColumnElement[bool]]:
    """Postings to the patient's portion of lines and to the patients' own payments."""
    conditions: list[ColumnElement[bool]] = [P.c.payer_id.is_(None), P.c.patient_id.is_not(None)]
    if patient_id is not None:
        conditions.append(P.c.patient_id == patient_id)
    return conditions


def in_or_all(column: Any, values: Collection[Any]) -> list[ColumnElement[bool]]:
    """``column IN values`` while the list is short; otherwise no condition (the caller
    filters the rows it reads)."""
    return [column.in_(sorted(values))] if len(values) <= _IN_ONE_QUERY else []


def ending_date(conn: Connection, params: ReportParams) -> dt.date:
    """``--as-of``, or the latest effective date known (a report has no "today")."""
    if params.as_of is not None:
        return params.as_of
    latest = conn.execute(
        select(func.max(P.c.effective_date)).where(*known(P.c.recorded_at, params.as_known_at))
    ).scalar_one_or_none()
    return latest if latest is not None else dt.date.min


def read_journal(
    conn: Connection, patient_id: int | None, ending: dt.date, as_known_at: dt.datetime | None
) -> Journal:
    """The patient's (``None``: every patient's) part of the journal, as of ``ending`` as
    known at ``as_known_at``."""
    scope = patient_portion(patient_id)
    when = known(P.c.recorded_at, as_known_at)

    # What each line of the patient's portion holds, split by kind and by the ending date.
    # The date test is a column of a subquery so PostgreSQL can group by it.
    receivable = (
        select(
            P.c.line_id,
            P.c.payment_id,
            E.c.kind,
            case((P.c.effective_date > ending, 1), else_=0).label("later"),
            P.c.amount_cents,
        )
        .join(E, E.c.id == P.c.entry_id)
        .where(P.c.account == Account.RECEIVABLE.value, P.c.line_id.is_not(None), *scope, *when)
        .subquery()
    )
    sums: dict[int, LineSums] = {}
    for r in conn.execute(
        select(
            receivable.c.line_id,
            receivable.c.payment_id,
            receivable.c.kind,
            receivable.c.later,
            func.sum(receivable.c.amount_cents).label("cents"),
        ).group_by(
            receivable.c.line_id, receivable.c.payment_id, receivable.c.kind, receivable.c.later
        )
    ):
        line_sums = sums.setdefault(int(r.line_id), LineSums())
        cents = int(r.cents)
        if r.payment_id is not None:
            payment_id = int(r.payment_id)
            line_sums.applied[payment_id] = line_sums.applied.get(payment_id, 0) - cents
            continue
        if r.later:
            line_sums.later_cents += cents
        else:
            line_sums.by_end_cents += cents
        if r.kind == ADJUSTMENT:
            line_sums.adjusted_cents -= cents
        else:
            line_sums.charged_cents += cents

    # The patients' own payments: what entered or left the ledger by the ending date other
    # than by applying it (receipts, refunds, reversals).
    unallocated = (
        select(
            P.c.payment_id,
            case((E.c.kind.in_(APPLYING_KINDS), 1), else_=0).label("applying"),
            case((P.c.effective_date > ending, 1), else_=0).label("later"),
            P.c.amount_cents,
        )
        .join(E, E.c.id == P.c.entry_id)
        .where(P.c.account == Account.UNALLOCATED.value, *scope, *when)
        .subquery()
    )
    not_applying_by_end: dict[int, int] = {}
    for u in conn.execute(
        select(unallocated.c.payment_id, func.sum(unallocated.c.amount_cents).label("cents"))
        .where(unallocated.c.applying == 0, unallocated.c.later == 0)
        .group_by(unallocated.c.payment_id)
    ):
        not_applying_by_end[int(u.payment_id)] = int(u.cents)
    payment_ids = set(not_applying_by_end) | {
        pid for line_sums in sums.values() for pid in line_sums.applied
    }
    payments = _payments(conn, patient_id, payment_ids)
    lines = _lines(conn, patient_id, set(sums), as_known_at)
    cascaded = ledger.deletion_unallocated(
        conn, [line.id for line in lines.values() if line.deleted], as_known_at
    )

    balance = func.sum(P.c.amount_cents)
    ledger_balances = {
        int(r.patient_id): int(r.cents)
        for r in conn.execute(
            select(P.c.patient_id, balance.label("cents"))
            .where(
                P.c.account.in_((Account.RECEIVABLE.value, Account.UNALLOCATED.value)),
                P.c.effective_date <= ending,
                *scope,
                *when,
            )
            .group_by(P.c.patient_id)
        )
    }
    return Journal(
        ending=ending,
        lines=lines,
        sums=sums,
        payments=payments,
        not_applying_by_end=not_applying_by_end,
        cascaded=cascaded,
        ledger_balances=ledger_balances,
    )


def _payments(
    conn: Connection, patient_id: int | None, payment_ids: Collection[int]
) -> dict[int, Payment]:
    if not payment_ids:
        return {}
    conditions = in_or_all(t.payments.c.id, payment_ids)
    if patient_id is not None:
        conditions.append(t.payments.c.patient_id == patient_id)
    found: dict[int, Payment] = {}
    for r in conn.execute(select(t.payments).where(*conditions)):
        if r.id in payment_ids:
            found[r.id] = Payment(
                id=r.id,
                patient_id=r.patient_id,
                received_date=r.received_date,
                method=r.method,
                opening=bool(r.opening),
            )
    return found


def _service_label(kind: str, item_code: Any, item_text: Any, product: Any) -> str:
    if kind == "cancellation":
        return "Cancellation"
    if kind == "product":
        return str(product)
    if kind == "opening":
        return "Opening balance"
    return f"{item_code} {item_text}"


def _lines(
    conn: Connection,
    patient_id: int | None,
    line_ids: Collection[int],
    as_known_at: dt.datetime | None,
) -> dict[int, Line]:
    if not line_ids:
        return {}
    conditions = in_or_all(t.lines.c.id, line_ids)
    if patient_id is not None:
        conditions.append(t.invoices.c.patient_id == patient_id)
    rows = [
        r
        for r in conn.execute(
            select(
                t.lines.c.id,
                t.lines.c.kind,
                t.lines.c.service_date,
                t.lines.c.client_billable,
                t.lines.c.insurance_status,
                t.lines.c.deleted_at,
                t.invoices.c.patient_id,
                t.invoices.c.invoice_date,
                t.items.c.code.label("item_code"),
                t.items.c.description.label("item_text"),
                t.products.c.title.label("product"),
            )
            .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
            .outerjoin(t.items, t.items.c.id == t.lines.c.item_id)
            .outerjoin(t.products, t.products.c.id == t.lines.c.product_id)
            .where(*conditions)
        )
        if r.id in line_ids
    ]
    status = {r.id: InsuranceStatus(r.insurance_status) for r in rows}
    if as_known_at is not None:
        status = ledger.insurance_status_at(conn, status, as_known_at)
    return {
        r.id: Line(
            id=r.id,
            patient_id=r.patient_id,
            service_date=r.service_date or r.invoice_date,
            client_billable=bool(r.client_billable),
            open=status[r.id] is InsuranceStatus.OPEN,
            deleted=r.deleted_at is not None
            and (as_known_at is None or r.deleted_at <= as_known_at),
            service=_service_label(r.kind, r.item_code, r.item_text, r.product),
        )
        for r in rows
    }
