"""Client reconciliation (reference 001): one row per line (session) of one patient, with
what the patient is responsible for, what they paid and the credit they used; the totals
reconcile to the patient's balance, and the rows can be matched line by line against
another program's export.

Per line, from the patient's portion of the line's receivable (``payer_id`` NULL):

- ``client_responsibility``: what the patient is responsible for: the fee of a line billed
  to the patient, the gap transferred to the patient on a line billed to a payer, less the
  adjustments (write-offs, discounts) on the patient's portion; a deleted line's deletion
  takes it back to 0.00;
- ``client_paid``: the patient's payments applied to it (entries of kind ``allocation``,
  net of their un-allocations);
- ``credit_used``: the patient's credit applied to it (kind ``credit_applied``, net);
- ``balance`` = responsibility - paid - credit used: what the patient still owes on it.

The check (001: the spreadsheet's balance matches the client's current balance plus the
amount of unpaid sessions). In clinicledger every line is charged when it is recorded, so nothing is
"unbilled"; what a patient owes enters their balance on the line's charge date (its
service date; a product's invoice date). With a balance date (``as_of``), the rows show
each line as of that date, but a session dated after it is listed with its fee; so

    balance of the rows = current balance + unpaid sessions - lines outside the range

- ``current_balance``: ``party_balance(patient, as_of, as_known_at).charges_cents``, what
  the patient owes on all their lines as of the balance date (unapplied credit is not in
  it: the rows do not count it either);
- ``unpaid_sessions``: the patient's fees (charges to the patient's portion) of the listed
  sessions whose charge is dated after the balance date: sessions invoiced ahead (a
  program, a payment plan) and not yet in the current balance; 0.00 without ``as_of``;
- ``lines_outside_range``: what the patient owes, as of the balance date, on lines outside
  the ``from``/``to`` range; 0.00 without a range.

``difference`` is the left side less the right: always 0.00, or the report warns. The
balance is a sum by line of the patient's invoices and the current balance a sum by the
postings' patient, so a posting to the patient's account that belongs to none of their
lines shows up here.

``compare``: the path of a CSV file exported by another program; its rows (date, amount,
description) are matched against the listed lines that are not deleted, by date and
client responsibility, with the description as a tie-breaker (it names the same service:
the item code, "Cancellation" or the product title). Four sections follow: "matched",
"differ" (same date, another amount), "only here" and "only in the other program".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, literal, select

from clinicledger.domain.choices import InsuranceStatus
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Account, EntryKind
from clinicledger.domain.money import format_cents
from clinicledger.formats.compare_csv import CompareLine, parse_compare_csv
from clinicledger.formats.csv_masters import read_file
from clinicledger.reports.base import Report, ReportParams, ReportWarning, columns_of
from clinicledger.reports.registry import COMPARE_DEFAULT_COLUMNS
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

DELETED = "deleted"
NOT_CLIENT_BILLABLE = "not client-billable"
OPEN_TO_INSURANCE = "open to insurance"
CLOSED = "closed"

SECTIONS = ("matched", "differ", "only here", "only in the other program")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientReconciliationRow:
    date: dt.date  # the service date; a product's invoice date
    provider: str | None
    service: str  # item code, "Cancellation", the product title or "Opening balance"
    status: str  # open to insurance / closed / deleted / not client-billable
    client_responsibility_cents: int
    client_paid_cents: int
    credit_used_cents: int
    balance_cents: int  # responsibility - paid - credit used
    invoice: str
    line: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareRow:
    date: dt.date | None  # here
    service: str | None
    line: str | None
    amount_here_cents: int | None  # the client responsibility
    other_file_line: int | None  # line number in the other program's file
    other_date: dt.date | None
    other_description: str | None
    other_amount_cents: int | None
    difference_cents: int | None  # here - other


@dataclass(frozen=True, slots=True, kw_only=True)
class _Line:
    row: ClientReconciliationRow
    listed: bool
    future_charge_cents: int  # the patient's fee dated after the balance date


def client_reconciliation(conn: Connection, params: ReportParams) -> Report:
    """The patient's lines with responsibility, paid and credit used, and the check."""
    if params.patient is None:
        raise InvalidInput(
            "patient",
            "client-reconciliation needs a patient",
            code="patient_missing",
            report="client-reconciliation",
        )
    zone = lookups.practice_zone(conn)
    patient_id = lookups.id_for_code(conn, "patient", params.patient)
    lines = _lines(conn, patient_id, params)
    rows = tuple(line.row for line in lines if line.listed)

    responsibility = sum(r.client_responsibility_cents for r in rows)
    paid = sum(r.client_paid_cents for r in rows)
    credit_used = sum(r.credit_used_cents for r in rows)
    balance = responsibility - paid - credit_used
    current = _current_balance(conn, patient_id, params)
    unpaid_sessions = sum(line.future_charge_cents for line in lines if line.listed)
    outside = sum(
        line.row.balance_cents - line.future_charge_cents for line in lines if not line.listed
    )
    difference = balance - (current + unpaid_sessions - outside)
    warnings: list[ReportWarning] = []
    if difference != 0:
        warnings.append(
            ReportWarning(
                "balance_unexplained",
                f"the rows' balance {format_cents(balance)} is not the current balance "
                f"{format_cents(current)} plus unpaid sessions {format_cents(unpaid_sessions)} "
                f"less {format_cents(outside)} on lines outside the range: "
                f"{format_cents(difference)} of the patient's account is on none of their lines",
            )
        )
    parameters = params.describe(zone)
    sections: tuple[Report, ...] = ()
    if params.options.get("compare"):
        sections = _compare(rows, params, parameters)
        found = {s.name: len(s.rows) for s in sections}
        if any(found[name] for name in SECTIONS[1:]):
            warnings.append(
                ReportWarning(
                    "compare_differs",
                    f"compare: {found['matched']} matched, {found['differ']} differ, "
                    f"{found['only here']} only here, "
                    f"{found['only in the other program']} only in the other program",
                )
            )
    return Report(
        name="client-reconciliation",
        parameters=parameters,
        columns=columns_of(ClientReconciliationRow),
        rows=rows,
        totals={
            "client_responsibility_cents": responsibility,
            "client_paid_cents": paid,
            "credit_used_cents": credit_used,
            "balance_cents": balance,
            "current_balance_cents": current,
            "unpaid_sessions_cents": unpaid_sessions,
            "lines_outside_range_cents": outside,
            "difference_cents": difference,
        },
        warnings=tuple(warnings),
        sections=sections,
    )


