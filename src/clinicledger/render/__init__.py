"""Renderers shared by every report: the same rows as a terminal table, plain text, CSV or
JSON (:mod:`.formats`), and charts (:mod:`.charts`)."""

from __future__ import annotations

import sys

from clinicledger.render import formats
from clinicledger.reports.base import Report


def write(report: Report, format_: str, output: str | None = None) -> None:
    """Write ``report`` as ``format_`` (table, csv or json) to the file ``output``, or to
    standard output."""
    if format_ == "table" and formats.row_count(report) <= formats.LARGE_TABLE_ROWS:
        from rich.console import Console

        if output is None:
            Console().print(formats.to_table(report))
            return
        with open(output, "w", encoding="utf-8") as handle:
            Console(file=handle, width=200).print(formats.to_table(report))
        return
    if format_ == "table":
        text = formats.to_text(report)
    elif format_ == "json":
        text = formats.to_json(report) + "\n"
    else:
        text = formats.to_csv(report)
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
