"""Renderers shared by every report: the same rows as a table, CSV or JSON
(:mod:`.formats`), HTML and PDF (:mod:`.html`, :mod:`.pdf`), and charts (:mod:`.charts`,
PNG; :mod:`.svg`); the files they go to (:mod:`.files`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from clinicledger.domain.errors import InvalidInput
from clinicledger.render import formats
from clinicledger.render.files import Output, write_whole
from clinicledger.reports.base import Report, collected

if TYPE_CHECKING:
    from clinicledger.render.pdf import Letterhead

FORMATS = ("table", "csv", "json", "pdf")  # what a report is shown as


def write(
    report: Report,
    format_: str,
    output: str | None = None,
    *,
    chart: str | None = None,
    letterhead: Letterhead | None = None,
    drawn: str | None = None,
) -> None:
    """Write ``report`` as ``format_`` (table, csv, json or pdf) to the file ``output``, or
    to standard output, and with ``chart`` also as a chart to that PNG file: every file
    whole or none (:func:`files.write_whole`). A table is titled with what was asked; one of
    up to :data:`formats.LARGE_TABLE_ROWS` rows written to the screen is fitted to its
    width. A PDF is headed by ``letterhead`` and shows ``drawn`` (an SVG chart) above the
    tables; it goes to a file or a pipe, never to a terminal.

    CSV and JSON are written row by row as a streamed report's rows are read
    (:attr:`Report.more`), into the file staged beside ``output``: a report of any size
    takes the memory of a few rows, and one that fails part-way leaves no file."""
    if chart is not None or format_ in ("table", "pdf"):
        report = collected(report)  # a chart, a table's widths, a PDF: every row at once
    if format_ == "pdf":
        if letterhead is None:
            raise ValueError("a PDF needs its letterhead")
        if output is None and sys.stdout.isatty():
            raise InvalidInput(
                "output",
                "cannot write a PDF to the terminal: name a file to write it to",
                code="output_unwritable",
            )
        from clinicledger.render.pdf import report_pdf  # WeasyPrint: only when printing

        printed = report_pdf(report, letterhead, chart=drawn)
        written = [] if output is None else [Output(path=output, data=printed, field="output")]
        if chart is not None:
            from clinicledger.render.charts import aging_chart

            written.append(Output(path=chart, data=aging_chart(report), field="chart"))
        write_whole(written)
        if output is None:
            sys.stdout.buffer.write(printed)
            sys.stdout.flush()
        return
    write_text: Callable[[TextIO], None]
    if format_ == "table":
        small = formats.row_count(report) <= formats.LARGE_TABLE_ROWS
        width = screen_width() if small and output is None else None
        text = formats.to_text(report, width=width)

        def write_text(out: TextIO) -> None:
            out.write(text)

    elif format_ == "json":

        def write_text(out: TextIO) -> None:
            formats.write_json(report, out)
            out.write("\n")

    elif format_ == "csv":

        def write_text(out: TextIO) -> None:
            formats.write_csv(report, out)

    else:
        raise ValueError(f"no renderer for the format {format_!r}")
    written = []
    if chart is not None:
        from clinicledger.render.charts import aging_chart  # matplotlib: only when drawn

        written.append(Output(path=chart, data=aging_chart(report), field="chart"))
    if output is not None:
        written.append(Output(path=output, text=write_text, field="output"))
    write_whole(written)
    if output is None:
        write_text(sys.stdout)


def screen_width() -> int | None:
    """The width to fit a table to: ``$COLUMNS`` when set (a terminal's, or one given for a
    pipe: ``COLUMNS=80 clinicledger report ... | less``), else a terminal's own; None (no
    limit) for a pipe or a file without it."""
    given = os.environ.get("COLUMNS", "")
    if given.isascii() and given.isdigit() and int(given) > 0:
        return int(given)
    if sys.stdout.isatty():
        return os.get_terminal_size(sys.stdout.fileno()).columns
    return None
