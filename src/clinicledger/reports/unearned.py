"""Unearned income (reference 004, "Unearned Income Summary"): lines already invoiced whose
service date is still to come (programs, payment plans): billed, not yet brought to account.

At ``as_of`` (required): a line counts if its invoice is dated on or before ``as_of``, its
service date is after it, its charge is known at ``as_known_at``, and it was not deleted by
``as_of``. ``billed`` is its fee less adjustments dated up to ``as_of``; ``paid`` is what
was applied to it by then (money received in advance). The main rows are the totals per
location (the invoice's; filter ``location`` for one), and the section "lines" lists them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import ALLOCATION_KINDS, Account, EntryKind
from clinicledger.reports.base import Report, ReportParams, columns_of
from clinicledger.reports.unallocated import require_as_of
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

PAID_KINDS = frozenset({*(k.value for k in ALLOCATION_KINDS), EntryKind.UNALLOCATION.value})


@dataclass(frozen=True, slots=True, kw_only=True)
class UnearnedLocationRow:
    location: str
    lines: int
    billed_cents: int
    paid_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnearnedLineRow:
    location: str
    invoice: str
    line: str
    patient: str | None
    provider: str | None
    item: str
    invoice_date: dt.date
    service_date: dt.date
    billed_cents: int
    paid_cents: int


def unearned(conn: Connection, params: ReportParams) -> Report:
    zone = lookups.practice_zone(conn)
    as_of = require_as_of(params)
    known: list[ColumnElement[bool]] = (
        [] if params.as_known_at is None else [P.c.recorded_at <= params.as_known_at]
    )

    deleted = (
        select(P.c.line_id)
        .join(E, E.c.id == P.c.entry_id)
        .where(E.c.kind == EntryKind.LINE_DELETION.value, P.c.effective_date <= as_of, *known)
    )
    # Found from the lines serviced after as_of (by their index), not from every charge.
    invoiced_ahead = (
        select(t.lines.c.id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .where(t.lines.c.service_date > as_of, t.invoices.c.invoice_date <= as_of)
    )
    charged = [
        E.c.kind == EntryKind.CHARGE.value,
        P.c.account == Account.RECEIVABLE.value,
        P.c.line_id.in_(invoiced_ahead),
        P.c.line_id.not_in(deleted),
        *known,
    ]
    if params.location is not None:
        charged.append(t.locations.c.code == params.location)
    base = (
        P.join(E, E.c.id == P.c.entry_id)
        .join(t.lines, t.lines.c.id == P.c.line_id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .join(t.locations, t.locations.c.id == t.invoices.c.location_id)
    )
    line_ids = select(P.c.line_id).select_from(base).where(*charged)
    lines = conn.execute(
        select(
            P.c.line_id,
            P.c.amount_cents.label("fee_cents"),
            t.locations.c.code.label("location"),
            t.invoices.c.number,
            t.invoices.c.invoice_date,
            t.lines.c.service_date,
            t.patients.c.name.label("patient"),
            t.providers.c.name.label("provider"),
            ledger.service_label().label("item"),
        )
        .select_from(
            base.outerjoin(t.patients, t.patients.c.id == t.invoices.c.patient_id)
            .outerjoin(t.providers, t.providers.c.id == t.lines.c.provider_id)
            .outerjoin(t.items, t.items.c.id == t.lines.c.item_id)
            .outerjoin(t.products, t.products.c.id == t.lines.c.product_id)
        )
        .where(*charged)
        .order_by(t.locations.c.code, t.lines.c.service_date, P.c.line_id)
    ).all()

    # What happened to them by as_of: adjustments and transfers (a transfer nets to zero
    # on the line) change what is billed; allocations and un-allocations what is paid.
    later: dict[int, tuple[int, int]] = {}
    if lines:
        sums = conn.execute(
            select(P.c.line_id, E.c.kind, func.sum(P.c.amount_cents).label("cents"))
            .join(E, E.c.id == P.c.entry_id)
            .where(
                P.c.line_id.in_(line_ids),
                P.c.account == Account.RECEIVABLE.value,
                E.c.kind != EntryKind.CHARGE.value,
                P.c.effective_date <= as_of,
                *known,
            )
            .group_by(P.c.line_id, E.c.kind)
        ).all()
        for row in sums:
            adjusted, paid = later.get(row.line_id, (0, 0))
            if row.kind in PAID_KINDS:
                paid -= int(row.cents)
            else:
                adjusted += int(row.cents)
            later[row.line_id] = (adjusted, paid)

    detail = tuple(
        UnearnedLineRow(
            location=row.location,
            invoice=format_id("invoice", row.number),
            line=format_id("line", row.line_id),
            patient=row.patient,
            provider=row.provider,
            item=row.item,
            invoice_date=row.invoice_date,
            service_date=row.service_date,
            billed_cents=int(row.fee_cents) + later.get(row.line_id, (0, 0))[0],
            paid_cents=later.get(row.line_id, (0, 0))[1],
        )
        for row in lines
    )
    per_location: dict[str, list[UnearnedLineRow]] = {}
    for line in detail:
        per_location.setdefault(line.location, []).append(line)
    rows = tuple(
        UnearnedLocationRow(
            location=location,
            lines=len(members),
            billed_cents=sum(m.billed_cents for m in members),
            paid_cents=sum(m.paid_cents for m in members),
        )
        for location, members in sorted(per_location.items())
    )
    totals: dict[str, int | str] = {
        "lines": len(detail),
        "billed_cents": sum(r.billed_cents for r in detail),
        "paid_cents": sum(r.paid_cents for r in detail),
    }
    parameters = params.describe(zone)
    return Report(
        name="unearned",
        parameters=parameters,
        columns=columns_of(UnearnedLocationRow),
        rows=rows,
        totals=totals,
        sections=(
            Report(
                name="lines",
                parameters=parameters,
                columns=columns_of(UnearnedLineRow),
                rows=detail,
                totals=totals,
            ),
        ),
    )
