"""A patient's ledger statement, balance statement, and why their balances differ
(reference 003).

- ``ledger-statement``: a checkbook. Every entry that changes what the patient owes, in date
  order with a running balance: charges at the date of service (every line billed to the
  patient's portion, whatever its status), gap transfers to the patient and adjustments
  when they were made, payments at their post (received) date, refunds and reversals of
  the patient's payments when they were made. Applying a payment to a line moves money
  inside the patient's ledger and is not a row; a payment applied to a line that is not
  client billable, or that was applied to a line since deleted, says so in its description
  (the page's red text). Its balance is the patient's ledger balance at the ending date
  (``store.lookups.party_balance``).
- ``balance-statement``: one row per line that is billed to the client now: client
  billable, closed (not open to insurance), not deleted, with a date of service on or
  before the ending date. Everything applied to the line (payments, adjustments, gap
  transfers, whatever their own dates) takes on the date of service.
- ``balance-differences``: for one patient or all, ledger balance less statement balance,
  explained to the cent.

The ending date is ``--as-of``; without it, the latest effective date in the journal (a
report has no "today"). Every query also keeps to ``recorded_at <= --as-known-at``; the
line states that are not entries are taken as known then too, from their own histories: a
line is deleted once its ``deleted_at`` is, its insurance status is the last change
recorded by then (``insurance_status_changes``), and what its deletion un-allocated is
read from ``deletion_unallocations``.

How the difference is explained
-------------------------------
Write N(line) for the postings to the patient's portion of a line that are not payments
(charges, transfers, adjustments, the deletion), A(payment, line) for the amount of a
patient's payment applied to a line now, and "received" for a payment's post date on or
before the ending date D. Allocations move money within the ledger, so

    ledger    = sum over lines of N(line) dated <= D
                + the patient's payments, refunds and reversals dated <= D
    statement = sum over statement lines of N(line) - sum of A(payment, line)

Each line belongs to exactly one class, tried in this order: deleted, not client billable,
open to insurance, serviced after D, statement line. The difference is then exactly

- ``not_client_billable_charges``: N dated <= D of lines not billable to the client (this
  ledger lists their charges; the reference's does not);
- ``not_client_billable_payments`` (reason 1): minus payments received by D now applied to
  lines not billable to the client;
- ``deleted_line_charges``: N dated <= D of deleted lines: their charges, when the line
  was deleted after D (a deletion dated by D cancels the charge in the ledger too);
- ``deleted_line_payments`` (reason 2): a line can only be deleted once its payments are
  un-allocated (``--cascade`` does it in the deletion), so payments applied to a deleted
  line are the patient's credit again. This column is minus the part of that credit,
  received by D, not applied elsewhere, refunded or reversed since; money
  un-allocated by a deletion counts as the last of its payment's money to be used;
- ``open_to_insurance`` (reason 3): N dated <= D of lines still open to insurance, less
  payments received by D applied to them;
- ``posted_after_ending_date`` (reason 4): on statement lines, payments received after D
  (the statement counts them at the date of service, the ledger not yet), and minus N
  dated after D (adjustments and gap transfers made after D, which the statement also
  counts at the date of service);
- ``services_after_ending_date`` (reason 4 the other way round): N dated <= D of lines
  serviced after D, less payments received by D applied to them (prepayments);
- ``unapplied_credit`` (reason 5): minus the money of payments received by D that is not
  applied to any line now (unapplied, or refunded or reversed after D), other than the
  deleted-line part above.

``unexplained`` is the difference less all of these; it is computed, not assumed, and is
reported as a warning whenever it is not zero.

The modules: ``journal`` reads what the three reports need, once per report (each line's
state and sums, the patients' payments, what deletions un-allocated, the ledger balances);
``classes`` gives each line its one class; ``checkbook`` is the ledger statement,
``balance`` the balance statement, ``differences`` the difference and its reasons.
"""

from __future__ import annotations

from clinicledger.reports.statements.balance import BalanceStatementRow, balance_statement
from clinicledger.reports.statements.checkbook import LedgerStatementRow, ledger_statement
from clinicledger.reports.statements.differences import (
    REASON_FIELDS,
    BalanceDifferenceRow,
    balance_differences,
)
from clinicledger.reports.statements.journal import ending_date

__all__ = [
    "REASON_FIELDS",
    "BalanceDifferenceRow",
    "BalanceStatementRow",
    "LedgerStatementRow",
    "balance_differences",
    "balance_statement",
    "ending_date",
    "ledger_statement",
]
