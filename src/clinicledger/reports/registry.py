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
        help=f"the export's column of the {default} (default '{default}')",
    )


REPORTS: dict[str, ReportSpec] = {
    "income-allocation": _spec(
        income_allocation.income_allocation,
        "every payment applied to a bill, and every refund, by entry time",
        "from_date to_date provider",
    ),
    "income-by-provider": _spec(
        income_by_provider.income_by_provider,
        "cash-basis income per provider (money applied to each provider's services)",
        "from_date to_date provider location",
        _choice(
            "basis",
            income_by_provider.BASES,
            "restated as at the period's close, with later adjustments listed; or a snapshot",
        ),
    ),
    "client-reconciliation": _spec(
        client_reconciliation.client_reconciliation,
        "one patient's sessions: responsibility, paid, credit used; matched against an export",
        "from_date to_date as_of patient",
        OptionSpec(
            name="compare",
            kind=OptionKind.FILE,
            help="another program's CSV export of the same sessions, to match against",
        ),
        *(
            _compare_column(key, default)
            for key, default in client_reconciliation.COMPARE_DEFAULT_COLUMNS.items()
        ),
        as_of_today=True,
    ),
    "ledger-statement": _spec(
        statements.ledger_statement,
        "a patient's checkbook ledger, with a running balance",
        "as_of patient",
    ),
    "balance-statement": _spec(
        statements.balance_statement,
        "the statement of what a patient owes, line by line",
        "as_of patient",
    ),
    "balance-differences": _spec(
        statements.balance_differences,
        "ledger balance against statement balance, the difference explained to the cent",
        "as_of patient",
        _flag("differences_only", "only the patients whose balances differ"),
    ),
    "receipts": _spec(
        receipts.receipts,
        "payments received (end of day), with totals by payment method",
        "from_date to_date location provider",
        _choice("by", receipts.BY_CHOICES, "the payments entered in the period, or by service"),
        _flag("by_provider", "a section per provider"),
    ),
    "debtors": _spec(
        debtors.debtors,
        "who owes what, by age bracket",
        "as_of location provider",
        _choice("detail", debtors.DETAILS, "one row per debtor, or each owing line too"),
        _choice("order", debtors.ORDERS, "oldest debt first, or largest first"),
        _choice("billed_to", debtors.BILLED_TO, "only debts billed to this kind of party"),
        OptionSpec(name="interval_days", kind=OptionKind.DAYS, help="width of an age bracket (30)"),
        OptionSpec(
            name="older_than_days",
            kind=OptionKind.DAYS,
            help="only debtors with a debt at least this old",
        ),
        _flag("separate_locations", "a section per location"),
        as_of_today=True,
    ),
    "finance-summary": _spec(
        finance_summary.finance_summary,
        "services provided, invoiced and receipted, by item or patient",
        "from_date to_date provider location",
        _choice("by", finance_summary.BASES, "by the date entered, or the date of service"),
        _choice("group", finance_summary.GROUPS, "a row per item, or per patient"),
    ),
    "adjustments": _spec(
        adjustments.adjustments,
        "write-offs, discounts, transfers, reversals, un-allocations, refunds, deletions",
        "from_date to_date location",
        _choice("group", adjustments.GROUPS, "a section per type, reason or person, or none"),
        OptionSpec(
            name="types",
            kind=OptionKind.WORDS,
            choices=adjustments.TYPES,
            help="only these kinds, comma-separated",
        ),
    ),
    "unallocated": _spec(
        unallocated.unallocated,
        "money received and not yet applied, payment by payment",
        "as_of location",
        as_of_today=True,
    ),
    "unearned": _spec(
        unearned.unearned,
        "lines invoiced whose service is still to come: billed, not yet earned",
        "as_of location",
        as_of_today=True,
    ),
    "aging-trend": _spec(
        aging_trend.aging_trend,
        "what is owed by age bracket at each month end of a range",
        "from_date to_date provider location",
        OptionSpec(name="interval_days", kind=OptionKind.DAYS, help="width of an age bracket (30)"),
        chart=True,
    ),
}

OPTIONS: dict[str, OptionSpec] = {
    option.name: option for spec in REPORTS.values() for option in spec.options
}