def _current_balance(conn: Connection, patient_id: int, params: ReportParams) -> int:
    """``lookups.party_balance(...).charges_cents``: the patient's portion of the receivable,
    by the postings' patient, as of the balance date. The same sum, with the portion picked
    inside it so that the patient index is the one way in (see ``_lines``)."""
    total = conn.execute(
        select(
            func.coalesce(
                func.sum(case((P.c.payer_id.is_(None), P.c.amount_cents), else_=literal(0))), 0
            )
        ).where(
            P.c.patient_id == patient_id,
            P.c.account == Account.RECEIVABLE.value,
            *ledger.time_conditions(params.as_of, params.as_known_at),
        )
    ).scalar_one()
    return int(total)


def _lines(conn: Connection, patient_id: int, params: ReportParams) -> tuple[_Line, ...]:
    """Every line of the patient's invoices known at ``as_known_at``, with its money and
    its status as known then (``ledger.insurance_status_at``; deleted once ``deleted_at``
    is)."""
    undone = E.alias("undone")
    # An un-allocation counts against the kind of the allocation it undoes.
    kind = case((E.c.kind == EntryKind.UNALLOCATION.value, undone.c.kind), else_=E.c.kind)
    allocation, credit = EntryKind.ALLOCATION.value, EntryKind.CREDIT_APPLIED.value
    zero = literal(0)
    future = (
        and_(E.c.kind == EntryKind.CHARGE.value, P.c.effective_date > params.as_of)
        if params.as_of is not None
        else false()
    )
    when = []
    if params.as_known_at is not None:
        when.append(P.c.recorded_at <= params.as_known_at)
    if params.as_of is not None:
        # As of the balance date; a session charged after it is listed with its fee.
        when.append((P.c.effective_date <= params.as_of) | (E.c.kind == EntryKind.CHARGE.value))
    patient_lines = (
        select(t.lines.c.id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .where(t.invoices.c.patient_id == patient_id)
    )
    # The patient's portion is picked inside the sums, not in WHERE: filtered there,
    # "payer_id IS NULL" leads SQLite to the payer index and a scan of every patient's
    # receivable, where the line index finds this patient's few postings directly.
    mine = P.c.payer_id.is_(None)
    money = (
        select(
            P.c.line_id,
            func.sum(
                case((and_(mine, kind.not_in([allocation, credit])), P.c.amount_cents), else_=zero)
            ).label("responsibility"),
            func.sum(case((and_(mine, kind == allocation), -P.c.amount_cents), else_=zero)).label(
                "paid"
            ),
            func.sum(case((and_(mine, kind == credit), -P.c.amount_cents), else_=zero)).label(
                "credit"
            ),
            func.sum(case((and_(mine, future), P.c.amount_cents), else_=zero)).label("future"),
        )
        .join(E, E.c.id == P.c.entry_id)
        .outerjoin(undone, undone.c.id == E.c.reverses)
        .where(P.c.line_id.in_(patient_lines), P.c.account == Account.RECEIVABLE.value, *when)
        .group_by(P.c.line_id)
        .subquery()
    )
    date = func.coalesce(t.lines.c.service_date, t.invoices.c.invoice_date)
    query = (
        select(
            t.lines.c.id,
            t.lines.c.client_billable,
            t.lines.c.insurance_status,
            t.lines.c.deleted_at,
            date.label("date"),
            t.invoices.c.number,
            t.providers.c.name.label("provider"),
            ledger.service_label().label("service"),
            money.c.responsibility,
            money.c.paid,
            money.c.credit,
            money.c.future,
        )
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .outerjoin(money, money.c.line_id == t.lines.c.id)
        .outerjoin(t.providers, t.providers.c.id == t.lines.c.provider_id)
        .outerjoin(t.items, t.items.c.id == t.lines.c.item_id)
        .outerjoin(t.products, t.products.c.id == t.lines.c.product_id)
        .where(t.invoices.c.patient_id == patient_id)
        .order_by(date, t.lines.c.id)
    )
    if params.as_known_at is not None:
        query = query.where(t.invoices.c.recorded_at <= params.as_known_at)
    found = conn.execute(query).all()
    insurance = {int(r.id): InsuranceStatus(r.insurance_status) for r in found}
    if params.as_known_at is not None:
        insurance = ledger.insurance_status_at(conn, insurance, params.as_known_at)
    made = []
    for r in found:
        responsibility = int(r.responsibility or 0)
        paid = int(r.paid or 0)
        credit_used = int(r.credit or 0)
        row = ClientReconciliationRow(
            date=r.date,
            provider=r.provider,
            service=r.service,
            status=_status(r, insurance[r.id], params.as_known_at),
            client_responsibility_cents=responsibility,
            client_paid_cents=paid,
            credit_used_cents=credit_used,
            balance_cents=responsibility - paid - credit_used,
            invoice=format_id("invoice", r.number),
            line=format_id("line", r.id),
        )
        listed = (params.from_date is None or r.date >= params.from_date) and (
            params.to_date is None or r.date <= params.to_date
        )
        made.append(_Line(row=row, listed=listed, future_charge_cents=int(r.future or 0)))
    return tuple(made)


def _status(r: Any, insurance: InsuranceStatus, as_known_at: dt.datetime | None) -> str:
    if r.deleted_at is not None and (as_known_at is None or r.deleted_at <= as_known_at):
        return DELETED
    if not r.client_billable:
        return NOT_CLIENT_BILLABLE
    return OPEN_TO_INSURANCE if insurance is InsuranceStatus.OPEN else CLOSED


# --- compare with another program's export -----------------------------------------------


def _compare(
    rows: tuple[ClientReconciliationRow, ...], params: ReportParams, parameters: dict[str, Any]
) -> tuple[Report, ...]:
    options = params.options
    path = Path(str(options["compare"]))
    columns = {
        key: str(options.get(key) or default) for key, default in COMPARE_DEFAULT_COLUMNS.items()
    }
    data = read_file(str(path), field="compare")
    other = parse_compare_csv(
        path.name,
        data,
        date_column=columns["compare_date_column"],
        amount_column=columns["compare_amount_column"],
        description_column=columns["compare_description_column"],
        description_required=bool(options.get("compare_description_column")),
    )
    here = tuple(r for r in rows if r.status != DELETED)
    parts = match_lines(here, other)
    return tuple(
        Report(
            name=name,
            parameters=parameters,
            columns=columns_of(CompareRow),
            rows=part,
            totals={
                "amount_here_cents": sum(r.amount_here_cents or 0 for r in part),
                "other_amount_cents": sum(r.other_amount_cents or 0 for r in part),
                "difference_cents": sum(r.difference_cents or 0 for r in part),
            },
        )
        for name, part in zip(SECTIONS, parts, strict=True)
    )


def _agrees(row: ClientReconciliationRow, other: CompareLine) -> bool:
    """The other program's description names this line's service."""
    theirs = " ".join(other.description.casefold().split())
    ours = row.service.casefold()
    return bool(theirs) and (ours in theirs or theirs in ours)


def match_lines(
    here: Sequence[ClientReconciliationRow], other: Sequence[CompareLine]
) -> tuple[tuple[CompareRow, ...], ...]:
    """(matched, differ, only here, only in the other program).

    In file and row order: first same date and amount with an agreeing description, then
    same date and amount; then, of what is left, same date with an agreeing description,
    then same date (differ). A description is only ever a tie-breaker."""
    left_here = list(range(len(here)))
    left_other = list(range(len(other)))
    passes = (
        (True, True),  # same amount, description agrees
        (True, False),  # same amount
        (False, True),  # same date only, description agrees
        (False, False),  # same date only
    )
    pairs: list[list[tuple[int, int]]] = [[], []]
    for same_amount, agreeing in passes:
        for i in list(left_here):
            row = here[i]
            for j in left_other:
                candidate = other[j]
                if candidate.date != row.date:
                    continue
                if same_amount != (candidate.amount_cents == row.client_responsibility_cents):
                    continue
                if agreeing and not _agrees(row, candidate):
                    continue
                pairs[0 if same_amount else 1].append((i, j))
                left_here.remove(i)
                left_other.remove(j)
                break
    matched, differ = (tuple(_pair(here[i], other[j]) for i, j in sorted(found)) for found in pairs)
    return (
        matched,
        differ,
        tuple(_pair(here[i], None) for i in left_here),
        tuple(_pair(None, other[j]) for j in left_other),
    )


def _pair(row: ClientReconciliationRow | None, other: CompareLine | None) -> CompareRow:
    amount_here = row.client_responsibility_cents if row is not None else None
    amount_other = other.amount_cents if other is not None else None
    return CompareRow(
        date=row.date if row is not None else None,
        service=row.service if row is not None else None,
        line=row.line if row is not None else None,
        amount_here_cents=amount_here,
        other_file_line=other.line if other is not None else None,
        other_date=other.date if other is not None else None,
        other_description=other.description if other is not None else None,
        other_amount_cents=amount_other,
        difference_cents=(
            amount_here - amount_other
            if amount_here is not None and amount_other is not None
            else None
        ),
    )
