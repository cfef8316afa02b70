"""A patient's account, as the front desk reads it at the counter: who they are, their
invoices and lines with what each still owes, their payments and where each went, their
credit, their balance as ``balance --patient`` computes it, and the ledger balance beside
the statement balance with the difference explained (reference 003; report
``balance-differences``). One read, in one consistent view of the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clinicledger.domain.dates import check_in_range
from clinicledger.reports.base import ReportParams
from clinicledger.reports.statements import BalanceDifferenceRow, balance_differences
from clinicledger.services.balances import BalanceView
from clinicledger.store import accounts, lookups, masters
from clinicledger.store.accounts import AccountInvoice, AccountPayment
from clinicledger.store.engine import Engine
from clinicledger.store.lookups import practice_date, practice_instant
from clinicledger.store.masters import MasterRecord
from clinicledger.store.uow import reading

__all__ = ["AccountInvoice", "AccountPayment", "PatientAccount", "patient_account"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientAccount:
    patient: MasterRecord
    today: dt.date  # the practice's date when it was read
    balance: BalanceView  # the ledger balance of ``balance --patient``, everything posted
    invoices: tuple[AccountInvoice, ...]
    payments: tuple[AccountPayment, ...]
    statement: BalanceDifferenceRow | None  # as of today; None: nothing posted yet


def patient_account(engine: Engine, code: str, *, now: dt.datetime) -> PatientAccount:
    """The account of the patient with ``code``, read at ``now`` (aware, or the
    practice's local time)."""
    check_in_range(now, field="now")
    with reading(engine) as conn:
        lookups.require_practice(conn)
        patient = masters.master_record(conn, "patient", code)
        today = practice_date(conn, practice_instant(conn, now))
        found = lookups.party_balance(conn, patient_id=patient.id)
        differences = balance_differences(conn, ReportParams(patient=patient.code, as_of=today))
        return PatientAccount(
            patient=patient,
            today=today,
            balance=BalanceView(
                balance_cents=found.balance_cents,
                charges_cents=found.charges_cents,
                unallocated_cents=found.unallocated_cents,
                as_known_at=None,
            ),
            invoices=accounts.invoices(conn, patient.id),
            payments=accounts.payments(conn, patient.id),
            statement=differences.rows[0] if differences.rows else None,
        )
