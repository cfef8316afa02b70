"""Payments as ``payment record|allocate|show`` print them and ``/api/v1/payments``
returns them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinicledger.domain.ids import format_id
from clinicledger.domain.money import format_cents

if TYPE_CHECKING:  # a shape is built on every start-up path: it loads no database library
    from clinicledger.services.desk import LineLabel, PaymentView
    from clinicledger.services.payments import Allocation


def recorded(payment_id: int, amount_cents: int) -> dict[str, Any]:
    """The answer of ``payment record``."""
    return {"id": format_id("payment", payment_id), "amount": format_cents(amount_cents)}


def allocations(made: tuple[Allocation, ...]) -> dict[str, Any]:
    """The answer of ``payment allocate`` and ``credit apply``: each allocation made."""
    return {
        "allocations": [
            {
                "id": format_id("allocation", a.id),
                "line": format_id("line", a.line_id),
                "payment": format_id("payment", a.payment_id),
                "amount": format_cents(a.amount_cents),
            }
            for a in made
        ]
    }


def _line(found: LineLabel) -> dict[str, Any]:
    return {
        "line": format_id("line", found.id),
        "invoice": format_id("invoice", found.invoice_number),
        "patient": found.patient_code,
        "description": found.description,
        "provider": found.provider_code,
        "service_date": found.service_date.isoformat() if found.service_date else None,
        "fee": format_cents(found.fee_cents),
    }


def payment(found: PaymentView) -> dict[str, Any]:
    """``payment show``: who paid, how and when, where its money is (applied, refunded,
    unallocated), each allocation still standing, and the lines the payer still owes on
    (the oldest 500, and how many more)."""
    header = found.header
    return {
        "id": format_id("payment", header.id),
        "from": {"kind": found.party_kind, "code": found.party_code, "name": header.party_name},
        "received_date": header.received_date.isoformat(),
        "method": header.method.value,
        "opening": header.opening,
        "amount": format_cents(header.amount_cents),
        "reference": header.reference,
        "fee": None
        if header.processor_fee_cents is None
        else format_cents(header.processor_fee_cents),
        "note": header.note,
        "location": header.location_code,
        "reversed": header.reversed,
        "applied": format_cents(found.applied_cents),
        "refunded": format_cents(found.refunded_cents),
        "unallocated": format_cents(found.unallocated_cents),
        "allocations": [
            {
                "id": format_id("allocation", a.allocation_id),
                **_line(a.line),
                "amount": format_cents(a.amount_cents),
            }
            for a in found.allocations
        ],
        "open_lines": [
            {**_line(o.line), "owing": format_cents(o.owing_cents)} for o in found.open_lines
        ],
        "open_more": found.open_more,
    }
