"""Income by provider (reference 002): cash-basis income per provider for a period.

Money is income only once it is applied to a provider's line (Aeris' rule, DESIGN.md): the
income of a period is the allocations (kinds ``allocation`` and ``credit_applied``) whose
``effective_date`` falls in it, net of the un-allocations dated in it. Unapplied payments,
prepayments, overpayments and their refunds never touch a line's receivable, so they are
never income.

Two bases:

- ``snapshot`` is what the reference product shows: the period's income as the journal
  stands now (or as known at ``as_known_at``). It changes whenever something is recorded
  later with an effective date in the period ("If you change anything related to income,
  the report for the same period will change", 002).
- ``restated`` (the default) is the period's income as it was known at its close, the end
  of ``to_date`` in the practice's time zone (or at ``as_known_at`` if that is earlier),
  followed by a section "adjustments recorded later" that lists, one row per entry, every
  change to the period's income recorded after that moment: the "more rigorous handling"
  002 describes. ``snapshot income = restated income + adjustments`` holds to the cent.

An un-allocation is dated when it is made, so a later correction of a closed period's
allocation lands in the open period; but an entry recorded after the close can still carry
an effective date inside the period (a late, back-dated allocation, or one stamped just past
midnight), and the adjustments section catches every such entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, and_, case, func, select, true
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import APPLIED_KINDS, Account, EntryKind
from clinicledger.domain.money import format_cents
from clinicledger.reports.base import (
    Report,
    ReportParams,
    ReportWarning,
    columns_of,
    local_time,
    option_choice,
    utc_bounds,
)
from clinicledger.reports.registry import INCOME_BASES
from clinicledger.store import lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

ADJUSTMENTS_SECTION = "adjustments recorded later"
NO_PROVIDER = "(no provider)"  # products and opening balances belong to no provider

INCOME_KINDS = tuple(kind.value for kind in APPLIED_KINDS)
KIND_LABELS = {
    EntryKind.ALLOCATION.value: "allocation",
    EntryKind.CREDIT_APPLIED.value: "credit used",
    EntryKind.UNALLOCATION.value: "un-allocation",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomeByProviderRow:
    provider_code: str | None
    provider_name: str
    allocation_count: int  # allocations and credit used, effective in the period
    unallocation_count: int  # un-allocations effective in the period
    income_cents: int  # applied less un-applied


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomeAdjustmentRow:
    recorded_time: dt.datetime  # when the change was recorded, practice local time
    effective_date: dt.date
    provider_code: str | None
    provider_name: str
    amount_cents: int  # + more income, - less
    kind: str  # allocation / un-allocation / credit used
    reason: str | None
    line: str
    payment: str


def income_by_provider(conn: Connection, params: ReportParams) -> Report:
    """Income per provider for ``from_date..to_date`` (inclusive, by effective date)."""
    if params.from_date is None or params.to_date is None:
        missing = "from" if params.from_date is None else "to"
        raise InvalidInput(
            missing, "income-by-provider needs a period: from and to", code="period_missing"
        )
    if params.from_date > params.to_date:
        raise InvalidInput("from", "the period's start is after its end", code="range_reversed")
    basis = str(option_choice(params.options, "basis", INCOME_BASES, "restated"))
    zone = lookups.practice_zone(conn)

    in_period = [
        E.c.kind.in_(INCOME_KINDS),
        E.c.effective_date >= params.from_date,
        E.c.effective_date <= params.to_date,
        # the same dates, copied on the postings: lets the planner read one period of
        # receivable postings by (account, effective_date), statistics or not
        P.c.effective_date >= params.from_date,
        P.c.effective_date <= params.to_date,
    ]
    if params.as_known_at is not None:
        in_period.append(E.c.recorded_at <= params.as_known_at)
    if params.provider is not None:
        in_period.append(P.c.provider_id == lookups.id_for_code(conn, "provider", params.provider))
    if params.location is not None:
        in_period.append(P.c.location_id == lookups.id_for_code(conn, "location", params.location))

    parameters: dict[str, Any] = {**params.describe(zone), "basis": basis}
    _, close = utc_bounds(None, params.to_date, zone)
    assert close is not None  # to_date is given
    if basis == "snapshot":
        rows, _ = _per_provider(conn, in_period, close=None)
        return Report(
            name="income-by-provider",
            parameters=parameters,
            columns=columns_of(IncomeByProviderRow),
            rows=rows,
            totals=_totals(rows),
        )

    # Restated: as known at the period's close; what was recorded after it is listed apart.
    known_at = close if params.as_known_at is None else min(close, params.as_known_at)
    parameters["known_at"] = local_time(known_at, zone).isoformat()
    rows, snapshot_cents = _per_provider(conn, in_period, close=close)
    later = _adjustments(conn, [*in_period, E.c.recorded_at >= close], zone)
    adjustments_cents = sum(r.amount_cents for r in later)
    totals: dict[str, int | str] = {
        **_totals(rows),
        "adjustments_cents": adjustments_cents,
        "snapshot_income_cents": snapshot_cents,
    }
    warnings: tuple[ReportWarning, ...] = ()
    restated_cents = sum(r.income_cents for r in rows)
    if restated_cents + adjustments_cents != snapshot_cents:
        warnings = (
            ReportWarning(
                "income_unexplained",
                f"restated income {format_cents(restated_cents)} plus adjustments "
                f"{format_cents(adjustments_cents)} is not the snapshot income "
                f"{format_cents(snapshot_cents)}",
            ),
        )
    section = Report(
        name=ADJUSTMENTS_SECTION,
        parameters=parameters,
        columns=columns_of(IncomeAdjustmentRow),
        rows=later,
        totals={"amount_cents": adjustments_cents},
    )
    return Report(
        name="income-by-provider",
        parameters=parameters,
        columns=columns_of(IncomeByProviderRow),
        rows=rows,
        totals=totals,
        warnings=warnings,
        sections=(section,),
    )


def _income_postings() -> Select[Any]:
    """Entries joined to their one receivable posting that names the paying payment."""
    return (
        select()
        .select_from(E)
        .join(
            P,
            and_(
                P.c.entry_id == E.c.id,
                P.c.account == Account.RECEIVABLE.value,
                P.c.payment_id.is_not(None),
            ),
        )
        .outerjoin(t.providers, t.providers.c.id == P.c.provider_id)
    )


def _per_provider(
    conn: Connection, conditions: list[ColumnElement[bool]], *, close: dt.datetime | None
) -> tuple[tuple[IncomeByProviderRow, ...], int]:
    """Rows per provider of the entries recorded before ``close`` (all, if ``None``), and
    the income of all of them (the snapshot), in one pass."""
    before = E.c.recorded_at < close if close is not None else true()
    undoing = E.c.kind == EntryKind.UNALLOCATION.value
    query = (
        _income_postings()
        .add_columns(
            t.providers.c.code,
            t.providers.c.name,
            func.sum(case((and_(before, ~undoing), 1), else_=0)).label("allocations"),
            func.sum(case((and_(before, undoing), 1), else_=0)).label("unallocations"),
            (-func.sum(case((before, P.c.amount_cents), else_=0))).label("income_cents"),
            (-func.sum(P.c.amount_cents)).label("snapshot_cents"),
        )
        .where(*conditions)
        .group_by(t.providers.c.code, t.providers.c.name)
    )
    found = conn.execute(query).all()
    rows = [
        IncomeByProviderRow(
            provider_code=r.code,
            provider_name=r.name if r.code is not None else NO_PROVIDER,
            allocation_count=int(r.allocations),
            unallocation_count=int(r.unallocations),
            income_cents=int(r.income_cents),
        )
        for r in found
        if r.allocations or r.unallocations  # else: only changes recorded after the close
    ]
    # Providers by code; the lines of no provider last.
    rows.sort(key=lambda r: (r.provider_code is None, r.provider_code or ""))
    return tuple(rows), sum(int(r.snapshot_cents) for r in found)


def _totals(rows: tuple[IncomeByProviderRow, ...]) -> dict[str, int | str]:
    return {
        "allocation_count": sum(r.allocation_count for r in rows),
        "unallocation_count": sum(r.unallocation_count for r in rows),
        "income_cents": sum(r.income_cents for r in rows),
    }


def _adjustments(
    conn: Connection, conditions: list[ColumnElement[bool]], zone: ZoneInfo
) -> tuple[IncomeAdjustmentRow, ...]:
    query = (
        _income_postings()
        .add_columns(
            E.c.id,
            E.c.recorded_at,
            E.c.effective_date,
            E.c.kind,
            E.c.reason,
            t.providers.c.code,
            t.providers.c.name,
            P.c.line_id,
            P.c.payment_id,
            (-P.c.amount_cents).label("amount_cents"),
        )
        .where(*conditions)
        .order_by(E.c.recorded_at, E.c.id)
    )
    return tuple(
        IncomeAdjustmentRow(
            recorded_time=local_time(r.recorded_at, zone),
            effective_date=r.effective_date,
            provider_code=r.code,
            provider_name=r.name if r.code is not None else NO_PROVIDER,
            amount_cents=int(r.amount_cents),
            kind=KIND_LABELS[r.kind],
            reason=r.reason,
            line=format_id("line", r.line_id),
            payment=format_id("payment", r.payment_id),
        )
        for r in conn.execute(query).all()
    )
