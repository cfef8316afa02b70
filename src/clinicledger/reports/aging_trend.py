"""Aging trend: what is owed to the practice, by age bracket, at each month end of a range;
as a table, and as a stacked bar chart (``render.charts.aging_chart``).

At a month end M, as known at ``as_known_at``: every line portion (a line's amount owed by
one billed-to party, the patient or a payer) whose receivable postings dated up to M sum to
more than zero is owing; its age is M minus the line's service date (for a product, the
invoice date), in days. Brackets of ``interval_days`` (option, default 30): 0-29, 30-59,
60-89 and 90 or more. Unapplied credit is not netted off: these are the debts.

Month ends are those from ``from_date`` to ``to_date`` inclusive (both required), a span
of at most :data:`MONTHS_MAX` months. Filters: ``location`` (the invoice's) and ``provider`` (the
line's). A month end inside a closed period is read from its closing's kept balances.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.dates import month_ends, months_spanned
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.journal import Account
from clinicledger.reports.base import Column, Report, ReportParams, interval_option
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

MONTHS_MAX = 240  # twenty years
BRACKETS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class AgingTrendRow:
    month_end: dt.date
    bracket_0_cents: int
    bracket_1_cents: int
    bracket_2_cents: int
    bracket_3_cents: int
    patients_cents: int
    payers_cents: int
    total_cents: int


def bracket_keys(interval_days: int) -> tuple[str, ...]:
    """The column names of the brackets: ``days_0_29`` ... ``days_90_plus``."""
    keys = [f"days_{n * interval_days}_{(n + 1) * interval_days - 1}" for n in range(BRACKETS - 1)]
    return (*keys, f"days_{(BRACKETS - 1) * interval_days}_plus")


def aging_trend(conn: Connection, params: ReportParams) -> Report:
    zone = lookups.practice_zone(conn)
    interval = interval_option(params.options)
    if params.from_date is None or params.to_date is None:
        raise InvalidInput(
            "from", "this report needs the months to show: from and to", code="range_missing"
        )
    # counted before the month ends are listed: a range to 9999-12-31 must not build millennia
    months = months_spanned(params.from_date, params.to_date)
    if months > MONTHS_MAX:
        raise InvalidInput(
            "to",
            f"{params.from_date.isoformat()} to {params.to_date.isoformat()} spans "
            f"{months} months; at most {MONTHS_MAX}",
            code="range_too_long",
            from_date=params.from_date.isoformat(),
            to_date=params.to_date.isoformat(),
            months=months,
            months_max=MONTHS_MAX,
        )
    ends = month_ends(params.from_date, params.to_date)
    filters: list[ColumnElement[bool]] = []
    if params.location is not None:
        location_id = lookups.id_for_code(conn, "location", params.location)
        filters.append(t.invoices.c.location_id == location_id)
    if params.provider is not None:
        provider_id = lookups.id_for_code(conn, "provider", params.provider)
        filters.append(t.lines.c.provider_id == provider_id)
    base_date = func.coalesce(t.lines.c.service_date, t.invoices.c.invoice_date)

    rows = []
    for end in ends:
        # Only the portions still owing come back, not every line ever charged.
        owing = ledger.account_balances(
            conn, Account.RECEIVABLE, as_of=end, as_known_at=params.as_known_at
        )
        # Summed in SQL by billed-to side and debt date (a few thousand sums, not a
        # hundred thousand portions); a date's age, and so its bracket, is worked out here.
        to_payer = owing.c.payer_id.is_not(None)
        sums = conn.execute(
            select(to_payer.label("to_payer"), base_date, func.sum(owing.c.amount_cents))
            .join(t.lines, t.lines.c.id == owing.c.line_id)
            .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
            .where(owing.c.amount_cents > 0, *filters)
            .group_by(to_payer, base_date)
        ).all()
        brackets = [0] * BRACKETS
        patients = payers = 0
        for billed_to_payer, day, total in sums:
            cents = int(total)
            age_days = max(0, (end - day).days)
            brackets[min(age_days // interval, BRACKETS - 1)] += cents
            if billed_to_payer:
                payers += cents
            else:
                patients += cents
        rows.append(
            AgingTrendRow(
                month_end=end,
                bracket_0_cents=brackets[0],
                bracket_1_cents=brackets[1],
                bracket_2_cents=brackets[2],
                bracket_3_cents=brackets[3],
                patients_cents=patients,
                payers_cents=payers,
                total_cents=sum(brackets),
            )
        )
    keys = bracket_keys(interval)
    columns = (
        Column(key="month_end", field="month_end", money=False),
        *(Column(key=key, field=f"bracket_{n}_cents", money=True) for n, key in enumerate(keys)),
        Column(key="patients", field="patients_cents", money=True),
        Column(key="payers", field="payers_cents", money=True),
        Column(key="total", field="total_cents", money=True),
    )
    return Report(
        name="aging-trend",
        parameters=params.describe(zone),
        columns=columns,
        rows=tuple(rows),
        # A sum over month ends would count the same debts again: no totals.
        totals={},
    )
