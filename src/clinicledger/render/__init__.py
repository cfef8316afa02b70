"""Renderers shared by every report: the same rows as a table, CSV or JSON
(:mod:`.formats`), and charts (:mod:`.charts`); the files they go to (:mod:`.files`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

from clinicledger.render import formats
from clinicledger.render.files import Output, write_whole
from clinicledger.reports.base import Report, collected

FORMATS = ("table", "csv", "json")  # what a report is shown as


def write(
    report: Report, format_: str, output: str | None = None, *, chart: str | None = None
) -> None:
    """Write ``report`` as ``format_`` (table, csv or json) to the file ``output``, or to
    standard output, and with ``chart`` also as a chart to that PNG file: every file whole
    or none (:func:`files.write_whole`). A table is titled with what was asked; one of up to
    :data:`formats.LARGE_TABLE_ROWS` rows written to the screen is fitted to its width.

    CSV and JSON are written row by row as a streamed report's rows are read
    (:attr:`Report.more`), into the file staged beside ``output``: a report of any size
    takes the memory of a few rows, and one that fails part-way leaves no file."""
    if chart is not None or format_ == "table":
        report = collected(report)  # a chart, a table's widths: every row at once
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
