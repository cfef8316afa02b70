"""Render a :class:`Report` as a terminal table, CSV or JSON, from the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import textwrap
from typing import Any, TextIO

from clinicledger.domain.money import format_cents
from clinicledger.reports.base import Column, Report, all_rows, collected


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
    report = collected(report)
    data: dict[str, Any] = {
        "report": report.name,
        "parameters": report.parameters,
        "columns": [c.key for c in report.columns],
        "rows": [row_dict(report, row) for row in report.rows],
        "totals": totals_dict(report),
        "warnings": [warning.text for warning in report.warnings],
    }
    if report.sections:
        data["sections"] = [to_json_data(section) for section in report.sections]
    return data


def to_json(report: Report) -> str:
    out = io.StringIO()
    write_json(report, out)
    return out.getvalue()


def write_json(report: Report, out: TextIO) -> None:
    """:func:`to_json_data` as JSON text, written to ``out`` row by row as the rows are read
    (a streamed report's rows are never all in memory); the same text as ``json.dumps`` of
    it. The totals and the sections follow the rows, so they are complete when written."""

    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    head = dumps(
        {
            "report": report.name,
            "parameters": report.parameters,
            "columns": [c.key for c in report.columns],
        }
    )
    out.write(head[:-1] + ', "rows": [')
    for n, row in enumerate(all_rows(report)):
        out.write((", " if n else "") + dumps(row_dict(report, row)))
    tail = {
        "totals": totals_dict(report),
        "warnings": [warning.text for warning in report.warnings],
    }
    out.write("], " + dumps(tail)[1:-1])
    if report.sections:
        out.write(', "sections": [')
        for n, section in enumerate(report.sections):
            if n:
                out.write(", ")
            write_json(section, out)
        out.write("]")
    out.write("}")


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV
# Injection"): a patient named "=HYPERLINK(...)" would be a link, or worse, in the
# practice's spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, raw: Any, column: Column) -> Any:
    """A cell of a CSV file: text starting like a formula gets a ``'`` in front, so that a
    spreadsheet shows it as text; money (``-40.00``), counts, dates and times are written
    as they are (``raw`` is the row's value, before :func:`cell` made it text)."""
    if value is None:
        return ""
    if column.money or not isinstance(raw, str | tuple):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(report: Report) -> str:
    out = io.StringIO()
    write_csv(report, out)
    return out.getvalue()


def write_csv(report: Report, out: TextIO) -> None:
    """A header row, ISO dates, plain decimals; further sections follow after a blank line,
    each with its own header, so a spreadsheet opens the file as-is. Text that a
    spreadsheet would take for a formula is written after a ``'`` (:func:`csv_cell`).
    Written to ``out`` row by row as the rows are read."""
    writer = csv.writer(out, lineterminator="\n")
    for n, part in enumerate((report, *report.sections)):
        if n:
            writer.writerow([])
            writer.writerow([f"# {part.name}"])
        columns = part.columns
        writer.writerow([c.key for c in columns])
        for row in all_rows(part):
            writer.writerow(
                [
                    csv_cell(cell(raw, c), raw, c)
                    for c in columns
                    for raw in (getattr(row, c.field),)
                ]
            )


# Up to this many rows a table is fitted to the terminal; a longer one (the bench practice
# has 39,518 debtors) is printed a line per row at full width, for a pager or a file.
LARGE_TABLE_ROWS = 500
GAP = 2  # spaces between columns


def row_count(report: Report) -> int:
    """Rows of the report and of all its sections (read: :func:`collected`)."""
    return sum(len(part.rows) for part in (report, *report.sections))


def _totals_text(totals: dict[str, Any]) -> str:
    return "totals: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in totals.items())


def title(report: Report) -> str:
    """What was asked, in words: the report, its period or date, its filters, and the
    moment it was known at."""
    p = report.parameters
    said = []
    if p.get("from_date") or p.get("to_date"):
        said.append(f"{p.get('from_date', '...')} to {p.get('to_date', '...')}")
    if p.get("as_of"):
        said.append(f"as of {p['as_of']}")
    said += [
        f"{key} {p[key]}" for key in ("patient", "payer", "provider", "location") if p.get(key)
    ]
    if p.get("as_known_at"):
        said.append(f"as known at {p['as_known_at']}")
    return ", ".join([report.name, *said])


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=0)


def _widths(
    header: list[str], body: list[list[str]], width: int | None, whole: list[bool]
) -> list[int]:
    """Each column's width: as wide as its widest cell and header when that fits in
    ``width`` (or ``width`` is None). Otherwise a column of whole words (figures, dates,
    ids, codes) keeps its widest cell and only its header wraps; a column of text (names,
    descriptions) narrows down to its longest word, the room left shared out by need. Too
    narrow even for that: the lines get longer, and nothing is cut."""
    columns = [[row[n] for row in body] for n in range(len(header))]
    natural = [
        max([len(h), *(len(c) for c in cells)]) for h, cells in zip(header, columns, strict=True)
    ]
    if width is None or sum(natural) + GAP * (len(natural) - 1) <= width:
        return natural
    least = [
        max(max((len(c) for c in cells), default=0), _longest_word([h]))
        if fixed
        else max(_longest_word(cells), _longest_word([h]), 1)
        for h, cells, fixed in zip(header, columns, whole, strict=True)
    ]
    widths = list(least)
    spare = width - sum(widths) - GAP * (len(widths) - 1)
    while spare > 0:
        wants = [natural[n] - widths[n] for n in range(len(widths))]
        n = max(range(len(widths)), key=lambda k: wants[k])
        if wants[n] <= 0:
            break
        widths[n] += 1
        spare -= 1
    return widths


def _lines(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def _block(cells: list[str], widths: list[int], right: list[bool]) -> list[str]:
    """One row (or the header) as lines: each cell wrapped at its spaces to its width."""
    wrapped = [_lines(c, w) for c, w in zip(cells, widths, strict=True)]
    height = max(len(w) for w in wrapped)
    out = []
    for k in range(height):
        parts = [
            (w[k] if k < len(w) else "").rjust(width)
            if r
            else (w[k] if k < len(w) else "").ljust(width)
            for w, width, r in zip(wrapped, widths, right, strict=True)
        ]
        out.append((" " * GAP).join(parts).rstrip())
    return out


def _is_figure(values: list[Any]) -> bool:
    """Dates and times: never broken, although a time is shown with a space in it."""
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, dt.date) for v in present)


