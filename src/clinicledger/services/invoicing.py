"""Invoices and their lines: charging, insurance status, adjustments, gap transfers,
deletion. Every money change is a new entry; nothing is updated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, select, update

from clinicledger.domain.errors import Conflict, InvalidInput, NotFound
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.money import check_positive, format_cents, gst_included_cents
from clinicledger.domain.rules import (
    AdjustmentReason,
    LineKind,
    adjustment_postings,
    charge_postings,
    check_line_reduction,
    check_period_open,
    check_text,
    transfer_postings,
)
from clinicledger.services.common import MAX_NOTE_LENGTH, business_today, require_reason
from clinicledger.services.payments import unallocate_in
from clinicledger.store import ledger
from clinicledger.store import tables as t
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


def create_invoice(
    uow: UnitOfWork,
    *,
    patient_code: str,
    location_code: str,
    billed_to_code: str | None,
    lines: Sequence[LineSpec],
) -> CreatedInvoice:
    if not lines:
        raise InvalidInput("line", "an invoice needs at least one line", code="line_missing")
    with uow:
        conn = uow.conn
        practice = ledger.practice_row(conn)
        gst_registered = bool(practice is not None and practice.gst_registered)
        patient_id = ledger.id_for_code(conn, "patient", patient_code)
        location_id = ledger.id_for_code(conn, "location", location_code)
        payer_id = (
            ledger.id_for_code(conn, "payer", billed_to_code, field="billed_to")
            if billed_to_code is not None
            else None
        )
        today = business_today(uow)
        closed = ledger.closed_through(conn)
        resolved = [_resolve_line(uow, spec, n, today) for n, spec in enumerate(lines, 1)]
        for n, values in enumerate(resolved, 1):
            check_period_open(values["effective_date"], closed, field=f"line {n}")

        number = uow.next_invoice_number()
        invoice_id: int = conn.execute(
            insert(t.invoices)
            .values(
                number=number,
                patient_id=patient_id,
                payer_id=payer_id,
                location_id=location_id,
                invoice_date=today,
                recorded_at=uow.stamp(),
            )
            .returning(t.invoices.c.id)
        ).scalar_one()
        created: list[CreatedLine] = []
        for values in resolved:
            effective_date = values.pop("effective_date")
            taxable = values.pop("taxable")
            gst_cents = (
                gst_included_cents(values["fee_cents"]) if (taxable and gst_registered) else 0
            )
            line_id: int = conn.execute(
                insert(t.lines)
                .values(
                    invoice_id=invoice_id,
                    gst_cents=gst_cents,
                    **values,
                )
                .returning(t.lines.c.id)
            ).scalar_one()
            ref = ledger.line_ref(ledger.line_row(conn, line_id), payer_id=payer_id)
            uow.append(
                Entry(
                    kind=EntryKind.CHARGE,
                    effective_date=effective_date,
                    postings=charge_postings(
                        ref,
                        fee_cents=values["fee_cents"],
                        taxable=taxable,
                        gst_registered=gst_registered,
                    ),
                )
            )
            created.append(
                CreatedLine(
                    id=line_id,
                    kind=LineKind(values["kind"]),
                    amount_cents=values["fee_cents"],
                    gst_cents=gst_cents,
                    service_date=values["service_date"],
                )
            )
        uow.audit(
            "invoice.create", format_id("invoice", number), {"lines": [c.id for c in created]}
        )
        uow.commit()
    return CreatedInvoice(
        id=invoice_id,
        number=number,
        total_cents=sum(c.amount_cents for c in created),
        lines=tuple(created),
    )


def _resolve_line(uow: UnitOfWork, spec: LineSpec, n: int, today: dt.date) -> dict[str, Any]:
    """The values of a line's row, from its spec; errors name the line by position."""
    conn = uow.conn
    field = f"line {n}"
    if spec.fee_cents is not None:
        check_positive(spec.fee_cents, field=field)
    values: dict[str, Any] = {
        "kind": spec.kind.value,
        "item_id": None,
        "product_id": None,
        "provider_id": None,
        "service_date": spec.service_date,
        "client_billable": spec.client_billable,
        "insurance_status": "open" if spec.insurance_open else "closed",
        "inpatient": spec.inpatient,
    }
    if spec.kind is LineKind.PRODUCT:
        if spec.product_title is None:
            raise InvalidInput(field, "a product line needs product=TITLE", code="product_missing")
        product = conn.execute(
            select(t.products).where(t.products.c.title == spec.product_title)
        ).one_or_none()
        if product is None:
            raise NotFound("product", f"'{spec.product_title}'", field=field)
        values.update(
            product_id=product.id,
            service_date=None,
            fee_cents=spec.fee_cents or product.fee_cents,
            taxable=product.taxable,
            effective_date=today,
        )
        return values
    if spec.provider_code is None or spec.service_date is None:
        raise InvalidInput(
            field, f"a {spec.kind.value} line needs provider= and date=", code="line_incomplete"
        )
    values["provider_id"] = ledger.id_for_code(conn, "provider", spec.provider_code, field=field)
    values["effective_date"] = spec.service_date
    if spec.kind is LineKind.CANCELLATION:
        if spec.fee_cents is None:
            raise InvalidInput(field, "a cancellation line needs fee=", code="fee_missing")
        values.update(fee_cents=spec.fee_cents, taxable=False)
        return values
    if spec.item_code is None:
        raise InvalidInput(field, "a service line needs item=CODE", code="item_missing")
    item = ledger.master_row(conn, "item", spec.item_code, field=field)
    values.update(item_id=item.id, fee_cents=spec.fee_cents or item.fee_cents, taxable=item.taxable)
    return values


