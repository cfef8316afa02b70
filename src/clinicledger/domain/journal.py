"""Entries and postings: the immutable records every balance and report is computed from.

An entry is one money event; its postings are (account, signed cents, dimensions) and sum
to exactly zero. Debit positive, credit negative. Who recorded it, and when, is the unit of
work's (``store.uow``): an entry is what happened, not who said so.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from clinicledger.domain.errors import InvariantBroken


class Account(enum.StrEnum):
    RECEIVABLE = "RECEIVABLE"  # owed for a service line, by its billed-to party
    REVENUE_BILLED = "REVENUE_BILLED"  # fee charged, ex GST (accrual view)
    GST_PAYABLE = "GST_PAYABLE"  # GST on taxable supplies
    UNALLOCATED = "UNALLOCATED"  # money received, not yet applied to a line
    UNBANKED = "UNBANKED"  # money in the drawer / terminal, not yet deposited
    WRITE_OFF = "WRITE_OFF"  # adjusted off a line, with a reason
    REFUNDED = "REFUNDED"  # paid back out
    OPENING_BALANCE = "OPENING_BALANCE"  # balances brought in from another program
    RETAINED = "RETAINED"  # small overpayment kept as a liability, by payment


class EntryKind(enum.StrEnum):
    CHARGE = "charge"
    PAYMENT = "payment"
    ALLOCATION = "allocation"
    CREDIT_APPLIED = "credit_applied"  # an allocation of a patient's credit, "credit used"
    UNALLOCATION = "unallocation"
    REFUND = "refund"
    PAYMENT_REVERSAL = "payment_reversal"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"
    LINE_DELETION = "line_deletion"
    OPENING_BALANCE = "opening_balance"


ALLOCATION_KINDS = (EntryKind.ALLOCATION, EntryKind.CREDIT_APPLIED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Posting:
    account: Account
    amount_cents: int
    patient_id: int | None = None
    payer_id: int | None = None  # the billed-to payer; None = the patient pays
    provider_id: int | None = None
    location_id: int | None = None
    invoice_id: int | None = None
    line_id: int | None = None
    payment_id: int | None = None
    reason: str | None = None

    def negated(self) -> Posting:
        return replace(self, amount_cents=-self.amount_cents)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    kind: EntryKind
    effective_date: dt.date
    postings: tuple[Posting, ...]
    reason: str | None = None
    note: str | None = None
    reverses: int | None = None

    def __post_init__(self) -> None:
        if not self.postings:
            raise InvariantBroken(f"{self.kind} entry has no postings")
        total = sum(p.amount_cents for p in self.postings)
        if total != 0:
            raise InvariantBroken(f"{self.kind} entry postings sum to {total} cents, not zero")
