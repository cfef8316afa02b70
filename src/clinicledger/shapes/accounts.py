"""A patient's account, as ``clinicledger --json patient account CODE`` prints it and
``/api/v1/patients/{code}/account`` returns it."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from clinicledger.domain.ids import format_id
from clinicledger.domain.money import format_cents
from clinicledger.shapes.balances import view_of

if TYPE_CHECKING:
    from clinicledger.reports.statements import BalanceDifferenceRow
    from clinicledger.services.accounts import AccountInvoice, AccountPayment, PatientAccount
    from clinicledger.store.accounts import AccountLine

# The parts of the ledger balance that the statement balance leaves out (reference 003).
STATEMENT_TOTALS = ("ledger_balance_cents", "statement_balance_cents", "difference_cents")


def account(found: PatientAccount) -> dict[str, Any]:
    patient = found.patient
    return {
        "patient": {"code": patient.code, "name": patient.values["name"], "active": patient.active},
        "today": found.today.isoformat(),
        "balance": view_of(found.balance, subject="patient", key=patient.code, as_of=None),
        "invoices": [invoice(i) for i in found.invoices],
        "payments": [payment(p) for p in found.payments],
        "statement": None if found.statement is None else statement(found.statement),
    }


def invoice(found: AccountInvoice) -> dict[str, Any]:
    return {
        "id": format_id("invoice", found.number),
        "number": found.number,
        "invoice_date": found.invoice_date.isoformat(),
        "location": found.location_code,
        "billed_to": found.billed_to_code,
        "total": format_cents(found.total_cents),
        "owing": format_cents(found.owing_cents),
        "patient_owing": format_cents(found.patient_owing_cents),
        "payer_owing": format_cents(found.payer_owing_cents),
        "lines": [line(item) for item in found.lines],
    }


def line(found: AccountLine) -> dict[str, Any]:
    return {
        "id": format_id("line", found.id),
        "kind": found.kind.value,
        "description": found.description,
        "provider": found.provider_code,
        "service_date": found.service_date.isoformat() if found.service_date else None,
        "fee": format_cents(found.fee_cents),
        "gst": format_cents(found.gst_cents),
        "paid": format_cents(found.paid_cents),
        "patient_owing": format_cents(found.patient_owing_cents),
        "payer_owing": format_cents(found.payer_owing_cents),
        "owing": format_cents(found.owing_cents),
        "client_billable": found.client_billable,
        "insurance": found.insurance_status.value,
        "deleted": found.deleted,
    }


def payment(found: AccountPayment) -> dict[str, Any]:
    return {
        "id": format_id("payment", found.id),
        "received_date": found.received_date.isoformat(),
        "method": found.method.value,
        "opening": found.opening,
        "amount": format_cents(found.amount_cents),
        "reference": found.reference,
        "location": found.location_code,
        "reversed": found.reversed,
        "applied": format_cents(found.applied_cents),
        "refunded": format_cents(found.refunded_cents),
        "unallocated": format_cents(found.unallocated_cents),
        "allocations": [
            {"line": format_id("line", line_id), "amount": format_cents(cents)}
            for line_id, cents in found.applied_to
        ],
    }


def statement(row: BalanceDifferenceRow) -> dict[str, Any]:
    """The ledger balance, the statement balance and the difference explained: each reason
    of ``balance-differences`` that is not zero, by its column's name."""
    money = {f.name: getattr(row, f.name) for f in fields(row) if f.name.endswith("_cents")}
    totals = {
        name.removesuffix("_cents"): format_cents(money.pop(name)) for name in STATEMENT_TOTALS
    }
    unexplained = money.pop("unexplained_cents")
    return {
        **totals,
        "reasons": {
            name.removesuffix("_cents"): format_cents(cents)
            for name, cents in money.items()
            if cents
        },
        "unexplained": format_cents(unexplained),
    }
