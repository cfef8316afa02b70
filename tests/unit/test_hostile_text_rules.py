"""Hostile text, without a database (issue 8, items 5, 9, 10 and 14): the one rule for
characters (``domain.text.not_allowed``) and every reader that uses it; ASCII digits only
in ids, ABNs, amounts and dates, and one shape of date and timestamp; CSV cells bounded
and refused by line and column; CSV written for a spreadsheet neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicledger.cli.parse import parse_date, parse_instant, parse_line_spec, parse_targets
from clinicledger.domain.errors import ImportProblem, ImportRejected, InvalidInput
from clinicledger.domain.ids import parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.text import (
    BIDI_CONTROLS,
    check_abn,
    check_code,
    check_name,
    check_plain,
    check_text,
    date_from_text,
    instant_from_text,
    not_allowed,
    require_reason,
    shown,
)
from clinicledger.formats import csv_masters
from clinicledger.formats.compare_csv import parse_compare_csv
from clinicledger.formats.csv_masters import parse_csv
from clinicledger.render.formats import csv_cell, to_csv
from clinicledger.reports.base import Report, columns_of
from clinicledger.reports.favourites import favourite_from_data

LIMIT = csv.field_size_limit()
ANY_CHARACTER = st.characters(exclude_categories=())  # every category, surrogates too


def refused(text: str) -> bool:
    """The rule, said again from the Unicode database: control characters, line and
    paragraph separators, surrogates and the listed bidirectional controls."""
    return any(
        unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs") or c in BIDI_CONTROLS for c in text
    )


def reason_of(
    call: Callable[..., object], *args: object, **kwargs: object
) -> tuple[str | None, str, str]:
    with pytest.raises(InvalidInput) as raised:
        call(*args, **kwargs)
    return raised.value.field, raised.value.code, raised.value.reason


# ---------------------------------------------------------------- item 5: the rule


@pytest.mark.parametrize("point", [*range(0x20), *range(0x7F, 0xA0)])
def test_every_control_character_is_refused(point: int) -> None:
    assert unicodedata.category(chr(point)) == "Cc"
    assert str(not_allowed(f"Ivy{chr(point)}")).startswith(f"U+{point:04X} (")


@pytest.mark.parametrize(
    "char", [*"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"]
)
def test_every_bidirectional_control_is_refused(char: str) -> None:
    assert not_allowed(f"Iv{char}y") == (
        f"U+{ord(char):04X} (a bidirectional control) at character 3 is not allowed"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("\x00", "U+0000 (NUL) at character 1 is not allowed"),
        ("a\tb", "U+0009 (a tab) at character 2 is not allowed"),
        ("a b\n", "U+000A (a line feed) at character 4 is not allowed"),
        ("\r", "U+000D (a carriage return) at character 1 is not allowed"),
        ("\x1b[2J", "U+001B (a control character) at character 1 is not allowed"),
        ("\x85", "U+0085 (a control character) at character 1 is not allowed"),
        ("a\u2028", "U+2028 (a line separator) at character 2 is not allowed"),
        ("a\u2029", "U+2029 (a paragraph separator) at character 2 is not allowed"),
        ("\ud800", "U+D800 (a surrogate, not a character) at character 1 is not allowed"),
        ("ok\u202eko\x00", "U+202E (a bidirectional control) at character 3 is not allowed"),
    ],
)
def test_the_refusal_names_the_first_character_and_where_it_is(text: str, reason: str) -> None:
    assert not_allowed(text) == reason
    assert reason_of(check_plain, text, field="note") == ("note", "character_not_allowed", reason)


@pytest.mark.parametrize(
    "text",
    [
        "Zoë Hart-O'Brien",
        "José Núñez",
        "محمد",  # right-to-left text is fine: it is the controls that are not
        "李小龍",
        "👩\u200d⚕️ Dr Vale",  # a zero-width joiner inside an emoji
        "Dr\xa0Vale",  # a no-break space
        "\ufeffBOM",
        "\uffff\ue000",  # a noncharacter, a private-use character
        "e\u0301",  # a combining accent
        "",
    ],
)
def test_text_of_any_script_is_kept(text: str) -> None:
    assert not_allowed(text) is None
    assert check_plain(text, field="name") == text


@given(st.text(ANY_CHARACTER))
def test_the_rule_is_the_unicode_categories_and_the_bidirectional_controls(text: str) -> None:
    assert (not_allowed(text) is not None) == refused(text)


@given(st.text(ANY_CHARACTER | st.sampled_from("\x00\t\n\u202e\ud800 ")))
def test_every_reader_of_text_refuses_by_the_rule_and_never_echoes(text: str) -> None:
    readers = {
        "code": lambda: check_code(text),
        "name": lambda: check_name(text),
        "note": lambda: check_text(text, field="note", max_length=10_000),
        "reason": lambda: require_reason(text),
        "abn": lambda: check_abn(text),
        "payment": lambda: parse_id("payment", text),
        "amount": lambda: cents_from_text(text, field="amount"),
        "received": lambda: parse_date(text, field="received"),
        "now": lambda: parse_instant(text, field="now"),
        "to": lambda: parse_targets([text]),
        "line 1": lambda: parse_line_spec(text, n=1),
    }
    for field, read in readers.items():
        try:
            read()
        except InvalidInput as exc:
            assert exc.field == field
            assert not refused(exc.message), (field, exc.message)
            if refused(text):
                assert exc.code == "character_not_allowed", (field, exc.message)
        else:
            assert not refused(text), field


def test_a_name_with_a_tab_is_refused_not_collapsed() -> None:
    assert check_name("Ivy  \xa0Marlowe ") == "Ivy Marlowe"  # spaces of any kind: one
    assert reason_of(check_name, "Ivy\tMarlowe", field="company_name") == (
        "company_name",
        "character_not_allowed",
        "U+0009 (a tab) at character 4 is not allowed",
    )
    assert reason_of(require_reason, "keyed\ntwice")[0] == "reason"


def test_a_code_that_is_refused_is_not_echoed_when_it_holds_a_control() -> None:
    assert reason_of(check_code, "P\x1b[31m1") == (
        "code",
        "character_not_allowed",
        "U+001B (a control character) at character 2 is not allowed",
    )
    # printable text is echoed as before
    assert (
        reason_of(check_code, "P 1")[2] == "'P 1' is not a code: use 1-40 letters, digits, . _ - /"
    )


# ---------------------------------------------------------------- item 10: ASCII digits

NON_ASCII_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda c: not c.isascii())


@pytest.mark.parametrize(
    "abn",
    [
        "5182475355\u00b2",  # SUPERSCRIPT TWO: isdigit(), and int() fails
        "5182475355\u0666",  # ARABIC-INDIC DIGIT SIX
        "".join(chr(0xFF10 + int(d)) for d in "51824753556"),  # fullwidth
        "".join(chr(0x1D7CE + int(d)) for d in "51824753556"),  # mathematical bold
    ],
)
def test_an_abn_is_ascii_digits(abn: str) -> None:
    assert reason_of(check_abn, abn) == (
        "abn",
        "abn_malformed",
        f"'{abn}' is not an ABN (11 digits)",
    )
    assert check_abn("51 824 753 556") == "51824753556"


@given(st.text(st.sampled_from("0123456789"), min_size=10, max_size=10), NON_ASCII_DIGITS)
def test_no_non_ascii_digit_reads_as_a_number(digits: str, odd: str) -> None:
    for read in (
        lambda t: check_abn(t),
        lambda t: parse_id("payment", f"PAY-{t}"),
        lambda t: cents_from_text(f"{t[:5]}.00", field="amount"),
        lambda t: date_from_text(f"{t[:4]}-01-01"),
    ):
        text = odd + digits
        with pytest.raises((InvalidInput, ValueError)):
            read(text)


@pytest.mark.parametrize(
    "text",
    ["PAY-\U0001d7d2\U0001d7d0", "\u0664\u0662", "PAY-00000\u00b2", "L-\uff11", "PAY-1\n"],
)
def test_an_id_is_ascii_digits(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_id("payment", text)
    assert raised.value.code in ("id_malformed", "character_not_allowed")
    assert parse_id("payment", " PAY-000042 ") == 42


@pytest.mark.parametrize("text", ["\uff13\uff10.00", "\u0663\u0660", "30.0\u00b2", "1,000.00"])
def test_an_amount_is_ascii_digits(text: str) -> None:
    assert reason_of(cents_from_text, text, field="fee")[1] == "amount_malformed"
    assert cents_from_text("-40.00", field="fee", allow_negative=True) == -4000


# ---------------------------------------------------------------- item 10: one date shape


@pytest.mark.parametrize(
    "text",
    [
        "2018-W05-4",  # an ISO week date: date.fromisoformat reads 2018-02-01
        "20180201",  # the basic format
        "20180201xx",  # read as 2018-02-01 by Python 3.11
        "2018-02-01T00",
        "2018-2-1",
        " 2018-02-01",
        "2018-02-01\n",
        "\u0662\u0660\u0661\u0668-02-01",
        "2018-13-01",
        "0000-01-01",
    ],
)
def test_a_date_is_exactly_yyyy_mm_dd(text: str) -> None:
    with pytest.raises(ValueError):
        date_from_text(text)
    with pytest.raises(InvalidInput) as raised:
        parse_date(text, field="received")
    assert raised.value.code in ("date_malformed", "character_not_allowed")


@given(st.dates())
def test_a_date_reads_back_from_its_one_spelling(day: dt.date) -> None:
    assert parse_date(day.isoformat(), field="received") == day


@given(st.text(st.sampled_from("0123456789-W:T")))
def test_only_the_iso_spelling_of_a_date_is_read(text: str) -> None:
    try:
        day = date_from_text(text)
    except ValueError:
        return
    assert day.isoformat() == text


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-03-02", dt.datetime(2024, 3, 2)),
        ("2024-03-02T09:00", dt.datetime(2024, 3, 2, 9)),
        ("2024-03-02T09:00:15", dt.datetime(2024, 3, 2, 9, 0, 15)),
        ("2024-03-02T09:00:00.5", dt.datetime(2024, 3, 2, 9, 0, 0, 500000)),
        ("2024-03-02T09:00:00.123456", dt.datetime(2024, 3, 2, 9, 0, 0, 123456)),
        (
            "2024-03-02T09:00+11:00",
            dt.datetime(2024, 3, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=11))),
        ),
        (
            "2024-03-02T09:00:00-05:00",
            dt.datetime(2024, 3, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ),
        ("2024-03-02T09:00Z", dt.datetime(2024, 3, 2, 9, tzinfo=dt.UTC)),
    ],
)
def test_a_timestamp_in_its_one_shape_is_read(text: str, moment: dt.datetime) -> None:
    assert instant_from_text(text) == moment
    assert parse_instant(text, field="now") == moment


@pytest.mark.parametrize(
    "text",
    [
        "2024-W09-6T10:00",
        "20240302T1000",
        "2024-03-02T10",
        "2024-03-02 10:00",
        "2024-03-02T10:00:00.1234567",
        "2024-03-02T10:00+1100",
        "2024-03-02+11:00",
        "2024-03-02T1\u0660:00",
        "2024-03-02T25:00",
    ],
)
def test_a_timestamp_in_another_shape_is_refused(text: str) -> None:
    assert reason_of(parse_instant, text, field="as_known_at") == (
        "as_known_at",
        "timestamp_malformed",
        f"'{text}' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
    )


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"from_date": "2018-W05-4"}, "from_date"),
        ({"as_of": "20180201"}, "as_of"),
        ({"to_date": "20180201xx"}, "to_date"),
        ({"as_known_at": "20240301T100000"}, "as_known_at"),
        ({"as_known_at": "2024-W09-5T10:00:00"}, "as_known_at"),
    ],
)
def test_a_favourite_keeps_dates_in_their_one_shape(parameters: dict[str, str], field: str) -> None:
    data = {"version": 1, "report": "receipts", "parameters": parameters}
    with pytest.raises(InvalidInput) as raised:
        favourite_from_data(data)
    assert (raised.value.field, raised.value.code) == (field, "favourite_malformed")
    good = {"from_date": "2018-02-01", "as_known_at": "2024-03-01T10:00:00.250000"}
    _, params = favourite_from_data({"version": 1, "report": "receipts", "parameters": good})
    assert (params.from_date, params.as_known_at) == (
        dt.date(2018, 2, 1),
        dt.datetime(2024, 3, 1, 10, 0, 0, 250000),
    )


# ---------------------------------------------------------------- items 5, 9: CSV files


def problems_of(kind: str, text: str, name: str = "f.csv") -> tuple[ImportProblem, ...]:
    with pytest.raises(ImportRejected) as raised:
        _rows, problems = parse_csv(kind, name, text.encode())
        if problems:
            raise ImportRejected(name, problems)
    return raised.value.problems


def test_every_cell_is_read_by_the_rule_with_its_line_and_column() -> None:
    text = (
        "code,name,company_name,company_abn\n"
        "DR1,Dr One\x00,,\n"
        'DR2,Dr Two,"Vale\nPhysio",\n'
        "DR3,Dr Three,,51824753556\u202e\n"
    )
    assert problems_of("providers", text) == (
        ImportProblem(line=2, column="name", reason="U+0000 (NUL) at character 7 is not allowed"),
        ImportProblem(
            line=4,
            column="company_name",
            reason="U+000A (a line feed) at character 5 is not allowed",
        ),
        ImportProblem(
            line=5,
            column="company_abn",
            reason="U+202E (a bidirectional control) at character 12 is not allowed",
        ),
    )


def test_a_cell_is_bounded_by_its_column() -> None:
    text = (
        "party,code,date,location,amount,note\n"
        f"patient,{'P' * 41},2024-02-29,MAIN,1.00,\n"
        f"patient,P1,2024-02-29,{'M' * 41},1.00,{'n' * 2001}\n"
        f"patient,P1,2024-02-29,MAIN,{'1' * 41},{'n' * 2000}\n"
    )
    assert problems_of("opening-balances", text) == (
        ImportProblem(line=2, column="code", reason="is 41 characters long; at most 40 are kept"),
        ImportProblem(
            line=3, column="location", reason="is 41 characters long; at most 40 are kept"
        ),
        ImportProblem(
            line=3, column="note", reason="is 2001 characters long; at most 2000 are kept"
        ),
        ImportProblem(line=4, column="amount", reason="is 41 characters long; at most 40 are read"),
    )


def test_a_cell_past_the_csv_limit_is_named_by_line_and_column() -> None:
    long = "x" * (LIMIT + 1)
    text = f'code,name\nP1,"two\nlines"\nP2,"a ""quoted"" {long}"\nP3,Otto Brandt\n'
    assert problems_of("patients", text) == (
        ImportProblem(
            line=3, column="name", reason="U+000A (a line feed) at character 4 is not allowed"
        ),
        ImportProblem(
            line=4,
            column="name",
            reason=f"is more than {LIMIT} characters long; at most 200 are kept",
        ),
    )
    assert problems_of("patients", f"code,{long}\n") == (
        ImportProblem(line=1, column="(column 2)", reason=f"is more than {LIMIT} characters long"),
    )


def test_the_long_cell_is_found_past_quotes_commas_and_line_breaks() -> None:
    record = 'a,"b,""c""\nd",' + "e" * 11
    assert csv_masters._long_cell(record, 10) == (2, 1)
    assert csv_masters._long_cell("x" * 11, 10) == (0, 0)
    assert csv_masters._long_cell('"' + "y" * 11, 10) == (0, 0)


def test_a_file_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_masters, "MAX_FILE_BYTES", 20)
    assert problems_of("patients", "code,name\nP1,Ivy Marlowe\n") == (
        ImportProblem(line=1, column="(file)", reason="is more than 20 bytes long"),
    )
    with pytest.raises(ImportRejected):
        parse_compare_csv("other.csv", b"date,amount\n2024-03-02,1.00\n")


def test_a_file_name_is_read_by_the_rule() -> None:
    assert reason_of(parse_csv, "patients", "p\x1b]0;x\x07.csv", b"code,name\n") == (
        "file",
        "character_not_allowed",
        "U+001B (a control character) at character 2 is not allowed",
    )
    assert reason_of(parse_compare_csv, "o\u202ecsv.exe", b"date,amount\n")[0] == "compare"
    assert reason_of(parse_compare_csv, "o.csv", b"", date_column="da\tte")[0] == (
        "compare_date_column"
    )


def test_another_programs_export_is_read_by_the_rule_in_every_cell() -> None:
    data = (
        "Date,Amount,Memo,Description\n"
        "2024-03-02,1.00,paid\x1b[8m,Consult\n"
        "2024-W09-6,\uff11.00,,\n"
        f"2024-03-02 10:00,1.00,{'m' * (LIMIT + 1)},\n"
    ).encode()
    with pytest.raises(ImportRejected) as raised:
        parse_compare_csv("other.csv", data)
    assert raised.value.problems == (
        ImportProblem(
            line=2,
            column="Memo",
            reason="U+001B (a control character) at character 5 is not allowed",
        ),
        ImportProblem(line=3, column="date", reason="'2024-W09-6' is not a date (YYYY-MM-DD)"),
        ImportProblem(
            line=3,
            column="amount",
            reason="'\uff11.00' is not an amount; write it like 30.00 (at most two decimal places)",
        ),
        ImportProblem(
            line=4,
            column="Memo",
            reason=f"is more than {LIMIT} characters long; at most {LIMIT} are read",
        ),
    )


# ---------------------------------------------------------------- item 14: CSV for spreadsheets


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    patient: str
    reason: str | None
    services: tuple[str, ...]
    day: dt.date
    sessions: int
    amount_cents: int


def test_csv_text_that_a_spreadsheet_would_run_is_neutralised() -> None:
    day = dt.date(2024, 3, 2)
    rows = (
        Row(
            patient='=HYPERLINK("http://x","y")',
            reason="+61 400 000 000",
            services=("-a", "b"),
            day=day,
            sessions=-3,
            amount_cents=-4000,
        ),
        Row(patient="@SUM(A1)", reason="\tx", services=(), day=day, sessions=0, amount_cents=0),
        Row(
            patient="Ivy = Marlowe",
            reason=None,
            services=("a-b",),
            day=day,
            sessions=1,
            amount_cents=5,
        ),
    )
    report = Report(name="r", parameters={}, columns=columns_of(Row), rows=rows, totals={})
    assert list(csv.reader(to_csv(report).splitlines())) == [
        ["patient", "reason", "services", "day", "sessions", "amount"],
        [
            '\'=HYPERLINK("http://x","y")',
            "'+61 400 000 000",
            "'-a; b",
            "2024-03-02",
            "-3",
            "-40.00",
        ],
        ["'@SUM(A1)", "'\tx", "", "2024-03-02", "0", "0.00"],
        ["Ivy = Marlowe", "", "a-b", "2024-03-02", "1", "0.05"],
    ]
    patient, _, _, date, sessions, amount = report.columns
    assert csv_cell("\r1", "\r1", patient) == "'\r1"
    assert csv_cell("-40.00", -4000, amount) == "-40.00"
    assert csv_cell(-3, -3, sessions) == -3
    assert csv_cell("2024-03-02", day, date) == "2024-03-02"
    assert csv_cell(None, None, patient) == ""


# ---------------------------------------------------------------- issue 8, G7: echoed paths


def test_a_path_is_shown_with_what_no_field_takes_escaped() -> None:
    assert shown("/tmp/x\x1b[2J.db") == "/tmp/x\\x1b[2J.db"
    assert shown("no\u202evsc.csv\x00") == "no\\u202evsc.csv\\x00"
    assert shown("caf\u00e9 \udc9b.csv") == "caf\u00e9 \\udc9b.csv"  # a byte that is not UTF-8
    assert shown("/home/ivy/Rechnungen März 2024.csv") == "/home/ivy/Rechnungen März 2024.csv"


@given(st.text(ANY_CHARACTER))
def test_nothing_shown_is_refused(text: str) -> None:
    assert not_allowed(shown(text)) is None
