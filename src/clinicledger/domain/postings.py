"""The postings of each money event, built from where the money lives: a line's portion
(:class:`LineRef`) and a payment (:class:`PaymentRef`). Every function returns postings that
sum to zero."""

from __future__ import annotations

from dataclasses import dataclass, replace

from clinicledger.domain.choices import AdjustmentReason
from clinicledger.domain.journal import Account, Posting
from clinicledger.domain.money import gst_included_cents


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
