"""The reports by name, with the options each one understands beyond the common filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from clinicledger.reports import income_allocation
from clinicledger.reports.base import Report, ReportParams


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSpec:
    run: Callable[[Connection, ReportParams], Report]
    filters: frozenset[str]  # of from_date, to_date, as_of, provider, location, patient, payer
    options: frozenset[str] = frozenset()


REPORTS: dict[str, ReportSpec] = {
    "income-allocation": ReportSpec(
        run=income_allocation.income_allocation,
        filters=frozenset({"from_date", "to_date", "provider"}),
    ),
}
