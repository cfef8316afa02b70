"""Invoices and their lines: charging, insurance status, adjustments, gap transfers,
deletion. Every money change is a new entry; nothing is updated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from clinicledger.domain.allocation import check_line_reduction
from clinicledger.domain.choices import AdjustmentReason, InsuranceStatus, LineKind
from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import Conflict, InvalidInput
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.money import check_positive, format_cents, gst_included_cents
from clinicledger.domain.periods import check_period_open
from clinicledger.domain.postings import adjustment_postings, charge_postings, transfer_postings
from clinicledger.domain.records import LineRecord
from clinicledger.domain.text import MAX_NOTE_LENGTH, check_text, require_reason
from clinicledger.services.common import business_today, open_today
from clinicledger.services.payments import unallocate_in
from clinicledger.services.usecase import ENTRY_ID, ResultCodec, set_field, use_case
from clinicledger.store import billing, ledger, lookups
from clinicledger.store.billing import NewLine
from clinicledger.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class LineSpec:
    """One line of a new invoice, as the user described it (codes, not ids)."""

    kind: LineKind
    item_code: str | None = None
    product_title: str | None = None
    provider_code: str | None = None
    service_date: dt.date | None = None
    fee_cents: int | None = None
    client_billable: bool = True
    insurance_open: bool = False
    inpatient: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedLine:
    id: int
    kind: LineKind
    amount_cents: int
    gst_cents: int
    service_date: dt.date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedInvoice:
    id: int
    number: int
    total_cents: int
    lines: tuple[CreatedLine, ...]


def _invoice_data(invoice: CreatedInvoice) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "total_cents": invoice.total_cents,
        "lines": [
            {
                "id": line.id,
                "kind": line.kind.value,
                "amount_cents": line.amount_cents,
                "gst_cents": line.gst_cents,
                "service_date": line.service_date.isoformat() if line.service_date else None,
            }
            for line in invoice.lines
        ],
    }


def _invoice_from(data: dict[str, Any]) -> CreatedInvoice:
    return CreatedInvoice(
        id=data["id"],
        number=data["number"],
        total_cents=data["total_cents"],
        lines=tuple(
            CreatedLine(
                id=line["id"],
                kind=LineKind(line["kind"]),
                amount_cents=line["amount_cents"],
                gst_cents=line["gst_cents"],
                service_date=dt.date.fromisoformat(line["service_date"])
                if line["service_date"]
                else None,
            )
            for line in data["lines"]
        ),
    )


INVOICE: ResultCodec[CreatedInvoice] = ResultCodec(dump=_invoice_data, load=_invoice_from)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateInvoice:
    INPUTS: ClassVar[dict[str, str]] = {"lines": "line"}

    patient_code: str
    location_code: str
    billed_to_code: str | None = None
    lines: tuple[LineSpec, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidInput("line", "an invoice needs at least one line", code="line_missing")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Resolved:
    """A line ready to write: its row, when it is charged, and whether GST applies."""

    row: NewLine
    effective_date: dt.date
    taxable: bool


@use_case(INVOICE)
def create_invoice(uow: UnitOfWork, command: CreateInvoice) -> CreatedInvoice:
    conn = uow.conn
    gst_registered = uow.require_practice().gst_registered
    patient_id = lookups.id_for_code(conn, "patient", command.patient_code, active=True)
    location_id = lookups.id_for_code(conn, "location", command.location_code, active=True)
    payer_id = (
        lookups.id_for_code(conn, "payer", command.billed_to_code, field="billed_to", active=True)
        if command.billed_to_code is not None
        else None
    )
    today = business_today(uow)
    closed = uow.closed_through
    resolved = [
        _resolve_line(uow, spec, n, today, gst_registered)
        for n, spec in enumerate(command.lines, 1)
    ]
    for n, line in enumerate(resolved, 1):
        check_in_range(line.effective_date, field=f"line {n}")
        check_period_open(line.effective_date, closed, field=f"line {n}")

    number = uow.next_invoice_number()
    invoice_id = billing.insert_invoice(
        conn,
        number=number,
        patient_id=patient_id,
        payer_id=payer_id,
        location_id=location_id,
        invoice_date=today,
        recorded_at=uow.stamp(),
    )
    created: list[CreatedLine] = []
    for line in resolved:
        line_id = billing.insert_line(conn, invoice_id, line.row)
        record = lookups.line_record(conn, line_id)
        uow.append(
            Entry(
                kind=EntryKind.CHARGE,
                effective_date=line.effective_date,
                postings=charge_postings(
                    record.ref(payer_id=payer_id),
                    fee_cents=line.row.fee_cents,
                    taxable=line.taxable,
                    gst_registered=gst_registered,
                ),
            )
        )
        created.append(
            CreatedLine(
                id=line_id,
                kind=line.row.kind,
                amount_cents=line.row.fee_cents,
                gst_cents=line.row.gst_cents,
                service_date=line.row.service_date,
            )
        )
    uow.audit("invoice.create", format_id("invoice", number), {"lines": [c.id for c in created]})
    return CreatedInvoice(
        id=invoice_id,
        number=number,
        total_cents=sum(c.amount_cents for c in created),
        lines=tuple(created),
    )


def _resolve_line(
    uow: UnitOfWork, spec: LineSpec, n: int, today: dt.date, gst_registered: bool
) -> _Resolved:
    """A line's row, from its spec; errors name the line by position."""
    conn = uow.conn
    field = f"line {n}"
    if spec.fee_cents is not None:
        check_positive(spec.fee_cents, field=field)

    def resolved(
        fee_cents: int, taxable: bool, effective_date: dt.date, **ids: int | None
    ) -> _Resolved:
        gst_cents = gst_included_cents(fee_cents) if taxable and gst_registered else 0
        row = NewLine(
            kind=spec.kind,
            service_date=spec.service_date if spec.kind is not LineKind.PRODUCT else None,
            fee_cents=fee_cents,
            gst_cents=gst_cents,
            client_billable=spec.client_billable,
            insurance_status=InsuranceStatus.OPEN
            if spec.insurance_open
            else InsuranceStatus.CLOSED,
            inpatient=spec.inpatient,
            **ids,
        )
        return _Resolved(row=row, effective_date=effective_date, taxable=taxable)

    if spec.kind is LineKind.PRODUCT:
        if spec.product_title is None:
            raise InvalidInput(field, "a product line needs a product", code="product_missing")
        product = lookups.priced(conn, "product", spec.product_title, field=field)
        return resolved(
            spec.fee_cents or product.fee_cents, product.taxable, today, product_id=product.id
        )
    if spec.provider_code is None or spec.service_date is None:
        raise InvalidInput(
            field,
            f"a {spec.kind.value} line needs a provider and a date",
            code="line_incomplete",
            kind=spec.kind.value,
        )
    provider_id = lookups.id_for_code(
        conn, "provider", spec.provider_code, field=field, active=True
    )
    if spec.kind is LineKind.CANCELLATION:
        if spec.fee_cents is None:
            raise InvalidInput(field, "a cancellation line needs a fee", code="fee_missing")
        return resolved(spec.fee_cents, False, spec.service_date, provider_id=provider_id)
    if spec.item_code is None:
        raise InvalidInput(field, "a service line needs an item", code="item_missing")
    item = lookups.priced(conn, "item", spec.item_code, field=field)
    return resolved(
        spec.fee_cents or item.fee_cents,
        item.taxable,
        spec.service_date,
        item_id=item.id,
        provider_id=provider_id,
    )


