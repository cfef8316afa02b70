"""Calendar helpers for business dates (plain dates in the practice's time zone)."""

from __future__ import annotations

import datetime as dt


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def month_ends(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """The last days of the months that end within [first, last]."""
    ends: list[dt.date] = []
    end = month_end(first)
    while end <= last:
        ends.append(end)
        end = month_end(end + dt.timedelta(days=1))
    return tuple(ends)
