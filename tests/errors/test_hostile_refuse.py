"""Hostile input refused by name (issue 8, items 5, 9 and 10), through the command line.

Item 5: a control character (Unicode category Cc: NUL, tab, line feed, escape ...), a
bidirectional control (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C), a line or
paragraph separator in any text or code field, or in any cell of a file to import, is
refused naming the field (or the line and column) and the character, never echoing the
text (it may hold escapes for a terminal). Item 9: a cell longer than the csv module's
limit, or than its column keeps, is refused by line and column. Item 10: ids, ABNs and
dates are ASCII digits only, and dates are exactly ``YYYY-MM-DD``.

Every case here failed on the code before the fix: it was accepted (and stored), refused
with the bad text echoed, or crashed with exit 70 (PostgreSQL on a NUL; a cell over the
csv module's limit; ``²`` in an ABN). Each runs on both backends: a NUL is where they
differed.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from .commands import TODAY, invoice, record, refund
from .reproduce import Case, Cli, assert_refused, case

ESC = "\x1b"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
NOT_ALLOWED = "character_not_allowed"
CSV_LIMIT = csv.field_size_limit()
ADJUST = ("line", "adjust", "L-000001", "--amount", "1.00", "--reason", "discount")
TRANSFER = ("line", "transfer", "L-000003", "--to-patient", "--amount", "1.00")
COMPANY = ("provider", "edit", "DR1", "--company-name", "Vale Physio")
# The ATO's example ABN 51824753556 in other digits: FULLWIDTH DIGIT FIVE ...
FULLWIDTH_ABN = "".join(chr(0xFF10 + int(d)) for d in "51824753556")


def not_allowed(field: str, char: str, what: str, at: int) -> str:
    return f"{field}: U+{ord(char):04X} ({what}) at character {at} is not allowed"


def both(cases: list[Any]) -> list[Any]:
    """Every case on SQLite and PostgreSQL (``reproduce.on_backends`` keeps PostgreSQL for
    the first case of each code; here the backend is what is tested)."""
    return [
        pytest.param(backend, param.values[0], id=f"{backend}-{param.id}")
        for param in cases
        for backend in ("sqlite", "postgresql")
    ]


# ---------------------------------------------------------------- item 5: fields

FIELD_CASES = [
    case(
        "name-with-an-escape",
        ("patient", "add", "P9", "--name", f"Ivy{ESC}[2JMarlowe"),
        NOT_ALLOWED,
        "name",
        not_allowed("name", ESC, "a control character", 4),
    ),
    case(
        "name-with-a-right-to-left-override",
        ("patient", "add", "P9", "--name", f"Ivy {RLO}Marlowe"),
        NOT_ALLOWED,
        "name",
        not_allowed("name", RLO, "a bidirectional control", 5),
    ),
    case(
        "edited-name-with-a-tab",  # was collapsed to a space: a one-line field takes none
        ("patient", "edit", "P1", "--name", "Ivy\tMarlowe"),
        NOT_ALLOWED,
        "name",
        not_allowed("name", "\t", "a tab", 4),
    ),
    case(
        "description-with-a-line-feed",
        ("item", "edit", "90801", "--description", "Consult\nation"),
        NOT_ALLOWED,
        "description",
        not_allowed("description", "\n", "a line feed", 8),
    ),
    case(
        "product-title-with-a-first-strong-isolate",
        ("product", "add", "ICE", "--title", "Ice\u2068 pack", "--fee", "9.00"),
        NOT_ALLOWED,
        "title",
        not_allowed("title", "\u2068", "a bidirectional control", 4),
    ),
    case(
        "company-name-with-a-left-to-right-isolate",
        ("provider", "edit", "DR1", "--company-name", "Vale\u2066 Physio"),
        NOT_ALLOWED,
        "company_name",
        not_allowed("company_name", "\u2066", "a bidirectional control", 5),
    ),
    case(
        "code-with-a-right-to-left-override",  # was echoed in "'...' is not a code"
        ("location", "add", f"M{RLO}N", "--name", "North Rooms"),
        NOT_ALLOWED,
        "code",
        not_allowed("code", RLO, "a bidirectional control", 2),
    ),
    case(
        "reference-with-a-left-to-right-mark",
        record("30.00", "--reference", "R\u200e1"),
        NOT_ALLOWED,
        "reference",
        not_allowed("reference", "\u200e", "a bidirectional control", 2),
    ),
    case(
        "payment-note-with-a-line-feed",  # a note is one line too (see domain/text.py)
        record("30.00", "--note", "paid\nat the desk"),
        NOT_ALLOWED,
        "note",
        not_allowed("note", "\n", "a line feed", 5),
    ),
    case(
        "refund-reason-with-a-carriage-return",
        refund("PAY-000001", "5.00", reason="over\rpaid"),
        NOT_ALLOWED,
        "reason",
        not_allowed("reason", "\r", "a carriage return", 5),
    ),
    case(
        "reversal-reason-with-an-arabic-letter-mark",
        ("payment", "reverse", "PAY-000001", "--reason", "keyed\u061c twice"),
        NOT_ALLOWED,
        "reason",
        not_allowed("reason", "\u061c", "a bidirectional control", 6),
    ),
    case(
        "unallocation-reason-with-a-delete",
        ("payment", "unallocate", "AL-000005", "--reason", "wrong\x7f line"),
        NOT_ALLOWED,
        "reason",
        not_allowed("reason", "\x7f", "a control character", 6),
    ),
    case(
        "adjustment-note-with-a-bell",
        (*ADJUST, "--note", "ok\x07"),
        NOT_ALLOWED,
        "note",
        not_allowed("note", "\x07", "a control character", 3),
    ),
    case(
        "deletion-reason-with-a-pop-directional-isolate",
        ("line", "delete", "L-000002", "--reason", "keyed\u2069 twice"),
        NOT_ALLOWED,
        "reason",
        not_allowed("reason", "\u2069", "a bidirectional control", 6),
    ),
    case(
        "transfer-reason-with-a-line-separator",
        (*TRANSFER, "--reason", "gap\u2028fund"),
        NOT_ALLOWED,
        "reason",
        not_allowed("reason", "\u2028", "a line separator", 4),
    ),
    case(
        "search-with-an-escape",
        ("patient", "list", "--search", f"{ESC}[2J"),
        NOT_ALLOWED,
        "search",
        not_allowed("search", ESC, "a control character", 1),
    ),
    case(
        "favourite-name-with-an-escape",
        ("report", "save", f"eod{ESC}]0;x", "receipts", "--preset", "today"),
        NOT_ALLOWED,
        "name",
        not_allowed("name", ESC, "a control character", 4),
    ),
    case(
        "abn-with-an-escape",  # was echoed in "'...' is not an ABN"
        ("practice", "set", "--abn", f"51824753556{ESC}[8m"),
        NOT_ALLOWED,
        "abn",
        not_allowed("abn", ESC, "a control character", 12),
    ),
    case(
        "amount-with-an-escape",  # was echoed in "'...' is not an amount"
        record(f"30.00{ESC}[8m"),
        NOT_ALLOWED,
        "amount",
        not_allowed("amount", ESC, "a control character", 6),
    ),
    case(
        "payment-id-with-an-escape",  # was echoed in "'...' is not a payment id"
        refund(f"PAY-1{ESC}[8m", "5.00"),
        NOT_ALLOWED,
        "payment",
        not_allowed("payment", ESC, "a control character", 6),
    ),
    case(
        "date-with-an-escape",  # was echoed in "'...' is not a date"
        record("30.00", received=f"2024-03-0{ESC}"),
        NOT_ALLOWED,
        "received",
        not_allowed("received", ESC, "a control character", 10),
    ),
    case(
        "line-spec-with-an-escape",
        invoice(f"product=Cold pack{ESC}[8m,fee=15.00"),
        NOT_ALLOWED,
        "line 1",
        not_allowed("line 1", ESC, "a control character", 18),
    ),
    case(
        "allocation-target-with-an-escape",
        ("payment", "allocate", "PAY-000001", "--to", f"L-000001=5.00{ESC}[8m"),
        NOT_ALLOWED,
        "to",
        not_allowed("to", ESC, "a control character", 14),
    ),
    case(
        "as-known-at-with-an-escape",
        ("report", "debtors", "--as-known-at", f"2024-03-02T10:00{ESC}"),
        NOT_ALLOWED,
        "as_known_at",
        not_allowed("as_known_at", ESC, "a control character", 17),
    ),
]


@pytest.mark.parametrize(("engine", "case"), both(FIELD_CASES), indirect=["engine"])
def test_a_control_or_bidirectional_character_is_refused_by_field(
    engine: Engine, case: Case, practice: None, cli: Cli
) -> None:
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- item 10: digits, dates

DIGIT_AND_DATE_CASES = [
    case(
        "payment-id-in-mathematical-digits",  # MATHEMATICAL BOLD DIGIT ONE: was payment 1
        refund("PAY-00000\U0001d7cf", "5.00"),
        "id_malformed",
        "payment",
        "payment: 'PAY-00000\U0001d7cf' is not a payment id (expected like PAY-000042)",
    ),
    case(
        "line-id-in-arabic-indic-digits",  # ARABIC-INDIC DIGIT ONE: was line 1
        ("line", "adjust", "L-\u0661", "--amount", "1.00", "--reason", "discount"),
        "id_malformed",
        "line",
        "line: 'L-\u0661' is not a line id (expected like L-000042)",
    ),
    case(
        "abn-in-arabic-indic-digits",  # was kept, in Arabic-Indic digits
        ("practice", "set", "--abn", "5182475355\u0666"),
        "abn_malformed",
        "abn",
        "abn: '5182475355\u0666' is not an ABN (11 digits)",
    ),
    case(
        "abn-with-a-superscript-two",  # was exit 70: int('²') fails where isdigit() did not
        ("practice", "set", "--abn", "5182475355\u00b2"),
        "abn_malformed",
        "abn",
        "abn: '5182475355\u00b2' is not an ABN (11 digits)",
    ),
    case(
        "company-abn-in-fullwidth-digits",
        (*COMPANY, "--company-abn", FULLWIDTH_ABN),
        "abn_malformed",
        "company_abn",
        f"company_abn: '{FULLWIDTH_ABN}' is not an ABN (11 digits)",
    ),
    case(
        "received-date-as-an-iso-week",  # 2024-W09-6 was read as 2024-03-02
        record("30.00", received="2024-W09-6"),
        "date_malformed",
        "received",
        "received: '2024-W09-6' is not a date (YYYY-MM-DD)",
    ),
    case(
        "received-date-with-trailing-letters",  # 20240302xx was read as 2024-03-02
        record("30.00", received="20240302xx"),
        "date_malformed",
        "received",
        "received: '20240302xx' is not a date (YYYY-MM-DD)",
    ),
    case(
        "service-date-as-an-iso-week",
        invoice("item=90801,provider=DR1,date=2024-W09-6"),
        "date_malformed",
        "line 1",
        "line 1: '2024-W09-6' is not a date (YYYY-MM-DD)",
    ),
    case(
        "report-from-as-an-iso-week",
        ("report", "receipts", "--from", "2024-W09-1", "--to", TODAY),
        "date_malformed",
        "from",
        "from: '2024-W09-1' is not a date (YYYY-MM-DD)",
    ),
    case(
        "as-known-at-as-an-iso-week",
        ("report", "debtors", "--as-known-at", "2024-W09-6T10:00"),
        "timestamp_malformed",
        "as_known_at",
        "as_known_at: '2024-W09-6T10:00' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
    ),
    case(
        "as-known-at-in-the-basic-format",
        ("report", "debtors", "--as-known-at", "20240302T1000"),
        "timestamp_malformed",
        "as_known_at",
        "as_known_at: '20240302T1000' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
    ),
    case(
        "now-with-an-hour-only",
        ("patient", "add", "P9", "--name", "Nina Vale"),
        "timestamp_malformed",
        "now",
        "now: '2024-03-02T10' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
        now="2024-03-02T10",
    ),
]


@pytest.mark.parametrize(("engine", "case"), both(DIGIT_AND_DATE_CASES), indirect=["engine"])
def test_ids_abns_and_dates_are_ascii_digits_in_one_shape(
    engine: Engine, case: Case, practice: None, cli: Cli
) -> None:
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- items 5, 9, 10: files

OPENING = "party,code,date,location,amount,note\n"
LONG_NAME = "N" * (CSV_LIMIT + 1)

FILES = {
    "nul.csv": "code,name\nP9,Ivy\x00Marlowe\n",
    "bidi-note.csv": f"{OPENING}patient,P2,2024-02-29,MAIN,120.00,brought {RLO}forward\n",
    "escape-header.csv": f"code,na{ESC}me\nP9,Nina Vale\n",
    "long-cell.csv": f"code,name\nP9,{LONG_NAME}\n",
    "long-note.csv": f"{OPENING}patient,P2,2024-02-29,MAIN,120.00,{'n' * 2001}\n",
    "week-date.csv": f"{OPENING}patient,P2,2024-W09-4,MAIN,120.00,\n",
    "tab-code.csv": "code,name\n\tP9,Nina Vale\n",
    "other-long.csv": f"date,amount,memo\n{TODAY},100.00,{LONG_NAME}\n",
    "other-nul.csv": f"date,amount,description\n{TODAY},100.00,Consult\x00ation\n",
    "other-week.csv": "date,amount\n2024-W09-6,100.00\n",
}


def rejected(file: str, *problems: str) -> str:
    return f"{file} rejected, nothing imported: " + "; ".join(problems)


FILE_CASES = [
    case(
        "import-a-nul-in-a-name",  # PostgreSQL: exit 70, the name in the traceback; SQLite kept it
        ("import", "patients", "nul.csv"),
        "import_rejected",
        "name",
        rejected("nul.csv", "line 2, column name: U+0000 (NUL) at character 4 is not allowed"),
    ),
    case(
        "import-a-bidirectional-override-in-a-note",
        ("import", "opening-balances", "bidi-note.csv"),
        "import_rejected",
        "note",
        rejected(
            "bidi-note.csv",
            "line 2, column note: U+202E (a bidirectional control) at character 9 is not allowed",
        ),
    ),
    case(
        "import-an-escape-in-the-header",  # was echoed as the name of an unknown column
        ("import", "patients", "escape-header.csv"),
        "import_rejected",
        "(column 2)",
        rejected(
            "escape-header.csv",
            "line 1, column (column 2): U+001B (a control character) at character 3 is not allowed",
            "line 1, column name: required column is missing",
        ),
    ),
    case(
        "import-a-tab-in-a-code",  # was stripped and kept
        ("import", "patients", "tab-code.csv"),
        "import_rejected",
        "code",
        rejected(
            "tab-code.csv", "line 2, column code: U+0009 (a tab) at character 1 is not allowed"
        ),
    ),
    case(
        "import-a-cell-over-the-csv-limit",  # was exit 70: _csv.Error
        ("import", "patients", "long-cell.csv"),
        "import_rejected",
        "name",
        rejected(
            "long-cell.csv",
            f"line 2, column name: is more than {CSV_LIMIT} characters long; at most 200 are kept",
        ),
    ),
    case(
        "import-a-note-longer-than-its-column",  # was kept: the note had no bound
        ("import", "opening-balances", "long-note.csv"),
        "import_rejected",
        "note",
        rejected(
            "long-note.csv", "line 2, column note: is 2001 characters long; at most 2000 are kept"
        ),
    ),
    case(
        "import-a-date-as-an-iso-week",  # was read as 2024-02-29
        ("import", "opening-balances", "week-date.csv"),
        "import_rejected",
        "date",
        rejected("week-date.csv", "line 2, column date: '2024-W09-4' is not a date (YYYY-MM-DD)"),
    ),
    case(
        "compare-a-cell-over-the-csv-limit",  # was named "column (row)"
        ("report", "client-reconciliation", "--patient", "P1", "--compare", "other-long.csv"),
        "import_rejected",
        "memo",
        rejected(
            "other-long.csv",
            f"line 2, column memo: is more than {CSV_LIMIT} characters long; at most "
            f"{CSV_LIMIT} are read",
        ),
    ),
    case(
        "compare-a-nul-in-a-description",
        ("report", "client-reconciliation", "--patient", "P1", "--compare", "other-nul.csv"),
        "import_rejected",
        "description",
        rejected(
            "other-nul.csv",
            "line 2, column description: U+0000 (NUL) at character 8 is not allowed",
        ),
    ),
    case(
        "compare-a-date-as-an-iso-week",
        ("report", "client-reconciliation", "--patient", "P1", "--compare", "other-week.csv"),
        "import_rejected",
        "date",
        rejected("other-week.csv", "line 2, column date: '2024-W09-6' is not a date (YYYY-MM-DD)"),
    ),
]


@pytest.mark.parametrize(("engine", "case"), both(FILE_CASES), indirect=["engine"])
def test_a_file_with_a_hostile_cell_is_refused_by_line_and_column(
    engine: Engine,
    case: Case,
    practice: None,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    for name, text in FILES.items():
        (files / name).write_text(text, encoding="utf-8", newline="")
    monkeypatch.chdir(files)
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- codes that are looked up
# A code that names nothing is echoed in its "not found"; one that holds an escape or a
# NUL is refused before it is looked up (PostgreSQL cannot even compare a NUL).

LOOKUP_CASES = [
    case(
        "payment-from-a-code-with-an-escape",
        (
            "payment",
            "record",
            "--from",
            f"P1{ESC}[2J",
            "--amount",
            "30.00",
            "--method",
            "cash",
            "--received",
            "2024-03-02",
            "--location",
            "MAIN",
        ),
        NOT_ALLOWED,
        "from",
        not_allowed("from", ESC, "a control character", 3),
    ),
    case(
        "invoice-for-a-patient-code-with-a-nul",
        (
            "invoice",
            "create",
            "--patient",
            "P\x001",
            "--location",
            "MAIN",
            "--line",
            "item=90801,provider=DR1,date=2024-03-02",
        ),
        NOT_ALLOWED,
        "patient",
        not_allowed("patient", "\x00", "NUL", 2),
    ),
    case(
        "show-a-patient-code-with-an-escape",
        ("patient", "show", f"P1{ESC}"),
        NOT_ALLOWED,
        "patient",
        not_allowed("patient", ESC, "a control character", 3),
    ),
    case(
        "run-a-favourite-named-with-an-escape",
        ("report", "run", f"eod{ESC}"),
        NOT_ALLOWED,
        "name",
        not_allowed("name", ESC, "a control character", 4),
    ),
    case(
        "a-method-with-an-escape",
        (
            "payment",
            "record",
            "--from",
            "P1",
            "--amount",
            "30.00",
            "--method",
            f"cash{ESC}",
            "--received",
            "2024-03-02",
            "--location",
            "MAIN",
        ),
        NOT_ALLOWED,
        "method",
        not_allowed("method", ESC, "a control character", 5),
    ),
]


@pytest.mark.parametrize(("engine", "case"), both(LOOKUP_CASES), indirect=["engine"])
def test_a_code_looked_up_is_refused_before_it_is_echoed(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- paths echoed (issue 8, G7)
# A path (or URL) is echoed in the message about it, with every character no field takes
# written as its escape: an escape in a file's name never reaches the terminal.

PATH_CASES = [
    case(
        "import-a-file-named-with-an-escape-that-is-not-there",
        ("import", "patients", f"nofile{ESC}[2J.csv"),
        "file_unreadable",
        "file",
        "file: cannot read nofile\\x1b[2J.csv: No such file or directory",
    ),
    case(
        "import-a-file-named-with-a-right-to-left-override-that-is-not-there",
        ("import", "patients", f"no{RLO}vsc.csv"),
        "file_unreadable",
        "file",
        "file: cannot read no\\u202evsc.csv: No such file or directory",
    ),
    case(
        "compare-with-a-file-named-with-an-escape-that-is-not-there",
        ("report", "client-reconciliation", "--patient", "P1", "--compare", f"nofile{ESC}[2J.csv"),
        "file_unreadable",
        "compare",
        "compare: cannot read nofile\\x1b[2J.csv: No such file or directory",
    ),
    case(
        "output-to-a-folder-named-with-an-escape-that-is-not-there",
        ("report", "debtors", "--output", f"gone{ESC}[2J/debtors.csv"),
        "output_unwritable",
        "output",
        "output: cannot write gone\\x1b[2J/debtors.csv: the folder gone\\x1b[2J does not exist",
    ),
]


@pytest.mark.parametrize(("engine", "case"), both(PATH_CASES), indirect=["engine"])
def test_a_path_is_echoed_with_its_escapes_shown(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)  # none of the paths is there


def garbage(path: Path) -> str:
    path.write_bytes(b"not a database at all, " * 100)
    return str(path)


@pytest.mark.parametrize(
    ("db", "code", "message"),
    [
        (
            lambda tmp: f"{tmp}/x{ESC}[2J.db",
            "not_initialised",
            "there is no ledger at {tmp}/x\\x1b[2J.db: run 'clinicledger init' (or check --db)",
        ),
        (
            lambda tmp: f"{tmp}/gone{RLO}/x.db",
            "db_unavailable",
            "cannot open the database {tmp}/gone\\u202e/x.db: the folder {tmp}/gone\\u202e "
            "does not exist",
        ),
        (
            lambda tmp: garbage(tmp / f"x{ESC}[2J.db"),
            "not_a_ledger",
            "{tmp}/x\\x1b[2J.db is not a clinicledger database",
        ),
        (
            lambda tmp: f"sqlite{ESC}[2J://x.db",
            "invalid_input",
            "db: 'sqlite\\x1b[2J://x.db' is not a database URL",
        ),
        (  # was a ValueError from SQLAlchemy, exit 70
            lambda tmp: f"postgresql+psycopg://clerk@db:54{RLO}32/ledger",
            "invalid_input",
            "db: 'postgresql+psycopg://clerk@db:54\\u202e32/ledger' is not a database URL",
        ),
    ],
    ids=["no-ledger", "no-folder", "not-a-ledger", "not-a-url", "not-a-port"],
)
@pytest.mark.parametrize(
    "command", [("check",), ("balance", "--patient", "P1")], ids=["check", "balance"]
)
def test_a_database_path_is_echoed_with_its_escapes_shown(
    cli: Cli, tmp_path: Path, db: Any, code: str, message: str, command: tuple[str, ...]
) -> None:
    """Through the engine (check) and through the plain SQLite reader (balance)."""
    path = db(tmp_path)
    plain = cli(*command, db=path)
    as_json = cli(*command, db=path, json=True)
    expected = message.format(tmp=tmp_path)
    assert (plain.status, plain.err) == (2, f"error: {expected}\n")
    assert (as_json.status, as_json.error()["code"], as_json.error()["message"]) == (
        2,
        code,
        expected,
    )