def _live_line(uow: UnitOfWork, line_id: int) -> LineRecord:
    line = lookups.line_record(uow.conn, line_id)
    if line.deleted_at is not None:
        raise Conflict(
            f"line {format_id('line', line_id)} was deleted", code="line_deleted", field="line"
        )
    return line


@dataclass(frozen=True, slots=True, kw_only=True)
class SetInsuranceStatus:
    line_id: int
    status: InsuranceStatus


@use_case(ENTRY_ID)
def set_insurance_status(uow: UnitOfWork, command: SetInsuranceStatus) -> int:
    """Open a line to insurance (a claim is pending on it) or close it; returns the line."""
    previous = _live_line(uow, command.line_id).insurance_status
    billing.set_insurance_status(
        uow.conn,
        command.line_id,
        status=command.status,
        previous=previous,
        recorded_at=uow.stamp(),
    )
    uow.audit(
        "line.insurance_status",
        format_id("line", command.line_id),
        {"status": command.status.value, "previous": previous.value},
    )
    return command.line_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustLine:
    """Reduce what is owed on a line (write-off, discount, fee correction): by default the
    invoice's billed-to party's portion; ``patient_portion`` for a payer-billed line's gap."""

    line_id: int
    amount_cents: int
    reason: AdjustmentReason
    note: str | None = None
    patient_portion: bool = False

    def __post_init__(self) -> None:
        check_positive(self.amount_cents, field="amount")
        set_field(self, "note", check_text(self.note, field="note", max_length=MAX_NOTE_LENGTH))


