"""Closing a period: no later entry may carry an effective date inside it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from clinicledger.domain.errors import Conflict
from clinicledger.services.common import business_today, check_not_future
from clinicledger.store import ledger
from clinicledger.store import tables as t
from clinicledger.store.uow import UnitOfWork


def close_period(uow: UnitOfWork, *, through: dt.date) -> None:
    """Close everything up to and including ``through``. A close cannot be undone."""
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
        uow.audit("period.close", "practice", {"through": through.isoformat()})
        uow.commit()
