"""Adjustments summary (reference 004): every correction of an invoice or a payment made in
a period, with its type, reason, who made it and when: the "repeat work" of the practice.

A row is one entry, dated by when it was recorded (the practice's local time), whatever
business date it carries. Types (the entry kinds) and what ``amount`` means for each:

- invoice adjustments:
  ``adjustment`` (write-off, discount, fee correction...; the reason is its code): the
  amount taken off the line; ``transfer``: the amount of a payer's portion moved to the
  patient (the gap); ``line_deletion``: the line's fee, cancelled (whatever was still owed
  plus what had been written off, both reversed by the deletion);
- payment adjustments:
  ``payment_reversal``: the payment's amount; ``unallocation``: the amount taken back off
  the line (un-allocations made by a reversal or a cascading deletion are listed too, with
  their reason saying so); ``refund``: the amount paid back.

Every amount is positive. The main rows are the totals by type (every type, zero or not);
each section holds the rows of one group (option ``group``: "type" (default), "reason",
"actor", or "none" for one section of all rows), with the entries counted and the amounts
subtotalled by type (``<type>_cents``). Option ``types``: the types to include, a comma
separated text or a sequence (default: all). Filters: ``from_date``/``to_date``
(inclusive, by recorded date), ``location`` (an entry touching that location).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.choices import check_choice
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Account, EntryKind
from clinicledger.reports.base import (
    Report,
    ReportParams,
    columns_of,
    local_time,
    option_choice,
    utc_bounds,
)
from clinicledger.reports.registry import ADJUSTMENT_GROUPS, ADJUSTMENT_TYPES
from clinicledger.store import lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

NO_REASON = "(no reason)"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustmentRow:
    recorded: dt.datetime
    type: str
    reason: str | None
    note: str | None
    who: str
    invoice: str | None
    line: str | None
    payment: str | None
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustmentTypeRow:
    type: str
    entries: int
    amount_cents: int


@dataclass(slots=True)
class _Entry:
    """One entry's postings, folded."""

    recorded_at: dt.datetime
    kind: str
    reason: str | None
    note: str | None
    actor: str
    invoice_number: int | None = None
    line_id: int | None = None
    payment_id: int | None = None
    sums: dict[str, int] = field(default_factory=dict)
    patient_receivable_cents: int = 0

    def amount_cents(self) -> int:
        sums = self.sums
        if self.kind == EntryKind.ADJUSTMENT.value:
            return sums.get(Account.WRITE_OFF.value, 0)
        if self.kind == EntryKind.TRANSFER.value:
            return self.patient_receivable_cents
        if self.kind == EntryKind.LINE_DELETION.value:
            return -(sums.get(Account.RECEIVABLE.value, 0) + sums.get(Account.WRITE_OFF.value, 0))
        if self.kind == EntryKind.PAYMENT_REVERSAL.value:
            return sums.get(Account.UNALLOCATED.value, 0)
        if self.kind == EntryKind.UNALLOCATION.value:
            return sums.get(Account.RECEIVABLE.value, 0)
        return -sums.get(Account.REFUNDED.value, 0)  # refund


def types_option(options: Mapping[str, Any]) -> tuple[str, ...]:
    """The kinds asked for (comma-separated or a list; ``-`` or ``_``), in report order."""
    value = options.get("types")
    if value is None:
        return ADJUSTMENT_TYPES
    given = value.split(",") if isinstance(value, str) else list(value)
    words = [str(v).strip().replace("-", "_") for v in given if str(v).strip()]
    if not words:
        raise InvalidInput(
            "types", f"name at least one of: {', '.join(ADJUSTMENT_TYPES)}", code="choice_unknown"
        )
    wanted = {check_choice(word, ADJUSTMENT_TYPES, field="types") for word in words}
    return tuple(kind for kind in ADJUSTMENT_TYPES if kind in wanted)


def group_option(options: Mapping[str, Any]) -> str:
    return str(option_choice(options, "group", ADJUSTMENT_GROUPS, "type"))


