"""Receipts listing (reference 004, "Receipts Listing" and "Reconciliation - End of Day"):
the payments received in a date range at a location, and on the last part a summary by
payment method that reception checks against the EFTPOS settlement and the cash drawer.

What is listed:

- A payment's receipt is one row of its full amount; a reversed payment adds a negative
  row dated when it was reversed, so a day's listing always adds up to the money entered
  that day less the money taken back.
- Opening balances brought in from another program are not receipts (no money came in
  at the desk) and are never listed; refunds are money out and are not listed either
  (see ``income-allocation`` and ``adjustments``).
- ``by="entered"`` (default): rows dated by the local date the entry was recorded, the
  auditable "date entered" of the reference page.
- ``by="service"``: a payment splits over the lines it is applied to (its allocations as
  known at ``as_known_at``, less un-allocations), each part dated by the line's service
  date (the invoice date for a product). Money of a payment not applied to any line
  (unapplied, refunded, or a reversed payment and its reversal) has no service date: it
  is listed in a separate section, dated when it was entered and selected by that date.
- ``by_provider``: the parts of each payment applied to a provider's lines, a section per
  provider (by name), then "lines without a provider" (products) and "not applied to a
  line". The main part then carries no rows, only the grand total. ``provider`` alone
  keeps only that provider's parts (money not applied to a line is no provider's).
- Whichever way it is split, a payment's parts add up to its amount: a split is as of
  ``as_known_at``, so a later un-allocation moves money between parts, never the total.

The last section is always the summary by payment method over every row listed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, String, and_, case, func, select, type_coerce

from clinicledger.domain.choices import PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id, id_formatter
from clinicledger.domain.journal import Account, EntryKind
from clinicledger.reports.base import (
    Report,
    ReportParams,
    collected,
    columns_of,
    local_dates,
    local_dates_of_text,
    option_choice,
    row_maker,
    utc_bounds,
)
from clinicledger.reports.registry import RECEIPTS_BY
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

P, E = t.postings, t.entries

NOT_APPLIED = "not applied to a line"
NO_PROVIDER = "lines without a provider"
_METHOD_ORDER = {method.value: n for n, method in enumerate(PaymentMethod)}


class ReceiptRow(NamedTuple):
    date: dt.date  # entered (local) or service date, per ``by``
    payment: str
    kind: str  # "payment" or "reversal"
    received_from: str | None
    method: str
    reference: str | None
    provider: str | None  # set only when payments are split over their lines
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptMethodRow:
    method: str
    payments: int  # distinct payments with a row of this method
    amount_cents: int


class _Event(NamedTuple):
    """A payment's receipt (+) or reversal (-), as recorded."""

    payment_id: int
    kind: str
    entered_date: dt.date
    amount_cents: int
    method: str
    reference: str | None
    received_from: str | None


