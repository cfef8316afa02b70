"""CSV files a practice brings from its old program: master data and opening balances.

Each file has a header row. Every problem in a file is collected (line number and column)
before the file is rejected whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinicledger.domain.choices import PayerKind, check_choice, parse_choice
from clinicledger.domain.errors import ImportProblem, ImportRejected, InvalidInput
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.text import check_abn, check_code, check_name

Parser = Callable[[str], Any]


def _text(value: str) -> str:
    return value


def _optional(parse: Parser) -> Parser:
    return lambda value: parse(value) if value.strip() else None


def _bool(value: str) -> bool:
    word = value.strip().lower()
    if word in ("", "no", "n", "false", "0"):
        return False
    if word in ("yes", "y", "true", "1"):
        return True
    raise ValueError(f"'{value}' is not yes or no")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else _bad()
    except ValueError:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD)") from None


def _bad() -> dt.date:
    raise ValueError


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: Parser
    required: bool = True


def _code(field: str) -> Parser:
    return lambda value: check_code(value.strip(), field=field)


def _name(field: str) -> Parser:
    return lambda value: check_name(value, field=field)


SCHEMAS: dict[str, tuple[Column, ...]] = {
    "patients": (Column("code", _code("code")), Column("name", _name("name"))),
    "providers": (
        Column("code", _code("code")),
        Column("name", _name("name")),
        Column("company_name", _optional(_name("company_name")), required=False),
        Column(
            "company_abn", _optional(lambda v: check_abn(v, field="company_abn")), required=False
        ),
        Column("company_gst_registered", _bool, required=False),
    ),
    "payers": (
        Column("code", _code("code")),
        Column("name", _name("name")),
        Column("kind", lambda v: parse_choice(PayerKind, v, field="kind").value),
    ),
    "items": (
        Column("code", _code("code")),
        Column("description", _name("description")),
        Column("fee", lambda v: cents_from_text(v, field="fee")),
        Column("taxable", _bool, required=False),
    ),
    "opening-balances": (
        Column("party", lambda v: _party_kind(v)),
        Column("code", _code("code")),
        Column("date", _date),
        Column("location", _code("location")),
        Column("amount", lambda v: cents_from_text(v, field="amount", allow_negative=True)),
        Column("note", _optional(_text), required=False),
    ),
}

# The value a column stores under, where it differs from the column's name.
STORED_AS = {"fee": "fee_cents", "amount": "amount_cents"}


def _party_kind(value: str) -> str:
    return check_choice(value, ("patient", "payer"), field="party", either=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    line: int  # line number in the file, header = 1
    values: dict[str, Any]


ENCODINGS = ("utf-8", "cp1252")


def parse_csv(
    kind: str, name: str, data: bytes, *, encoding: str = "utf-8"
) -> tuple[tuple[Row, ...], tuple[ImportProblem, ...]]:
    """The good rows of a CSV file of ``kind`` and the problems of the others, so that the
    importer can add what it finds and reject the file once, listing everything. A file
    that cannot be read row by row (not in its ``encoding``, a bad header, no rows) is
    rejected here. UTF-8 may start with a byte-order mark; ``cp1252`` is Windows-1252, what
    many spreadsheets save as "CSV"."""
    kind = check_choice(kind, tuple(SCHEMAS), field="kind")
    encoding = check_choice(encoding, ENCODINGS, field="encoding")
    columns = SCHEMAS[kind]
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if encoding == "utf-8" else encoding
        problem = ImportProblem(  # "encoding": another encoding may read it
            line=1,
            column="(file)",
            reason=f"not {label} text: {exc.reason}",
            code="encoding" if encoding == "utf-8" else None,
        )
        raise ImportRejected(name, (problem,)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    problems: list[ImportProblem] = []
    known = {c.name for c in columns}
    for column in columns:
        if column.required and column.name not in header:
            problems.append(
                ImportProblem(line=1, column=column.name, reason="required column is missing")
            )
    for extra in sorted(set(header) - known):
        problems.append(
            ImportProblem(
                line=1,
                column=extra or "(blank)",
                reason=f"unknown column (expected: {', '.join(known)})",
            )
        )
    if problems:
        raise ImportRejected(name, tuple(problems))
    rows: list[Row] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                ImportProblem(
                    line=line,
                    column="(row)",
                    reason=(f"has {len(cells)} cells; the header has {len(header)}"),
                )
            )
            continue
        raw = dict(zip(header, cells, strict=True))
        values: dict[str, Any] = {}
        problems_before = len(problems)
        for column in columns:
            cell = raw.get(column.name, "")
            try:
                values[STORED_AS.get(column.name, column.name)] = column.parse(cell)
            except InvalidInput as exc:
                problems.append(ImportProblem(line=line, column=column.name, reason=exc.reason))
            except ValueError as exc:
                problems.append(
                    ImportProblem(
                        line=line, column=column.name, reason=str(exc) or f"'{cell}' is not valid"
                    )
                )
        if len(problems) == problems_before:
            rows.append(Row(line=line, values=values))
    if not rows and not problems:
        raise ImportRejected(
            name, (ImportProblem(line=2, column="(file)", reason="the file has no rows"),)
        )
    return tuple(rows), tuple(problems)
