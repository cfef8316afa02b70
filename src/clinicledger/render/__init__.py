"""Renderers shared by every report: the same rows as a table, CSV or JSON
(:mod:`.formats`), and charts (:mod:`.charts`)."""

from __future__ import annotations

import shutil
import sys

from clinicledger.render import formats
from clinicledger.reports.base import Report

FORMATS = ("table", "csv", "json")  # what a report is shown as


def write(report: Report, format_: str, output: str | None = None) -> None:
    """Write ``report`` as ``format_`` (table, csv or json) to the file ``output``, or to
    standard output. A table of up to :data:`formats.LARGE_TABLE_ROWS` rows is titled
    with what was asked and, on a terminal, fitted to its width."""
    if format_ == "table":
        small = formats.row_count(report) <= formats.LARGE_TABLE_ROWS
        fitted = small and output is None and sys.stdout.isatty()
        width = shutil.get_terminal_size().columns if fitted else None
        text = formats.to_text(report, width=width, titled=small)
    elif format_ == "json":
        text = formats.to_json(report) + "\n"
    elif format_ == "csv":
        text = formats.to_csv(report)
    else:
        raise ValueError(f"no renderer for the format {format_!r}")
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
