"""Debtors listing (reference 004, "Debtors Listing"): who owes the practice what, and how
old each debt is, at one point in time.

A debtor is a patient (the portions of lines billed to the patient, gaps moved to them
included) or a payer (its portions of lines, across patients). What a line portion owes is
the sum of its RECEIVABLE postings with ``effective_date <= as_of`` and
``recorded_at <= as_known_at``, so the listing's total is, to the cent, the sum of every
party's ``charges_cents`` (``store/ledger.py`` ``party_balance``) at the same moment.
It is read as the latest closing's kept balances plus the postings after it
(``ledger.account_balances``), which is the same sum.

- Age of a debt = ``as_of`` minus the line's service date (the invoice date for a product),
  in brackets of ``interval_days`` (default 30: 0-29, 30-59, 60-89, 90+).
- A portion of a line whose service date is after ``as_of`` (a program paid in advance,
  an allocation made before the service) is not yet due: it has a column of its own,
  usually negative, and still counts in the total so the identity above stays exact.
- Unapplied money (credit) is not a debt and is never deducted from one: the summary shows
  each debtor's credit, as of the same moment, in a column of its own after the total
  (all locations: credit is the party's, not a line's), and a warning says how much
  credit the listed debtors hold. The party's balance is ``total - credit``.
- ``older_than_days``: only debtors owing something at least that old are listed; such a
  debtor is listed with ALL of their debts (in the other filters), as the reference says.
- Without ``as_of`` the listing is as of the date of ``as_known_at``, or else of the
  latest entry recorded: a report never reads the clock (the command line passes today).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, Subquery, and_, case, func, literal, select

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Account
from clinicledger.domain.money import format_cents
from clinicledger.reports.base import (
    DAYS_MAX,
    Column,
    Report,
    ReportParams,
    ReportWarning,
    columns_of,
    days_option,
    interval_option,
    local_time,
    option_choice,
    row_maker,
)
from clinicledger.reports.registry import DEBTORS_BILLED_TO, DEBTORS_DETAILS, DEBTORS_ORDERS
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t

BRACKETS = 4
NOT_YET_DUE = "not yet due"


class DebtorRow(NamedTuple):
    """One debtor. The bracket fields are shown under keys naming their days
    (``days_0_29``...): see :func:`bracket_keys`."""

    debtor: str
    code: str
    kind: str  # patient, fund, medicare, dva, insurer, third-party
    bracket_1_cents: int
    bracket_2_cents: int
    bracket_3_cents: int
    bracket_4_cents: int
    not_yet_due_cents: int
    total_cents: int
    credit_cents: int  # unapplied money, not deducted from total


@dataclass(frozen=True, slots=True, kw_only=True)
class DebtorLineRow:
    """One line portion owing (or, not yet due, paid ahead)."""

    debtor: str
    code: str
    kind: str
    patient: str | None
    invoice: str
    line: str
    location: str
    provider: str | None
    service_date: dt.date
    age_days: int
    bracket: str
    owing_cents: int


@dataclass(slots=True, kw_only=True)
class _Portion:  # not frozen: tens of thousands are built per listing, and frozen is slower
    invoice_number: int
    line_id: int
    location: str
    provider: str | None
    patient: str | None
    service_date: dt.date
    age_days: int
    bracket: int | None  # 0..3, None: not yet due
    owing_cents: int


NOT_OWING = -(10**9)  # the "oldest debt" of a debtor owing nothing yet


@dataclass(slots=True, kw_only=True)
class _Debtor:
    """A debtor's portions, and their sums kept as they are added (so that ordering and
    summing tens of thousands of debtors never walks their portions again)."""

    key: tuple[str, int]
    name: str
    code: str
    kind: str
    portions: list[_Portion] = field(default_factory=list)
    owing_cents: int = 0
    bracket_cents: list[int] = field(default_factory=lambda: [0] * BRACKETS)
    not_yet_due_cents: int = 0
    oldest_days: int = NOT_OWING  # age of the oldest portion owing more than nothing

    def add(self, portion: _Portion) -> None:
        self.portions.append(portion)
        cents = portion.owing_cents
        self.owing_cents += cents
        if portion.bracket is None:
            self.not_yet_due_cents += cents
        else:
            self.bracket_cents[portion.bracket] += cents
        if cents > 0 and portion.age_days > self.oldest_days:
            self.oldest_days = portion.age_days

    def empty_copy(self) -> _Debtor:
        return _Debtor(key=self.key, name=self.name, code=self.code, kind=self.kind)


class _DebtorSums(NamedTuple):
    """A debtor of the summary, as SQL summed their portions (:func:`_debtor_sums`): the
    sums of a :class:`_Debtor` without its portions, made ten times faster (tens of
    thousands of debtors)."""

    key: tuple[str, int]
    name: str
    code: str
    kind: str
    owing_cents: int
    bracket_cents: tuple[int, ...]
    not_yet_due_cents: int
    oldest_days: int


# A debtor as the summary and its order read one: summed from portions, or by SQL
_Owes = _Debtor | _DebtorSums


def bracket_keys(interval_days: int) -> tuple[str, ...]:
    """``days_0_29, days_30_59, days_60_89, days_90_plus`` for 30."""
    n = interval_days
    return (*(f"days_{k * n}_{(k + 1) * n - 1}" for k in range(BRACKETS - 1)), f"days_{3 * n}_plus")


def bracket_labels(interval_days: int) -> tuple[str, ...]:
    n = interval_days
    return (*(f"{k * n}-{(k + 1) * n - 1}" for k in range(BRACKETS - 1)), f"{3 * n}+")


def debtors(conn: Connection, params: ReportParams) -> Report:
    detail = option_choice(params.options, "detail", DEBTORS_DETAILS, "summary")
    order = option_choice(params.options, "order", DEBTORS_ORDERS, "age")
    billed_to = option_choice(params.options, "billed_to", DEBTORS_BILLED_TO, None)
    interval = interval_option(params.options)
    older_than = days_option(params.options, "older_than_days", None, least=0, most=DAYS_MAX)
    separate = params.options.get("separate_locations")
    if separate is not None and not isinstance(separate, bool):
        raise InvalidInput("separate_locations", "must be true or false", code="option_malformed")

    zone = lookups.practice_zone(conn)
    warnings: list[ReportWarning] = []
    as_of = params.as_of or _default_as_of(conn, params, zone)
    if params.as_of is None and as_of is not None:
        warnings.append(
            ReportWarning(
                "as_of_defaulted",
                f"no as-of date given: debts are aged to {as_of.isoformat()}, the date of "
                + (
                    "the as-known-at moment"
                    if params.as_known_at is not None
                    else "the latest entry"
                ),
            )
        )
    parameters = params.describe(zone)
    if as_of is not None:
        parameters["as_of"] = as_of.isoformat()

    found: Mapping[tuple[str, int], _Owes]
    if detail == "detailed" or separate:  # each portion is listed, or put at its location
        found = _debtors(conn, params, as_of, billed_to, interval)
    else:
        found = _debtor_sums(conn, params, as_of, billed_to, interval, order)
    if older_than is not None:
        found = {key: d for key, d in found.items() if d.oldest_days >= older_than}
    credit = _credit(conn, params, as_of, found)
    held = sum(credit.get(key, 0) for key in found)
    if held:
        holders = sum(1 for key in found if credit.get(key, 0))
        warnings.append(
            ReportWarning(
                "unapplied_credit",
                f"{holders} debtor(s) listed hold {format_cents(held)} of unapplied credit, "
                "shown as credit and not deducted from what they owe; apply it to their lines",
            )
        )

    def part(name: str, debtors_in: Mapping[tuple[str, int], _Owes]) -> Report:
        ordered = _ordered(debtors_in, order)
        if detail == "detailed":  # then every debtor was read with its portions (_debtors)
            return _detailed(name, parameters, cast(list[_Debtor], ordered), interval, credit)
        return _summary(name, parameters, ordered, interval, credit)

    if separate:
        by_location: dict[str, dict[tuple[str, int], _Debtor]] = defaultdict(dict)
        for key, d in found.items():
            assert isinstance(d, _Debtor)  # read with its portions (_debtors)
            for portion in d.portions:
                into = by_location[portion.location].get(key)
                if into is None:
                    into = by_location[portion.location][key] = d.empty_copy()
                into.add(portion)
        sections = tuple(part(f"debtors: {loc}", by_location[loc]) for loc in sorted(by_location))
        whole = part("debtors", found)
        return Report(
            name="debtors",
            parameters=parameters,
            columns=whole.columns,
            rows=(),
            totals=whole.totals,
            warnings=tuple(warnings),
            sections=sections,
        )
    report = part("debtors", found)
    return Report(
        name=report.name,
        parameters=parameters,
        columns=report.columns,
        rows=report.rows,
        totals=report.totals,
        warnings=tuple(warnings),
    )


def _default_as_of(conn: Connection, params: ReportParams, zone: ZoneInfo) -> dt.date | None:
    if params.as_known_at is not None:
        return local_time(params.as_known_at, zone).date()
    latest = conn.execute(select(func.max(t.entries.c.recorded_at))).scalar_one_or_none()
    return None if latest is None else local_time(latest, zone).date()


def _debtors(
    conn: Connection,
    params: ReportParams,
    as_of: dt.date | None,
    billed_to: str | None,
    interval: int,
) -> dict[tuple[str, int], _Debtor]:
    """Every line portion owing something (not zero) at the moment, by debtor.

    Tens of thousands of portions on a large practice: the rows are read by position and
    the small master tables (locations, providers, payers) from dictionaries."""
    portions, query, payers = _portions_query(conn, params, as_of, billed_to)
    query = query.add_columns(
        portions.c.line_id,
        portions.c.payer_id,
        portions.c.patient_id,  # a portion's patient is its line's, billed to whom it may
        portions.c.amount_cents,
        t.invoices.c.number,
        func.coalesce(t.lines.c.service_date, t.invoices.c.invoice_date),
        t.invoices.c.location_id,
        t.lines.c.provider_id,
        t.patients.c.name,
        t.patients.c.code,
    ).outerjoin(t.patients, t.patients.c.id == portions.c.patient_id)
    locations = dict(conn.execute(select(t.locations.c.id, t.locations.c.code)).all())
    providers = dict(conn.execute(select(t.providers.c.id, t.providers.c.name)).all())

    found: dict[tuple[str, int], _Debtor] = {}
    last = BRACKETS - 1
    for (
        line_id,
        payer_id,
        patient_id,
        owing_cents,
        number,
        debt_date,
        location_id,
        provider_id,
        patient_name,
        patient_code,
    ) in conn.execute(query).all():
        key = ("payer", payer_id) if payer_id is not None else ("patient", patient_id)
        debtor = found.get(key)
        if debtor is None:
            if payer_id is not None:
                payer = payers[payer_id]
                debtor = _Debtor(key=key, name=payer.name, code=payer.code, kind=payer.kind)
            else:
                debtor = _Debtor(key=key, name=patient_name, code=patient_code, kind="patient")
            found[key] = debtor
        age = (as_of - debt_date).days if as_of is not None else 0
        debtor.add(
            _Portion(
                invoice_number=number,
                line_id=line_id,
                location=locations[location_id],
                provider=providers.get(provider_id),
                patient=patient_name,
                service_date=debt_date,
                age_days=age,
                bracket=None if age < 0 else min(age // interval, last),
                owing_cents=int(owing_cents),
            )
        )
    return found


def _portions_query(
    conn: Connection, params: ReportParams, as_of: dt.date | None, billed_to: str | None
) -> tuple[Subquery, Select[Any], dict[int, Any]]:
    """Every line portion's balance at the moment (``ledger.account_balances``), joined to
    its line and invoice, in the filters asked for; and the payers by id."""
    portions = ledger.account_balances(
        conn, Account.RECEIVABLE, as_of=as_of, as_known_at=params.as_known_at
    )
    query = (
        select()
        .select_from(portions)
        .join(t.lines, t.lines.c.id == portions.c.line_id)
        .join(t.invoices, t.invoices.c.id == t.lines.c.invoice_id)
    )
    if params.location is not None:
        location_id = lookups.id_for_code(conn, "location", params.location)
        query = query.where(t.invoices.c.location_id == location_id)
    if params.provider is not None:
        provider_id = lookups.id_for_code(conn, "provider", params.provider)
        query = query.where(t.lines.c.provider_id == provider_id)
    payers = {r.id: r for r in conn.execute(select(t.payers))}
    if billed_to == "patient":
        query = query.where(portions.c.payer_id.is_(None))
    elif billed_to is not None:
        query = query.where(
            portions.c.payer_id.in_([r.id for r in payers.values() if r.kind == billed_to])
        )
    return portions, query, payers


def _debtor_sums(
    conn: Connection,
    params: ReportParams,
    as_of: dt.date | None,
    billed_to: str | None,
    interval: int,
    order: str | None,
) -> dict[tuple[str, int], _DebtorSums]:
    """:func:`_debtors` summed in SQL, a row per debtor rather than per portion, for the
    summary (no portion listed, none put at its location): each portion's bracket is a
    range of its debt date (a bracket of ages is one of dates, counted back from
    ``as_of``), and a debtor's oldest debt is the earliest date of a portion owing more
    than nothing."""
    portions, query, payers = _portions_query(conn, params, as_of, billed_to)
    debt_date = func.coalesce(t.lines.c.service_date, t.invoices.c.invoice_date)
    cents = portions.c.amount_cents
    patient_key = case((portions.c.payer_id.is_(None), portions.c.patient_id))
    if as_of is None:  # nothing recorded yet: every portion is of age 0, the first bracket
        buckets = [literal(0), func.sum(cents), *(literal(0) for _ in range(BRACKETS - 1))]
    else:
        # Not yet due (dated after as_of), then each bracket of ages [k*i, (k+1)*i - 1]:
        # dated on or before as_of - k*i, and after as_of - (k+1)*i but for the last.
        starts = [as_of - dt.timedelta(days=k * interval) for k in range(BRACKETS)]
        bounds = [
            and_(debt_date <= start, debt_date > start - dt.timedelta(days=interval))
            for start in starts[:-1]
        ]
        conditions = [debt_date > as_of, *bounds, debt_date <= starts[-1]]
        buckets = [func.sum(case((when, cents), else_=0)) for when in conditions]
    sums = (
        query.add_columns(
            portions.c.payer_id,
            patient_key.label("patient_key"),
            func.sum(cents).label("owing_cents"),
            func.min(case((cents > 0, debt_date))).label("oldest_date"),
            *(bucket.label(f"bucket_{n}") for n, bucket in enumerate(buckets)),
        )
        .group_by(portions.c.payer_id, patient_key)
        .subquery()
    )
    # Read in about the order listed (payers' names are not in the query), so that the
    # listing's own sort (_ordered, which decides) finds runs already in order.
    presorted = [sums.c.owing_cents.desc(), t.patients.c.name, t.patients.c.code]
    if order != "amount":
        presorted[:0] = [sums.c.oldest_date.is_(None), sums.c.oldest_date]
    found: dict[tuple[str, int], _DebtorSums] = {}
    make = _make_sums
    rows = conn.execute(
        select(sums, t.patients.c.name, t.patients.c.code)
        .outerjoin(t.patients, t.patients.c.id == sums.c.patient_key)
        .order_by(*presorted)
    ).all()
    for (
        payer_id,
        patient_id,
        owing,
        oldest,
        not_yet_due,
        *brackets,
        patient_name,
        patient_code,
    ) in rows:  # by position: a row per debtor, tens of thousands
        if payer_id is not None:
            payer = payers[payer_id]
            key, name, code, kind = ("payer", payer_id), payer.name, payer.code, payer.kind
        else:
            key, name, code, kind = ("patient", patient_id), patient_name, patient_code, "patient"
        oldest_days = (
            NOT_OWING if oldest is None else (as_of - oldest).days if as_of is not None else 0
        )
        # (sums are Decimals on PostgreSQL)
        found[key] = make(
            (key, name, code, kind, int(owing), tuple(map(int, brackets)), int(not_yet_due),
             oldest_days)
        )  # fmt: skip
    return found


def _credit(
    conn: Connection,
    params: ReportParams,
    as_of: dt.date | None,
    debtors_found: Mapping[tuple[str, int], _Owes],
) -> dict[tuple[str, int], int]:
    """Unapplied money of each party at the moment (positive: credit), as ``party_balance``
    counts it."""
    if not debtors_found:
        return {}
    unapplied = ledger.account_balances(
        conn, Account.UNALLOCATED, as_of=as_of, as_known_at=params.as_known_at
    )
    held = (-func.sum(unapplied.c.amount_cents)).label("credit_cents")
    pay = t.payments
    rows = conn.execute(
        select(pay.c.payer_id, pay.c.patient_id, held)
        .join(pay, pay.c.id == unapplied.c.payment_id)
        .group_by(pay.c.payer_id, pay.c.patient_id)
    ).all()
    credit: dict[tuple[str, int], int] = defaultdict(int)
    for payer_id, patient_id, cents in rows:  # by position: a row per party holding credit
        if payer_id is not None:
            credit[("payer", int(payer_id))] += int(cents)
        elif patient_id is not None:
            credit[("patient", int(patient_id))] += int(cents)
    return dict(credit)


def _portion_order(p: _Portion) -> tuple[dt.date, int, int]:
    return p.service_date, p.invoice_number, p.line_id


def _ordered(found: Mapping[tuple[str, int], _Owes], order: str | None) -> list[_Owes]:
    if order == "amount":
        return sorted(found.values(), key=lambda d: (-d.owing_cents, d.name, d.code))
    return sorted(found.values(), key=lambda d: (-d.oldest_days, -d.owing_cents, d.name, d.code))


def _money_columns(interval: int) -> tuple[Column, ...]:
    return tuple(
        Column(key=key, field=f"bracket_{n}_cents", money=True)
        for n, key in enumerate(bracket_keys(interval), 1)
    )


def _columns(row_type: type, interval: int) -> tuple[Column, ...]:
    """The row's columns, the bracket fields under keys naming their days."""
    named = {c.field: c for c in _money_columns(interval)}
    return tuple(named.get(c.field, c) for c in columns_of(row_type))


