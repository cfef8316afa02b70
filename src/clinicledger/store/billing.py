"""Writing invoices, lines and payments, and the ordinary state that changes on them
(a line's insurance status and deletion, a payment's reversal). The money is in the
journal (:meth:`UnitOfWork.append`); these rows say what it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, update

from clinicledger.domain.choices import InsuranceStatus, LineKind, PaymentMethod
from clinicledger.store import tables as t
from clinicledger.store.sql import Sql


def _insert(table: str, columns: tuple[str, ...]) -> Sql:
    return Sql(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)}) RETURNING id"
    )


# As SQL text: the write path's statements (store/sql.py says why).
_INSERT_INVOICE = _insert(
    "invoices",
    ("number", "patient_id", "payer_id", "location_id", "invoice_date", "recorded_at", "opening"),
)
_INSERT_LINE = _insert(
    "lines",
    (
        "invoice_id", "kind", "item_id", "product_id", "provider_id", "service_date",
        "fee_cents", "gst_cents", "client_billable", "insurance_status", "inpatient",
    ),
)  # fmt: skip
_INSERT_PAYMENT = _insert(
    "payments",
    (
        "patient_id", "payer_id", "location_id", "method", "amount_cents", "received_date",
        "reference", "processor_fee_cents", "note", "recorded_at", "opening",
    ),
)  # fmt: skip


def insert_invoice(
    conn: Connection,
    *,
    number: int,
    patient_id: int | None,
    payer_id: int | None,
    location_id: int,
    invoice_date: dt.date,
    recorded_at: dt.datetime,
    opening: bool = False,
) -> int:
    new_id: int = _INSERT_INVOICE.scalar(
        conn,
        {
            "number": number,
            "patient_id": patient_id,
            "payer_id": payer_id,
            "location_id": location_id,
            "invoice_date": invoice_date,
            "recorded_at": recorded_at,
            "opening": opening,
        },
    )
    return new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLine:
    """A line's row, everything resolved to ids."""

    kind: LineKind
    item_id: int | None = None
    product_id: int | None = None
    provider_id: int | None = None
    service_date: dt.date | None
    fee_cents: int
    gst_cents: int
    client_billable: bool = True
    insurance_status: InsuranceStatus = InsuranceStatus.CLOSED
    inpatient: bool = False


def insert_line(conn: Connection, invoice_id: int, line: NewLine) -> int:
    new_id: int = _INSERT_LINE.scalar(
        conn,
        {
            "invoice_id": invoice_id,
            "kind": line.kind.value,
            "item_id": line.item_id,
            "product_id": line.product_id,
            "provider_id": line.provider_id,
            "service_date": line.service_date,
            "fee_cents": line.fee_cents,
            "gst_cents": line.gst_cents,
            "client_billable": line.client_billable,
            "insurance_status": line.insurance_status.value,
            "inpatient": line.inpatient,
        },
    )
    return new_id


def insert_payment(
    conn: Connection,
    *,
    patient_id: int | None,
    payer_id: int | None,
    location_id: int,
    method: PaymentMethod,
    amount_cents: int,
    received_date: dt.date,
    recorded_at: dt.datetime,
    reference: str | None = None,
    processor_fee_cents: int | None = None,
    note: str | None = None,
    opening: bool = False,
) -> int:
    new_id: int = _INSERT_PAYMENT.scalar(
        conn,
        {
            "patient_id": patient_id,
            "payer_id": payer_id,
            "location_id": location_id,
            "method": method.value,
            "amount_cents": amount_cents,
            "received_date": received_date,
            "reference": reference,
            "processor_fee_cents": processor_fee_cents,
            "note": note,
            "recorded_at": recorded_at,
            "opening": opening,
        },
    )
    return new_id


_SET_INSURANCE_STATUS = Sql("UPDATE lines SET insurance_status = :status WHERE id = :line_id")
_KEEP_INSURANCE_STATUS_CHANGE = Sql(
    "INSERT INTO insurance_status_changes (line_id, status, previous, recorded_at)"
    " VALUES (:line_id, :status, :previous, :recorded_at)"
)


def set_insurance_status(
    conn: Connection,
    line_id: int,
    *,
    status: InsuranceStatus,
    previous: InsuranceStatus,
    recorded_at: dt.datetime,
) -> None:
    """Change a line's insurance status, and keep the change in its history."""
    _SET_INSURANCE_STATUS.run(conn, {"status": status.value, "line_id": line_id})
    _KEEP_INSURANCE_STATUS_CHANGE.run(
        conn,
        {
            "line_id": line_id,
            "status": status.value,
            "previous": previous.value,
            "recorded_at": recorded_at,
        },
    )


def mark_line_deleted(
    conn: Connection, line_id: int, *, unallocations: Iterable[int], recorded_at: dt.datetime
) -> None:
    """A line is deleted; ``unallocations`` are the entries its deletion un-allocated."""
    conn.execute(update(t.lines).where(t.lines.c.id == line_id).values(deleted_at=recorded_at))
    undone = [{"line_id": line_id, "unallocation_id": entry_id} for entry_id in unallocations]
    if undone:
        conn.execute(insert(t.deletion_unallocations), undone)


def mark_payment_reversed(conn: Connection, payment_id: int, *, recorded_at: dt.datetime) -> None:
    conn.execute(
        update(t.payments).where(t.payments.c.id == payment_id).values(reversed_at=recorded_at)
    )
