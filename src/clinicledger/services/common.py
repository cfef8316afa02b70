"""What every service needs: the practice's business date, inside its own transaction."""

from __future__ import annotations

import datetime as dt

from clinicledger.domain.periods import check_period_open
from clinicledger.store.uow import UnitOfWork


def business_today(uow: UnitOfWork) -> dt.date:
    """Today's date at the practice, for entries dated when they are made."""
    return uow.today()


def open_today(uow: UnitOfWork) -> dt.date:
    """Today's date, for an entry dated today: refused if today is in a closed period."""
    today = uow.today()
    check_period_open(today, uow.closed_through)
    return today
