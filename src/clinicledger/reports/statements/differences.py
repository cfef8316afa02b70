"""Ledger balance less statement balance, explained to the cent (``balance-differences``;
the rule is the package docstring's)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import Connection, select

from clinicledger.domain.money import format_cents
from clinicledger.reports.base import Report, ReportParams, ReportWarning, columns_of
from clinicledger.reports.statements.classes import LineClass, line_class, statement_lines
from clinicledger.reports.statements.journal import (
    Journal,
    ending_date,
    in_or_all,
    read_journal,
    shown_parameters,
)
from clinicledger.store import lookups
from clinicledger.store import tables as t


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceDifferenceRow:
    patient: str  # the patient's code
    patient_name: str
    ledger_balance_cents: int
    statement_balance_cents: int
    difference_cents: int  # ledger less statement
    not_client_billable_payments_cents: int  # reason 1
    deleted_line_payments_cents: int  # reason 2
    open_to_insurance_cents: int  # reason 3
    posted_after_ending_date_cents: int  # reason 4
    unapplied_credit_cents: int  # reason 5
    not_client_billable_charges_cents: int
    deleted_line_charges_cents: int
    services_after_ending_date_cents: int  # reason 4, the other way round
    unexplained_cents: int


REASON_FIELDS = tuple(
    f.name
    for f in fields(BalanceDifferenceRow)
    if f.name.endswith("_cents")
    and f.name
    not in {
        "ledger_balance_cents",
        "statement_balance_cents",
        "difference_cents",
        "unexplained_cents",
    }
)


def balance_differences(conn: Connection, params: ReportParams) -> Report:
    """Ledger balance, statement balance and their difference explained, for one patient
    (``--patient``) or every patient with entries."""
    patient_id = (
        lookups.id_for_code(conn, "patient", params.patient) if params.patient is not None else None
    )
    ending = ending_date(conn, params)
    journal = read_journal(conn, patient_id, ending, params.as_known_at)
    patient_ids = (
        {patient_id}
        if patient_id is not None
        else {line.patient_id for line in journal.lines.values()}
        | {payment.patient_id for payment in journal.payments.values()}
        | set(journal.ledger_balances)
    )
    people = {
        r.id: (r.code, r.name)
        for r in conn.execute(
            select(t.patients.c.id, t.patients.c.code, t.patients.c.name).where(
                *in_or_all(t.patients.c.id, patient_ids)
            )
        )
        if r.id in patient_ids
    }
    rows = sorted(
        (_difference_row(journal, pid, *people[pid]) for pid in patient_ids),
        key=lambda row: row.patient,
    )
    if params.options.get("differences_only"):
        rows = [r for r in rows if r.difference_cents or r.unexplained_cents]
    money = [f.name for f in fields(BalanceDifferenceRow) if f.name.endswith("_cents")]
    warnings = tuple(
        ReportWarning(
            "difference_unexplained",
            f"patient {r.patient}: {format_cents(r.unexplained_cents)} of the difference "
            f"{format_cents(r.difference_cents)} is not explained",
        )
        for r in rows
        if r.unexplained_cents
    )
    return Report(
        name="balance-differences",
        parameters=shown_parameters(conn, params, ending),
        columns=columns_of(BalanceDifferenceRow),
        rows=tuple(rows),
        totals={name: sum(getattr(r, name) for r in rows) for name in money},
        warnings=warnings,
    )


def _difference_row(
    journal: Journal, patient_id: int, code: str, name: str
) -> BalanceDifferenceRow:
    ledger_cents = journal.ledger_balances.get(patient_id, 0)
    statement_cents = sum(
        journal.sums_of(line).balance_cents for line in statement_lines(journal, patient_id)
    )
    parts = _explain(journal, patient_id)
    difference = ledger_cents - statement_cents
    return BalanceDifferenceRow(
        patient=code,
        patient_name=name,
        ledger_balance_cents=ledger_cents,
        statement_balance_cents=statement_cents,
        difference_cents=difference,
        unexplained_cents=difference - sum(parts.values()),
        **parts,
    )


def _received_by_end(journal: Journal, payment_id: int) -> bool:
    payment = journal.payments.get(payment_id)
    return payment is not None and payment.received_date <= journal.ending


def _explain(journal: Journal, patient_id: int) -> dict[str, int]:
    """The difference, ledger less statement, split by reason (the package docstring)."""
    parts = dict.fromkeys(REASON_FIELDS, 0)
    ending = journal.ending
    for line in journal.lines.values():
        if line.patient_id != patient_id:
            continue
        sums = journal.sums_of(line)
        applied_by_end = sum(
            cents for pid, cents in sums.applied.items() if _received_by_end(journal, pid)
        )
        applied_later = sums.applied_cents - applied_by_end
        kind = line_class(line, ending)
        if kind is LineClass.STATEMENT:
            parts["posted_after_ending_date_cents"] += applied_later - sums.later_cents
        elif kind is LineClass.DELETED:
            parts["deleted_line_charges_cents"] += sums.by_end_cents
            parts["deleted_line_payments_cents"] -= applied_by_end
        elif kind is LineClass.NOT_CLIENT_BILLABLE:
            parts["not_client_billable_charges_cents"] += sums.by_end_cents
            parts["not_client_billable_payments_cents"] -= applied_by_end
        elif kind is LineClass.OPEN:
            parts["open_to_insurance_cents"] += sums.by_end_cents - applied_by_end
        else:
            parts["services_after_ending_date_cents"] += sums.by_end_cents - applied_by_end

    applied_by_payment: dict[int, int] = {}
    for sums in journal.sums.values():
        for pid, cents in sums.applied.items():
            applied_by_payment[pid] = applied_by_payment.get(pid, 0) + cents
    for payment in journal.payments.values():
        if payment.patient_id != patient_id:
            continue
        credit = journal.not_applying_by_end.get(payment.id, 0)
        if payment.received_date <= ending:
            # Received by the ending date: what of it is not applied to a line now.
            credit += applied_by_payment.get(payment.id, 0)
            cascaded = sum(journal.cascaded.get(payment.id, {}).values())
            from_deleted = min(cascaded, max(-credit, 0))
            parts["deleted_line_payments_cents"] -= from_deleted
            credit += from_deleted
        parts["unapplied_credit_cents"] += credit
    return parts
