"""What every service needs: the practice's business date, inside its own transaction."""

from __future__ import annotations

import datetime as dt

from clinicledger.domain.periods import check_period_open
from clinicledger.store import ledger
from clinicledger.store.uow import UnitOfWork, practice_date


def business_today(uow: UnitOfWork) -> dt.date:
    """Today's date at the practice, for entries dated when they are made."""
    return practice_date(uow.conn, uow.now)


def open_today(uow: UnitOfWork) -> dt.date:
    """Today's date, for an entry dated today: refused if today is in a closed period."""
    today = business_today(uow)
    check_period_open(today, ledger.closed_through(uow.conn))
    return today
