"""The reports by name: what each answers, the filters and options it takes (with the words
each option accepts), and whether it draws a chart. Every door builds its report forms from
here: the command line has one ``report NAME`` command per entry.

A report's query is named, not imported: building a form (a command's help, a page) needs
no database library, and a report's module is loaded when it runs (start-up, issue 9). The
words an option accepts are kept here, once, and the report reads them from here.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinicledger.domain.choices import PayerKind
from clinicledger.domain.journal import EntryKind

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from clinicledger.reports.base import Report, ReportParams

FILTERS = ("from_date", "to_date", "as_of", "provider", "location", "patient", "payer")

# The words each report's options accept.
INCOME_BASES = ("restated", "snapshot")  # income-by-provider --basis
RECEIPTS_BY = ("entered", "service")  # receipts --by
DEBTORS_DETAILS = ("summary", "detailed")
DEBTORS_ORDERS = ("age", "amount")
DEBTORS_BILLED_TO = ("patient", *(kind.value for kind in PayerKind))
FINANCE_BASES = ("created", "service")  # finance-summary --by
FINANCE_GROUPS = ("item", "patient")
ADJUSTMENT_TYPES = (
    EntryKind.ADJUSTMENT.value,
    EntryKind.TRANSFER.value,
    EntryKind.LINE_DELETION.value,
    EntryKind.PAYMENT_REVERSAL.value,
    EntryKind.UNALLOCATION.value,
    EntryKind.REFUND.value,
)
ADJUSTMENT_GROUPS = ("type", "reason", "actor", "none")
COMPARE_DEFAULT_COLUMNS = {  # client-reconciliation --compare: the export's columns
    "compare_date_column": "date",
    "compare_amount_column": "amount",
    "compare_description_column": "description",
}


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
    # The function that runs it: "module:function" in clinicledger.reports; it may leave
    # its rows to be read as they are written (reports.base.Report.more).
    query: str
    summary: str  # what it answers, in one line
    filters: frozenset[str]  # of FILTERS
    options: tuple[OptionSpec, ...] = ()
    as_of_today: bool = False  # a point-in-time report: as of today unless a date is given
    chart: bool = False  # it can also be drawn as a chart

    @property
    def option_names(self) -> frozenset[str]:
        return frozenset(option.name for option in self.options)

    def run(self, conn: Connection, params: ReportParams, *, streamed: bool = False) -> Report:
        """Run the report's query (its module is loaded the first time). ``streamed``: its
        rows may be left to be read while ``conn`` is open (``Report.more``); else they
        are all read."""
        module, _, function = self.query.partition(":")
        found: Report = getattr(
            importlib.import_module(f"clinicledger.reports.{module}"), function
        )(conn, params)
        if streamed:
            return found
        from clinicledger.reports.base import collected

        return collected(found)


def _spec(
    query: str,
    summary: str,
    filters: str,
    *options: OptionSpec,
    as_of_today: bool = False,
    chart: bool = False,
) -> ReportSpec:
    return ReportSpec(
        query=query,
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
        "income_allocation:streamed_income_allocation",
        "Every payment applied to a bill, and every refund, by entry time",
        "from_date to_date provider",
    ),
    "income-by-provider": _spec(
        "income_by_provider:income_by_provider",
        "Cash-basis income per provider (money applied to each provider's services)",
        "from_date to_date provider location",
        _choice(
            "basis",
            INCOME_BASES,
            "Restated as at the period's close, with later adjustments listed; or a snapshot",
        ),
    ),
    "client-reconciliation": _spec(
        "client_reconciliation:client_reconciliation",
        "One patient's sessions: responsibility, paid, credit used; matched against an export",
        "from_date to_date as_of patient",
        OptionSpec(
            name="compare",
            kind=OptionKind.FILE,
            help="Another program's CSV export of the same sessions, to match against",
        ),
        *(_compare_column(key, default) for key, default in COMPARE_DEFAULT_COLUMNS.items()),
        as_of_today=True,
    ),
    "ledger-statement": _spec(
        "statements:ledger_statement",
        "A patient's checkbook ledger, with a running balance",
        "as_of patient",
    ),
    "balance-statement": _spec(
        "statements:balance_statement",
        "The statement of what a patient owes, line by line",
        "as_of patient",
    ),
    "balance-differences": _spec(
        "statements:balance_differences",
        "Ledger balance against statement balance, the difference explained to the cent",
        "as_of patient",
        _flag("differences_only", "Only the patients whose balances differ"),
    ),
    "receipts": _spec(
        "receipts:streamed_receipts",
        "Payments received (end of day), with totals by payment method",
        "from_date to_date location provider",
        _choice("by", RECEIPTS_BY, "The payments entered in the period, or by service"),
        _flag("by_provider", "A section per provider"),
    ),
    "debtors": _spec(
        "debtors:debtors",
        "Who owes what, by age bracket",
        "as_of location provider",
        _choice("detail", DEBTORS_DETAILS, "One row per debtor, or each owing line too"),
        _choice("order", DEBTORS_ORDERS, "Oldest debt first, or largest first"),
        _choice("billed_to", DEBTORS_BILLED_TO, "Only debts billed to this kind of party"),
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
        "finance_summary:finance_summary",
        "Services provided, invoiced and receipted, by item or patient",
        "from_date to_date provider location",
        _choice("by", FINANCE_BASES, "By the date entered, or the date of service"),
        _choice("group", FINANCE_GROUPS, "A row per item, or per patient"),
    ),
    "adjustments": _spec(
        "adjustments:adjustments",
        "Write-offs, discounts, transfers, reversals, un-allocations, refunds, deletions",
        "from_date to_date location",
        _choice("group", ADJUSTMENT_GROUPS, "A section per type, reason or person, or none"),
        OptionSpec(
            name="types",
            kind=OptionKind.WORDS,
            choices=ADJUSTMENT_TYPES,
            help="Only these kinds, comma-separated",
        ),
    ),
    "unallocated": _spec(
        "unallocated:unallocated",
        "Money received and not yet applied, payment by payment",
        "as_of location",
        as_of_today=True,
    ),
    "unearned": _spec(
        "unearned:unearned",
        "Lines invoiced whose service is still to come: billed, not yet earned",
        "as_of location",
        as_of_today=True,
    ),
    "aging-trend": _spec(
        "aging_trend:aging_trend",
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
