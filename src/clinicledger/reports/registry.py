"""The reports by name, with the filters and options each one takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from clinicledger.reports import (
    adjustments,
    aging_trend,
    client_reconciliation,
    debtors,
    finance_summary,
    income_allocation,
    income_by_provider,
    receipts,
    statements,
    unallocated,
    unearned,
)
from clinicledger.reports.base import Report, ReportParams


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSpec:
    run: Callable[[Connection, ReportParams], Report]
    filters: frozenset[str]  # of from_date, to_date, as_of, provider, location, patient, payer
    options: frozenset[str] = frozenset()
    as_of_today: bool = False  # a point-in-time report: --as-of defaults to today


def _spec(
    run: Callable[[Connection, ReportParams], Report],
    filters: str,
    options: str = "",
    *,
    as_of_today: bool = False,
) -> ReportSpec:
    return ReportSpec(
        run=run,
        filters=frozenset(filters.split()),
        options=frozenset(options.split()),
        as_of_today=as_of_today,
    )


REPORTS: dict[str, ReportSpec] = {
    "income-allocation": _spec(income_allocation.income_allocation, "from_date to_date provider"),
    "income-by-provider": _spec(
        income_by_provider.income_by_provider, "from_date to_date provider location", "basis"
    ),
    "client-reconciliation": _spec(
        client_reconciliation.client_reconciliation,
        "from_date to_date as_of patient",
        "compare compare_date_column compare_amount_column compare_description_column",
        as_of_today=True,
    ),
    "ledger-statement": _spec(statements.ledger_statement, "as_of patient"),
    "balance-statement": _spec(statements.balance_statement, "as_of patient"),
    "balance-differences": _spec(
        statements.balance_differences, "as_of patient", "differences_only"
    ),
    "receipts": _spec(receipts.receipts, "from_date to_date location provider", "by by_provider"),
    "debtors": _spec(
        debtors.debtors,
        "as_of location provider",
        "detail order billed_to interval_days older_than_days separate_locations",
        as_of_today=True,
    ),
    "finance-summary": _spec(
        finance_summary.finance_summary, "from_date to_date provider location", "by group"
    ),
    "adjustments": _spec(adjustments.adjustments, "from_date to_date location", "group types"),
    "unallocated": _spec(unallocated.unallocated, "as_of location", as_of_today=True),
    "unearned": _spec(unearned.unearned, "as_of location", as_of_today=True),
    "aging-trend": _spec(
        aging_trend.aging_trend, "from_date to_date provider location", "interval_days"
    ),
}
