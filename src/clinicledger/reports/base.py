"""What every report shares: its parameters, its result, and the columns of its rows.

A report is a query function returning a :class:`Report`: rows, totals and warnings. A
row is a frozen row dataclass, or a ``NamedTuple`` where a report makes tens of thousands of
them (:func:`row_maker`): both are read by attribute, and neither changes once made. A
report whose rows grow with its period may leave them to be read as they are written
(:attr:`Report.more`, :func:`collected`), so that a year of them never sits in memory at
once. Money fields end in ``_cents`` and are integer cents; renderers show them as decimals
under the field's name without the suffix (``payment_amount_cents`` -> ``payment_amount``),
so CSV, JSON and the terminal table show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import partial
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from clinicledger.domain.choices import check_choice
from clinicledger.domain.dates import month_end
from clinicledger.domain.errors import InvalidInput
from clinicledger.store.sql import sqlite_value

MONEY_SUFFIX = "_cents"
RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportParams:
    """One filter language for every report; each report reads the fields it uses."""

    from_date: dt.date | None = None
    to_date: dt.date | None = None
    as_of: dt.date | None = None
    as_known_at: dt.datetime | None = None  # naive UTC, like recorded_at
    provider: str | None = None
    location: str | None = None
    patient: str | None = None
    payer: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, zone: ZoneInfo) -> dict[str, Any]:
        """The parameters as the report's JSON shows them (only those given)."""
        shown: dict[str, Any] = {}
        for name in ("from_date", "to_date", "as_of", "provider", "location", "patient", "payer"):
            value = getattr(self, name)
            if value is not None:
                shown[name] = value.isoformat() if isinstance(value, dt.date) else value
        if self.as_known_at is not None:
            shown["as_known_at"] = local_time(self.as_known_at, zone).isoformat()
        shown.update({k: v for k, v in self.options.items() if v is not None})
        return shown


def option_choice(
    options: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str | None
) -> str | None:
    """Option ``key``, one of ``allowed`` (any case), or ``default`` when not given."""
    value = options.get(key)
    if value is None:
        return default
    return check_choice(str(value), allowed, field=key)


INTERVAL_DAYS_DEFAULT = 30  # the width of an age bracket
INTERVAL_DAYS_MAX = 3650
DAYS_MAX = 36500  # a hundred years: the most any count of days may ask for


def days_option(
    options: Mapping[str, Any], key: str, default: int | None, *, least: int, most: int
) -> int | None:
    """Option ``key``, a whole number of days from ``least`` to ``most``, or ``default``."""
    value = options.get(key)
    if value is None:
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not least <= int(text) <= most:
        raise InvalidInput(
            key,
            f"'{value}' is not a whole number of days from {least} to {most}",
            code="interval_out_of_range",
        )
    return int(text)


def interval_option(options: Mapping[str, Any]) -> int:
    """The width of an age bracket, in days (option ``interval_days``)."""
    days = days_option(
        options, "interval_days", INTERVAL_DAYS_DEFAULT, least=1, most=INTERVAL_DAYS_MAX
    )
    assert days is not None
    return days


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    key: str  # snake_case, as in JSON and the CSV header
    field: str  # the row attribute
    money: bool


@dataclass(frozen=True, slots=True)
class ReportWarning:
    """A note printed under a report. ``code`` says what kind it is, so that an adapter
    can add its own hint (a command to run, a screen to open); ``text`` says it in words
    that name no adapter."""

    code: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    name: str
    parameters: dict[str, Any]
    columns: tuple[Column, ...]
    rows: tuple[Any, ...]
    totals: dict[str, int | str]
    warnings: tuple[ReportWarning, ...] = ()
    sections: tuple[Report, ...] = ()  # a report's further parts, e.g. later adjustments
    # Rows still to be read, after ``rows``, while the report's reading transaction is open:
    # read once, in order, by whoever writes them out (``render``). ``totals``, and the
    # sections built from the rows, are complete once they are all read, so a renderer
    # reads the rows before the totals and the sections after the report's own rows.
    more: Iterator[Any] | None = None


def all_rows(report: Report) -> Iterator[Any]:
    """Every row of ``report`` (not its sections), reading :attr:`Report.more` as it goes."""
    yield from report.rows
    if report.more is not None:
        yield from report.more


def collected(report: Report) -> Report:
    """``report`` with every row read into ``rows`` and its totals complete: the report's
    own rows first, then each section's (a section may be built from the rows)."""
    if report.more is None and not report.sections:
        return report
    rows = (*report.rows, *report.more) if report.more is not None else report.rows
    sections = tuple(collected(section) for section in report.sections)
    return replace(report, rows=rows, sections=sections, more=None)


def _named_tuple_fields(row_type: type) -> tuple[str, ...] | None:
    """A ``NamedTuple``'s field names; None for any other type."""
    found: tuple[str, ...] | None = (
        getattr(row_type, "_fields", None) if issubclass(row_type, tuple) else None
    )
    return found


def columns_of(row_type: type) -> tuple[Column, ...]:
    """The columns of a row dataclass or ``NamedTuple``, in its fields' order."""
    names = (
        tuple(f.name for f in fields(row_type))
        if is_dataclass(row_type)
        else _named_tuple_fields(row_type)
    )
    if names is None:
        raise TypeError(f"{row_type!r} is not a row dataclass or NamedTuple")
    return tuple(
        Column(key=name.removesuffix(MONEY_SUFFIX), field=name, money=name.endswith(MONEY_SUFFIX))
        for name in names
    )


