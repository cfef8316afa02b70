"""``clinicledger report``: every report through the command line, its JSON shape, CSV,
favourites and the chart, against the harness practice (see harness.py for its figures)."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

import clinicledger.render.files as render_files
import clinicledger.render.formats as render_formats

from .harness import Cli

# one run per report, with the filters it needs; "today" is 2024-03-02
EVERY_REPORT = [
    ("income-allocation", "--from", "2024-03-01", "--to", "2024-03-02"),
    ("income-by-provider", "--from", "2024-03-01", "--to", "2024-03-02"),
    ("client-reconciliation", "--patient", "P1"),
    ("ledger-statement", "--patient", "P1", "--as-of", "2024-03-02"),
    ("balance-statement", "--patient", "P1", "--as-of", "2024-03-02"),
    ("balance-differences", "--as-of", "2024-03-02"),
    ("receipts", "--from", "2024-03-01", "--to", "2024-03-01"),
    ("debtors",),
    ("finance-summary", "--from", "2024-03-01", "--to", "2024-03-02"),
    ("adjustments", "--from", "2024-03-01", "--to", "2024-03-02"),
    ("unallocated",),
    ("unearned",),
    ("aging-trend", "--from", "2024-01-01", "--to", "2024-03-31"),
]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("argv", EVERY_REPORT, ids=[a[0] for a in EVERY_REPORT])
def test_every_report_prints_one_json_object(cli: Cli, practice: None, argv: tuple) -> None:
    data = cli.ok("report", *argv, "--format", "json", now=False)
    assert list(data)[:6] == ["report", "parameters", "columns", "rows", "totals", "warnings"]
    assert data["report"] == argv[0]
    for row in data["rows"]:
        assert list(row) == data["columns"]


def test_debtors_and_unallocated_as_of_today(cli: Cli, practice: None) -> None:
    debtors = cli.ok("report", "debtors", "--format", "json")
    assert debtors["parameters"]["as_of"] == "2024-03-02"  # today, by --now
    assert debtors["totals"]["total"] == "205.00"  # P1 105.00 + FUND1 100.00
    unallocated = cli.ok("report", "unallocated", "--format", "json")
    assert [(r["payment"], r["unallocated"]) for r in unallocated["rows"]] == [
        ("PAY-000001", "10.00"),
        ("PAY-000002", "40.00"),
        ("PAY-000004", "60.00"),
    ]


def test_receipts_csv_opens_as_a_spreadsheet(cli: Cli, practice: None) -> None:
    result = cli(
        "report", "receipts", "--from", "2024-03-01", "--to", "2024-03-01", "--format", "csv"
    )
    assert result.status == 0, result
    table = list(csv.reader(io.StringIO(result.out)))
    assert table[0] == [
        "date",
        "payment",
        "kind",
        "received_from",
        "method",
        "reference",
        "provider",
        "amount",
    ]
    amounts = [row[7] for row in table[1:] if len(row) == 8 and row[1].startswith("PAY-")]
    # 30.00 cash, 50.00 EFTPOS, 40.00 cheque and its reversal, 60.00 from the fund
    assert sorted(amounts) == sorted(["30.00", "50.00", "40.00", "-40.00", "60.00"])
    assert all(row[0] == "2024-03-01" for row in table[1:6])


def test_a_favourite_is_saved_and_run_again(cli: Cli, engine: Engine, practice: None) -> None:
    saved = cli.ok("report", "save", "eod", "receipts", "--preset", "today", "--location", "MAIN")
    assert saved == {"saved": "eod", "report": "receipts"}
    ran = cli.ok("report", "run", "eod", "--format", "json")
    assert ran["report"] == "receipts"
    assert ran["parameters"] == {
        "from_date": "2024-03-02",
        "to_date": "2024-03-02",
        "location": "MAIN",
    }
    refused = cli("report", "run", "nope", json=True)
    assert refused.status == 2
    assert refused.error() == {
        "code": "not_found",
        "field": "name",
        "message": "saved report 'nope' not found",
    }


def test_a_filter_a_report_does_not_take_is_refused(cli: Cli, practice: None) -> None:
    result = cli("report", "debtors", "--basis", "snapshot", json=True)
    assert result.status == 2
    assert result.error() == {
        "code": "filter_not_applicable",
        "field": "basis",
        "message": "basis: --basis does not apply to debtors",
    }


def test_an_aging_trend_to_the_end_of_the_calendar_is_refused_by_name(
    cli: Cli, practice: None
) -> None:
    # issue 8: 9999-12-31 itself is now outside the dates the ledger holds
    result = cli("report", "aging-trend", "--from", "2024-01-01", "--to", "2199-12-31", json=True)
    assert result.status == 2
    assert result.error() == {
        "code": "range_too_long",
        "field": "to",
        "message": "to: --from 2024-01-01 --to 2199-12-31 spans 2112 months; at most 240",
    }


def test_the_aging_chart_is_a_png(cli: Cli, practice: None, tmp_path: Path) -> None:
    chart = tmp_path / "aging.png"
    cli.ok(
        "report",
        "aging-trend",
        "--from",
        "2024-01-01",
        "--to",
        "2024-03-31",
        "--chart",
        str(chart),
        "--format",
        "json",
    )
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 5000


def test_output_goes_to_a_file(cli: Cli, practice: None, tmp_path: Path) -> None:
    target = tmp_path / "debtors.csv"
    result = cli("report", "debtors", "--format", "csv", "--output", str(target))
    assert (result.status, result.out) == (0, "")
    assert target.read_text(encoding="utf-8").startswith("debtor,code,kind,")


# issue 8, G3: a file that cannot be written is refused by name (tests/errors), and what
# was there stays as it was


def test_a_disk_full_half_way_leaves_the_output_as_it_was(
    cli: Cli, practice: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "debtors.csv"
    target.write_text("last month's debtors\n", encoding="utf-8")

    def full(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(render_files.os, "fsync", full)
    result = cli("report", "debtors", "--format", "csv", "--output", str(target), json=True)
    assert (result.status, result.error()["code"]) == (2, "output_unwritable")
    assert target.read_text(encoding="utf-8") == "last month's debtors\n"
    assert [p.name for p in folder.iterdir()] == ["debtors.csv"]  # no file left beside it


def test_an_output_and_a_chart_are_written_both_or_neither(
    cli: Cli, practice: None, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    table = folder / "aging.csv"
    aging = ("report", "aging-trend", "--from", "2024-01-01", "--to", "2024-03-31")
    result = cli(*aging, "--output", str(table), "--chart", str(folder / "no" / "c.png"))
    assert result.status == 2, result
    assert not table.exists()

    chart = folder / "aging.png"
    result = cli(*aging, "--output", str(folder / "no" / "a.csv"), "--chart", str(chart))
    assert result.status == 2, result
    assert list(folder.iterdir()) == []


def test_a_written_file_keeps_the_mode_it_had(cli: Cli, practice: None, tmp_path: Path) -> None:
    kept, new = tmp_path / "kept.csv", tmp_path / "new.csv"
    kept.write_text("", encoding="utf-8")
    kept.chmod(0o640)
    for target in (kept, new):
        assert cli("report", "debtors", "--output", str(target)).status == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~mask
    assert kept.read_text(encoding="utf-8") == new.read_text(encoding="utf-8") != ""


def test_a_long_table_is_printed_as_plain_columns(
    cli: Cli, practice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past LARGE_TABLE_ROWS rows the table format is plain aligned text (Rich measured
    every cell: 30 s for the bench's 39,518 debtors); here the limit is lowered to 1."""
    monkeypatch.setattr(render_formats, "LARGE_TABLE_ROWS", 1)
    result = cli("report", "debtors")
    assert result.status == 0, result
    assert result.out.splitlines() == [
        "debtors, as of 2024-03-02",  # titled with what was asked, however long
        "debtor               code   kind     days 0 29  days 30 59  days 60 89  days 90 plus"
        "  not yet due   total  credit",
        "-------------------  -----  -------  ---------  ----------  ----------  ------------"
        "  -----------  ------  ------",
        "Ivy Marlowe          P1     patient     105.00        0.00        0.00          0.00"
        "         0.00  105.00   50.00",
        "Harbour Health Fund  FUND1  fund        100.00        0.00        0.00          0.00"
        "         0.00  100.00   60.00",
        "totals: days 0 29 205.00, days 30 59 0.00, days 60 89 0.00, days 90 plus 0.00, "
        "not yet due 0.00, total 205.00, credit 110.00",
        "",
        "warning: 2 debtor(s) listed hold 110.00 of unapplied credit, shown as credit and not "
        "deducted from what they owe; apply it to their lines ('clinicledger credit apply' "
        "for a patient)",
    ]


