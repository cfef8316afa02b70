"""The charts people would rather look at than read, each beside its report: receivables
by age at each month end (``aging-trend``), income by provider per month
(``income-by-provider``) and receipts by payment method (``receipts``). A chart is drawn
from the same figures as the report's table (``render/svg.py`` draws it); income per
month runs the report once for each month of the period asked for."""

from __future__ import annotations

import dataclasses
import datetime as dt

from clinicledger.domain.dates import month_end, months_spanned
from clinicledger.render.svg import Chart, Series
from clinicledger.reports.base import Report
from clinicledger.services.reporting import ReportRequest, run_request
from clinicledger.store.engine import Engine

CHARTED = ("aging-trend", "income-by-provider", "receipts")
INCOME_MONTHS_MAX = 24  # a bar per month; a longer period is read as the table only
RECEIPTS_BY_METHOD = "receipts by method"


def report_chart(
    engine: Engine, request: ReportRequest, report: Report, *, now: dt.datetime
) -> Chart | None:
    """The chart of ``report`` (run from ``request``), or None: a report with no chart, or
    nothing to draw."""
    chart: Chart | None
    if report.name == "aging-trend":
        chart = _aging(report)
    elif report.name == "receipts":
        chart = _receipts(report)
    elif report.name == "income-by-provider":
        chart = _income_by_month(engine, request, report, now=now)
    else:
        return None
    return None if chart is None or chart.empty else chart


def _bracket_name(key: str) -> str:
    """``days_0_29`` -> ``0-29 days``, ``days_90_plus`` -> ``90+ days``."""
    return key.removeprefix("days_").replace("_plus", "+").replace("_", "-") + " days"


def _aging(report: Report) -> Chart:
    brackets = [c for c in report.columns if c.key.startswith("days_")]
    return Chart(
        title="Receivables by age at each month end",
        categories=tuple(row.month_end.strftime("%b %Y") for row in report.rows),
        series=tuple(
            Series(
                name=_bracket_name(column.key),
                cents=tuple(int(getattr(row, column.field)) for row in report.rows),
            )
            for column in brackets
        ),
    )


def _receipts(report: Report) -> Chart | None:
    by_method = next((s for s in report.sections if s.name == RECEIPTS_BY_METHOD), None)
    if by_method is None:
        return None
    return Chart(
        title="Receipts by payment method",
        categories=tuple(row.method for row in by_method.rows),
        series=(Series(name="received", cents=tuple(r.amount_cents for r in by_method.rows)),),
    )


def _income_by_month(
    engine: Engine, request: ReportRequest, report: Report, *, now: dt.datetime
) -> Chart | None:
    first = dt.date.fromisoformat(str(report.parameters["from_date"]))
    last = dt.date.fromisoformat(str(report.parameters["to_date"]))
    if months_spanned(first, last) > INCOME_MONTHS_MAX:
        return None
    months: list[tuple[dt.date, dt.date]] = []
    start = first
    while start <= last:
        months.append((start, min(month_end(start), last)))
        start = month_end(start) + dt.timedelta(days=1)
    incomes: dict[str, list[int]] = {}
    for n, (start, end) in enumerate(months):
        monthly = run_request(
            engine,
            dataclasses.replace(
                request,
                from_date=start,
                to_date=end,
                preset=None,
                options={**request.options, "basis": "snapshot"},
                chart=False,
            ),
            now=now,
        )
        for row in monthly.rows:
            incomes.setdefault(row.provider_name, [0] * len(months))[n] += row.income_cents
    return Chart(
        title="Income by provider per month",
        categories=tuple(start.strftime("%b %Y") for start, _ in months),
        series=tuple(Series(name=name, cents=tuple(cents)) for name, cents in incomes.items()),
    )
