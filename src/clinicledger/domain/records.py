"""What the store reads back about the practice, a line, a payment and a priced item:
small frozen records that the rules decide on (the store builds them; nothing here touches
a database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clinicledger.domain.choices import InsuranceStatus, LineKind
from clinicledger.domain.postings import LineRef, PaymentRef


@dataclass(frozen=True, slots=True, kw_only=True)
class LineRecord:
    id: int
    invoice_id: int
    kind: LineKind
    patient_id: int | None
    payer_id: int | None  # the invoice's billed-to payer; None: billed to the patient
    location_id: int
    provider_id: int | None
    service_date: dt.date | None
    invoice_date: dt.date
    fee_cents: int
    gst_cents: int
    client_billable: bool
    insurance_status: InsuranceStatus
    deleted_at: dt.datetime | None

    def ref(self, *, payer_id: int | None) -> LineRef:
        """The line's portion billed to ``payer_id`` (``None``: the patient's own)."""
        return LineRef(
            line_id=self.id,
            invoice_id=self.invoice_id,
            patient_id=self.patient_id,
            provider_id=self.provider_id,
            location_id=self.location_id,
            payer_id=payer_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRecord:
    id: int
    patient_id: int | None  # set when a patient paid
    payer_id: int | None  # set when a payer paid
    party_code: str  # the code of whoever paid
    location_id: int
    amount_cents: int
    received_date: dt.date
    opening: bool  # an opening credit brought in from another program
    reversed_at: dt.datetime | None

    def ref(self) -> PaymentRef:
        return PaymentRef(
            payment_id=self.id,
            patient_id=self.patient_id,
            payer_id=self.payer_id,
            location_id=self.location_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PracticeRecord:
    name: str
    abn: str | None
    gst_registered: bool
    timezone: str
    currency: str
    locale: str  # how its money and dates are written: Babel's name, e.g. en_AU
    closed_through: dt.date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Priced:
    """An item or product a line can be charged for: its default fee, GST-inclusive."""

    id: int
    fee_cents: int
    taxable: bool
