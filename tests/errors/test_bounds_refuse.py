"""Bounds (issue 8, items 7, 8 and 13): the clock, the dates a ledger holds, and the time
zone once history exists.

- ``--now`` may be at most five minutes ahead of the real clock (``now_in_future``) unless
  ``--allow-future-clock``; never outside 1900-01-01 to 2199-12-31, whatever the allowance
  (``date_out_of_range``: a clock at 9999-12-31T23:59:59.999999 made every later write an
  OverflowError, as the next stamp is a microsecond later).
- Service, received, close and opening-balance dates, and every date a report is asked
  about (from, to, as of, as known at, a preset's), lie in the same range; today the
  extremes were stored, or overflowed into exit 70.
- The practice's time zone is fixed once the ledger holds entries (``timezone_fixed``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from clinicledger.store import uow as uow_module

from .commands import TODAY, close, invoice, record
from .reproduce import Case, Cli, assert_refused, case, snapshot

ADD = ("patient", "add", "P9", "--name", "Nell Quade")
RANGE = "is outside the dates the ledger holds (1900-01-01 to 2199-12-31)"
OPENING = "party,code,date,location,amount,note\n"
FILES = {
    "opening-1899.csv": f"{OPENING}patient,P2,1899-12-31,MAIN,120.00,\n",
    "opening-9999.csv": f"{OPENING}patient,P2,9999-12-31,MAIN,120.00,\n",
}


def outside(field: str, value: str) -> str:
    return f"{field}: {value} {RANGE}"


def rejected(file: str, *problems: str) -> str:
    return f"{file} rejected, nothing imported: " + "; ".join(problems)


CLOCK_CASES = [
    # 2190-01-01 09:00 in Sydney (summer time, UTC+11)
    case(
        "now-ahead-of-the-real-clock",
        ADD,
        "now_in_future",
        "now",
        "now: 2189-12-31T22:00:00 UTC is more than 5 minutes ahead of the real clock; entries "
        "cannot be recorded in the future; to record history ahead of the real clock (a test, "
        "a reproduction), give --allow-future-clock",
        now="2190-01-01T09:00",
    ),
    case(
        "now-ahead-of-the-real-clock-for-a-payment",
        record("30.00"),
        "now_in_future",
        "now",
        "now: 2189-12-31T22:00:00 UTC is more than 5 minutes ahead of the real clock; entries "
        "cannot be recorded in the future; to record history ahead of the real clock (a test, "
        "a reproduction), give --allow-future-clock",
        now="2190-01-01T09:00",
    ),
    case(
        "now-at-the-end-of-the-calendar-even-allowed",  # was: every later write overflowed
        ("--allow-future-clock", *ADD),
        "date_out_of_range",
        "now",
        outside("now", "9999-12-31T23:59:59.999999+00:00"),
        now="9999-12-31T23:59:59.999999+00:00",
    ),
    case(
        "now-past-the-last-date-allowed",
        ("--allow-future-clock", *ADD),
        "date_out_of_range",
        "now",
        outside("now", "2200-01-01T00:00:00"),
        now="2200-01-01T00:00",
    ),
    case(  # G8: was stored as 2200-01-01 11:59:59 UTC, which no as-known-at could then ask
        "now-whose-utc-instant-is-past-the-last-date",
        ("--allow-future-clock", *ADD),
        "date_out_of_range",
        "now",
        outside("now", "2200-01-01T11:59:59.999999+00:00"),
        now="2199-12-31T23:59:59.999999-12:00",
    ),
    case(
        "now-whose-utc-instant-is-before-the-first-date",
        ADD,
        "date_out_of_range",
        "now",
        outside("now", "1899-12-31T10:00:00+00:00"),
        now="1900-01-01T00:00+14:00",
    ),
    case(
        "now-at-the-start-of-the-calendar",  # was: exit 70, OverflowError
        ADD,
        "date_out_of_range",
        "now",
        outside("now", "0001-01-01T00:00:00"),
        now="0001-01-01T00:00",
    ),
    case(
        "now-for-a-report-at-the-end-of-the-calendar",
        ("report", "debtors"),
        "date_out_of_range",
        "now",
        outside("now", "9999-12-31T23:59:00+00:00"),
        now="9999-12-31T23:59+00:00",
    ),
]

DATE_CASES = [
    case(
        "service-date-at-the-end-of-the-calendar",  # was stored
        invoice("item=90801,provider=DR1,date=9999-12-31"),
        "date_out_of_range",
        "line 1",
        outside("line 1", "9999-12-31"),
    ),
    case(
        "second-line-before-the-first-date",
        invoice(
            f"item=90801,provider=DR1,date={TODAY}",
            "cancellation,provider=DR1,date=1899-12-31,fee=25.00",
        ),
        "date_out_of_range",
        "line 2",
        outside("line 2", "1899-12-31"),
    ),
    case(
        "received-at-the-start-of-the-calendar",  # was stored
        record("30.00", received="0001-01-01"),
        "date_out_of_range",
        "received",
        outside("received", "0001-01-01"),
    ),
    case(
        "close-at-the-start-of-the-calendar",  # was closed, with its balances kept
        close("0001-01-01"),
        "date_out_of_range",
        "date",
        outside("date", "0001-01-01"),
    ),
    case(
        "opening-balance-before-the-first-date",
        ("import", "opening-balances", "opening-1899.csv"),
        "import_rejected",
        "date",
        rejected("opening-1899.csv", f"line 2, column date: 1899-12-31 {RANGE}"),
    ),
    case(
        "opening-balance-at-the-end-of-the-calendar",
        ("import", "opening-balances", "opening-9999.csv"),
        "import_rejected",
        "date",
        rejected("opening-9999.csv", f"line 2, column date: 9999-12-31 {RANGE}"),
    ),
    # reports: each was exit 70 (OverflowError) or a report of a calendar no entry can be in
    case(
        "report-as-of-the-end-of-the-calendar",
        ("report", "debtors", "--as-of", "9999-12-31"),
        "date_out_of_range",
        "as_of",
        outside("as_of", "9999-12-31"),
    ),
    case(
        "report-as-of-the-start-of-the-calendar",
        ("report", "unallocated", "--as-of", "0001-01-01"),
        "date_out_of_range",
        "as_of",
        outside("as_of", "0001-01-01"),
    ),
    case(
        "report-from-the-start-of-the-calendar",
        ("report", "receipts", "--from", "0001-01-01", "--to", TODAY),
        "date_out_of_range",
        "from",
        outside("from", "0001-01-01"),
    ),
    case(
        "report-to-the-end-of-the-calendar",
        ("report", "receipts", "--from", "2024-01-01", "--to", "9999-12-31"),
        "date_out_of_range",
        "to",
        outside("to", "9999-12-31"),
    ),
    case(
        "report-as-known-at-the-start-of-the-calendar",
        ("report", "debtors", "--as-known-at", "0001-01-01T00:00"),
        "date_out_of_range",
        "as_known_at",
        outside("as_known_at", "0001-01-01T00:00:00"),
    ),
    case(
        "report-as-known-at-the-end-of-the-calendar-west-of-utc",
        ("report", "debtors", "--as-known-at", "9999-12-31T23:59-05:00"),
        "date_out_of_range",
        "as_known_at",
        outside("as_known_at", "9999-12-31T23:59:00-05:00"),
    ),
    case(
        "favourite-saved-as-of-the-end-of-the-calendar",
        ("report", "save", "far", "debtors", "--as-of", "9999-12-31"),
        "date_out_of_range",
        "as_of",
        outside("as_of", "9999-12-31"),
    ),
    case(
        "preset-ending-after-the-last-date",  # this financial year ends 2200-06-30
        ("report", "receipts", "--preset", "this-financial-year"),
        "date_out_of_range",
        "preset",
        outside("preset", "2200-06-30"),
        now="2199-12-31T10:00",
    ),
    case(
        "preset-starting-before-the-first-date",  # last financial year began 1898-07-01
        ("report", "receipts", "--preset", "last-financial-year"),
        "date_out_of_range",
        "preset",
        outside("preset", "1898-07-01"),
        now="1900-01-01T10:00",
    ),
]

ZONE_CASES = [
    case(
        "timezone-changed-once-there-are-entries",
        ("practice", "set", "--timezone", "Australia/Perth"),
        "timezone_fixed",
        "timezone",
        "the time zone cannot change from Australia/Sydney once the ledger holds entries "
        "(business dates and as-known-at moments are read in it)",
    ),
    case(
        "timezone-changed-with-other-details",
        ("practice", "set", "--name", "Harbourside", "--timezone", "UTC"),
        "timezone_fixed",
        "timezone",
        "the time zone cannot change from Australia/Sydney once the ledger holds entries "
        "(business dates and as-known-at moments are read in it)",
    ),
]


def both(cases: list[Any]) -> list[Any]:
    """Every case on both backends: what overflows, and where, is the backend's too."""
    return [
        pytest.param(backend, param.values[0], id=f"{backend}-{param.id}")
        for param in cases
        for backend in ("sqlite", "postgresql")
    ]