def test_a_long_table_keeps_its_sections(
    cli: Cli, practice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_formats, "LARGE_TABLE_ROWS", 1)
    result = cli("report", "unallocated")
    assert result.status == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "unallocated, as of 2024-03-02"  # titled with what was asked
    assert [line.split()[0] for line in lines[3:6]] == ["PAY-000001", "PAY-000002", "PAY-000004"]
    assert lines[6] == "totals: payments 3, amount 140.00, unallocated 110.00"
    assert lines[7:9] == ["", "retained funds"]
    assert lines[-1] == "totals: payments 0, amount 0.00, retained 0.00"


# issue 9, target 5: income-allocation and receipts are written row by row as they are read


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["income-allocation", "receipts"])
@pytest.mark.parametrize("format_", ["csv", "json"])
def test_a_streamed_report_in_a_file_is_what_the_screen_shows(
    cli: Cli, practice: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name, format_
) -> None:
    import clinicledger.store.ledger as ledger

    monkeypatch.setattr(ledger, "STREAM_BATCH", 1)  # a batch a row: every row is streamed
    argv = ("report", name, "--from", "2024-03-01", "--to", "2024-03-02", "--format", format_)
    shown = cli(*argv)
    assert shown.status == 0, shown
    target = tmp_path / f"{name}.{format_}"
    assert cli(*argv, "--output", str(target)).status == 0
    assert target.read_text(encoding="utf-8") == shown.out
    if format_ == "json":  # the totals, summed as the rows went by
        data = json.loads(shown.out)
        key = "payment_amount" if name == "income-allocation" else "amount"
        total = sum(Decimal(r[key]) for r in data["rows"])
        assert len(data["rows"]) > 1 and Decimal(data["totals"][key]) == total


def test_a_report_failing_while_it_streams_leaves_the_output_as_it_was(
    cli: Cli, practice: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clinicledger.reports.income_allocation as income_allocation

    made, rows = income_allocation._make_row, []

    def failing(values):  # the second row: after the first was written
        if rows:
            raise OSError(errno.EIO, "the disk holding the ledger went away")
        rows.append(values)
        return made(values)

    monkeypatch.setattr(income_allocation, "_make_row", failing)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "income.csv"
    target.write_text("last month's income\n", encoding="utf-8")
    argv = ("report", "income-allocation", "--from", "2024-03-01", "--to", "2024-03-02")
    result = cli(*argv, "--format", "csv", "--output", str(target), json=True)
    assert result.status != 0
    assert len(rows) == 1
    assert target.read_text(encoding="utf-8") == "last month's income\n"
    assert [p.name for p in folder.iterdir()] == ["income.csv"]
