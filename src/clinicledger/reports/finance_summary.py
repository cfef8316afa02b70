"""Finance summary (reference 004): how many services were provided in a period, what was
invoiced for them, what has been taken off them, and what has been receipted against them,
grouped by item or by patient.

The words, for this ledger:

- **provided**: the service lines (services, products, cancellation fees; not opening
  balances brought in from another program) whose charge falls in the period. With
  ``by="created"`` (the default; auditable, the reference's "Created Date") that is the
  local date the charge was recorded; with ``by="service"`` it is the line's service date
  (for a product, which has none, the invoice date). Every line in this ledger is on an
  invoice from the moment it is recorded, so every line provided is also invoiced: the
  count of services invoiced is ``services_provided``.
- **invoiced**: the fees charged on those lines (GST included).
- **deleted**: lines among them deleted since, and what their deletion took off the debt.
- **adjusted**: write-offs, discounts and fee corrections on them.
- **receipted**: payments (and patient credit) applied to them, less un-allocations;
  ``services_receipted`` counts the lines with some money applied.
- **owing**: what is still owed on them, by patients and payers together.

For every row and for the totals, ``invoiced = deleted + adjusted + receipted + owing``:
the columns are sums over the lines' receivable postings by entry kind (a gap transfer
moves money between two portions of one line and nets to zero). Everything known up to
``as_known_at`` counts, whenever it was dated; ``as_known_at`` also limits which charges are
seen at all.

Options: ``by`` = "created" | "service"; ``group`` = "item" | "patient".
Filters: ``from_date``/``to_date`` (inclusive), ``provider``, ``location`` (the invoice's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from clinicledger.domain.journal import APPLIED_KINDS, Account, EntryKind
from clinicledger.reports.base import Report, ReportParams, columns_of, option_choice, utc_bounds
from clinicledger.reports.registry import FINANCE_BASES, FINANCE_GROUPS
from clinicledger.store import lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries


RECEIPTED_KINDS = frozenset(kind.value for kind in APPLIED_KINDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class FinanceByItemRow:
    item: str
    description: str
    services_provided: int
    invoiced_cents: int
    services_deleted: int
    deleted_cents: int
    adjusted_cents: int
    services_receipted: int
    receipted_cents: int
    owing_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FinanceByPatientRow:
    patient_code: str | None
    patient: str | None
    services_provided: int
    invoiced_cents: int
    services_deleted: int
    deleted_cents: int
    adjusted_cents: int
    services_receipted: int
    receipted_cents: int
    owing_cents: int


SUM_FIELDS = (
    "services_provided",
    "invoiced_cents",
    "services_deleted",
    "deleted_cents",
    "adjusted_cents",
    "services_receipted",
    "receipted_cents",
    "owing_cents",
)


@dataclass(slots=True)
class _Tally:
    """The sums of one group."""

    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUM_FIELDS, 0))


def finance_summary(conn: Connection, params: ReportParams) -> Report:
    zone = lookups.practice_zone(conn)
    basis = option_choice(params.options, "by", FINANCE_BASES, FINANCE_BASES[0])
    group = option_choice(params.options, "group", FINANCE_GROUPS, FINANCE_GROUPS[0])

    # The charges that put a line in the report: one RECEIVABLE posting per line.
    charged = [
        E.c.kind == EntryKind.CHARGE.value,
        P.c.account == Account.RECEIVABLE.value,
    ]
    if basis == "created":
        start, end = utc_bounds(params.from_date, params.to_date, zone)
        # The entry's recorded_at (the same instant as its postings'), which is indexed.
        if start is not None:
            charged.append(E.c.recorded_at >= start)
        if end is not None:
            charged.append(E.c.recorded_at < end)
    else:
        if params.from_date is not None:
            charged.append(P.c.effective_date >= params.from_date)
        if params.to_date is not None:
            charged.append(P.c.effective_date <= params.to_date)
    if params.as_known_at is not None:
        charged.append(P.c.recorded_at <= params.as_known_at)
    if params.provider is not None:
        charged.append(P.c.provider_id == lookups.id_for_code(conn, "provider", params.provider))
    if params.location is not None:
        charged.append(P.c.location_id == lookups.id_for_code(conn, "location", params.location))
    charged_lines = select(P.c.line_id).join(E, E.c.id == P.c.entry_id).where(*charged)

    item_label = case(
        (t.lines.c.kind == "cancellation", literal("Cancellation")),
        (t.lines.c.kind == "product", t.products.c.code),
        else_=t.items.c.code,
    )
    description = case(
        (t.lines.c.kind == "cancellation", literal("Cancellation fee")),
        (t.lines.c.kind == "product", t.products.c.title),
        else_=t.items.c.description,
    )

    # Each line's sums, then each group's, in SQL (a row per group comes back, not one per
    # line, kind and account): the amounts are the line's receivable postings by the kind of
    # their entry, which each posting carries (ix_postings_line covers them all). Whether it
    # was deleted is its deleted_at, the moment its deletion was recorded (a line fully
    # written off, then deleted, has no receivable left to reverse), as known at
    # as_known_at.
    known = [] if params.as_known_at is None else [P.c.recorded_at <= params.as_known_at]

    def receivable_sum(*kinds: str) -> Any:
        return func.sum(case((P.c.entry_kind.in_(kinds), P.c.amount_cents), else_=0))

    per_line = (
        select(
            P.c.line_id,
            receivable_sum(EntryKind.CHARGE.value).label("invoiced"),
            receivable_sum(EntryKind.LINE_DELETION.value).label("deletion"),
            receivable_sum(EntryKind.ADJUSTMENT.value).label("adjustment"),
            receivable_sum(*sorted(RECEIPTED_KINDS)).label("receipts"),
            func.sum(P.c.amount_cents).label("owing"),
        )
        .where(P.c.line_id.in_(charged_lines), P.c.account == Account.RECEIVABLE.value, *known)
        .group_by(P.c.line_id)
        .subquery()
    )
    deleted_at = t.lines.c.deleted_at
    deleted = (
        deleted_at.is_not(None) if params.as_known_at is None else deleted_at <= params.as_known_at
    )
    keys = (
        [item_label.label("key_1"), description.label("key_2")]
        if group == "item"
        else [t.patients.c.name.label("key_1"), t.patients.c.code.label("key_2")]
    )
    grouped = (
        select(
            *keys,
            func.count().label("services_provided"),
            func.sum(per_line.c.invoiced).label("invoiced_cents"),
            func.sum(case((deleted, 1), else_=0)).label("services_deleted"),
            (-func.sum(per_line.c.deletion)).label("deleted_cents"),
            (-func.sum(per_line.c.adjustment)).label("adjusted_cents"),
            func.sum(case((per_line.c.receipts < 0, 1), else_=0)).label("services_receipted"),
            (-func.sum(per_line.c.receipts)).label("receipted_cents"),
            func.sum(per_line.c.owing).label("owing_cents"),
        )
        .select_from(per_line)
        .join(t.lines, t.lines.c.id == per_line.c.line_id)
        .group_by(*keys)
    )
    if group == "item":
        grouped = grouped.outerjoin(t.items, t.items.c.id == t.lines.c.item_id).outerjoin(
            t.products, t.products.c.id == t.lines.c.product_id
        )
    else:
        grouped = grouped.join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id).outerjoin(
            t.patients, t.patients.c.id == t.invoices.c.patient_id
        )
    sums = conn.execute(grouped).all()

    tallies: dict[tuple[Any, ...], _Tally] = {}
    for row in sums:
        key = (row.key_1, row.key_2) if group == "item" else (row.key_1 or "", row.key_2 or "")
        tally = tallies.setdefault(key, _Tally())
        for name in SUM_FIELDS:
            tally.sums[name] += int(getattr(row, name))

    rows: tuple[FinanceByItemRow | FinanceByPatientRow, ...]
    if group == "item":
        rows = tuple(
            FinanceByItemRow(item=key[0], description=key[1], **tally.sums)
            for key, tally in sorted(tallies.items(), key=lambda kv: kv[0])
        )
        columns = columns_of(FinanceByItemRow)
    else:
        rows = tuple(
            FinanceByPatientRow(patient_code=key[1] or None, patient=key[0] or None, **tally.sums)
            for key, tally in sorted(tallies.items(), key=lambda kv: kv[0])
        )
        columns = columns_of(FinanceByPatientRow)
    totals: dict[str, int | str] = {
        name: sum(getattr(row, name) for row in rows) for name in SUM_FIELDS
    }
    return Report(
        name="finance-summary",
        parameters=params.describe(zone),
        columns=columns,
        rows=rows,
        totals=totals,
    )