# An event as the whole listing orders it: (local date entered, payment id, kind, amount,
# method, reference, received from)
_Dated = tuple[dt.date, int, str, int, str, str | None, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Part:
    event: _Event
    date: dt.date
    provider: str | None  # the provider's name; None: not applied, or a line without one
    applied: bool
    amount_cents: int


_make_receipt = row_maker(ReceiptRow)


def receipts(conn: Connection, params: ReportParams) -> Report:
    """:func:`streamed_receipts` with every row read."""
    return collected(streamed_receipts(conn, params))


def streamed_receipts(conn: Connection, params: ReportParams) -> Report:
    """The report; each payment whole, by the date entered (the default), its rows read as
    they are written (``Report.more``)."""
    by = str(option_choice(params.options, "by", RECEIPTS_BY, "entered"))
    by_provider = _option_bool(params, "by_provider")
    zone = lookups.practice_zone(conn)
    split = by == "service" or by_provider or params.provider is not None

    if by == "entered" and not split:
        return _streamed_whole(conn, params, zone)
    if by == "entered":
        events = _events(conn, params, zone, entered_in_range=True)
        parts = _split(conn, params, events, by_date=False) if split else _whole(events)
    else:
        applied = _applied_by_service_date(conn, params)
        unapplied: list[_Part] = []
        if params.provider is None:
            events = _events(conn, params, zone, entered_in_range=True)
            unapplied = [p for p in _split(conn, params, events, by_date=True) if not p.applied]
        parts = applied + unapplied
    parts = [p for p in parts if p.amount_cents != 0]

    grouped: dict[str, list[_Part]] = defaultdict(list)
    if by_provider:
        for part in parts:
            grouped[_section_of(part)].append(part)
        last = (NO_PROVIDER, NOT_APPLIED)
        order = sorted(k for k in grouped if k not in last) + [k for k in last if k in grouped]
        sections = [_listing(f"receipts: {key}", params, zone, grouped[key]) for key in order]
        main_rows: list[_Part] = []
    elif by == "service":
        main_rows = [p for p in parts if p.applied]
        rest = [p for p in parts if not p.applied]
        sections = [_listing(f"receipts {NOT_APPLIED}", params, zone, rest)] if rest else []
    else:
        main_rows, sections = parts, []

    main = _listing("receipts", params, zone, main_rows)
    # Split into a section per provider, the main part shows the grand total of them all.
    total = sum(p.amount_cents for p in (parts if by_provider else main_rows))
    return Report(
        name=main.name,
        parameters=main.parameters,
        columns=main.columns,
        rows=main.rows,
        totals={"amount_cents": total},
        sections=(*sections, _by_method(params, zone, parts)),
    )


def _streamed_whole(conn: Connection, params: ReportParams, zone: ZoneInfo) -> Report:
    """Each receipt and reversal whole, dated when entered: read in the order recorded and
    ordered a day at a time (a day's rows by payment, a payment before its reversal), as
    :func:`_listing` orders them all. Tens of thousands of rows a month: each is made
    straight from the database's row (by position), kept with its day until the day is
    ordered (:func:`_days_in_order`)."""
    totals: dict[str, int | str] = {"amount_cents": 0}
    amounts: dict[str, int] = defaultdict(int)
    payments: dict[str, set[int]] = defaultdict(set)

    def rows() -> Iterator[ReceiptRow]:
        make, payment, payment_id = _make_receipt, EntryKind.PAYMENT.value, id_formatter("payment")
        as_text, local_date = _local_dater(conn, zone)
        total = 0
        found = ledger.stream_rows(
            conn, _events_query(params, zone, entered_in_range=True, as_text=as_text)
        )
        # (date, payment id, kind, amount, method, reference, from), as _days_in_order takes
        dated = (
            (local_date(recorded_at), paid, kind, cents, method, reference, received_from)
            for kind, recorded_at, cents, paid, method, reference, received_from in found
            if cents != 0
        )
        try:
            for events in _days_in_order(dated):
                for day, paid, kind, cents, method, reference, received_from in events:
                    total += cents
                    amounts[method] += cents
                    payments[method].add(paid)
                    kind_shown = "payment" if kind == payment else "reversal"
                    yield make(
                        (day, payment_id(paid), kind_shown, received_from, method, reference,
                         None, cents)
                    )  # fmt: skip
        finally:
            found.close()  # stopped part-way: its cursor, before the transaction ends
        totals["amount_cents"] = total

    method_totals: dict[str, int | str] = {"amount_cents": 0}

    def method_rows() -> Iterator[ReceiptMethodRow]:
        """Read after the listing's rows, whose sums it shows."""
        for method in sorted(amounts, key=_method_key):
            yield ReceiptMethodRow(
                method=method, payments=len(payments[method]), amount_cents=amounts[method]
            )
        method_totals["amount_cents"] = sum(amounts.values())

    return Report(
        name="receipts",
        parameters=params.describe(zone),
        columns=columns_of(ReceiptRow),
        rows=(),
        more=rows(),
        totals=totals,
        sections=(
            Report(
                name="receipts by method",
                parameters=params.describe(zone),
                columns=columns_of(ReceiptMethodRow),
                rows=(),
                more=method_rows(),
                totals=method_totals,
            ),
        ),
    )


# A day's events by payment, a payment before its reversal ("payment" sorts before
# "payment_reversal")
_by_payment = itemgetter(1, 2)


def _days_in_order(events: Iterable[_Dated]) -> Generator[list[_Dated], None, None]:
    """``events`` (each its local date, payment id and kind first) in the order recorded,
    a day at a time as :func:`_listing` orders them: by the date entered, then payment, a
    payment before its reversal. A day is kept until a day two later is seen: a local date
    never goes back more than a day as time goes on (a clock put back across midnight), so
    no later event can come before it."""
    days: dict[dt.date, list[_Dated]] = {}
    for event in events:
        day = event[0]
        kept = days.get(day)
        if kept is None:
            for earlier in sorted(d for d in days if d < day - dt.timedelta(days=1)):
                yield sorted(days.pop(earlier), key=_by_payment)
            kept = days[day] = []
        kept.append(event)
    for earlier in sorted(days):
        yield sorted(days.pop(earlier), key=_by_payment)


def _method_key(method: str) -> tuple[int, str]:
    return (_METHOD_ORDER.get(method, len(_METHOD_ORDER)), method)


def _section_of(part: _Part) -> str:
    if not part.applied:
        return NOT_APPLIED
    return NO_PROVIDER if part.provider is None else part.provider


def _option_bool(params: ReportParams, key: str) -> bool:
    value = params.options.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(key, "must be true or false", code="option_malformed")
    return value


def _listing(name: str, params: ReportParams, zone: ZoneInfo, parts: Iterable[_Part]) -> Report:
    ordered = sorted(
        parts,
        key=lambda p: (
            p.date,
            p.event.payment_id,
            p.event.kind != EntryKind.PAYMENT.value,
            p.provider or "",
        ),
    )
    rows = tuple(
        ReceiptRow(
            date=p.date,
            payment=format_id("payment", p.event.payment_id),
            kind="payment" if p.event.kind == EntryKind.PAYMENT.value else "reversal",
            received_from=p.event.received_from,
            method=p.event.method,
            reference=p.event.reference,
            provider=p.provider,
            amount_cents=p.amount_cents,
        )
        for p in ordered
    )
    return Report(
        name=name,
        parameters=params.describe(zone),
        columns=columns_of(ReceiptRow),
        rows=rows,
        totals={"amount_cents": sum(r.amount_cents for r in rows)},
    )


def _by_method(params: ReportParams, zone: ZoneInfo, parts: Sequence[_Part]) -> Report:
    amounts: dict[str, int] = defaultdict(int)
    payments: dict[str, set[int]] = defaultdict(set)
    for part in parts:
        amounts[part.event.method] += part.amount_cents
        payments[part.event.method].add(part.event.payment_id)
    rows = tuple(
        ReceiptMethodRow(
            method=method, payments=len(payments[method]), amount_cents=amounts[method]
        )
        for method in sorted(amounts, key=_method_key)
    )
    return Report(
        name="receipts by method",
        parameters=params.describe(zone),
        columns=columns_of(ReceiptMethodRow),
        rows=rows,
        totals={"amount_cents": sum(r.amount_cents for r in rows)},
    )


def _payment_filters(query: Select[Any], params: ReportParams) -> Select[Any]:
    """Not opening balances; at the location asked for."""
    query = query.where(t.payments.c.opening.is_(False))
    if params.location is not None:
        query = query.join(t.locations, t.locations.c.id == t.payments.c.location_id).where(
            t.locations.c.code == params.location
        )
    return query


def _received_from() -> Any:
    return case(
        (t.payments.c.patient_id.is_not(None), t.patients.c.name), else_=t.payers.c.name
    ).label("received_from")


def _events(
    conn: Connection, params: ReportParams, zone: ZoneInfo, *, entered_in_range: bool
) -> list[_Event]:
    """Receipts and reversals (their UNBANKED postings) recorded in the range."""
    as_text, local_date = _local_dater(conn, zone)
    query = _events_query(params, zone, entered_in_range=entered_in_range, as_text=as_text)
    return [
        _Event(payment_id, kind, local_date(recorded_at), cents, method, reference, received)
        for kind, recorded_at, cents, payment_id, method, reference, received in (
            conn.execute(query).all()  # by position: tens of thousands of rows a month
        )
    ]


def _local_dater(conn: Connection, zone: ZoneInfo) -> tuple[bool, Callable[[Any], dt.date]]:
    """Whether the events' ``recorded_at`` is read as the database's text (SQLite), and
    what makes its local date: a date read off the text costs a fifth of one made from an
    instant (bench, a month's 22,600 receipts)."""
    if conn.dialect.name == "sqlite":
        return True, local_dates_of_text(zone)
    return False, local_dates(zone)


def _events_query(
    params: ReportParams, zone: ZoneInfo, *, entered_in_range: bool, as_text: bool
) -> Select[Any]:
    """The rows of :func:`_events` (kind, recorded at, amount, payment id, method,
    reference, received from), in the order recorded; ``as_text``: recorded at as the
    database's text."""
    query = (
        select(
            E.c.kind,
            type_coerce(E.c.recorded_at, String) if as_text else E.c.recorded_at,
            P.c.amount_cents,
            t.payments.c.id.label("payment_id"),
            t.payments.c.method,
            t.payments.c.reference,
            _received_from(),
        )
        .select_from(E)
        .join(P, and_(P.c.entry_id == E.c.id, P.c.account == Account.UNBANKED.value))
        .join(t.payments, t.payments.c.id == P.c.payment_id)
        .outerjoin(t.patients, t.patients.c.id == t.payments.c.patient_id)
        .outerjoin(t.payers, t.payers.c.id == t.payments.c.payer_id)
        .where(E.c.kind.in_([EntryKind.PAYMENT.value, EntryKind.PAYMENT_REVERSAL.value]))
    )
    if entered_in_range:
        start, end = utc_bounds(params.from_date, params.to_date, zone)
        if start is not None:
            query = query.where(E.c.recorded_at >= start)
        if end is not None:
            query = query.where(E.c.recorded_at < end)
    if params.as_known_at is not None:
        query = query.where(E.c.recorded_at <= params.as_known_at)
    return _payment_filters(query, params).order_by(E.c.recorded_at, E.c.id)


def _whole(events: Sequence[_Event]) -> list[_Part]:
    return [
        _Part(
            event=e, date=e.entered_date, provider=None, applied=False, amount_cents=e.amount_cents
        )
        for e in events
    ]


def _net_applied(params: ReportParams, *, service_range: bool = False) -> Select[Any]:
    """Money of each payment applied to each line (allocations less un-allocations), as
    known at ``as_known_at``, with the line's provider and service date."""
    applied = (-func.sum(P.c.amount_cents)).label("applied_cents")
    debt_date = func.coalesce(t.lines.c.service_date, t.invoices.c.invoice_date)
    query = (
        select(
            P.c.payment_id,
            t.providers.c.name.label("provider"),
            debt_date.label("service_date"),
            applied,
        )
        .select_from(P)
        .join(t.lines, t.lines.c.id == P.c.line_id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
        .outerjoin(t.providers, t.providers.c.id == t.lines.c.provider_id)
        .where(P.c.account == Account.RECEIVABLE.value, P.c.payment_id.is_not(None))
        .group_by(P.c.payment_id, t.providers.c.name, debt_date)
    )
    if params.as_known_at is not None:
        query = query.where(P.c.recorded_at <= params.as_known_at)
    if params.provider is not None:
        query = query.where(t.providers.c.code == params.provider)
    if service_range and params.from_date is not None:
        query = query.where(debt_date >= params.from_date)
    if service_range and params.to_date is not None:
        query = query.where(debt_date <= params.to_date)
    return query


def _split(
    conn: Connection, params: ReportParams, events: Sequence[_Event], *, by_date: bool
) -> list[_Part]:
    """Each event split over its payment's lines (by provider, and by service date when
    ``by_date``); what is left, and every reversal, is a part not applied."""
    if not events:
        return []
    ids = sorted({e.payment_id for e in events if e.kind == EntryKind.PAYMENT.value})
    applied: dict[int, list[tuple[str | None, dt.date, int]]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    if ids:
        all_lines = _net_applied(ReportParams(as_known_at=params.as_known_at))
        scoped = _net_applied(params)
        for chunk in _chunks(ids):
            for r in conn.execute(all_lines.where(P.c.payment_id.in_(chunk))).all():
                totals[int(r.payment_id)] += int(r.applied_cents)
            for r in conn.execute(scoped.where(P.c.payment_id.in_(chunk))).all():
                applied[int(r.payment_id)].append(
                    (r.provider, r.service_date, int(r.applied_cents))
                )
    parts: list[_Part] = []
    for event in events:
        if event.kind != EntryKind.PAYMENT.value:
            parts.append(_unapplied(event, event.amount_cents))
            continue
        by_key: dict[tuple[str | None, dt.date], int] = defaultdict(int)
        for provider, service_date, cents in applied[event.payment_id]:
            by_key[(provider, service_date if by_date else event.entered_date)] += cents
        for (provider, day), cents in by_key.items():
            parts.append(
                _Part(event=event, date=day, provider=provider, applied=True, amount_cents=cents)
            )
        parts.append(_unapplied(event, event.amount_cents - totals[event.payment_id]))
    if params.provider is not None:
        parts = [p for p in parts if p.applied]
    return parts


def _unapplied(event: _Event, cents: int) -> _Part:
    return _Part(
        event=event, date=event.entered_date, provider=None, applied=False, amount_cents=cents
    )


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _applied_by_service_date(conn: Connection, params: ReportParams) -> list[_Part]:
    """Parts of payments applied to lines whose service date is in the range."""
    net_sub = _net_applied(params, service_range=True).subquery()
    query = (
        select(
            net_sub.c.payment_id,
            net_sub.c.provider,
            net_sub.c.service_date,
            net_sub.c.applied_cents,
            t.payments.c.method,
            t.payments.c.reference,
            _received_from(),
        )
        .select_from(net_sub)
        .join(t.payments, t.payments.c.id == net_sub.c.payment_id)
        .outerjoin(t.patients, t.patients.c.id == t.payments.c.patient_id)
        .outerjoin(t.payers, t.payers.c.id == t.payments.c.payer_id)
    )
    parts = []
    for r in conn.execute(_payment_filters(query, params)).all():
        event = _Event(
            payment_id=int(r.payment_id),
            kind=EntryKind.PAYMENT.value,
            entered_date=r.service_date,  # not shown: the row is dated by service
            amount_cents=int(r.applied_cents),
            method=str(r.method),
            reference=r.reference,
            received_from=r.received_from,
        )
        parts.append(
            _Part(
                event=event,
                date=r.service_date,
                provider=r.provider,
                applied=True,
                amount_cents=int(r.applied_cents),
            )
        )
    return parts