def local_time(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A naive UTC ``recorded_at`` as the practice's local time (no microseconds)."""
    return instant.replace(tzinfo=dt.UTC).astimezone(zone).replace(microsecond=0)


_HOUR = dt.timedelta(hours=1)


def _hour_of(instant: dt.datetime, zone: ZoneInfo) -> list[Any]:
    """[start, end) of the UTC hour ``instant`` is in, the zone's offset throughout it
    (None: it changes within the hour) and its fold."""
    start = instant.replace(minute=0, second=0, microsecond=0)
    first = start.replace(tzinfo=dt.UTC).astimezone(zone)
    last = (start + _HOUR).replace(tzinfo=dt.UTC).astimezone(zone)
    offset = first.utcoffset()
    steady = offset == last.utcoffset() and first.fold == last.fold
    return [start, start + _HOUR, offset if steady else None, first.fold]


def local_clock(zone: ZoneInfo) -> Callable[[dt.datetime], dt.datetime]:
    """:func:`local_time` for the rows of one report, read in the order recorded: the zone's
    offset is looked up once per hour of UTC time and added, rather than converted row by
    row (the hour of the row before is kept, and rows in order mostly share it). An hour
    with a change of offset in it is converted instant by instant; the result is the same
    either way."""
    known: list[Any] = [dt.datetime.max, dt.datetime.min, None, 0]  # as _hour_of gives

    def convert(instant: dt.datetime) -> dt.datetime:
        if not known[0] <= instant < known[1]:
            known[:] = _hour_of(instant, zone)
        offset = known[2]
        if offset is None:
            return local_time(instant, zone)
        # made whole rather than by replace(), which costs twice as much (tens of thousands
        # of rows)
        at = instant + offset
        local = dt.datetime(
            at.year, at.month, at.day, at.hour, at.minute, at.second, 0, zone, fold=known[3]
        )
        return local

    return convert


def local_dates(zone: ZoneInfo) -> Callable[[dt.datetime], dt.date]:
    """The local date of each of a report's instants, as :func:`local_clock` (its
    ``.date()``), without making the local time."""
    known: list[Any] = [dt.datetime.max, dt.datetime.min, None, 0]  # as _hour_of gives

    def convert(instant: dt.datetime) -> dt.date:
        if not known[0] <= instant < known[1]:
            known[:] = _hour_of(instant, zone)
        offset = known[2]
        if offset is None:
            return local_time(instant, zone).date()
        day: dt.date = (instant + offset).date()
        return day

    return convert


_TICK = dt.timedelta(microseconds=1)


_NO_HOUR = ["~", "", "", None, None]  # known by local_dates_of_text: no hour yet ("~" > any digit)


def local_dates_of_text(zone: ZoneInfo) -> Callable[[str], dt.date]:
    """:func:`local_dates` of instants as SQLite keeps them, its text of naive UTC
    (``2025-03-01 13:04:05.123456``), compared as text: no instant is made but for the
    first of each UTC hour, whose bounds are kept as text with the local midnight in it, if
    any (a zone half an hour off UTC), and the local dates before and after that midnight.
    An hour with a change of offset in it is converted instant by instant."""
    known: list[Any] = list(_NO_HOUR)  # [start, end, midnight, date before, date after]

    def convert(stamp: str) -> dt.date:
        if known[0] <= stamp < known[1]:
            day: dt.date = known[3] if stamp < known[2] else known[4]
            return day
        instant = dt.datetime.fromisoformat(stamp)
        start, end, offset, _fold = _hour_of(instant, zone)
        if offset is None:
            return local_time(instant, zone).date()
        before: dt.date = (start + offset).date()
        after: dt.date = (end + offset - _TICK).date()
        midnight = end if before == after else dt.datetime.combine(after, dt.time()) - offset
        known[:] = [sqlite_value(start), sqlite_value(end), sqlite_value(midnight), before, after]
        return before if instant < midnight else after

    return convert


def row_maker(row_type: type[RowT]) -> Callable[[Iterable[Any]], RowT]:
    """A maker of ``row_type``, a ``NamedTuple``, from its fields' values in order: the same
    row as its constructor makes, without the call's argument handling, for reports of
    tens of thousands of rows (a frozen dataclass takes ten times as long to make)."""
    if _named_tuple_fields(row_type) is None:
        raise TypeError(f"{row_type!r} is not a NamedTuple")
    return cast(Callable[[Iterable[Any]], RowT], partial(tuple.__new__, row_type))


PRESETS = (
    "today",
    "this-week",
    "this-month",
    "last-month",
    "this-quarter",
    "this-financial-year",
    "last-financial-year",
)


def preset_range(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """A named date range ending or containing ``today``; weeks start on Monday and the
    financial year on 1 July (Australia)."""
    if name == "today":
        return today, today
    if name == "this-week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=6)
    if name == "this-month":
        return today.replace(day=1), month_end(today)
    if name == "last-month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if name == "this-quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = today.replace(month=first_month, day=1)
        return start, month_end(start.replace(month=first_month + 2))
    year = today.year if today.month >= 7 else today.year - 1
    if name == "last-financial-year":
        year -= 1
    elif name != "this-financial-year":
        raise ValueError(f"unknown preset {name!r}")
    return dt.date(year, 7, 1), dt.date(year + 1, 6, 30)


def utc_bounds(
    from_date: dt.date | None, to_date: dt.date | None, zone: ZoneInfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local business dates (inclusive) as naive UTC instants [start, end)."""

    def start_of(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    return (
        start_of(from_date) if from_date else None,
        start_of(to_date + dt.timedelta(days=1)) if to_date else None,
    )