@pytest.mark.parametrize(
    ("engine", "case"), both(CLOCK_CASES + DATE_CASES + ZONE_CASES), indirect=["engine"]
)
def test_out_of_bounds_is_refused_by_name(
    engine: Engine,
    case: Case,
    practice: None,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    for name, content in FILES.items():
        (files / name).write_text(content, encoding="utf-8", newline="")
    monkeypatch.chdir(files)
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- what stays allowed


def test_the_clock_may_run_a_little_ahead_of_the_real_one(
    engine: Engine, practice: None, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five minutes, exactly: the harness's clock, a minute a command, against a real clock
    fixed at 2024-03-02 09:00 in Sydney."""
    real = dt.datetime(2024, 3, 1, 22, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(uow_module, "real_clock", lambda: real)

    assert cli.ok(*ADD, now="2024-03-02T09:05") == {"id": 3, "code": "P9"}
    before = snapshot(engine)
    refused = cli(*record("30.00"), now="2024-03-02T09:05:00.000001", json=True)
    assert refused.error()["code"] == "now_in_future"
    assert snapshot(engine) == before


def test_allow_future_clock_records_ahead_and_later_entries_follow(
    engine: Engine, practice: None, cli: Cli
) -> None:
    far = "2190-01-01T09:00"
    assert cli.ok("--allow-future-clock", *ADD, now=far) == {"id": 3, "code": "P9"}
    # later entries, on the real clock, are stamped after it; nothing overflows
    assert cli.ok("patient", "add", "P10", "--name", "Remy Castell", now=False)["id"] == 4
    assert cli.ok("check")["ok"] is True


LAST_MOMENT = "2199-12-31T23:59:59.999999+00:00"


def test_the_last_moment_stored_can_be_asked_about(
    engine: Engine, practice: None, cli: Cli
) -> None:
    """G8: the clock's bound is on the moment as stored (UTC), so that whatever is stored
    an as-known-at can ask about; and a stamp after the last moment is refused, not
    stored."""
    cli.ok("--allow-future-clock", *ADD, now=LAST_MOMENT)
    shown = cli.ok("report", "debtors", "--as-known-at", "2199-12-31T23:59:59.999999Z")
    assert shown["parameters"]["as_known_at"] == "2200-01-01T10:59:59+11:00"  # in Sydney

    before = snapshot(engine)
    later = cli("patient", "add", "P10", "--name", "Remy Castell", now=False, json=True)
    assert (later.status, later.error()) == (
        2,
        {
            "code": "date_out_of_range",
            "field": "now",
            "message": outside("now", "2200-01-01T00:00:00+00:00"),
        },
    )
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            invoice("item=90801,provider=DR1,date=1900-01-01"),
            {"service_date": "1900-01-01"},
        ),
        (
            invoice("item=90801,provider=DR1,date=2199-12-31"),
            {"service_date": "2199-12-31"},
        ),
    ],
    ids=["first-date", "last-date"],
)
def test_the_first_and_last_dates_are_held(
    practice: None, cli: Cli, argv: tuple[str, ...], expected: dict[str, str]
) -> None:
    [line] = cli.ok(*argv)["lines"]
    assert {key: line[key] for key in expected} == expected
    assert cli.ok("report", "debtors", "--as-of", "2199-12-31")["rows"]
    assert cli.ok("report", "receipts", "--from", "1900-01-01", "--to", "2199-12-31")


def test_a_payment_received_on_the_first_date(practice: None, cli: Cli) -> None:
    assert cli.ok(*record("30.00", received="1900-01-01"))["amount"] == "30.00"


def test_the_same_time_zone_again_changes_nothing_and_is_not_refused(
    engine: Engine, practice: None, cli: Cli
) -> None:
    assert cli.ok("practice", "set", "--timezone", "Australia/Sydney") == {"updated": True}


def test_the_time_zone_is_fixed_by_the_first_entry_not_the_first_patient(cli: Cli) -> None:
    """G10: as README says; a patient carries no business date or moment a report reads
    in the zone."""
    cli.ok("init")
    cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe")
    cli.ok("location", "add", "MAIN", "--name", "Main rooms")
    assert cli.ok("practice", "set", "--timezone", "Australia/Perth") == {"updated": True}


def test_the_time_zone_may_change_before_the_ledger_holds_anything(
    engine: Engine, cli: Cli
) -> None:
    cli.ok("init")
    assert cli.ok("practice", "set", "--timezone", "Australia/Perth") == {"updated": True}
    cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe")
    cli.ok("location", "add", "MAIN", "--name", "Main rooms")
    record = ("--from", "P1", "--amount", "30.00", "--method", "cash", "--location", "MAIN")
    cli.ok("payment", "record", *record, "--received", cli.now.date().isoformat())
    assert cli("practice", "set", "--timezone", "UTC", json=True).error()["code"] == (
        "timezone_fixed"
    )