def _is_count(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, int) and not isinstance(v, bool) for v in present)


def to_text(report: Report, *, width: int | None = None) -> str:
    """The table format: each part's title (the first says what was asked), header and
    rows, and its totals line, then the warnings. Amounts, counts and ages are
    right-aligned. Within ``width`` (a terminal's), text wraps and figures never do."""
    report = collected(report)  # every cell is measured before the first is written
    lines: list[str] = []
    for n, part in enumerate((report, *report.sections)):
        header = [c.key.replace("_", " ") for c in part.columns]
        body = [
            ["" if v is None else str(v) for v in row_dict(part, row).values()] for row in part.rows
        ]
        values = [[getattr(row, c.field) for row in part.rows] for c in part.columns]
        right = [c.money or _is_count(v) for c, v in zip(part.columns, values, strict=True)]
        whole = [
            shifted or _is_figure(v) or all(" " not in cells[k] for cells in body)
            for k, (shifted, v) in enumerate(zip(right, values, strict=True))
        ]
        widths = _widths(header, body, width, whole)
        lines.append(title(part) if n == 0 else part.name)
        lines += _block(header, widths, right)
        lines.append((" " * GAP).join("-" * w for w in widths))
        for row in body:
            lines += _block(row, widths, right)
        totals = totals_dict(part)
        if totals:
            lines += _prose(_totals_text(totals), width)
        lines.append("")
    for warning in report.warnings:
        lines += _prose(f"warning: {warning.text}", width)
    return "\n".join(lines).rstrip("\n") + "\n"


def _prose(text: str, width: int | None) -> list[str]:
    return [text] if width is None else _lines(text, width)
