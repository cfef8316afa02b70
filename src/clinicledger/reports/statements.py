"""A patient's ledger statement, balance statement, and why their balances differ
(reference 003).

- ``ledger-statement``: a checkbook. Every entry that changes what the patient owes, in date
  order with a running balance: charges at the date of service (every line billed to the
  patient's portion, whatever its status), gap transfers to the patient and adjustments
  when they were made, payments at their post (received) date, refunds and reversals of
  the patient's payments when they were made. Applying a payment to a line moves money
  inside the patient's ledger and is not a row; a payment applied to a line that is not
  client billable, or that was applied to a line since deleted, says so in its description
  (the page's red text). Its balance is the patient's ledger balance at the ending date
  (``store.ledger.party_balance``).
- ``balance-statement``: one row per line that is billed to the client now: client
  billable, closed (not open to insurance), not deleted, with a date of service on or
  before the ending date. Everything applied to the line (payments, adjustments, gap
  transfers, whatever their own dates) takes on the date of service.
- ``balance-differences``: for one patient or all, ledger balance less statement balance,
  explained to the cent.

The ending date is ``--as-of``; without it, the latest effective date in the journal (a
report has no "today"). Every query also keeps to ``recorded_at <= --as-known-at``; the
line states that are not entries are taken as known then too: a line is deleted once its
``deleted_at`` is, and its insurance status is replayed from the audit log.

How the difference is explained
-------------------------------
Write N(line) for the postings to the patient's portion of a line that are not payments
(charges, transfers, adjustments, the deletion), A(payment, line) for the amount of a
patient's payment applied to a line now, and "received" for a payment's post date on or
before the ending date D. Allocations move money within the ledger, so

    ledger    = sum over lines of N(line) dated <= D
                + the patient's payments, refunds and reversals dated <= D
    statement = sum over statement lines of N(line) - sum of A(payment, line)

Each line belongs to exactly one class, tried in this order: deleted, not client billable,
open to insurance, serviced after D, statement line. The difference is then exactly

- ``not_client_billable_charges``: N dated <= D of lines not billable to the client (this
  ledger lists their charges; the reference's does not);
- ``not_client_billable_payments`` (reason 1): minus payments received by D now applied to
  lines not billable to the client;
- ``deleted_line_charges``: N dated <= D of deleted lines: their charges, when the line
  was deleted after D (a deletion dated by D cancels the charge in the ledger too);
- ``deleted_line_payments`` (reason 2): a line can only be deleted once its payments are
  un-allocated (``--cascade`` does it in the deletion), so payments applied to a deleted
  line are the patient's credit again. This column is minus the part of that credit,
  received by D, not applied elsewhere, refunded or reversed since; money
  un-allocated by a deletion counts as the last of its payment's money to be used;
- ``open_to_insurance`` (reason 3): N dated <= D of lines still open to insurance, less
  payments received by D applied to them;
- ``posted_after_ending_date`` (reason 4): on statement lines, payments received after D
  (the statement counts them at the date of service, the ledger not yet), and minus N
  dated after D (adjustments and gap transfers made after D, which the statement also
  counts at the date of service);
- ``services_after_ending_date`` (reason 4 the other way round): N dated <= D of lines
  serviced after D, less payments received by D applied to them (prepayments);
- ``unapplied_credit`` (reason 5): minus the money of payments received by D that is not
  applied to any line now (unapplied, or refunded or reversed after D), other than the
  deleted-line part above.

``unexplained`` is the difference less all of these; it is computed, not assumed, and is
reported as a warning whenever it is not zero.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select
from sqlalchemy.sql import ColumnElement

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import ALLOCATION_KINDS, Account, EntryKind
from clinicledger.domain.money import format_cents
from clinicledger.reports.base import Report, ReportParams, columns_of
from clinicledger.store import ledger
from clinicledger.store import tables as t

P, E = t.postings, t.entries

_APPLYING_KINDS = tuple(k.value for k in (*ALLOCATION_KINDS, EntryKind.UNALLOCATION))
_ADJUSTMENT = EntryKind.ADJUSTMENT.value
_IN_ONE_QUERY = 500  # ids listed in an IN (...); beyond this, read all and filter here


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerStatementRow:
    date: dt.date
    description: str
    charge_cents: int | None  # blank for a payment, as on the page
    payment_cents: int | None  # blank for a charge
    balance_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceStatementRow:
    date: dt.date
    description: str
    charge_cents: int
    payments_cents: int  # payments and adjustments applied to the line, whatever their date
    balance_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceDifferenceRow:
    patient: str  # the patient's code
    patient_name: str
    ledger_balance_cents: int
    statement_balance_cents: int
    difference_cents: int  # ledger less statement
    not_client_billable_payments_cents: int  # reason 1
    deleted_line_payments_cents: int  # reason 2
    open_to_insurance_cents: int  # reason 3
    posted_after_ending_date_cents: int  # reason 4
    unapplied_credit_cents: int  # reason 5
    not_client_billable_charges_cents: int
    deleted_line_charges_cents: int
    services_after_ending_date_cents: int  # reason 4, the other way round
    unexplained_cents: int


REASON_FIELDS = tuple(
    f.name
    for f in fields(BalanceDifferenceRow)
    if f.name.endswith("_cents")
    and f.name
    not in {
        "ledger_balance_cents",
        "statement_balance_cents",
        "difference_cents",
        "unexplained_cents",
    }
)


# ----------------------------------------------------------------- the journal read


@dataclass(frozen=True, slots=True, kw_only=True)
class _Line:
    id: int
    patient_id: int
    service_date: dt.date  # the date of service; a product's invoice date
    client_billable: bool
    open: bool  # open to insurance, as known then
    deleted: bool  # as known then
    service: str  # item code and description, product title, "Cancellation"


@dataclass(slots=True)
class _LineSums:
    """The postings to the patient's portion of one line."""

    by_end_cents: int = 0  # not payments, dated on or before the ending date
    later_cents: int = 0  # not payments, dated after it
    charged_cents: int = 0  # charges, transfers, deletion: any date
    adjusted_cents: int = 0  # adjustments (positive = taken off): any date
    applied: dict[int, int] = field(default_factory=dict)  # payment id -> applied now

    @property
    def applied_cents(self) -> int:
        return sum(self.applied.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class _Payment:
    id: int
    patient_id: int
    received_date: dt.date
    method: str
    opening: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Journal:
    ending: dt.date
    lines: dict[int, _Line]
    sums: dict[int, _LineSums]
    payments: dict[int, _Payment]
    not_applying_by_end: dict[int, int]  # payment id -> receipt, refunds, reversals <= D
    cascaded: dict[int, dict[int, int]]  # payment id -> line id -> un-allocated on deletion
    ledger_balances: dict[int, int]  # patient id -> ledger balance at the ending date


def _known(column: Any, as_known_at: dt.datetime | None) -> list[ColumnElement[bool]]:
    return [] if as_known_at is None else [column <= as_known_at]


def _patient_portion(patient_id: int | None) -> list[ColumnElement[bool]]:
    """Postings to the patient's portion of lines and to the patients' own payments."""
    conditions: list[ColumnElement[bool]] = [P.c.payer_id.is_(None), P.c.patient_id.is_not(None)]
    if patient_id is not None:
        conditions.append(P.c.patient_id == patient_id)
    return conditions


def ending_date(conn: Connection, params: ReportParams) -> dt.date:
    """``--as-of``, or the latest effective date known (a report has no "today")."""
    if params.as_of is not None:
        return params.as_of
    latest = conn.execute(
        select(func.max(P.c.effective_date)).where(*_known(P.c.recorded_at, params.as_known_at))
    ).scalar_one_or_none()
    return latest if latest is not None else dt.date.min


def _read(
    conn: Connection, patient_id: int | None, ending: dt.date, known: dt.datetime | None
) -> _Journal:
    scope = _patient_portion(patient_id)
    when = _known(P.c.recorded_at, known)

    # What each line of the patient's portion holds, split by kind and by the ending date.
    # The date test is a column of a subquery so PostgreSQL can group by it.
    receivable = (
        select(
            P.c.line_id,
            P.c.payment_id,
            E.c.kind,
            case((P.c.effective_date > ending, 1), else_=0).label("later"),
            P.c.amount_cents,
        )
        .join(E, E.c.id == P.c.entry_id)
        .where(P.c.account == Account.RECEIVABLE.value, P.c.line_id.is_not(None), *scope, *when)
        .subquery()
    )
    sums: dict[int, _LineSums] = {}
    for r in conn.execute(
        select(
            receivable.c.line_id,
            receivable.c.payment_id,
            receivable.c.kind,
            receivable.c.later,
            func.sum(receivable.c.amount_cents).label("cents"),
        ).group_by(
            receivable.c.line_id, receivable.c.payment_id, receivable.c.kind, receivable.c.later
        )
    ):
        line_sums = sums.setdefault(int(r.line_id), _LineSums())
        cents = int(r.cents)
        if r.payment_id is not None:
            payment_id = int(r.payment_id)
            line_sums.applied[payment_id] = line_sums.applied.get(payment_id, 0) - cents
            continue
        if r.later:
            line_sums.later_cents += cents
        else:
            line_sums.by_end_cents += cents
        if r.kind == _ADJUSTMENT:
            line_sums.adjusted_cents -= cents
        else:
            line_sums.charged_cents += cents

    # The patients' own payments: what entered or left the ledger by the ending date other
    # than by applying it (receipts, refunds, reversals).
    unallocated = (
        select(
            P.c.payment_id,
            case((E.c.kind.in_(_APPLYING_KINDS), 1), else_=0).label("applying"),
            case((P.c.effective_date > ending, 1), else_=0).label("later"),
            P.c.amount_cents,
        )
        .join(E, E.c.id == P.c.entry_id)
        .where(P.c.account == Account.UNALLOCATED.value, *scope, *when)
        .subquery()
    )
    not_applying_by_end: dict[int, int] = {}
    for u in conn.execute(
        select(unallocated.c.payment_id, func.sum(unallocated.c.amount_cents).label("cents"))
        .where(unallocated.c.applying == 0, unallocated.c.later == 0)
        .group_by(unallocated.c.payment_id)
    ):
        not_applying_by_end[int(u.payment_id)] = int(u.cents)
    payment_ids = set(not_applying_by_end) | {
        pid for line_sums in sums.values() for pid in line_sums.applied
    }
    payments = _payments(conn, patient_id, payment_ids)
    lines = _lines(conn, patient_id, set(sums), known)
    cascaded = _cascaded(conn, [line for line in lines.values() if line.deleted], known)

    balance = func.sum(P.c.amount_cents)
    ledger_balances = {
        int(r.patient_id): int(r.cents)
        for r in conn.execute(
            select(P.c.patient_id, balance.label("cents"))
            .where(
                P.c.account.in_((Account.RECEIVABLE.value, Account.UNALLOCATED.value)),
                P.c.effective_date <= ending,
                *scope,
                *when,
            )
            .group_by(P.c.patient_id)
        )
    }
    return _Journal(
        ending=ending,
        lines=lines,
        sums=sums,
        payments=payments,
        not_applying_by_end=not_applying_by_end,
        cascaded=cascaded,
        ledger_balances=ledger_balances,
    )


def _in_or_all(column: Any, values: Collection[Any]) -> list[ColumnElement[bool]]:
    """``column IN values`` while the list is short; otherwise no condition (the caller
    filters the rows it reads)."""
    return [column.in_(sorted(values))] if len(values) <= _IN_ONE_QUERY else []


def _payments(
    conn: Connection, patient_id: int | None, payment_ids: Collection[int]
) -> dict[int, _Payment]:
    if not payment_ids:
        return {}
    conditions = _in_or_all(t.payments.c.id, payment_ids)
    if patient_id is not None:
        conditions.append(t.payments.c.patient_id == patient_id)
    found: dict[int, _Payment] = {}
    for r in conn.execute(select(t.payments).where(*conditions)):
        if r.id in payment_ids:
            found[r.id] = _Payment(
                id=r.id,
                patient_id=r.patient_id,
                received_date=r.received_date,
                method=r.method,
                opening=bool(r.opening),
            )
    return found


def _service_label(kind: str, item_code: Any, item_text: Any, product: Any) -> str:
    if kind == "cancellation":
        return "Cancellation"
    if kind == "product":
        return str(product)
    if kind == "opening":
        return "Opening balance"
    return f"{item_code} {item_text}"


def _lines(
    conn: Connection, patient_id: int | None, line_ids: Collection[int], known: dt.datetime | None
) -> dict[int, _Line]:
    if not line_ids:
        return {}
    conditions = _in_or_all(t.lines.c.id, line_ids)
    if patient_id is not None:
        conditions.append(t.invoices.c.patient_id == patient_id)
    rows = [
        r
        for r in conn.execute(
            select(
                t.lines.c.id,
                t.lines.c.kind,
                t.lines.c.service_date,
                t.lines.c.client_billable,
                t.lines.c.insurance_status,
                t.lines.c.deleted_at,
                t.invoices.c.patient_id,
                t.invoices.c.invoice_date,
                t.items.c.code.label("item_code"),
                t.items.c.description.label("item_text"),
                t.products.c.title.label("product"),
            )
            .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
            .outerjoin(t.items, t.items.c.id == t.lines.c.item_id)
            .outerjoin(t.products, t.products.c.id == t.lines.c.product_id)
            .where(*conditions)
        )
        if r.id in line_ids
    ]
    current = {r.id: r.insurance_status == "open" for r in rows}
    open_then = current if known is None else _insurance_status_then(conn, current, known)
    return {
        r.id: _Line(
            id=r.id,
            patient_id=r.patient_id,
            service_date=r.service_date or r.invoice_date,
            client_billable=bool(r.client_billable),
            open=open_then[r.id],
            deleted=r.deleted_at is not None and (known is None or r.deleted_at <= known),
            service=_service_label(r.kind, r.item_code, r.item_text, r.product),
        )
        for r in rows
    }


def _insurance_status_then(
    conn: Connection, current: dict[int, bool], known: dt.datetime
) -> dict[int, bool]:
    """Each line's insurance status as it was known at ``known``, replayed from the audit
    log ("line.insurance_status" records, oldest first). A line changed only after then
    had the status before its first change: the record's "previous" when it says so,
    otherwise the opposite of the status it was set to."""
    labels = {format_id("line", line_id): line_id for line_id in current}
    history: dict[int, list[tuple[dt.datetime, bool, bool | None]]] = {}
    for r in conn.execute(
        select(t.audit_log.c.recorded_at, t.audit_log.c.subject, t.audit_log.c.detail)
        .where(
            t.audit_log.c.action == "line.insurance_status",
            *_in_or_all(t.audit_log.c.subject, labels),
        )
        .order_by(t.audit_log.c.id)
    ):
        line_id = labels.get(r.subject)
        if line_id is None:
            continue
        detail = json.loads(r.detail)
        previous = detail.get("previous")
        history.setdefault(line_id, []).append(
            (
                r.recorded_at,
                detail["status"] == "open",
                None if previous is None else previous == "open",
            )
        )
    then = dict(current)
    for line_id, changes in history.items():
        before = [opened for at, opened, _ in changes if at <= known]
        if before:
            then[line_id] = before[-1]
        else:
            _, first_opened, first_previous = changes[0]
            then[line_id] = (not first_opened) if first_previous is None else first_previous
    return then


def _cascaded(
    conn: Connection, deleted: Iterable[_Line], known: dt.datetime | None
) -> dict[int, dict[int, int]]:
    """Payment id -> line id -> money un-allocated from the line when it was deleted with
    ``--cascade``: the allocations the "line.delete" audit record lists, undone by
    un-allocation entries recorded by then."""
    labels = {format_id("line", line.id): line.id for line in deleted}
    if not labels:
        return {}
    allocation_ids: list[int] = []
    for r in conn.execute(
        select(t.audit_log.c.subject, t.audit_log.c.detail).where(
            t.audit_log.c.action == "line.delete", *_in_or_all(t.audit_log.c.subject, labels)
        )
    ):
        if r.subject in labels:
            allocation_ids.extend(int(a) for a in json.loads(r.detail).get("unallocated", ()))
    found: dict[int, dict[int, int]] = {}
    for start in range(0, len(allocation_ids), _IN_ONE_QUERY):
        chunk = allocation_ids[start : start + _IN_ONE_QUERY]
        for u in conn.execute(
            select(P.c.line_id, P.c.payment_id, P.c.amount_cents)
            .join(E, E.c.id == P.c.entry_id)
            .where(
                E.c.kind == EntryKind.UNALLOCATION.value,
                E.c.reverses.in_(chunk),
                P.c.account == Account.RECEIVABLE.value,
                P.c.payer_id.is_(None),
                *_known(P.c.recorded_at, known),
            )
        ):
            by_line = found.setdefault(int(u.payment_id), {})
            by_line[int(u.line_id)] = by_line.get(int(u.line_id), 0) + int(u.amount_cents)
    return found


# ----------------------------------------------------------------- classification

_DELETED = "deleted"
_NOT_CLIENT_BILLABLE = "not_client_billable"
_OPEN = "open"
_AFTER_ENDING = "after_ending_date"
_STATEMENT = "statement"


def _class(line: _Line, ending: dt.date) -> str:
    """The one class of a line, tried in this order."""
    if line.deleted:
        return _DELETED
    if not line.client_billable:
        return _NOT_CLIENT_BILLABLE
    if line.open:
        return _OPEN
    if line.service_date > ending:
        return _AFTER_ENDING
    return _STATEMENT


def _statement_lines(journal: _Journal, patient_id: int) -> list[_Line]:
    return sorted(
        (
            line
            for line in journal.lines.values()
            if line.patient_id == patient_id and _class(line, journal.ending) == _STATEMENT
        ),
        key=lambda line: (line.service_date, line.id),
    )


def _received_by_end(journal: _Journal, payment_id: int) -> bool:
    payment = journal.payments.get(payment_id)
    return payment is not None and payment.received_date <= journal.ending


def _explain(journal: _Journal, patient_id: int) -> dict[str, int]:
    """The difference, ledger less statement, split by reason (module docstring)."""
    parts = dict.fromkeys(REASON_FIELDS, 0)
    ending = journal.ending
    for line in journal.lines.values():
        if line.patient_id != patient_id:
            continue
        sums = journal.sums.get(line.id, _LineSums())
        applied_by_end = sum(
            cents for pid, cents in sums.applied.items() if _received_by_end(journal, pid)
        )
        applied_later = sums.applied_cents - applied_by_end
        kind = _class(line, ending)
        if kind == _STATEMENT:
            parts["posted_after_ending_date_cents"] += applied_later - sums.later_cents
        elif kind == _DELETED:
            parts["deleted_line_charges_cents"] += sums.by_end_cents
            parts["deleted_line_payments_cents"] -= applied_by_end
        elif kind == _NOT_CLIENT_BILLABLE:
            parts["not_client_billable_charges_cents"] += sums.by_end_cents
            parts["not_client_billable_payments_cents"] -= applied_by_end
        elif kind == _OPEN:
            parts["open_to_insurance_cents"] += sums.by_end_cents - applied_by_end
        else:
            parts["services_after_ending_date_cents"] += sums.by_end_cents - applied_by_end

    applied_by_payment: dict[int, int] = {}
    for sums in journal.sums.values():
        for pid, cents in sums.applied.items():
            applied_by_payment[pid] = applied_by_payment.get(pid, 0) + cents
    for payment in journal.payments.values():
        if payment.patient_id != patient_id:
            continue
        credit = journal.not_applying_by_end.get(payment.id, 0)
        if payment.received_date <= ending:
            # Received by the ending date: what of it is not applied to a line now.
            credit += applied_by_payment.get(payment.id, 0)
            cascaded = sum(journal.cascaded.get(payment.id, {}).values())
            from_deleted = min(cascaded, max(-credit, 0))
            parts["deleted_line_payments_cents"] -= from_deleted
            credit += from_deleted
        parts["unapplied_credit_cents"] += credit
    return parts


def _difference_row(
    journal: _Journal, patient_id: int, code: str, name: str
) -> BalanceDifferenceRow:
    ledger_cents = journal.ledger_balances.get(patient_id, 0)
    statement_cents = sum(
        _line_balance(journal.sums.get(line.id, _LineSums()))
        for line in _statement_lines(journal, patient_id)
    )
    parts = _explain(journal, patient_id)
    difference = ledger_cents - statement_cents
    return BalanceDifferenceRow(
        patient=code,
        patient_name=name,
        ledger_balance_cents=ledger_cents,
        statement_balance_cents=statement_cents,
        difference_cents=difference,
        unexplained_cents=difference - sum(parts.values()),
        **parts,
    )


def _line_balance(sums: _LineSums) -> int:
    return sums.charged_cents - sums.adjusted_cents - sums.applied_cents


# ------------------------------------------------------------------------ reports


def _patient(conn: Connection, params: ReportParams, report: str) -> int:
    if params.patient is None:
        raise InvalidInput(
            "patient", f"{report} needs a patient", code="patient_missing", report=report
        )
    return ledger.id_for_code(conn, "patient", params.patient)


def _parameters(conn: Connection, params: ReportParams, ending: dt.date) -> dict[str, Any]:
    shown = params.describe(ledger.practice_zone(conn))
    shown.setdefault("as_of", ending.isoformat())
    return shown


def balance_statement(conn: Connection, params: ReportParams) -> Report:
    """The client balance statement: what the patient owes on lines billed to them now."""
    patient_id = _patient(conn, params, "balance-statement")
    ending = ending_date(conn, params)
    journal = _read(conn, patient_id, ending, params.as_known_at)
    rows = []
    for line in _statement_lines(journal, patient_id):
        sums = journal.sums.get(line.id, _LineSums())
        rows.append(
            BalanceStatementRow(
                date=line.service_date,
                description=f"{line.service} ({format_id('line', line.id)})",
                charge_cents=sums.charged_cents,
                payments_cents=sums.adjusted_cents + sums.applied_cents,
                balance_cents=_line_balance(sums),
            )
        )
    return Report(
        name="balance-statement",
        parameters=_parameters(conn, params, ending),
        columns=columns_of(BalanceStatementRow),
        rows=tuple(rows),
        totals={
            "charge_cents": sum(r.charge_cents for r in rows),
            "payments_cents": sum(r.payments_cents for r in rows),
            "balance_cents": sum(r.balance_cents for r in rows),
        },
    )


def ledger_statement(conn: Connection, params: ReportParams) -> Report:
    """The client ledger statement: a checkbook of the patient's charges and payments."""
    patient_id = _patient(conn, params, "ledger-statement")
    ending = ending_date(conn, params)
    known = params.as_known_at
    journal = _read(conn, patient_id, ending, known)
    found = conn.execute(
        select(
            E.c.id,
            E.c.kind,
            E.c.effective_date,
            E.c.reason,
            P.c.account,
            P.c.line_id,
            P.c.payment_id,
            P.c.amount_cents,
        )
        .join(E, E.c.id == P.c.entry_id)
        .where(
            or_(
                and_(P.c.account == Account.RECEIVABLE.value, P.c.line_id.is_not(None)),
                P.c.account == Account.UNALLOCATED.value,
            ),
            E.c.kind.not_in(_APPLYING_KINDS),
            P.c.effective_date <= ending,
            *_patient_portion(patient_id),
            *_known(P.c.recorded_at, known),
        )
        .order_by(E.c.effective_date, E.c.recorded_at, P.c.id)
    ).all()
    entries: dict[int, list[Any]] = {}
    for r in found:
        entries.setdefault(r.id, []).append(r)
    rows: list[LedgerStatementRow] = []
    balance = 0
    for postings in entries.values():
        first = postings[0]
        cents = sum(int(p.amount_cents) for p in postings)
        balance += cents
        on_line = first.account == Account.RECEIVABLE.value and first.kind != _ADJUSTMENT
        rows.append(
            LedgerStatementRow(
                date=first.effective_date,
                description=_ledger_description(journal, first),
                charge_cents=cents if on_line else None,
                payment_cents=None if on_line else -cents,
                balance_cents=balance,
            )
        )
    return Report(
        name="ledger-statement",
        parameters=_parameters(conn, params, ending),
        columns=columns_of(LedgerStatementRow),
        rows=tuple(rows),
        totals={
            "charge_cents": sum(r.charge_cents or 0 for r in rows),
            "payment_cents": sum(r.payment_cents or 0 for r in rows),
            "balance_cents": balance,
        },
    )


def _ledger_description(journal: _Journal, posting: Any) -> str:
    kind = posting.kind
    reason = f": {posting.reason}" if posting.reason else ""
    if posting.account == Account.RECEIVABLE.value:
        line = journal.lines.get(posting.line_id)
        label = format_id("line", posting.line_id)
        service = f"{line.service} ({label})" if line is not None else label
        if kind == EntryKind.TRANSFER.value:
            return f"gap transferred to the patient: {service}{reason}"
        if kind == _ADJUSTMENT:
            return f"adjustment ({posting.reason}): {service}"
        if kind == EntryKind.LINE_DELETION.value:
            return f"charge deleted: {service}{reason}"
        notes = []
        if line is not None and line.deleted:
            notes.append("deleted")
        if line is not None and not line.client_billable:
            notes.append("not client billable")
        if line is not None and line.open and not line.deleted:
            notes.append("open to insurance")
        return service + "".join(f"; {note}" for note in notes)
    label = format_id("payment", posting.payment_id)
    payment = journal.payments.get(posting.payment_id)
    if kind == EntryKind.REFUND.value:
        return f"refund of payment {label}{reason}"
    if kind == EntryKind.PAYMENT_REVERSAL.value:
        return f"payment {label} reversed{reason}"
    if payment is not None and payment.opening:
        text = f"opening balance (credit) {label}"
    else:
        text = f"payment {label}" + (f" ({payment.method})" if payment is not None else "")
    marks = []
    for line_id, cents in sorted(_applied_to(journal, posting.payment_id).items()):
        line = journal.lines.get(line_id)
        if line is not None and not line.deleted and not line.client_billable and cents:
            marks.append(
                f"{format_cents(cents)} applied to {format_id('line', line_id)}: "
                "charge not client billable"
            )
    for line_id, cents in sorted(journal.cascaded.get(posting.payment_id, {}).items()):
        if cents:
            marks.append(
                f"{format_cents(cents)} was applied to {format_id('line', line_id)}: charge deleted"
            )
    return text + "".join(f"; {mark}" for mark in marks)


def _applied_to(journal: _Journal, payment_id: int) -> dict[int, int]:
    return {
        line_id: sums.applied[payment_id]
        for line_id, sums in journal.sums.items()
        if payment_id in sums.applied
    }


def balance_differences(conn: Connection, params: ReportParams) -> Report:
    """Ledger balance, statement balance and their difference explained, for one patient
    (``--patient``) or every patient with entries."""
    patient_id = (
        ledger.id_for_code(conn, "patient", params.patient) if params.patient is not None else None
    )
    ending = ending_date(conn, params)
    journal = _read(conn, patient_id, ending, params.as_known_at)
    patient_ids = (
        {patient_id}
        if patient_id is not None
        else {line.patient_id for line in journal.lines.values()}
        | {payment.patient_id for payment in journal.payments.values()}
        | set(journal.ledger_balances)
    )
    people = {
        r.id: (r.code, r.name)
        for r in conn.execute(
            select(t.patients.c.id, t.patients.c.code, t.patients.c.name).where(
                *_in_or_all(t.patients.c.id, patient_ids)
            )
        )
        if r.id in patient_ids
    }
    rows = sorted(
        (_difference_row(journal, pid, *people[pid]) for pid in patient_ids),
        key=lambda row: row.patient,
    )
    if params.options.get("differences_only"):
        rows = [r for r in rows if r.difference_cents or r.unexplained_cents]
    money = [f.name for f in fields(BalanceDifferenceRow) if f.name.endswith("_cents")]
    warnings = tuple(
        f"patient {r.patient}: {format_cents(r.unexplained_cents)} of the difference "
        f"{format_cents(r.difference_cents)} is not explained"
        for r in rows
        if r.unexplained_cents
    )
    return Report(
        name="balance-differences",
        parameters=_parameters(conn, params, ending),
        columns=columns_of(BalanceDifferenceRow),
        rows=tuple(rows),
        totals={name: sum(getattr(r, name) for r in rows) for name in money},
        warnings=warnings,
    )


__all__ = [
    "BalanceDifferenceRow",
    "BalanceStatementRow",
    "LedgerStatementRow",
    "balance_differences",
    "balance_statement",
    "ending_date",
    "ledger_statement",
]
