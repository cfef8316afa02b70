"""Render a :class:`Report` as a terminal table, CSV or JSON, from the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from clinicledger.domain.money import format_cents
from clinicledger.reports.base import Column, Report


def cell(value: Any, column: Column | None = None, *, money: bool = False) -> Any:
    """A value as plain text for CSV and JSON: decimals for money, ISO for dates."""
    if value is None:
        return None
    if (column is not None and column.money) or money:
        return format_cents(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "; ".join(str(cell(v)) for v in value)
    return value


def row_dict(report: Report, row: Any) -> dict[str, Any]:
    return {c.key: cell(getattr(row, c.field), c) for c in report.columns}


def totals_dict(report: Report) -> dict[str, Any]:
    money_keys = {c.key for c in report.columns if c.money}
    return {
        key.removesuffix("_cents"): cell(value, money=key.endswith("_cents") or key in money_keys)
        for key, value in report.totals.items()
    }


def to_json_data(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = {
        "report": report.name,
        "parameters": report.parameters,
        "columns": [c.key for c in report.columns],
        "rows": [row_dict(report, row) for row in report.rows],
        "totals": totals_dict(report),
        "warnings": list(report.warnings),
    }
    if report.sections:
        data["sections"] = [to_json_data(section) for section in report.sections]
    return data


def to_json(report: Report) -> str:
    return json.dumps(to_json_data(report), ensure_ascii=False)


def to_csv(report: Report) -> str:
    """A header row, ISO dates, plain decimals; further sections follow after a blank line,
    each with its own header, so a spreadsheet opens the file as-is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for n, part in enumerate((report, *report.sections)):
        if n:
            writer.writerow([])
            writer.writerow([f"# {part.name}"])
        writer.writerow([c.key for c in part.columns])
        for row in part.rows:
            writer.writerow(["" if v is None else v for v in row_dict(part, row).values()])
    return out.getvalue()


# Past this many rows a terminal table is plain aligned text (:func:`to_text`): Rich
# measures every cell, which took 30 s for the 39,518 debtors of the bench practice.
LARGE_TABLE_ROWS = 500


def row_count(report: Report) -> int:
    """Rows of the report and of all its sections."""
    return sum(len(part.rows) for part in (report, *report.sections))


def _totals_text(totals: dict[str, Any]) -> str:
    return "totals: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in totals.items())


def _aligned(cells: list[str], widths: list[int], right: list[bool]) -> str:
    padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True))
    return "  ".join(padded).rstrip()


def to_text(report: Report) -> str:
    """The table format as plain aligned columns, for reports too long for
    :func:`to_table`: each part's title, header and rows (amounts right-aligned) and its
    totals line, then the warnings."""
    lines: list[str] = []
    for part in (report, *report.sections):
        header = [c.key.replace("_", " ") for c in part.columns]
        body = [
            ["" if v is None else str(v) for v in row_dict(part, row).values()] for row in part.rows
        ]
        widths = [max([len(h), *(len(r[n]) for r in body)]) for n, h in enumerate(header)]
        right = [c.money for c in part.columns]
        lines += [part.name, _aligned(header, widths, right), "  ".join("-" * w for w in widths)]
        lines += [_aligned(r, widths, right) for r in body]
        totals = totals_dict(part)
        if totals:
            lines.append(_totals_text(totals))
        lines.append("")
    lines += [f"warning: {warning}" for warning in report.warnings]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_table(report: Report) -> Any:
    """A Rich renderable: the rows, a totals line, then any sections and warnings."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    for part in (report, *report.sections):
        table = Table(title=part.name, show_lines=False)
        for column in part.columns:
            table.add_column(
                column.key.replace("_", " "), justify="right" if column.money else "left"
            )
        for row in part.rows:
            table.add_row(*("" if v is None else str(v) for v in row_dict(part, row).values()))
        parts.append(table)
        totals = totals_dict(part)
        if totals:
            parts.append(Text(_totals_text(totals)))
    for warning in report.warnings:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    return Group(*parts)
