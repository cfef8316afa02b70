"""Reports and favourites asked for wrongly: a filter or option the report does not take,
a required patient, period or range left out, dates reversed or too far apart, a report
that does not exist; favourites saved twice, or damaged where they are kept. Then the same
rules one layer down, where only a caller of the services or the favourites module can
break them (no today's date, no as-of date, an option no JSON can hold)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from clinicledger.domain.errors import InvalidInput, UserError
from clinicledger.reports.base import ReportParams
from clinicledger.reports.favourites import favourite_data, favourite_from_data
from clinicledger.services import reporting
from clinicledger.store import tables as t

from .reproduce import Case, Cli, assert_refused, case, on_backends, snapshot

REPORTS = (
    "adjustments, aging-trend, balance-differences, balance-statement, client-reconciliation, "
    "debtors, finance-summary, income-allocation, income-by-provider, ledger-statement, "
    "receipts, unallocated, unearned"
)
SAVE_EOD = ("report", "save", "eod", "receipts", "--preset", "today")
AGING_TREND = ("report", "aging-trend", "--from", "2024-01-01", "--to", "2024-03-01")
PERIOD = "income-by-provider needs a period: --from and --to"

CASES = [
    # filters and options of other reports: refused by name, not as unknown options
    case(
        "option-of-another-report",
        ("report", "debtors", "--basis", "restated"),
        "filter_not_applicable",
        "basis",
        "basis: --basis does not apply to debtors",
    ),
    case(
        "filter-of-another-report",
        ("report", "unallocated", "--provider", "DR1"),
        "filter_not_applicable",
        "provider",
        "provider: --provider does not apply to unallocated",
    ),
    case(
        "dates-on-a-point-in-time-report",
        ("report", "debtors", "--from", "2024-01-01"),
        "filter_not_applicable",
        "from",
        "from: --from does not apply to debtors",
    ),
    case(
        "chart-of-a-report-that-is-not-drawn",
        ("report", "debtors", "--chart", "debtors.png"),
        "filter_not_applicable",
        "chart",
        "chart: --chart does not apply to debtors",
    ),
    case(
        "favourite-saved-with-an-option-of-another-report",
        ("report", "save", "owing", "debtors", "--by-provider"),
        "filter_not_applicable",
        "by_provider",
        "by_provider: --by-provider does not apply to debtors",
    ),
    # what a report cannot do without
    case(
        "ledger-statement-without-a-patient",
        ("report", "ledger-statement"),
        "patient_missing",
        "patient",
        "patient: --patient is required for ledger-statement",
    ),
    case(
        "balance-statement-without-a-patient",
        ("report", "balance-statement", "--as-of", "2024-03-01"),
        "patient_missing",
        "patient",
        "patient: --patient is required for balance-statement",
    ),
    case(
        "client-reconciliation-without-a-patient",
        ("report", "client-reconciliation"),
        "patient_missing",
        "patient",
        "patient: client-reconciliation needs --patient CODE",
    ),
    case(
        "income-by-provider-without-a-period",
        ("report", "income-by-provider"),
        "period_missing",
        "from",
        f"from: {PERIOD}",
    ),
    case(
        "income-by-provider-without-an-end",
        ("report", "income-by-provider", "--from", "2024-03-01"),
        "period_missing",
        "to",
        f"to: {PERIOD}",
    ),
    case(
        "income-by-provider-without-a-start",
        ("report", "income-by-provider", "--to", "2024-03-01"),
        "period_missing",
        "from",
        f"from: {PERIOD}",
    ),
    case(
        "aging-trend-without-a-range",
        ("report", "aging-trend"),
        "range_missing",
        "from",
        "from: this report needs --from and --to (the months to show)",
    ),
    case(
        "aging-trend-without-a-start",
        ("report", "aging-trend", "--to", "2024-03-01"),
        "range_missing",
        "from",
        "from: this report needs --from and --to (the months to show)",
    ),
    # ranges
    case(
        "preset-and-dates",
        ("report", "receipts", "--preset", "today", "--from", "2024-03-01"),
        "range_conflict",
        "preset",
        "preset: give --preset or --from/--to, not both",
    ),
    case(
        "favourite-saved-with-a-preset-and-dates",
        (*SAVE_EOD, "--to", "2024-03-02"),
        "range_conflict",
        "preset",
        "preset: give --preset or --from/--to, not both",
    ),
    case(
        "range-reversed",
        ("report", "receipts", "--from", "2024-03-02", "--to", "2024-03-01"),
        "range_reversed",
        "from",
        "from: --from is after --to",
    ),
    case(
        "period-reversed",
        ("report", "income-by-provider", "--from", "2024-03-02", "--to", "2024-03-01"),
        "range_reversed",
        "from",
        "from: --from is after --to",
    ),
    case(
        "aging-trend-over-twenty-years",
        ("report", "aging-trend", "--from", "2000-01-01", "--to", "2024-03-01"),
        "range_too_long",
        "to",
        "to: --from 2000-01-01 --to 2024-03-01 spans 291 months; at most 240",
    ),
    # options
    *[
        case(
            f"aging-trend-interval-of-{days}-days",
            (*AGING_TREND, "--interval-days", days),
            "interval_out_of_range",
            "interval_days",
            f"interval_days: '{days}' is not a whole number of days from 1 to 3650",
        )
        for days in ("0", "3651")
    ],
    *[
        case(
            f"debtors-interval-of-{days}-days",
            ("report", "debtors", "--interval-days", days),
            "interval_out_of_range",
            "interval_days",
            f"interval_days: '{days}' is not a whole number of days from 1 to 3650",
        )
        for days in ("0", "3651")
    ],
    case(
        "debtors-older-than-minus-one-day",
        ("report", "debtors", "--older-than-days", "-1"),
        "interval_out_of_range",
        "older_than_days",
        "older_than_days: '-1' is not a whole number of days from 0 to 36500",
    ),
    # files
    case(
        "client-reconciliation-compared-with-a-file-that-is-not-there",
        ("report", "client-reconciliation", "--patient", "P1", "--compare", "export.csv"),
        "file_unreadable",
        "compare",
        "compare: cannot read export.csv: No such file or directory",
    ),
    # files to write: refused by name, and nothing written (issue 8, G3)
    case(
        "output-in-a-folder-that-is-not-there",
        ("report", "debtors", "--output", "/nonexist/out.csv"),
        "output_unwritable",
        "output",
        "output: cannot write /nonexist/out.csv: the folder /nonexist does not exist",
    ),
    case(
        "output-to-a-folder",
        ("report", "debtors", "--output", "/tmp"),
        "output_unwritable",
        "output",
        "output: cannot write /tmp: Is a directory",
    ),
    case(
        "output-to-a-file-of-the-kernel",
        ("report", "debtors", "--output", "/proc/version"),
        "output_unwritable",
        "output",
        "output: cannot write /proc/version: no file can be made in /proc "
        "(No such file or directory)",
    ),
    case(
        "output-to-a-full-device",
        ("report", "debtors", "--format", "csv", "--output", "/dev/full"),
        "output_unwritable",
        "output",
        "output: cannot write /dev/full: No space left on device",
    ),
    case(
        "chart-in-a-folder-that-is-not-there",
        (*AGING_TREND, "--chart", "/nonexist/c.png"),
        "output_unwritable",
        "chart",
        "chart: cannot write /nonexist/c.png: the folder /nonexist does not exist",
    ),
    case(
        "favourite-run-to-a-folder",
        ("report", "run", "eod", "--output", "/tmp"),
        "output_unwritable",
        "output",
        "output: cannot write /tmp: Is a directory",
        given=(SAVE_EOD,),
    ),
    case(  # G10: was read whole
        "client-reconciliation-compared-with-an-endless-file",
        ("report", "client-reconciliation", "--patient", "P1", "--compare", "/dev/zero"),
        "import_rejected",
        "(file)",
        "zero rejected, nothing imported: line 1, column (file): is more than 67108864 bytes long",
    ),
    # favourites
    case(
        "favourite-of-a-report-that-does-not-exist",
        ("report", "save", "fav", "nosuch"),
        "report_unknown",
        "report",
        f"report: 'nosuch' is not a report; reports: {REPORTS}",
    ),
    case(
        "favourite-saved-twice",
        SAVE_EOD,
        "favourite_taken",
        "name",
        "a favourite named 'eod' already exists; give --replace to replace it",
        given=(SAVE_EOD,),
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_report_is_refused(
    engine: Engine,
    case: Case,
    practice: None,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # where a relative file name would be read or written
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- damaged favourites

# What ``report save eod receipts --preset today`` keeps, to be damaged with SQL.
EOD = {"format": "table", "parameters": {}, "preset": "today", "report": "receipts", "version": 1}


def damaged(
    name: str, changes: dict[str, Any], code: str, field: str | None, message: str
) -> tuple[dict[str, Any], Any]:
    return {**EOD, **changes}, case(name, ("report", "run", "eod"), code, field, message)


DAMAGED = [
    damaged(
        "favourite-of-a-later-version",
        {"version": 2},
        "favourite_version",
        "version",
        "version: favourite version 2 is not 1",
    ),
    damaged(
        "favourite-without-a-version",
        {"version": None},
        "favourite_version",
        "version",
        "version: favourite version None is not 1",
    ),
    damaged(
        "favourite-with-an-unknown-key",
        {"colour": "red"},
        "favourite_malformed",
        "colour",
        "colour: is not a key of a favourite",
    ),
    damaged(
        "favourite-with-an-unknown-parameter",
        {"parameters": {"colour": "red"}},
        "favourite_malformed",
        "colour",
        "colour: is not a key of a favourite's parameters",
    ),
    damaged(
        "favourite-without-a-report",
        {"report": ""},
        "favourite_malformed",
        "report",
        "report: a report name is required",
    ),
    damaged(
        "favourite-parameters-not-an-object",
        {"parameters": ["today"]},
        "favourite_malformed",
        "parameters",
        "parameters: is not an object",
    ),
    damaged(
        "favourite-date-not-a-date",
        {"preset": None, "parameters": {"from_date": "2024-13-01"}},
        "favourite_malformed",
        "from_date",
        "from_date: '2024-13-01' is not a date (YYYY-MM-DD)",
    ),
    damaged(
        "favourite-as-known-at-not-utc",
        {"parameters": {"as_known_at": "2024-03-01T09:00:00+11:00"}},
        "favourite_malformed",
        "as_known_at",
        "as_known_at: '2024-03-01T09:00:00+11:00' is not a UTC time (YYYY-MM-DDTHH:MM:SS)",
    ),
    damaged(
        "favourite-code-not-text",
        {"parameters": {"location": 7}},
        "favourite_malformed",
        "location",
        "location: is not a code",
    ),
    damaged(
        "favourite-options-not-an-object",
        {"parameters": {"options": ["by_provider"]}},
        "favourite_malformed",
        "options",
        "options: is not an object",
    ),
    damaged(
        "favourite-flag-not-true-or-false",
        {"parameters": {"options": {"by_provider": "yes"}}},
        "option_malformed",
        "by_provider",
        "by_provider: must be true or false",
    ),
    damaged(
        "favourite-option-a-float",
        {"parameters": {"options": {"by_provider": 1.5}}},
        "option_malformed",
        "by_provider",
        "by_provider: an option of type float cannot be saved",
    ),
    damaged(
        "favourite-of-a-report-that-does-not-exist",
        {"report": "nosuch"},
        "report_unknown",
        "report",
        f"report: 'nosuch' is not a report; reports: {REPORTS}",
    ),
]
DAMAGE = {param.values[0]: json.dumps(data, sort_keys=True) for data, param in DAMAGED}


def keep(engine: Engine, name: str, parameters: str) -> None:
    """What a hand at the database (or a bug) might leave in a favourite."""
    with engine.begin() as conn:
        conn.execute(
            update(t.saved_reports)
            .where(t.saved_reports.c.name == name)
            .values(parameters=parameters)
        )


@pytest.mark.parametrize(
    ("engine", "case"), on_backends([param for _, param in DAMAGED]), indirect=["engine"]
)
def test_a_damaged_favourite_is_refused(
    engine: Engine, case: Case, practice: None, cli: Cli
) -> None:
    cli.ok(*SAVE_EOD)
    keep(engine, "eod", DAMAGE[case])
    assert_refused(cli, engine, case)


@pytest.mark.parametrize(
    "argv", [("report", "run", "eod"), ("report", "favourites")], ids=["run", "list"]
)
@pytest.mark.parametrize(
    "kept", ["receipts, today", "[1]", '"receipts"'], ids=["not-json", "a-list", "a-string"]
)
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_favourite_that_is_no_json_object_is_refused(
    engine: Engine, practice: None, cli: Cli, kept: str, argv: tuple[str, ...]
) -> None:
    cli.ok(*SAVE_EOD)
    keep(engine, "eod", kept)
    before = snapshot(engine)

    result = cli(*argv, json=True)

    assert (result.status, result.error()["code"]) == (2, "favourite_malformed")
    assert snapshot(engine) == before


@pytest.mark.parametrize("version", [True, 1.0], ids=["true", "one-point-zero"])
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_favourite_version_of_the_wrong_type_is_refused(
    engine: Engine, practice: None, cli: Cli, version: object
) -> None:
    cli.ok(*SAVE_EOD)
    keep(engine, "eod", json.dumps({**EOD, "version": version}))

    result = cli("report", "run", "eod", json=True)

    assert (result.status, result.error()["code"]) == (2, "favourite_version")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_preset_on_a_point_in_time_report_is_refused_by_its_name(
    engine: Engine, practice: None, cli: Cli
) -> None:
    assert_refused(
        cli,
        engine,
        Case(
            ("report", "debtors", "--preset", "today"),
            "filter_not_applicable",
            "preset",
            "preset: --preset does not apply to debtors",
        ),
    )


# ---------------------------------------------------------------- one layer down

Call = Callable[[Engine], object]


def refusal(
    name: str, call: Call, code: str, field: str | None, message: str, *, postgresql: bool = False
) -> list[Any]:
    backends = ["sqlite", "postgresql"] if postgresql else ["sqlite"]
    return [
        pytest.param(backend, call, code, field, message, id=f"{backend}-{name}")
        for backend in backends
    ]


def run(name: str, **params: Any) -> Call:
    return lambda engine: reporting.run_report(engine, name, ReportParams(**params))


TODAY = dt.date(2024, 3, 2)

SERVICE_REFUSALS = [
    # run_report takes resolved parameters: a point-in-time report needs today or an as-of
    *refusal(
        "unallocated-without-as-of-or-today",
        run("unallocated"),
        "as_of_missing",
        "as_of",
        "as_of: this report needs an as-of date",
        postgresql=True,
    ),
    *refusal(
        "unearned-without-as-of-or-today",
        run("unearned"),
        "as_of_missing",
        "as_of",
        "as_of: this report needs an as-of date",
    ),
    # the services' own wording names no flag (the command line adds the flags)
    *refusal(
        "ledger-statement-without-a-patient",
        run("ledger-statement", as_of=TODAY),
        "patient_missing",
        "patient",
        "patient: ledger-statement needs a patient",
    ),
    *refusal(
        "income-by-provider-without-a-period",
        run("income-by-provider"),
        "period_missing",
        "from",
        "from: income-by-provider needs a period: from and to",
    ),
    *refusal(
        "aging-trend-without-a-range",
        run("aging-trend"),
        "range_missing",
        "from",
        "from: this report needs the months to show: from and to",
    ),
    *refusal(
        "option-of-another-report",
        run("debtors", options={"basis": "restated"}),
        "filter_not_applicable",
        "basis",
        "basis: does not apply to debtors",
    ),
    *refusal(
        "range-reversed",
        run("receipts", from_date=TODAY, to_date=dt.date(2024, 3, 1)),
        "range_reversed",
        "from",
        "from: the start is after the end",
    ),
    *refusal(
        "report-unknown",
        run("nosuch"),
        "report_unknown",
        "report",
        f"report: 'nosuch' is not a report; reports: {REPORTS}",
    ),
    *refusal(
        "request-with-a-preset-and-dates",
        lambda engine: reporting.run_request(
            engine,
            reporting.ReportRequest(report="receipts", preset="today", from_date=TODAY),
            now=dt.datetime(2024, 3, 2, 9, 0),
        ),
        "range_conflict",
        "preset",
        "preset: give a preset or dates (from, to), not both",
    ),
]


@pytest.mark.parametrize(
    ("engine", "call", "code", "field", "message"), SERVICE_REFUSALS, indirect=["engine"]
)
def test_report_service_refuses(
    engine: Engine,
    practice: None,
    call: Call,
    code: str,
    field: str | None,
    message: str,
) -> None:
    before = snapshot(engine)
    with pytest.raises(UserError) as raised:
        call(engine)
    error = raised.value
    assert (type(error), error.code, error.field, error.message, str(error)) == (
        InvalidInput,
        code,
        field,
        message,
        message,
    )
    assert snapshot(engine) == before


# The favourites module is pure: it reads and writes dicts, no ledger.
FAVOURITE_REFUSALS = [
    pytest.param(
        lambda: favourite_from_data(
            {"version": 1, "report": "receipts", "preset": "today", "parameters": {}}
        ),
        "today_missing",
        "preset",
        "preset: the preset 'today' needs today's date",
        id="preset-read-back-without-today",
    ),
    pytest.param(
        lambda: favourite_data("", ReportParams()),
        "report_missing",
        "report",
        "report: a report name is required",
        id="favourite-of-no-report",
    ),
    pytest.param(
        lambda: favourite_data("receipts", ReportParams(options={"by_provider": 1.5})),
        "option_malformed",
        "by_provider",
        "by_provider: an option of type float cannot be saved",
        id="favourite-option-a-float",
    ),
    pytest.param(
        lambda: favourite_data("receipts", ReportParams(options={"types": [b"refund"]})),
        "option_malformed",
        "types",
        "types: an option of type bytes cannot be saved",
        id="favourite-option-list-of-bytes",
    ),
    pytest.param(
        lambda: favourite_data("receipts", ReportParams(from_date=TODAY), preset="today"),
        "range_conflict",
        "preset",
        "preset: give a preset or dates (from, to), not both",
        id="favourite-with-a-preset-and-dates",
    ),
    pytest.param(
        lambda: favourite_from_data(
            {
                "version": 1,
                "report": "receipts",
                "preset": "today",
                "parameters": {"from_date": "2024-03-01"},
            },
            today=TODAY,
        ),
        "range_conflict",
        "preset",
        "preset: a favourite has a preset or dates, not both",
        id="favourite-read-back-with-a-preset-and-dates",
    ),
    pytest.param(
        lambda: favourite_from_data(["receipts"]),  # type: ignore[arg-type]
        "favourite_malformed",
        "favourite",
        "favourite: is not an object",
        id="favourite-not-an-object",
    ),
]


@pytest.mark.parametrize(("call", "code", "field", "message"), FAVOURITE_REFUSALS)
def test_favourites_module_refuses(
    call: Callable[[], object], code: str, field: str, message: str
) -> None:
    with pytest.raises(UserError) as raised:
        call()
    error = raised.value
    assert (type(error), error.code, error.field, error.message) == (
        InvalidInput,
        code,
        field,
        message,
    )


def test_a_pdf_longer_than_its_most_rows_is_refused(
    engine: Engine, practice: None, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinicledger.render import pdf

    printed = tmp_path / "debtors.pdf"
    shown = cli("report", "debtors", "--format", "csv", json=False)
    rows = len(shown.out.strip().splitlines()) - 1
    assert rows >= 1
    monkeypatch.setattr(pdf, "PDF_ROWS_MAX", rows - 1)
    before = snapshot(engine)

    result = cli("report", "debtors", "--format", "pdf", "--output", str(printed), json=True)

    assert (result.status, result.error()["code"]) == (2, "pdf_too_long")
    assert result.error()["field"] == "format"
    assert f"this report has {rows:,}" in result.error()["message"]
    assert not printed.exists() and snapshot(engine) == before
