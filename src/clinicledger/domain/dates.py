"""Calendar helpers for business dates (plain dates in the practice's time zone), and the
dates a ledger holds.

A ledger holds dates from :data:`DATE_FIRST` to :data:`DATE_LAST`: every business date an
entry carries (a service, a payment received, a close, an opening balance), every date a
report is asked about, and the clock that stamps entries. The bound is one a person can
read, and it stays well inside Python's calendar (0001-01-01 to 9999-12-31): a day either
side of a date, a time zone's offset, or a century of age brackets before an as-of date
(``reports.base.DAYS_MAX``) never overflows it. Without it, a clock at
9999-12-31T23:59:59.999999 made every later write fail, since the next stamp is a
microsecond later.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from clinicledger.domain.errors import InvalidInput

DATE_FIRST = dt.date(1900, 1, 1)
DATE_LAST = dt.date(2199, 12, 31)

# How far ahead of the real clock a clock the caller chose may be: two machines' clocks
# differ by seconds, a script computes its --now a little before it runs. Further ahead
# needs an explicit allowance (tests, reproducing history): an entry stamped in the future
# pushes every later entry's stamp after it (``recorded_at`` strictly increases).
CLOCK_AHEAD_MAX = dt.timedelta(minutes=5)

Day = TypeVar("Day", bound=dt.date)  # a date, or a datetime (its date as written)


def check_in_range(value: Day, *, field: str) -> Day:
    """``value`` if its date, as written, is from :data:`DATE_FIRST` to
    :data:`DATE_LAST`; a moment is judged before any time zone conversion (which is what
    would overflow)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not DATE_FIRST <= day <= DATE_LAST:
        raise InvalidInput(
            field,
            f"{value.isoformat()} is outside the dates the ledger holds "
            f"({DATE_FIRST.isoformat()} to {DATE_LAST.isoformat()})",
            code="date_out_of_range",
            first=DATE_FIRST.isoformat(),
            last=DATE_LAST.isoformat(),
        )
    return value


def check_clock_not_ahead(now: dt.datetime, real_now: dt.datetime, *, field: str = "now") -> None:
    """A clock the caller chose (``now``) may be at most :data:`CLOCK_AHEAD_MAX` ahead of
    the real one (``real_now``); both in UTC, both naive or both aware."""
    if now > real_now + CLOCK_AHEAD_MAX:
        minutes = CLOCK_AHEAD_MAX // dt.timedelta(minutes=1)
        shown = now.replace(tzinfo=None).isoformat()
        raise InvalidInput(
            field,
            f"{shown} UTC is more than {minutes} minutes ahead of the real clock; "
            "entries cannot be recorded in the future",
            code="now_in_future",
            ahead_max_minutes=minutes,
        )


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    if day.month == 12:
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - dt.timedelta(days=1)


def months_spanned(first: dt.date, last: dt.date) -> int:
    """How many calendar months [first, last] touches (0 if last is before first)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def month_ends(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """The last days of the months that end within [first, last]."""
    ends: list[dt.date] = []
    end = month_end(first)
    while end <= last:
        ends.append(end)
        if end == last:  # also stops at the end of the calendar (9999-12-31)
            break
        end = month_end(end + dt.timedelta(days=1))
    return tuple(ends)
