"""The one class of each line, which decides where its money goes in the balance
statement and in the explained difference (the package docstring)."""

from __future__ import annotations

import datetime as dt
import enum

from clinicledger.reports.statements.journal import Journal, Line


class LineClass(enum.Enum):
    DELETED = "deleted"
    NOT_CLIENT_BILLABLE = "not_client_billable"
    OPEN = "open"  # to insurance
    AFTER_ENDING_DATE = "after_ending_date"  # serviced after it
    STATEMENT = "statement"  # on the balance statement


def line_class(line: Line, ending: dt.date) -> LineClass:
    """The one class of a line, tried in this order."""
    if line.deleted:
        return LineClass.DELETED
    if not line.client_billable:
        return LineClass.NOT_CLIENT_BILLABLE
    if line.open:
        return LineClass.OPEN
    if line.service_date > ending:
        return LineClass.AFTER_ENDING_DATE
    return LineClass.STATEMENT


def statement_lines(journal: Journal, patient_id: int) -> list[Line]:
    """The patient's lines on the balance statement, by date of service."""
    return sorted(
        (
            line
            for line in journal.lines.values()
            if line.patient_id == patient_id
            and line_class(line, journal.ending) is LineClass.STATEMENT
        ),
        key=lambda line: (line.service_date, line.id),
    )
