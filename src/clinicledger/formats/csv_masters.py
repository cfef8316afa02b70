"""CSV files a practice brings from its old program: master data and opening balances.

Each file has a header row. Every problem in a file is collected (line number and column)
before the file is rejected whole.

Every cell, the header's too, is read through the one rule of
:func:`clinicledger.domain.text.not_allowed` (no control characters, bidirectional
controls, separators or surrogates), and is bounded: a text column by its length in the
schema, any other by :data:`MAX_VALUE_LENGTH`, and any cell at all by the csv module's own
limit (:func:`csv.field_size_limit`, 131072 characters by default), past which it cannot
be read; a file is at most :data:`MAX_FILE_BYTES`, and no more than that is ever read
from one (:func:`read_file`). :class:`CsvRecords` is also how
``compare_csv`` reads another program's export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from clinicledger.domain.choices import PayerKind, check_choice, parse_choice
from clinicledger.domain.errors import ImportProblem, ImportRejected, InvalidInput
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.text import (
    MAX_CODE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    check_abn,
    check_code,
    check_name,
    check_plain,
    check_text,
    date_from_text,
    not_allowed,
    shown,
)

# A file read whole, decoded, then split into cells: a million patients' "code,name" rows
# are some 40 MB.
MAX_FILE_BYTES = 64 * 2**20
# A cell of a column that is not text (a date, an amount, an ABN, yes or no): none is
# longer, and a message quoting a longer one would not fit a screen.
MAX_VALUE_LENGTH = 40

Parser = Callable[[str], Any]


def _note(value: str) -> str | None:
    """A note as every door keeps one (:func:`check_text`): trimmed, nothing if blank."""
    return check_text(value, field="note", max_length=MAX_NOTE_LENGTH)


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
        return date_from_text(value.strip())
    except ValueError:
        raise ValueError(f"'{value.strip()}' is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: Parser
    required: bool = True
    # A text column's length in the schema (store/tables.py); None: not text, at most
    # MAX_VALUE_LENGTH characters.
    max_length: int | None = None


def _code(field: str) -> Parser:
    return lambda value: check_code(value.strip(), field=field)


def _name(field: str) -> Parser:
    return lambda value: check_name(value, field=field)


CODE = Column("code", _code("code"), max_length=MAX_CODE_LENGTH)
NAME = Column("name", _name("name"), max_length=MAX_NAME_LENGTH)
SCHEMAS: dict[str, tuple[Column, ...]] = {
    "patients": (CODE, NAME),
    "providers": (
        CODE,
        NAME,
        Column(
            "company_name",
            _optional(_name("company_name")),
            required=False,
            max_length=MAX_NAME_LENGTH,
        ),
        Column(
            "company_abn", _optional(lambda v: check_abn(v, field="company_abn")), required=False
        ),
        Column("company_gst_registered", _bool, required=False),
    ),
    "payers": (
        CODE,
        NAME,
        Column("kind", lambda v: parse_choice(PayerKind, v, field="kind").value, max_length=20),
    ),
    "items": (
        CODE,
        Column("description", _name("description"), max_length=300),
        Column("fee", lambda v: cents_from_text(v, field="fee")),
        Column("taxable", _bool, required=False),
    ),
    "opening-balances": (
        Column("party", lambda v: _party_kind(v)),
        CODE,
        Column("date", _date),
        Column("location", _code("location"), max_length=MAX_CODE_LENGTH),
        Column("amount", lambda v: cents_from_text(v, field="amount", allow_negative=True)),
        # entries.note is TEXT; every door keeps a note to MAX_NOTE_LENGTH
        Column("note", _note, required=False, max_length=MAX_NOTE_LENGTH),
    ),
}

# The value a column stores under, where it differs from the column's name; and back, for
# a message about a stored value to name the file's column.
STORED_AS = {"fee": "fee_cents", "amount": "amount_cents"}
FILE_COLUMN = {stored: column for column, stored in STORED_AS.items()}


def _party_kind(value: str) -> str:
    return check_choice(value, ("patient", "payer"), field="party", either=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    line: int  # line number in the file, header = 1
    values: dict[str, Any]


KINDS = tuple(SCHEMAS)  # what an import file may hold
ENCODINGS = ("utf-8", "cp1252")


def read_file(path: str, *, field: str) -> bytes:
    """The bytes of the file at ``path``, but no more than one past :data:`MAX_FILE_BYTES`
    (:func:`check_file` refuses a file that long): a file of any size, even an endless one
    such as ``/dev/zero``, is refused by its size, not read whole. A file that cannot be
    read is refused naming ``field``."""
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(
            field, f"cannot read {shown(path)}: {exc.strerror}", code="file_unreadable"
        ) from None


def check_file(name: str, data: bytes, *, field: str) -> None:
    """A file's name (shown in every message about it, kept in the audit) by the one rule
    for text, named ``field``; and its size, at most :data:`MAX_FILE_BYTES` (the data of
    a longer file is one byte more: :func:`read_file`)."""
    check_plain(name, field=field)
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(
            name,
            (
                ImportProblem(
                    line=1, column="(file)", reason=f"is more than {MAX_FILE_BYTES} bytes long"
                ),
            ),
        )


def cell_problem(cell: str, max_length: int | None) -> str | None:
    """What is wrong with a cell before its column reads it: a character no field takes,
    or more characters than its column keeps (``max_length``; None: a column that is not
    text)."""
    reason = not_allowed(cell)
    if reason is not None:
        return reason
    length = len(cell.strip())
    if max_length is not None and length > max_length:
        return f"is {length} characters long; at most {max_length} are kept"
    if max_length is None and length > MAX_VALUE_LENGTH:
        return f"is {length} characters long; at most {MAX_VALUE_LENGTH} are read"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unreadable:
    """Where the csv module stopped reading a file: the line, the cell's index in its
    record (None: not one cell's fault) and why."""

    line: int
    index: int | None
    reason: str


class CsvRecords:
    """The records of a CSV text, each as (its line number, its cells), the line number
    being the record's last line (as ``csv.reader.line_num``), until the csv module can
    read no further; then :attr:`unreadable` says where and why. A cell longer than the
    csv module's limit is found by its index in the record, so that the caller can name
    its column."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self._record: list[str] = []  # the lines of the record being read
        self._reader = csv.reader(self._feed())
        self.unreadable: Unreadable | None = None

    def _feed(self) -> Iterator[str]:
        for line in self._lines:
            self._record.append(line)
            yield line

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            first_line = self._reader.line_num + 1
            self._record.clear()
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.unreadable = _unreadable(first_line, self._record, exc)
                return
            yield self._reader.line_num, cells


def _unreadable(first_line: int, lines: list[str], exc: csv.Error) -> Unreadable:
    """Where the record that starts on ``first_line``, read as far as ``lines``, failed."""
    limit = csv.field_size_limit()
    if "field larger than field limit" not in str(exc):
        last_line = first_line + max(len(lines) - 1, 0)
        return Unreadable(line=last_line, index=None, reason=f"not CSV: {exc}")
    index, lines_before = _long_cell("".join(lines), limit)
    return Unreadable(
        line=first_line + lines_before,
        index=index,
        reason=f"is more than {limit} characters long",
    )


def _long_cell(record: str, limit: int) -> tuple[int, int]:
    """(index, line breaks before it) of the first cell of ``record``, as far as it was
    read, longer than ``limit``: the csv module's excel dialect (cells split at commas, a
    cell quoted in double quotes, a doubled quote inside one a quote), walked only to name
    the cell the csv module refused."""
    index = length = lines = start_lines = 0
    quoted = closed = False
    at_start = True
    previous = ""
    for char in record:
        if char == "\r" or (char == "\n" and previous != "\r"):
            lines += 1  # a line break as io reads it: \r\n, \r or \n
        previous = char
        if at_start:
            at_start, start_lines = False, lines
            if char == '"':
                quoted = True
                continue
        if quoted:
            if char == '"':
                quoted, closed = False, True
                continue
            length += 1
        elif closed and char == '"':  # a doubled quote inside a quoted cell
            quoted, closed = True, False
            length += 1
        elif char == ",":
            index, length, closed, at_start = index + 1, 0, False, True
            continue
        elif char in "\r\n":
            break
        else:
            closed = False
            length += 1
        if length > limit:
            return index, start_lines
    return index, start_lines


def decode(name: str, data: bytes, encoding: str) -> str:
    """The text of a file in ``encoding`` (UTF-8 may start with a byte-order mark), or the
    file rejected: "encoding" tells the door another encoding may read it."""
    try:
        return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if encoding == "utf-8" else encoding
        problem = ImportProblem(  # "encoding": another encoding may read it
            line=data.count(b"\n", 0, exc.start) + 1,  # the line of the first bad byte
            column="(file)",
            reason=f"not {label} text: {exc.reason}",
            code="encoding" if encoding == "utf-8" else None,
        )
        raise ImportRejected(name, (problem,)) from None


def header_problems(cells: list[str]) -> list[ImportProblem]:
    """The header's cells that hold a character no field takes, named by position (their
    text is not shown)."""
    return [
        ImportProblem(line=1, column=f"(column {n})", reason=reason)
        for n, cell in enumerate(cells, start=1)
        if (reason := not_allowed(cell)) is not None
    ]


def unreadable_problem(
    unreadable: Unreadable, header: list[str], bounds: dict[str, int | None]
) -> ImportProblem:
    """The problem of a file the csv module stopped reading, naming the column of a cell
    too long for it (and what that column keeps, from ``bounds``)."""
    index = unreadable.index
    if index is None:
        return ImportProblem(line=unreadable.line, column="(row)", reason=unreadable.reason)
    if index >= len(header):
        return ImportProblem(
            line=unreadable.line, column=f"(column {index + 1})", reason=unreadable.reason
        )
    column = header[index]
    kept = bounds.get(column)
    bound = (
        f"at most {kept} are kept"
        if kept is not None
        else f"at most {csv.field_size_limit()} are read"
    )
    return ImportProblem(
        line=unreadable.line, column=column, reason=f"{unreadable.reason}; {bound}"
    )


def parse_csv(
    kind: str, name: str, data: bytes, *, encoding: str = "utf-8"
) -> tuple[tuple[Row, ...], tuple[ImportProblem, ...]]:
    """The good rows of a CSV file of ``kind`` and the problems of the others, so that the
    importer can add what it finds and reject the file once, listing everything. A file
    that cannot be read row by row (not in its ``encoding``, a bad header, no rows) is
    rejected here. UTF-8 may start with a byte-order mark; ``cp1252`` is Windows-1252, what
    many spreadsheets save as "CSV". The file's ``name`` is refused (as ``file``) if it
    holds a character no field takes: it is shown in every message and kept in the
    audit."""
    kind = check_choice(kind, tuple(SCHEMAS), field="kind")
    encoding = check_choice(encoding, ENCODINGS, field="encoding")
    check_file(name, data, field="file")
    columns = SCHEMAS[kind]
    records = CsvRecords(decode(name, data, encoding))
    lines = iter(records)
    first = next(lines, None)
    header_cells = [] if first is None else first[1]
    header = [h.strip().lower() for h in header_cells]
    problems = header_problems(header_cells)
    if first is None and records.unreadable is not None:  # the header itself
        raise ImportRejected(name, (unreadable_problem(records.unreadable, [], {}),))
    known = {c.name for c in columns}
    bad = {h for h, cell in zip(header, header_cells, strict=True) if not_allowed(cell)}
    for column in columns:
        if column.required and column.name not in header:
            problems.append(
                ImportProblem(line=1, column=column.name, reason="required column is missing")
            )
    for extra in sorted(set(header) - known - bad):
        problems.append(
            ImportProblem(
                line=1,
                column=(extra if len(extra) <= MAX_CODE_LENGTH else extra[:MAX_CODE_LENGTH] + "...")
                or "(blank)",
                reason=f"unknown column (expected: {', '.join(known)})",
            )
        )
    if problems:
        raise ImportRejected(name, tuple(problems))
    bounds = {c.name: c.max_length for c in columns}
    rows: list[Row] = []
    for line, cells in lines:
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
            found = cell_problem(cell, column.max_length)
            if found is not None:
                problems.append(ImportProblem(line=line, column=column.name, reason=found))
                continue
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
    if records.unreadable is not None:
        problems.append(unreadable_problem(records.unreadable, header, bounds))
    if not rows and not problems:
        raise ImportRejected(
            name, (ImportProblem(line=2, column="(file)", reason="the file has no rows"),)
        )
    return tuple(rows), tuple(problems)
