"""The ledger's rules as plain functions: postings for each money event, and the checks
that refuse an event before anything is written."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace
from typing import TypeVar

from clinicledger.domain.errors import InvalidInput, OverAllocation, PeriodClosed
from clinicledger.domain.journal import Account, Posting
from clinicledger.domain.money import check_positive, format_cents, gst_included_cents


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CHEQUE = "cheque"
    EFTPOS = "eftpos"
    CREDIT_CARD = "credit-card"
    HICAPS = "hicaps"
    DIRECT_DEPOSIT = "direct-deposit"
    ONLINE_CARD = "online-card"
    INSURANCE = "insurance"
    OTHER = "other"


class PayerKind(enum.StrEnum):
    FUND = "fund"
    MEDICARE = "medicare"
    DVA = "dva"
    INSURER = "insurer"
    THIRD_PARTY = "third-party"


class LineKind(enum.StrEnum):
    SERVICE = "service"
    PRODUCT = "product"
    CANCELLATION = "cancellation"
    OPENING = "opening"


class AdjustmentReason(enum.StrEnum):
    WRITE_OFF = "write-off"
    DISCOUNT = "discount"
    FEE_CORRECTION = "fee-correction"
    BAD_DEBT = "bad-debt"
    SMALL_BALANCE = "small-balance"


E = TypeVar("E", bound=enum.StrEnum)


def parse_choice(choices: type[E], text: str, *, field: str) -> E:
    """``text`` as one of ``choices``, or an error listing the allowed values."""
    try:
        return choices(text.strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise InvalidInput(
            field, f"'{text}' is not one of: {allowed}", code="choice_unknown"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class LineRef:
    """Where a line's receivable lives: its dimensions, for one billed-to portion."""

    line_id: int
    invoice_id: int
    patient_id: int | None
    provider_id: int | None
    location_id: int
    payer_id: int | None  # None: the patient's own portion

    def receivable(self, amount_cents: int, *, payment_id: int | None = None) -> Posting:
        """A posting to this portion of the line; ``payment_id`` names the payment that
        paid it, on an allocation."""
        return Posting(
            account=Account.RECEIVABLE,
            amount_cents=amount_cents,
            patient_id=self.patient_id,
            payer_id=self.payer_id,
            payment_id=payment_id,
            provider_id=self.provider_id,
            location_id=self.location_id,
            invoice_id=self.invoice_id,
            line_id=self.line_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRef:
    payment_id: int
    patient_id: int | None  # set when a patient paid
    payer_id: int | None  # set when a payer paid
    location_id: int

    def unallocated(self, amount_cents: int) -> Posting:
        return Posting(
            account=Account.UNALLOCATED,
            amount_cents=amount_cents,
            patient_id=self.patient_id,
            payer_id=self.payer_id,
            location_id=self.location_id,
            payment_id=self.payment_id,
        )


def charge_postings(
    line: LineRef, *, fee_cents: int, taxable: bool, gst_registered: bool
) -> tuple[Posting, ...]:
    """A fee is GST-inclusive: a taxable line of a GST-registered practice owes 1/11 of it."""
    gst_cents = gst_included_cents(fee_cents) if taxable and gst_registered else 0
    postings = [
        line.receivable(fee_cents),
        Posting(
            account=Account.REVENUE_BILLED,
            amount_cents=-(fee_cents - gst_cents),
            provider_id=line.provider_id,
            location_id=line.location_id,
            invoice_id=line.invoice_id,
            line_id=line.line_id,
            patient_id=line.patient_id,
        ),
    ]
    if gst_cents:
        postings.append(
            Posting(
                account=Account.GST_PAYABLE,
                amount_cents=-gst_cents,
                location_id=line.location_id,
                invoice_id=line.invoice_id,
                line_id=line.line_id,
            )
        )
    return tuple(postings)


def opening_line_postings(line: LineRef, amount_cents: int) -> tuple[Posting, ...]:
    return (
        line.receivable(amount_cents),
        Posting(
            account=Account.OPENING_BALANCE,
            amount_cents=-amount_cents,
            patient_id=line.patient_id,
            payer_id=line.payer_id,
            location_id=line.location_id,
            line_id=line.line_id,
        ),
    )


def receipt_postings(
    payment: PaymentRef, amount_cents: int, *, opening: bool = False
) -> tuple[Posting, ...]:
    """Money received: it sits in the drawer and, until applied, unallocated."""
    source = Account.OPENING_BALANCE if opening else Account.UNBANKED
    return (
        Posting(
            account=source,
            amount_cents=amount_cents,
            location_id=payment.location_id,
            payment_id=payment.payment_id,
        ),
        payment.unallocated(-amount_cents),
    )


def allocation_postings(
    payment: PaymentRef, line: LineRef, amount_cents: int
) -> tuple[Posting, ...]:
    return (
        payment.unallocated(amount_cents),
        line.receivable(-amount_cents, payment_id=payment.payment_id),
    )


def refund_postings(payment: PaymentRef, amount_cents: int) -> tuple[Posting, ...]:
    return (
        payment.unallocated(amount_cents),
        Posting(
            account=Account.REFUNDED,
            amount_cents=-amount_cents,
            location_id=payment.location_id,
            payment_id=payment.payment_id,
        ),
    )


def reversal_postings(
    payment: PaymentRef, amount_cents: int, *, opening: bool = False
) -> tuple[Posting, ...]:
    return tuple(p.negated() for p in receipt_postings(payment, amount_cents, opening=opening))


def adjustment_postings(
    line: LineRef, amount_cents: int, reason: AdjustmentReason
) -> tuple[Posting, ...]:
    return (
        line.receivable(-amount_cents),
        Posting(
            account=Account.WRITE_OFF,
            amount_cents=amount_cents,
            provider_id=line.provider_id,
            location_id=line.location_id,
            invoice_id=line.invoice_id,
            line_id=line.line_id,
            patient_id=line.patient_id,
            reason=reason.value,
        ),
    )


def transfer_postings(line: LineRef, amount_cents: int) -> tuple[Posting, ...]:
    """Move part of a payer's portion of a line to the patient (the gap)."""
    patient_portion = replace(line, payer_id=None)
    return (line.receivable(-amount_cents), patient_portion.receivable(amount_cents))


def check_allocation(
    *,
    payment_label: str,
    unallocated_cents: int,
    line_label: str,
    owing_cents: int,
    amount_cents: int,
) -> None:
    check_positive(amount_cents, field="to")
    if amount_cents > unallocated_cents:
        raise OverAllocation(
            f"payment {payment_label} has {format_cents(unallocated_cents)} unallocated; "
            f"cannot allocate {format_cents(amount_cents)} to line {line_label}",
            code="allocation_exceeds_payment",
            field="to",
        )
    if amount_cents > owing_cents:
        raise OverAllocation(
            f"line {line_label} has {format_cents(owing_cents)} owing; "
            f"cannot allocate {format_cents(amount_cents)} from payment {payment_label}",
            code="allocation_exceeds_line",
            field="to",
        )


def check_line_reduction(
    *, line_label: str, owing_cents: int, amount_cents: int, what: str
) -> None:
    """An adjustment or transfer may not take a line's portion below zero."""
    check_positive(amount_cents, field="amount")
    if amount_cents > owing_cents:
        raise OverAllocation(
            f"line {line_label} has {format_cents(owing_cents)} owing; "
            f"cannot {what} {format_cents(amount_cents)}",
            code="exceeds_line_balance",
            field="amount",
        )


def plan_oldest_first(
    available_cents: int, owing: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    """Spread ``available_cents`` over ``(line_id, owing_cents)`` in the order given
    (oldest first); returns ``(line_id, amount_cents)`` for each line that gets money."""
    plan: list[tuple[int, int]] = []
    left = available_cents
    for line_id, owing_cents in owing:
        if left <= 0:
            break
        take = min(left, owing_cents)
        if take > 0:
            plan.append((line_id, take))
            left -= take
    return tuple(plan)


def check_period_open(
    effective_date: dt.date, closed_through: dt.date | None, *, field: str = "now"
) -> None:
    """``field`` names the input that holds the date (``now`` for entries dated today)."""
    if closed_through is not None and effective_date <= closed_through:
        raise PeriodClosed(
            f"the period up to {closed_through.isoformat()} is closed; "
            f"an entry dated {effective_date.isoformat()} cannot be recorded",
            code="period_closed",
            field=field,
        )


_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/")
_ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def check_code(code: str, *, field: str = "code") -> str:
    """A master-data code: 1-40 letters, digits or ``. _ - /``."""
    if not code or len(code) > 40 or not set(code) <= _CODE_CHARS:
        raise InvalidInput(
            field,
            f"'{code}' is not a code: use 1-40 letters, digits, . _ - /",
            code="code_malformed",
        )
    return code


def check_name(name: str, *, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise InvalidInput(field, "a name of 1-200 characters is required", code="name_missing")
    return cleaned


def check_text(text: str | None, *, field: str, max_length: int) -> str | None:
    """Optional free text (a reference, a note): at most ``max_length`` characters."""
    if text is None:
        return None
    cleaned = text.strip()
    if len(cleaned) > max_length:
        raise InvalidInput(
            field,
            f"is {len(cleaned)} characters long; at most {max_length} are kept",
            code="text_too_long",
        )
    return cleaned or None


def check_abn(abn: str, *, field: str = "abn") -> str:
    """An Australian Business Number: 11 digits passing the ATO's modulus-89 check."""
    digits = abn.replace(" ", "")
    if len(digits) != 11 or not digits.isdigit():
        raise InvalidInput(field, f"'{abn}' is not an ABN (11 digits)", code="abn_malformed")
    values = [int(d) for d in digits]
    values[0] -= 1
    if sum(w * v for w, v in zip(_ABN_WEIGHTS, values, strict=True)) % 89 != 0:
        raise InvalidInput(field, f"'{abn}' fails the ABN check digits", code="abn_invalid")
    return digits
