"""A CSV file exported by another program, to compare a patient's lines against it.

Only three columns are read, named by the caller: a date, an amount and (optionally) a
description; every other column is ignored. Dates are ISO (``2024-06-03``, or an ISO date
and time, whose date is taken); amounts are decimals with at most two places, optionally
with a currency sign, thousands separators or accounting parentheses for a negative
(``$1,234.50``, ``(12.00)``). Every problem in the file is collected, with its line number
and column, before the file is rejected whole. Every cell, those of the columns not read too,
is read through the one rule for text (:func:`clinicledger.domain.text.not_allowed`), and
a cell past the csv module's limit is refused by its line and column
(:class:`clinicledger.formats.csv_masters.CsvRecords`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from clinicledger.domain.errors import ImportProblem, ImportRejected, InvalidInput
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.text import check_plain, date_from_text, not_allowed
from clinicledger.formats.csv_masters import (
    CsvRecords,
    check_file,
    header_problems,
    unreadable_problem,
)

MAX_ROWS = 100_000  # a bound on a file that is one patient's history
# ASCII digits only ([0-9], not \d, which also takes Arabic-Indic and fullwidth digits).
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_AMOUNT_TEXT = re.compile(
    r"(?P<open>\()?\s*(?P<sign>[-+])?\s*\$?\s*(?P<sign_after>[-+])?\s*(?P<number>[0-9.,]+)\s*"
    r"(?P<close>\))?"
)
_TIME = re.compile(r"[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareLine:
    line: int  # line number in the file; the header is line 1
    date: dt.date
    amount_cents: int
    description: str


def parse_compare_csv(
    name: str,
    data: bytes,
    *,
    date_column: str = "date",
    amount_column: str = "amount",
    description_column: str | None = "description",
    description_required: bool = False,
) -> tuple[CompareLine, ...]:
    """The rows of another program's export, or ``ImportRejected`` listing every problem.

    The description column may be absent unless ``description_required`` (the caller named
    it); header names match without regard to case or surrounding spaces. The file's name
    and the column names are refused (as ``compare``, ``compare_date_column`` ...) if they
    hold a character no field takes."""
    check_file(name, data, field="compare")
    wanted = {"date": date_column, "amount": amount_column}
    if description_column is not None:
        wanted["description"] = description_column
    for role, column in wanted.items():
        check_plain(column, field=f"compare_{role}_column")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            name, (ImportProblem(line=1, column="(file)", reason=f"not UTF-8 text: {exc.reason}"),)
        ) from None
    records = CsvRecords(text)
    lines = iter(records)
    first = next(lines, None)
    header_cells = [] if first is None else first[1]
    header = [h.strip().casefold() for h in header_cells]
    problems = header_problems(header_cells)
    if first is None and records.unreadable is not None:  # the header itself
        problems.append(unreadable_problem(records.unreadable, [], {}))
    if problems:
        raise ImportRejected(name, tuple(problems))
    index: dict[str, int] = {}
    for role, column in wanted.items():
        key = column.strip().casefold()
        found = [n for n, h in enumerate(header) if h == key]
        if len(found) > 1:
            problems.append(ImportProblem(line=1, column=column, reason="column appears twice"))
        elif found:
            index[role] = found[0]
        elif role != "description" or description_required:
            shown = ", ".join(h for h in header if h) or "none"
            problems.append(
                ImportProblem(
                    line=1, column=column, reason=f"required column is missing (found: {shown})"
                )
            )
    if problems:
        raise ImportRejected(name, tuple(problems))
    # Columns as problems name them: the caller's name for a column read, the header's
    # for another.
    named = [h.strip() for h in header_cells]
    for role, n in index.items():
        named[n] = wanted[role]

    rows: list[CompareLine] = []
    for line, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(
                ImportProblem(line=line, column="(file)", reason=f"more than {MAX_ROWS} rows")
            )
            break
        if any(n >= len(cells) for n in index.values()):
            problems.append(
                ImportProblem(
                    line=line,
                    column="(row)",
                    reason=f"has {len(cells)} cells; the header has {len(header)}",
                )
            )
            continue
        refused = [
            ImportProblem(
                line=line, column=named[n] if n < len(named) else f"(column {n + 1})", reason=why
            )
            for n, cell in enumerate(cells)
            if (why := not_allowed(cell)) is not None
        ]
        if refused:
            problems += refused
            continue
        row = _row(line, cells, index, wanted, problems)
        if row is not None:
            rows.append(row)
    if records.unreadable is not None:
        problems.append(unreadable_problem(records.unreadable, named, {}))
    if problems:
        raise ImportRejected(name, tuple(problems))
    return tuple(rows)


def _row(
    line: int,
    cells: list[str],
    index: dict[str, int],
    names: dict[str, str],
    problems: list[ImportProblem],
) -> CompareLine | None:
    date_text = cells[index["date"]]
    amount_text = cells[index["amount"]]
    description = " ".join(cells[index["description"]].split()) if "description" in index else ""
    date: dt.date | None = None
    amount: int | None = None
    try:
        date = parse_date(date_text)
    except ValueError as exc:
        problems.append(ImportProblem(line=line, column=names["date"], reason=str(exc)))
    try:
        amount = parse_amount(amount_text, field=names["amount"])
    except InvalidInput as exc:
        problems.append(ImportProblem(line=line, column=names["amount"], reason=exc.reason))
    if date is None or amount is None:
        return None
    return CompareLine(line=line, date=date, amount_cents=amount, description=description)


def parse_date(text: str) -> dt.date:
    """``2024-06-03``, or an ISO date and time (``2024-06-03 10:00``): its date."""
    raw = text.strip()
    if len(raw) == 10 or _TIME.fullmatch(raw[10:]):
        try:
            return date_from_text(raw[:10])
        except ValueError:
            pass
    raise ValueError(f"'{raw}' is not a date (YYYY-MM-DD)")


def parse_amount(text: str, *, field: str) -> int:
    """Cents of ``30.00``, ``-30``, ``$1,234.50``, ``-$5.00``, ``(12.00)``; at most two
    decimal places, one sign at most."""
    original = text.strip()
    if not original:
        raise InvalidInput(field, "an amount is required, e.g. 30.00", code="amount_malformed")
    found = _AMOUNT_TEXT.fullmatch(original)
    try:
        if found is None or (found["open"] is None) != (found["close"] is None):
            raise ValueError
        signs = [s for s in (found["open"], found["sign"], found["sign_after"]) if s]
        if len(signs) > 1:
            raise ValueError
        number = found["number"]
        if _THOUSANDS.fullmatch(number):
            number = number.replace(",", "")
        cents = cents_from_text(number, field=field, allow_zero=True)
    except (InvalidInput, ValueError):
        raise InvalidInput(
            field,
            f"'{original}' is not an amount; write it like 30.00 (at most two decimal places)",
            code="amount_malformed",
        ) from None
    return -cents if signs and signs[0] in ("(", "-") else cents