@use_case(ENTRY_ID)
def adjust_line(uow: UnitOfWork, command: AdjustLine) -> int:
    note = command.note
    line = _live_line(uow, command.line_id)
    payer_id = None if command.patient_portion else line.payer_id
    check_line_reduction(
        line_id=line.id,
        what="adjust off",
        owing_cents=lookups.line_owing_cents(uow.conn, line.id, payer_id),
        amount_cents=command.amount_cents,
    )
    entry_id = uow.append(
        Entry(
            kind=EntryKind.ADJUSTMENT,
            effective_date=open_today(uow),
            reason=command.reason.value,
            note=note,
            postings=adjustment_postings(
                line.ref(payer_id=payer_id), command.amount_cents, command.reason
            ),
        )
    )
    uow.audit(
        "line.adjust",
        format_id("line", line.id),
        {
            "entry": entry_id,
            "amount_cents": command.amount_cents,
            "reason": command.reason.value,
        },
    )
    return entry_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """Move part of a payer's portion of a line to another party: to the patient (the
    gap), the only transfer there is so far, so ``to_patient`` must be said."""

    line_id: int
    amount_cents: int
    reason: str
    to_patient: bool = False

    def __post_init__(self) -> None:
        if not self.to_patient:
            raise InvalidInput(
                "to_patient",
                "say where the amount goes: to the patient (the only transfer there is)",
                code="transfer_target_missing",
            )
        check_positive(self.amount_cents, field="amount")
        set_field(self, "reason", require_reason(self.reason))


@use_case(ENTRY_ID)
def transfer(uow: UnitOfWork, command: Transfer) -> int:
    line = _live_line(uow, command.line_id)
    label = format_id("line", line.id)
    if line.payer_id is None:
        raise Conflict(
            f"line {label} is already billed to the patient",
            code="line_billed_to_patient",
            field="line",
        )
    check_line_reduction(
        line_id=line.id,
        what="transfer",
        owing_cents=lookups.line_owing_cents(uow.conn, line.id, line.payer_id),
        amount_cents=command.amount_cents,
    )
    today = open_today(uow)
    entry_id = uow.append(
        Entry(
            kind=EntryKind.TRANSFER,
            effective_date=today,
            reason=command.reason,
            postings=transfer_postings(line.ref(payer_id=line.payer_id), command.amount_cents),
        )
    )
    uow.audit("line.transfer", label, {"entry": entry_id, "amount_cents": command.amount_cents})
    return entry_id


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteLine:
    """Delete a line: refused while payments are applied to it, unless ``cascade`` first
    un-allocates them. The deletion entry brings every account of the line back to zero."""

    line_id: int
    reason: str
    cascade: bool = False

    def __post_init__(self) -> None:
        set_field(self, "reason", require_reason(self.reason))


@use_case(ENTRY_ID)
def delete_line(uow: UnitOfWork, command: DeleteLine) -> int:
    reason = command.reason
    line = _live_line(uow, command.line_id)
    label = format_id("line", line.id)
    today = open_today(uow)
    applied = ledger.live_allocations(uow.conn, line_id=line.id)
    if applied and not command.cascade:
        total = sum(a.amount_cents for a in applied)
        ids = ", ".join(format_id("allocation", a.id) for a in applied)
        raise Conflict(
            f"line {label} has {format_cents(total)} of payments applied ({ids}); "
            "un-allocate them first, or delete the line with them",
            code="line_has_payments",
            field="line",
            line=label,
            applied_cents=total,
            allocations=ids,
        )
    undone = [
        unallocate_in(uow, allocation.id, f"line {label} deleted: {reason}", today)
        for allocation in applied
    ]
    postings = tuple(p.negated() for p in ledger.line_totals(uow.conn, line.id))
    entry_id = uow.append(
        Entry(kind=EntryKind.LINE_DELETION, effective_date=today, reason=reason, postings=postings)
    )
    billing.mark_line_deleted(uow.conn, line.id, unallocations=undone, recorded_at=uow.stamp())
    uow.audit(
        "line.delete",
        label,
        {"entry": entry_id, "reason": reason, "unallocated": [a.id for a in applied]},
    )
    return entry_id
