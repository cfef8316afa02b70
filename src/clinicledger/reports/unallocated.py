"""Unallocated payments (reference 004): money received and not yet entirely applied to
services, per location or all, with its age; and, as its own section, the retained funds.

At ``as_of`` (required: a business date): a payment's unallocated amount is minus the sum
of its ``UNALLOCATED`` postings dated up to then (received, less applied, refunded,
reversed or retained), as known at ``as_known_at``; payments with none left are not
listed. ``age_days`` counts from the received date to ``as_of``. ``location`` is the
payment's location.

Retained funds (reference 004, "Retained Funds"): small overpayments a practice keeps
rather than allocates, carried as a liability until cleared to revenue. They live in the
``RETAINED`` account, credited (negative) with the payment's id when kept and debited when
cleared, so a payment's retained amount is minus its ``RETAINED`` balance. The section is
computed from that account whether or not anything was ever retained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, case, func, select, type_coerce

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import format_id, id_formatter
from clinicledger.domain.journal import Account
from clinicledger.reports.base import Report, ReportParams, columns_of, local_time, row_maker
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t
from clinicledger.store.sql import as_date

P = t.postings


class UnallocatedRow(NamedTuple):
    payment: str
    location: str
    received_date: dt.date
    received_from: str | None
    method: str
    reference: str | None
    amount_cents: int
    unallocated_cents: int
    age_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RetainedRow:
    payment: str
    location: str
    received_date: dt.date
    received_from: str | None
    reference: str | None
    amount_cents: int
    retained_cents: int
    retained_at: dt.datetime  # when last retained (or cleared), local time


def require_as_of(params: ReportParams) -> dt.date:
    if params.as_of is None:
        raise InvalidInput("as_of", "this report needs an as-of date", code="as_of_missing")
    return params.as_of


def _balances(
    conn: Connection,
    params: ReportParams,
    as_of: dt.date,
    account: Account,
    *,
    received_as_given: bool = False,
) -> Sequence[Any]:
    """Payments with a balance on ``account`` at ``as_of``, with their details, in location,
    received date and id order; ``received_as_given``: the received date as the database
    gives it (SQLite's ISO text, PostgreSQL's date), not parsed row by row."""
    per_payment = ledger.account_balances(
        conn, account, as_of=as_of, as_known_at=params.as_known_at
    )
    pay = t.payments
    columns = [
        pay.c.id,
        t.locations.c.code.label("location"),
        type_coerce(pay.c.received_date, String) if received_as_given else pay.c.received_date,
        case((pay.c.patient_id.is_not(None), t.patients.c.name), else_=t.payers.c.name).label(
            "received_from"
        ),
        pay.c.method,
        pay.c.reference,
        pay.c.amount_cents,
        (-per_payment.c.amount_cents).label("balance_cents"),
    ]
    if account is Account.RETAINED:
        # when last retained or cleared: a look-up by payment for each of the few listed
        last = select(func.max(P.c.recorded_at)).where(
            P.c.payment_id == pay.c.id,
            P.c.account == account.value,
            *ledger.time_conditions(as_of, params.as_known_at),
        )
        columns.append(last.scalar_subquery().label("last_recorded_at"))
    query = (
        select(*columns)
        .join(per_payment, per_payment.c.payment_id == pay.c.id)
        .join(t.locations, t.locations.c.id == pay.c.location_id)
        .outerjoin(t.patients, t.patients.c.id == pay.c.patient_id)
        .outerjoin(t.payers, t.payers.c.id == pay.c.payer_id)
        .order_by(t.locations.c.code, pay.c.received_date, pay.c.id)
    )
    if params.location is not None:
        query = query.where(t.locations.c.code == params.location)
    return conn.execute(query).all()


# payment, location, received, from, method, reference, amount, unallocated, age
_make_unallocated = row_maker(UnallocatedRow)


def unallocated(conn: Connection, params: ReportParams) -> Report:
    zone = lookups.practice_zone(conn)
    as_of = require_as_of(params)
    make, payment_id = _make_unallocated, id_formatter("payment")
    # Each received date as given, its date and age: tens of thousands of payments received
    # on a few hundred days
    days: dict[Any, tuple[dt.date, int]] = {}

    def day_and_age(given: Any) -> tuple[dt.date, int]:
        day = as_date(given)
        assert day is not None  # a payment's received date is never null
        days[given] = known = (day, (as_of - day).days)
        return known

    found: list[UnallocatedRow] = []
    for payment, location, given, received_from, method, reference, amount, balance in (
        # by position: tens of thousands
        _balances(conn, params, as_of, Account.UNALLOCATED, received_as_given=True)
    ):
        received, age = days.get(given) or day_and_age(given)
        cents = int(balance)  # a sum: a Decimal on PostgreSQL
        found.append(
            make((payment_id(payment), location, received, received_from, method, reference,
                  amount, cents, age))
        )  # fmt: skip
    rows = tuple(found)
    retained = tuple(
        RetainedRow(
            payment=format_id("payment", r.id),
            location=r.location,
            received_date=r.received_date,
            received_from=r.received_from,
            reference=r.reference,
            amount_cents=int(r.amount_cents),
            retained_cents=int(r.balance_cents),
            retained_at=local_time(r.last_recorded_at, zone),
        )
        for r in _balances(conn, params, as_of, Account.RETAINED)
    )
    parameters = params.describe(zone)
    return Report(
        name="unallocated",
        parameters=parameters,
        columns=columns_of(UnallocatedRow),
        rows=rows,
        totals={
            "payments": len(rows),
            "amount_cents": sum(map(attrgetter("amount_cents"), rows)),
            "unallocated_cents": sum(map(attrgetter("unallocated_cents"), rows)),
        },
        sections=(
            Report(
                name="retained funds",
                parameters=parameters,
                columns=columns_of(RetainedRow),
                rows=retained,
                totals={
                    "payments": len(retained),
                    "amount_cents": sum(r.amount_cents for r in retained),
                    "retained_cents": sum(r.retained_cents for r in retained),
                },
            ),
        ),
    )