def _totals(
    debtors: Sequence[_Owes], interval: int, credit_cents: int, total_key: str
) -> dict[str, int | str]:
    brackets = [0] * BRACKETS
    not_yet_due = owing = 0
    for d in debtors:  # one pass: tens of thousands of debtors, each read once
        for n, cents in enumerate(d.bracket_cents):
            brackets[n] += cents
        not_yet_due += d.not_yet_due_cents
        owing += d.owing_cents
    totals: dict[str, int | str] = {
        f"{key}_cents": cents for key, cents in zip(bracket_keys(interval), brackets, strict=True)
    }
    totals["not_yet_due_cents"] = not_yet_due
    totals[total_key] = owing
    totals["credit_cents"] = credit_cents
    return totals


# debtor, code, kind, the four brackets, not yet due, total, credit
_make_debtor_row = row_maker(DebtorRow)
# key, name, code, kind, owing, brackets, not yet due, oldest days
_make_sums = row_maker(_DebtorSums)


def _summary(
    name: str,
    parameters: dict[str, Any],
    ordered: Sequence[_Owes],
    interval: int,
    credit: dict[tuple[str, int], int],
) -> Report:
    rows = tuple(
        _make_debtor_row(
            (
                d.name,
                d.code,
                d.kind,
                *d.bracket_cents,
                d.not_yet_due_cents,
                d.owing_cents,
                credit.get(d.key, 0),
            )
        )
        for d in ordered
    )
    return Report(
        name=name,
        parameters=parameters,
        columns=_columns(DebtorRow, interval),
        rows=rows,
        totals=_totals(ordered, interval, sum(r.credit_cents for r in rows), "total_cents"),
    )


def _detailed(
    name: str,
    parameters: dict[str, Any],
    ordered: Sequence[_Debtor],
    interval: int,
    credit: dict[tuple[str, int], int],
) -> Report:
    labels = bracket_labels(interval)
    rows = tuple(
        DebtorLineRow(
            debtor=d.name,
            code=d.code,
            kind=d.kind,
            patient=p.patient,
            invoice=format_id("invoice", p.invoice_number),
            line=format_id("line", p.line_id),
            location=p.location,
            provider=p.provider,
            service_date=p.service_date,
            age_days=p.age_days,
            bracket=NOT_YET_DUE if p.bracket is None else labels[p.bracket],
            owing_cents=p.owing_cents,
        )
        for d in ordered
        for p in sorted(d.portions, key=_portion_order)
    )
    held = sum(credit.get(d.key, 0) for d in ordered)
    return Report(
        name=name,
        parameters=parameters,
        columns=columns_of(DebtorLineRow),
        rows=rows,
        totals=_totals(ordered, interval, held, "owing_cents"),
    )
