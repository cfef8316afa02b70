"""The client balance statement (``balance-statement``): one row per line billed to the
client now, with everything applied to it taken at its date of service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from clinicledger.domain.ids import format_id
from clinicledger.reports.base import Report, ReportParams, columns_of
from clinicledger.reports.statements.classes import statement_lines
from clinicledger.reports.statements.journal import (
    ending_date,
    read_journal,
    required_patient,
    shown_parameters,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceStatementRow:
    date: dt.date
    description: str
    charge_cents: int
    payments_cents: int  # payments and adjustments applied to the line, whatever their date
    balance_cents: int


def balance_statement(conn: Connection, params: ReportParams) -> Report:
    """The client balance statement: what the patient owes on lines billed to them now."""
    patient_id = required_patient(conn, params, "balance-statement")
    ending = ending_date(conn, params)
    journal = read_journal(conn, patient_id, ending, params.as_known_at)
    rows = []
    for line in statement_lines(journal, patient_id):
        sums = journal.sums_of(line)
        rows.append(
            BalanceStatementRow(
                date=line.service_date,
                description=f"{line.service} ({format_id('line', line.id)})",
                charge_cents=sums.charged_cents,
                payments_cents=sums.adjusted_cents + sums.applied_cents,
                balance_cents=sums.balance_cents,
            )
        )
    return Report(
        name="balance-statement",
        parameters=shown_parameters(conn, params, ending),
        columns=columns_of(BalanceStatementRow),
        rows=tuple(rows),
        totals={
            "charge_cents": sum(r.charge_cents for r in rows),
            "payments_cents": sum(r.payments_cents for r in rows),
            "balance_cents": sum(r.balance_cents for r in rows),
        },
    )
