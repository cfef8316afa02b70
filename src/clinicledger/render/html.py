"""A report as HTML: the rows of a :class:`Report` made into cells that a page and a PDF
show alike (one template, ``templates/report/body.html``, included by the report's page
and by its PDF), with money, dates and moments in the practice's locale (Babel): money in
its currency with negatives in the accounting style (``($30.00)``), dates as the practice
reads them, moments in its time zone.

The web's Jinja2 environment loads :data:`TEMPLATES` beside its own and uses the same
:class:`Formats`, so that ``| money`` and ``| day`` read the same on a page and on paper.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from clinicledger.reports.base import Report

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class Formats:
    locale: str
    currency: str
    zone: ZoneInfo

    def money(self, cents: int) -> str:
        return format_currency(
            Decimal(cents).scaleb(-2), self.currency, locale=self.locale, format_type="accounting"
        )

    def day(self, value: dt.date | None) -> str:
        return "" if value is None else format_date(value, "medium", locale=self.locale)

    def moment(self, value: dt.datetime | None) -> str:
        """A stored moment (naive UTC, or aware) in the practice's time zone."""
        if value is None:
            return ""
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return format_datetime(aware, "medium", tzinfo=self.zone, locale=self.locale)

    def count(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)


@jinja2.pass_context
def _money(context: Any, cents: int) -> str:
    formats: Formats = context["formats"]
    return formats.money(cents)


@jinja2.pass_context
def _day(context: Any, value: dt.date | None) -> str:
    formats: Formats = context["formats"]
    return formats.day(value)


@jinja2.pass_context
def _moment(context: Any, value: dt.datetime | None) -> str:
    formats: Formats = context["formats"]
    return formats.moment(value)


def _abn(abn: str) -> str:
    """An ABN as it is printed: 11 digits in groups of 2, 3, 3 and 3."""
    return f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"


FILTERS = {"money": _money, "day": _day, "moment": _moment, "abn": _abn}


def environment(*folders: Path) -> jinja2.Environment:
    """An autoescaped environment over ``folders`` then :data:`TEMPLATES`, with the
    ``money``, ``day`` and ``moment`` filters (each reads ``formats`` from the context) and
    ``abn``."""
    made = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a name a template expects and is not given is a bug
        trim_blocks=True,
        lstrip_blocks=True,
    )
    made.filters.update(FILTERS)
    return made


# ---------------------------------------------------------------- a report as cells


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    kind: str  # "money", "count", "date", "text": how it is aligned and styled
    negative: bool = False

    @property
    def num(self) -> bool:
        return self.kind in ("money", "count")


@dataclass(frozen=True, slots=True)
class Part:
    """One table of a report: the report itself or one of its sections."""

    name: str
    headers: tuple[Cell, ...]  # the header text, aligned as the column's cells
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[tuple[str, Cell], ...]  # (label, amount)
    more: int = 0  # rows left out (a page shows the first few; its CSV and PDF hold all)


@dataclass(frozen=True, slots=True)
class ReportView:
    name: str
    parts: tuple[Part, ...]
    warnings: tuple[str, ...]


_BRACKET = re.compile(r"days_(\d+)_(\d+|plus)")


def heading(key: str) -> str:
    """A column's key (or a report's name) as a header: ``amount_applied`` -> ``Amount
    applied``, ``aging-trend`` -> ``Aging trend``, an age bracket ``days_30_59`` -> ``Days
    30-59`` and ``days_90_plus`` -> ``Days 90+``."""
    bracket = _BRACKET.fullmatch(key)
    if bracket is not None:
        first, last = bracket.groups()
        return f"Days {first}+" if last == "plus" else f"Days {first}-{last}"
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _cell(value: Any, money: bool, formats: Formats) -> Cell:
    if value is None:
        return Cell("", "money" if money else "text")
    if money:
        cents = int(value)
        return Cell(formats.money(cents), "money", cents < 0)
    if isinstance(value, bool):
        return Cell("yes" if value else "no", "text")
    if isinstance(value, int):
        return Cell(formats.count(value), "count", value < 0)
    if isinstance(value, dt.datetime):
        return Cell(formats.moment(value), "date")
    if isinstance(value, dt.date):
        return Cell(formats.day(value), "date")
    if isinstance(value, tuple):
        return Cell("; ".join(str(v) for v in value), "text")
    return Cell(str(value), "text")


def _part(report: Report, formats: Formats, limit: int | None) -> Part:
    money_keys = {c.key for c in report.columns if c.money}
    shown = report.rows if limit is None else report.rows[:limit]
    rows = tuple(
        tuple(_cell(getattr(row, c.field), c.money, formats) for c in report.columns)
        for row in shown
    )
    kinds = [
        "money" if c.money else next((r[n].kind for r in rows if r[n].text), "text")
        for n, c in enumerate(report.columns)
    ]
    headers = tuple(
        Cell(heading(c.key), kind) for c, kind in zip(report.columns, kinds, strict=True)
    )
    totals = []
    for key, value in report.totals.items():
        label = key.removesuffix("_cents")
        money = key.endswith("_cents") or key in money_keys
        totals.append((heading(label), _cell(value, money and not isinstance(value, str), formats)))
    return Part(
        name=report.name,
        headers=headers,
        rows=rows,
        totals=tuple(totals),
        more=len(report.rows) - len(shown),
    )


def report_view(report: Report, formats: Formats, *, limit: int | None = None) -> ReportView:
    """The cells of ``report`` and of each of its sections, formatted as the practice reads
    them (the same rows as its CSV and JSON); with ``limit``, at most that many rows of
    each part (a page of a report of 40,000 debtors), the totals still of them all."""
    return ReportView(
        name=report.name,
        parts=tuple(_part(part, formats, limit) for part in (report, *report.sections)),
        warnings=tuple(w.text for w in report.warnings),
    )


def described(parameters: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """What was asked, as (label, value) pairs for a header: the report's own parameters
    as its JSON shows them."""
    return tuple((heading(key), str(value)) for key, value in parameters.items())
