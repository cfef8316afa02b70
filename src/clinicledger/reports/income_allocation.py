"""Income allocation (reference 000): one row per payment applied to a bill, and one per
refund, dated by when it was entered (not the payment's date), for payroll.

Un-allocations appear as negative rows of the payment they undo, dated when made, so a
period's rows always add up to what was applied in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    case,
    literal,
    select,
    type_coerce,
    union_all,
)

from clinicledger.domain.ids import id_formatter
from clinicledger.domain.journal import Account, EntryKind
from clinicledger.reports.base import (
    Report,
    ReportParams,
    collected,
    columns_of,
    local_clock,
    row_maker,
    utc_bounds,
)
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

PAYMENT_TYPES = {
    "insurance": "Insurance Payment",
    "cash": "Cash/Check Payment",
    "cheque": "Cash/Check Payment",
    "eftpos": "Card Payment",
    "credit-card": "Card Payment",
    "hicaps": "Card Payment",
    "online-card": "Card Payment",
    "direct-deposit": "Other Payment",
    "other": "Other Payment",
}


class IncomeAllocationRow(NamedTuple):
    time: dt.datetime
    practitioner: str | None
    client: str | None
    bill: str | None
    claim: str | None
    payment_type: str
    payment_amount_cents: int
    services: str | None
    service_dates: str | None
    notes: str | None


# time, practitioner, client, bill, claim, payment type, amount, services, dates, notes
_make_row = row_maker(IncomeAllocationRow)


def streamed_income_allocation(conn: Connection, params: ReportParams) -> Report:
    """The report, its rows read as they are written (``Report.more``)."""
    zone = lookups.practice_zone(conn)
    start, end = utc_bounds(params.from_date, params.to_date, zone)

    def when(recorded_at: ColumnElement[dt.datetime]) -> list[ColumnElement[bool]]:
        bounds = [] if start is None else [recorded_at >= start]
        if end is not None:
            bounds.append(recorded_at < end)
        if params.as_known_at is not None:
            bounds.append(recorded_at <= params.as_known_at)
        return bounds

    # Read from ix_postings_applied alone, in the order recorded: the entry's own row only
    # for the rows that show its reason
    reason = select(E.c.reason).where(E.c.id == P.c.entry_id).scalar_subquery()
    applied = (
        select(
            P.c.entry_id.label("entry_id"),
            P.c.recorded_at.label("recorded_at"),
            P.c.entry_kind.label("kind"),
            t.providers.c.name.label("practitioner"),
            t.patients.c.name.label("client"),
            t.invoices.c.number.label("bill"),
            t.payments.c.method,
            (-P.c.amount_cents).label("amount_cents"),
            ledger.service_label().label("services"),
            # as the database gives it: SQLite's ISO text, PostgreSQL's date (str() of
            # either is the ISO date the row shows), not parsed to be printed again
            type_coerce(t.lines.c.service_date, String).label("service_date"),
            # the payment's note for an allocation, else why (an un-allocation's reason)
            case(
                (P.c.entry_kind == EntryKind.ALLOCATION.value, t.payments.c.note), else_=reason
            ).label("note"),
        )
        .select_from(P)
        .join(t.lines, t.lines.c.id == P.c.line_id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .join(t.payments, t.payments.c.id == P.c.payment_id)
        .outerjoin(t.patients, t.patients.c.id == t.invoices.c.patient_id)
        .outerjoin(t.providers, t.providers.c.id == t.lines.c.provider_id)
        .outerjoin(t.items, t.items.c.id == t.lines.c.item_id)
        .outerjoin(t.products, t.products.c.id == t.lines.c.product_id)
        .where(t.APPLIED_TO_LINES, *when(P.c.recorded_at))
    )
    if params.provider is not None:
        applied = applied.where(t.providers.c.code == params.provider)
    refunds = (
        select(
            E.c.id.label("entry_id"),
            E.c.recorded_at,
            E.c.kind,
            literal(None).label("practitioner"),
            case(
                (t.payments.c.patient_id.is_not(None), t.patients.c.name), else_=t.payers.c.name
            ).label("client"),
            literal(None).label("bill"),
            t.payments.c.method,
            P.c.amount_cents.label("amount_cents"),
            literal(None).label("services"),
            literal(None).label("service_date"),
            E.c.reason.label("note"),
        )
        .select_from(E)
        .join(P, and_(P.c.entry_id == E.c.id, P.c.account == Account.REFUNDED.value))
        .join(t.payments, t.payments.c.id == P.c.payment_id)
        .outerjoin(t.patients, t.patients.c.id == t.payments.c.patient_id)
        .outerjoin(t.payers, t.payers.c.id == t.payments.c.payer_id)
        .where(E.c.kind == EntryKind.REFUND.value, *when(E.c.recorded_at))
    )
    # each part in the order recorded, merged (not the whole sorted afterwards)
    query = applied if params.provider is not None else union_all(applied, refunds)
    found = ledger.stream_rows(conn, query.order_by("recorded_at", "entry_id"))
    totals: dict[str, int | str] = {"payment_amount_cents": 0}

    def rows() -> Iterator[IncomeAllocationRow]:
        make, local, invoice_id = _make_row, local_clock(zone), id_formatter("invoice")
        # the driver's value: SQLite's text of the instant, PostgreSQL's instant
        read = dt.datetime.fromisoformat if conn.dialect.name == "sqlite" else None
        refund = EntryKind.REFUND.value
        total = 0
        try:
            for (
                _entry,
                recorded_at,
                kind,
                practitioner,
                client,
                bill,
                method,
                cents,
                services,
                service_date,
                note,
            ) in found:  # by position: tens of thousands of rows a month
                amount = int(cents)
                total += amount
                yield make(
                    (
                        local(recorded_at if read is None else read(recorded_at)),
                        practitioner,
                        client,
                        None if bill is None else invoice_id(bill),
                        None,
                        "Refund" if kind == refund else PAYMENT_TYPES[method],
                        amount,
                        services,
                        None if service_date is None else str(service_date),
                        note,
                    )
                )
        finally:
            found.close()  # stopped part-way: its cursor, before the transaction ends
        totals["payment_amount_cents"] = total

    return Report(
        name="income-allocation",
        parameters=params.describe(zone),
        columns=columns_of(IncomeAllocationRow),
        rows=(),
        more=rows(),
        totals=totals,
    )


def income_allocation(conn: Connection, params: ReportParams) -> Report:
    """:func:`streamed_income_allocation` with every row read."""
    return collected(streamed_income_allocation(conn, params))
