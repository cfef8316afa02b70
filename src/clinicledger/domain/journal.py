"""Entries and postings: the immutable records every balance and report is computed from.

An entry is one money event; its postings are (account, signed cents, dimensions) and sum
to exactly zero. Debit positive, credit negative. Who recorded it, and when, is the unit of
work's (``store.uow``): an entry is what happened, not who said so.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from clinicledger.domain.chain import PostingFacts
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
    # a small overpayment kept aside (RETAINED), and later cleared to revenue: the kinds
    # are the journal's; the use cases that write them come with remittances
    RETAIN = "retain"
    RETAIN_CLEAR = "retain_clear"


ALLOCATION_KINDS = (EntryKind.ALLOCATION, EntryKind.CREDIT_APPLIED)
# The entries that apply money to a line or take it off it again: a practice's income as it
# is applied (income allocation, income by provider, finance summary's receipts)
APPLIED_KINDS = (*ALLOCATION_KINDS, EntryKind.UNALLOCATION)


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

    def facts(self) -> PostingFacts:
        """The posting as stored and chained: its columns in :data:`POSTING_FACTS` order."""
        return (
            self.account.value,
            self.amount_cents,
            self.patient_id,
            self.payer_id,
            self.provider_id,
            self.location_id,
            self.invoice_id,
            self.line_id,
            self.payment_id,
            self.reason,
        )


# A posting's own columns, in the order :meth:`Posting.facts` gives them and the chain
# hashes them (domain/chain.py).
POSTING_FACTS = (
    "account",
    "amount_cents",
    "patient_id",
    "payer_id",
    "provider_id",
    "location_id",
    "invoice_id",
    "line_id",
    "payment_id",
    "reason",
)


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
