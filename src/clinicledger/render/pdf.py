"""PDF, printed by WeasyPrint from the same HTML templates as the pages: a report from
``templates/report/body.html`` (the tables its page shows) under a header with the
practice's name, what was asked and the moment the ledger is shown as known at; and the
practice's documents (the tax invoice, the payment receipt) from ``templates/pdf/``.

WeasyPrint is imported only when a PDF is printed: a plain command never loads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.records import PracticeRecord
from clinicledger.render.formats import row_count
from clinicledger.render.html import (
    TEMPLATES,
    Formats,
    described,
    environment,
    heading,
    report_view,
)
from clinicledger.reports.base import Report, collected

STYLESHEET = TEMPLATES / "pdf" / "print.css"
WIDE_COLUMNS = 8  # a report with more columns than this is printed across the page
MEDIA_TYPE = "application/pdf"
# The most rows a report's PDF is printed with: some 140 pages, and WeasyPrint takes about
# 10 ms a row (a 3,000-row report took over a minute); a longer one is for CSV.
PDF_ROWS_MAX = 2_000

_environment = environment()


@dataclass(frozen=True, slots=True, kw_only=True)
class Letterhead:
    """Who prints, and when: the practice (its name and ABN head every page), how it shows
    money and dates, and the moment of printing (aware)."""

    practice: PracticeRecord
    formats: Formats
    printed_at: dt.datetime


def html_to_pdf(html: str) -> bytes:
    """Print ``html`` (one of our templates, which load nothing from elsewhere)."""
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]  # loaded to print

    document = HTML(string=html, base_url=str(TEMPLATES))
    printed: bytes = document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])
    return printed


def render_html(template: str, letterhead: Letterhead, **context: Any) -> str:
    return _environment.get_template(template).render(
        practice=letterhead.practice,
        formats=letterhead.formats,
        printed=letterhead.formats.moment(letterhead.printed_at),
        **context,
    )


def report_html(report: Report, letterhead: Letterhead, *, chart: str | None = None) -> str:
    """The report's page for paper: its tables (as on its web page) under a header. One
    of more than :data:`PDF_ROWS_MAX` rows is refused (read in full first)."""
    report = collected(report)
    rows = row_count(report)
    if rows > PDF_ROWS_MAX:
        raise InvalidInput(
            "format",
            f"a PDF holds at most {PDF_ROWS_MAX:,} rows and this report has {rows:,}: "
            "narrow its dates or filters, or take it as CSV",
            code="pdf_too_long",
            rows=rows,
            most=PDF_ROWS_MAX,
        )
    asked = dict(report.parameters)
    given_known_at = asked.pop("as_known_at", None)
    known_at = (
        letterhead.formats.moment(dt.datetime.fromisoformat(given_known_at))
        if given_known_at
        else letterhead.formats.moment(letterhead.printed_at)
    )
    wide = max(len(part.columns) for part in (report, *report.sections)) > WIDE_COLUMNS
    return render_html(
        "pdf/report.html",
        letterhead,
        title=heading(report.name),
        asked=described(asked),
        known_at=known_at,
        view=report_view(report, letterhead.formats),
        chart=Markup(chart) if chart else None,  # our own SVG (render/svg.py)
        wide=wide,
    )


def report_pdf(report: Report, letterhead: Letterhead, *, chart: str | None = None) -> bytes:
    """``report`` as PDF; ``chart`` an SVG drawn from it (render/svg.py), printed above."""
    return html_to_pdf(report_html(report, letterhead, chart=chart))
