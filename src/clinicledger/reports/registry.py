"""The reports by name: what each answers, the filters and options it takes (with the words
each option accepts), and whether it draws a chart. Every door builds its report forms from
here: the command line has one ``report NAME`` command per entry."""

from __future__ import annotations

import enum
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

FILTERS = ("from_date", "to_date", "as_of", "provider", "location", "patient", "payer")


class OptionKind(enum.StrEnum):
    CHOICE = "choice"  # one of ``choices``
    WORDS = "words"  # several of ``choices``, comma-separated
    DAYS = "days"  # a whole number of days
    FLAG = "flag"  # on or off
    FILE = "file"  # a file to read
    TEXT = "text"


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionSpec:
    name: str  # the key in ReportParams.options
    kind: OptionKind
    help: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSpec:
    run: Callable[[Connection, ReportParams], Report]
    summary: str  # what it answers, in one line
    filters: frozenset[str]  # of FILTERS
    options: tuple[OptionSpec, ...] = ()
    as_of_today: bool = False  # a point-in-time report: as of today unless a date is given
    chart: bool = False  # it can also be drawn as a chart

    @property
    def option_names(self) -> frozenset[str]:
        return frozenset(option.name for option in self.options)


def _spec(
    run: Callable[[Connection, ReportParams], Report],
    summary: str,
    filters: str,
    *options: OptionSpec,
    as_of_today: bool = False,
    chart: bool = False,
) -> ReportSpec:
    return ReportSpec(
        run=run,
        summary=summary,
        filters=frozenset(filters.split()),
        options=options,
        as_of_today=as_of_today,
        chart=chart,
    )


def _choice(name: str, choices: tuple[str, ...], help: str) -> OptionSpec:
    return OptionSpec(name=name, kind=OptionKind.CHOICE, choices=choices, help=help)


def _flag(name: str, help: str) -> OptionSpec:
    return OptionSpec(name=name, kind=OptionKind.FLAG, help=help)


def _compare_column(key: str, default: str) -> OptionSpec:
    return OptionSpec(
        name=key,
        kind=OptionKind.TEXT,
        help=f"The export's column of the {default} (default '{default}')",
    )


REPORTS: dict[str, ReportSpec] = {
    "income-allocation": _spec(
        income_allocation.income_allocation,
        "Every payment applied to a bill, and every refund, by entry time",
        "from_date to_date provider",
    ),
    "income-by-provider": _spec(
        income_by_provider.income_by_provider,
        "Cash-basis income per provider (money applied to each provider's services)",
        "from_date to_date provider location",
        _choice(
            "basis",
            income_by_provider.BASES,
            "Restated as at the period's close, with later adjustments listed; or a snapshot",
        ),
    ),
    "client-reconciliation": _spec(
        client_reconciliation.client_reconciliation,
        "One patient's sessions: responsibility, paid, credit used; matched against an export",
        "from_date to_date as_of patient",
        OptionSpec(
            name="compare",
            kind=OptionKind.FILE,
            help="Another program's CSV export of the same sessions, to match against",
        ),
        *(
            _compare_column(key, default)
            for key, default in client_reconciliation.COMPARE_DEFAULT_COLUMNS.items()
        ),
        as_of_today=True,
    ),
    "ledger-statement": _spec(
        statements.ledger_statement,
        "A patient's checkbook ledger, with a running balance",
        "as_of patient",
    ),
    "balance-statement": _spec(
        statements.balance_statement,
        "The statement of what a patient owes, line by line",
        "as_of patient",
    ),
    "balance-differences": _spec(
        statements.balance_differences,
        "Ledger balance against statement balance, the difference explained to the cent",
        "as_of patient",
        _flag("differences_only", "Only the patients whose balances differ"),
    ),
    "receipts": _spec(
        receipts.receipts,
        "Payments received (end of day), with totals by payment method",
        "from_date to_date location provider",
        _choice("by", receipts.BY_CHOICES, "The payments entered in the period, or by service"),
        _flag("by_provider", "A section per provider"),
    ),
    "debtors": _spec(
        debtors.debtors,
        "Who owes what, by age bracket",
        "as_of location provider",
        _choice("detail", debtors.DETAILS, "One row per debtor, or each owing line too"),
        _choice("order", debtors.ORDERS, "Oldest debt first, or largest first"),
        _choice("billed_to", debtors.BILLED_TO, "Only debts billed to this kind of party"),
        OptionSpec(name="interval_days", kind=OptionKind.DAYS, help="Width of an age bracket (30)"),
        OptionSpec(
            name="older_than_days",
            kind=OptionKind.DAYS,
            help="Only debtors with a debt at least this old",
        ),
        _flag("separate_locations", "A section per location"),
        as_of_today=True,
    ),
    "finance-summary": _spec(
        finance_summary.finance_summary,
        "Services provided, invoiced and receipted, by item or patient",
        "from_date to_date provider location",
        _choice("by", finance_summary.BASES, "By the date entered, or the date of service"),
        _choice("group", finance_summary.GROUPS, "A row per item, or per patient"),
    ),
    "adjustments": _spec(
        adjustments.adjustments,
        "Write-offs, discounts, transfers, reversals, un-allocations, refunds, deletions",
        "from_date to_date location",
        _choice("group", adjustments.GROUPS, "A section per type, reason or person, or none"),
        OptionSpec(
            name="types",
            kind=OptionKind.WORDS,
            choices=adjustments.TYPES,
            help="Only these kinds, comma-separated",
        ),
    ),
    "unallocated": _spec(
        unallocated.unallocated,
        "Money received and not yet applied, payment by payment",
        "as_of location",
        as_of_today=True,
    ),
    "unearned": _spec(
        unearned.unearned,
        "Lines invoiced whose service is still to come: billed, not yet earned",
        "as_of location",
        as_of_today=True,
    ),
    "aging-trend": _spec(
        aging_trend.aging_trend,
        "What is owed by age bracket at each month end of a range",
        "from_date to_date provider location",
        OptionSpec(name="interval_days", kind=OptionKind.DAYS, help="Width of an age bracket (30)"),
        chart=True,
    ),
}


def _all_options() -> dict[str, OptionSpec]:
    """Every option by name, for a form that serves every report (a favourite): the
    words of all the reports that take it, and which they are."""
    takers: dict[str, list[tuple[str, OptionSpec]]] = {}
    for report, spec in REPORTS.items():
        for option in spec.options:
            takers.setdefault(option.name, []).append((report, option))
    found = {}
    for name, given in takers.items():
        first = given[0][1]
        words = tuple(dict.fromkeys(w for _, option in given for w in option.choices))
        found[name] = OptionSpec(
            name=name,
            kind=first.kind,
            choices=words,
            help=f"{first.help} ({', '.join(report for report, _ in given)})",
        )
    return found


OPTIONS: dict[str, OptionSpec] = _all_options()
