"""Which business dates an entry may carry: none inside a closed period, none after today
(where the date is one the user gives for something done), and none outside the ledger's
dates (:func:`clinicledger.domain.dates.check_in_range`, which services check first)."""

from __future__ import annotations

import datetime as dt

from clinicledger.domain.errors import InvalidInput, PeriodClosed


def check_period_open(
    effective_date: dt.date, closed_through: dt.date | None, *, field: str = "now"
) -> None:
    """``field`` names the input that holds the date (``now`` for entries dated today)."""
    if closed_through is not None and effective_date <= closed_through:
        raise PeriodClosed(
            f"the period up to {closed_through.isoformat()} is closed; "
            f"an entry dated {effective_date.isoformat()} cannot be recorded",
            code="period_closed",
            field=field,
            closed_through=closed_through.isoformat(),
        )


def check_not_future(value: dt.date, today: dt.date, *, field: str) -> None:
    if value > today:
        raise InvalidInput(
            field,
            f"{value.isoformat()} is after today ({today.isoformat()})",
            code="date_in_future",
        )
