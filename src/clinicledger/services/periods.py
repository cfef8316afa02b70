"""Closing a period: no later entry may carry an effective date inside it, and its
receivable and unapplied balances are kept at each month end (``closings``). A close is
also when the planner statistics are refreshed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, insert, literal, select, update

from clinicledger.domain.dates import month_ends
from clinicledger.domain.errors import Conflict
from clinicledger.services.common import business_today, check_not_future
from clinicledger.store import ledger
from clinicledger.store import tables as t
from clinicledger.store.engine import refresh_planner_statistics
from clinicledger.store.uow import UnitOfWork


def close_period(uow: UnitOfWork, *, through: dt.date) -> tuple[dt.date, ...]:
    """Close everything up to and including ``through``. A close cannot be undone. Returns
    the dates whose balances were kept: the month ends not kept before, and ``through``."""
    with uow:
        check_not_future(through, business_today(uow), field="date")
        closed = ledger.closed_through(uow.conn)
        if closed is not None and through <= closed:
            raise Conflict(
                f"the period up to {closed.isoformat()} is already closed",
                code="period_already_closed",
                field="date",
            )
        uow.conn.execute(
            update(t.practice).where(t.practice.c.id == 1).values(closed_through=through)
        )
        kept = _keep_closing_balances(uow, through)
        refresh_planner_statistics(uow.conn)  # a month end: the ledger has grown
        uow.audit(
            "period.close",
            "practice",
            {"through": through.isoformat(), "closings": [d.isoformat() for d in kept]},
        )
        uow.commit()
    return kept


def _keep_closing_balances(uow: UnitOfWork, through: dt.date) -> tuple[dt.date, ...]:
    """Keep the balances at each month end not yet kept, up to ``through``, and at
    ``through`` itself; each built from the one before it and the postings in between.
    Returns the dates kept."""
    conn = uow.conn
    previous = ledger.closing_before(conn, as_of=None, as_known_at=None)
    if previous is not None:
        first = previous.as_of + dt.timedelta(days=1)
    else:
        first = _first_posting_date(conn) or through
    dates = (*(d for d in month_ends(first, through) if d != through), through)
    for as_of in dates:
        closing_id = conn.execute(
            insert(t.closings)
            .values(as_of=as_of, recorded_at=uow.stamp())
            .returning(t.closings.c.id)
        ).scalar_one()
        for account, keys in ledger.KEPT_BALANCES.items():
            balances = ledger.balances_since(previous, account, as_of=as_of, as_known_at=None)
            conn.execute(
                insert(t.closing_balances).from_select(
                    ["closing_id", "account", *keys, "amount_cents"],
                    select(
                        literal(closing_id),
                        literal(account.value),
                        *(balances.c[k] for k in keys),
                        balances.c.amount_cents,
                    ),
                )
            )
        previous = ledger.Closing(id=closing_id, as_of=as_of, recorded_at=uow.stamp())
    return dates


def _first_posting_date(conn: Connection) -> dt.date | None:
    """The earliest date of a posting to a kept account."""
    P = t.postings
    found = [
        conn.execute(
            select(func.min(P.c.effective_date)).where(P.c.account == account.value)
        ).scalar_one()
        for account in ledger.KEPT_BALANCES
    ]
    dates = [d for d in found if d is not None]
    return min(dates) if dates else None
