"""Calendar helpers for business dates (plain dates in the practice's time zone)."""

from __future__ import annotations

import datetime as dt


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