def _live_line(uow: UnitOfWork, line_id: int) -> Row[Any]:
    row = ledger.line_row(uow.conn, line_id)
    if row.deleted_at is not None:
        raise Conflict(
            f"line {format_id('line', line_id)} was deleted", code="line_deleted", field="line"
        )
    return row


def set_insurance_status(uow: UnitOfWork, *, line_id: int, open_: bool) -> None:
    with uow:
        previous = _live_line(uow, line_id).insurance_status
        status = "open" if open_ else "closed"
        uow.conn.execute(
            update(t.lines).where(t.lines.c.id == line_id).values(insurance_status=status)
        )
        uow.audit(
            "line.insurance_status",
            format_id("line", line_id),
            {"status": status, "previous": previous},
        )
        uow.commit()


def _portion_payer(row: Row[Any], to_patient: bool) -> int | None:
    return None if to_patient else row.payer_id


def adjust_line(
    uow: UnitOfWork,
    *,
    line_id: int,
    amount_cents: int,
    reason: AdjustmentReason,
    note: str | None = None,
    patient_portion: bool = False,
) -> int:
    """Reduce what is owed on a line (write-off, discount, fee correction). By default the
    invoice's billed-to party's portion; ``patient_portion`` for a payer-billed line's gap."""
    note = check_text(note, field="note", max_length=MAX_NOTE_LENGTH)
    with uow:
        row = _live_line(uow, line_id)
        payer_id = _portion_payer(row, patient_portion)
        label = format_id("line", line_id)
        check_line_reduction(
            line_label=label,
            what="adjust off",
            owing_cents=ledger.line_owing_cents(uow.conn, line_id, payer_id),
            amount_cents=amount_cents,
        )
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        entry_id = uow.append(
            Entry(
                kind=EntryKind.ADJUSTMENT,
                effective_date=today,
                reason=reason.value,
                note=note,
                postings=adjustment_postings(
                    ledger.line_ref(row, payer_id=payer_id), amount_cents, reason
                ),
            )
        )
        uow.audit(
            "line.adjust",
            label,
            {"entry": entry_id, "amount_cents": amount_cents, "reason": reason.value},
        )
        uow.commit()
    return entry_id


def transfer_to_patient(uow: UnitOfWork, *, line_id: int, amount_cents: int, reason: str) -> int:
    """Move part of a payer's portion of a line to the patient: the gap."""
    with uow:
        row = _live_line(uow, line_id)
        label = format_id("line", line_id)
        if row.payer_id is None:
            raise Conflict(
                f"line {label} is already billed to the patient",
                code="line_billed_to_patient",
                field="line",
            )
        check_line_reduction(
            line_label=label,
            what="transfer",
            owing_cents=ledger.line_owing_cents(uow.conn, line_id, row.payer_id),
            amount_cents=amount_cents,
        )
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        ref = ledger.line_ref(row, payer_id=row.payer_id)
        entry_id = uow.append(
            Entry(
                kind=EntryKind.TRANSFER,
                effective_date=today,
                reason=require_reason(reason),
                postings=transfer_postings(ref, amount_cents),
            )
        )
        uow.audit("line.transfer", label, {"entry": entry_id, "amount_cents": amount_cents})
        uow.commit()
    return entry_id


def delete_line(uow: UnitOfWork, *, line_id: int, reason: str, cascade: bool = False) -> int:
    """Delete a line: refused while payments are applied to it, unless ``cascade`` first
    un-allocates them. The deletion entry brings every account of the line back to zero."""
    reason = require_reason(reason)
    with uow:
        _live_line(uow, line_id)
        label = format_id("line", line_id)
        today = business_today(uow)
        check_period_open(today, ledger.closed_through(uow.conn))
        applied = ledger.live_allocations(uow.conn, line_id=line_id)
        if applied and not cascade:
            total = sum(a.amount_cents for a in applied)
            ids = ", ".join(format_id("allocation", a.id) for a in applied)
            raise Conflict(
                f"line {label} has {format_cents(total)} of payments applied ({ids}); "
                "un-allocate them first, or delete with --cascade",
                code="line_has_payments",
                field="line",
            )
        for allocation in applied:
            unallocate_in(uow, allocation.id, f"line {label} deleted: {reason}", today)
        postings = tuple(p.negated() for p in ledger.line_totals(uow.conn, line_id))
        entry_id = uow.append(
            Entry(
                kind=EntryKind.LINE_DELETION, effective_date=today, reason=reason, postings=postings
            )
        )
        uow.conn.execute(
            update(t.lines).where(t.lines.c.id == line_id).values(deleted_at=uow.stamp())
        )
        uow.audit(
            "line.delete",
            label,
            {"entry": entry_id, "reason": reason, "unallocated": [a.id for a in applied]},
        )
        uow.commit()
    return entry_id