def adjustments(conn: Connection, params: ReportParams) -> Report:
    zone = lookups.practice_zone(conn)
    kinds = types_option(params.options)
    group = group_option(params.options)

    start, end = utc_bounds(params.from_date, params.to_date, zone)
    when: list[ColumnElement[bool]] = [E.c.kind.in_(kinds)]
    if start is not None:
        when.append(E.c.recorded_at >= start)
    if end is not None:
        when.append(E.c.recorded_at < end)
    if params.as_known_at is not None:
        when.append(E.c.recorded_at <= params.as_known_at)
    if params.location is not None:
        location_id = lookups.id_for_code(conn, "location", params.location)
        when.append(E.c.id.in_(select(P.c.entry_id).where(P.c.location_id == location_id)))

    found = conn.execute(
        select(
            E.c.id,
            E.c.recorded_at,
            E.c.kind,
            E.c.reason,
            E.c.note,
            E.c.actor,
            P.c.account,
            P.c.amount_cents,
            P.c.payer_id,
            P.c.line_id,
            P.c.payment_id,
            t.invoices.c.number,
        )
        .join(P, P.c.entry_id == E.c.id)
        .outerjoin(t.invoices, t.invoices.c.id == P.c.invoice_id)
        .where(*when)
        .order_by(E.c.recorded_at, E.c.id, P.c.id)
    ).all()
    folded: dict[int, _Entry] = {}
    for r in found:
        entry = folded.get(r.id)
        if entry is None:
            entry = folded[r.id] = _Entry(
                recorded_at=r.recorded_at,
                kind=r.kind,
                reason=r.reason,
                note=r.note,
                actor=r.actor,
            )
        entry.sums[r.account] = entry.sums.get(r.account, 0) + int(r.amount_cents)
        if r.account == Account.RECEIVABLE.value and r.payer_id is None:
            entry.patient_receivable_cents += int(r.amount_cents)
        entry.invoice_number = entry.invoice_number or r.number
        entry.line_id = entry.line_id or r.line_id
        entry.payment_id = entry.payment_id or r.payment_id

    rows = tuple(
        AdjustmentRow(
            recorded=local_time(e.recorded_at, zone),
            type=e.kind,
            reason=e.reason,
            note=e.note,
            who=e.actor,
            invoice=None if e.invoice_number is None else format_id("invoice", e.invoice_number),
            line=None if e.line_id is None else format_id("line", e.line_id),
            payment=None if e.payment_id is None else format_id("payment", e.payment_id),
            amount_cents=e.amount_cents(),
        )
        for e in folded.values()
    )

    by_type = tuple(
        AdjustmentTypeRow(
            type=kind,
            entries=sum(1 for r in rows if r.type == kind),
            amount_cents=sum(r.amount_cents for r in rows if r.type == kind),
        )
        for kind in kinds
    )
    return Report(
        name="adjustments",
        parameters=params.describe(zone),
        columns=columns_of(AdjustmentTypeRow),
        rows=by_type,
        totals={"entries": len(rows)},
        sections=_sections(rows, group, kinds),
    )


def _group_key(row: AdjustmentRow, group: str) -> str:
    if group == "type":
        return row.type
    if group == "reason":
        return row.reason or NO_REASON
    if group == "actor":
        return row.who
    return "all"


def _sections(
    rows: tuple[AdjustmentRow, ...], group: str, kinds: tuple[str, ...]
) -> tuple[Report, ...]:
    groups: dict[str, list[AdjustmentRow]] = {}
    for row in rows:
        groups.setdefault(_group_key(row, group), []).append(row)
    if group == "none":
        groups.setdefault("all", [])
        order = ["all"]
    elif group == "type":
        order = [kind for kind in kinds if kind in groups]
    else:
        order = sorted(groups)
    sections = []
    for key in order:
        members = tuple(groups[key])
        totals: dict[str, int | str] = {"entries": len(members)}
        for kind in kinds:
            of_kind = [r.amount_cents for r in members if r.type == kind]
            if of_kind:
                totals[f"{kind}_cents"] = sum(of_kind)
        sections.append(
            Report(
                name="adjustments" if group == "none" else f"{group}: {key}",
                parameters={} if group == "none" else {group: key},
                columns=columns_of(AdjustmentRow),
                rows=members,
                totals=totals,
            )
        )
    return tuple(sections)
