"""The papercuts found when the command line was tried as a new user (issue 7), each with
its reproducer: help without a ledger, help that reads as words, one clock for a script,
back-entry of history, report titles and --json, spreadsheets' CSV, and favourites."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import Engine, text

from clinicledger.cli.main import app
from clinicledger.reports.registry import REPORTS

from .harness import Cli

SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def commands() -> list[tuple[str, ...]]:
    """Every command path of the application: ('payment', 'record'), ('check',), ..."""
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found.append(path)

    walk(typer.main.get_command(app), ())
    return found


EVERY_COMMAND = commands()


@SQLITE
@pytest.mark.parametrize("path", EVERY_COMMAND, ids=[" ".join(p) for p in EVERY_COMMAND])
def test_every_command_has_help_that_needs_no_ledger(
    cli: Cli, tmp_path: Path, path: tuple[str, ...]
) -> None:
    nowhere = tmp_path / "no-ledger-here.db"
    result = cli(*path, "--help", db=str(nowhere), now=False)
    assert (result.status, result.err) == (0, ""), result
    assert not nowhere.exists()
    usage, _, rest = result.out.partition("\n\n")
    assert usage.startswith(f"Usage: clinicledger {' '.join(path)}")
    summary = rest.strip().splitlines()[0]
    assert summary and not summary.startswith(("Options:", "Arguments:")), result.out
    # option types are words (YYYY-MM-DD, AMOUNT, CODE), never Python's ("<str>", "<bool>")
    assert "<" not in result.out, result.out
    options = result.out.split("Options:", 1)[1]
    for line in options.splitlines():
        if line.startswith("  -") and "  " in line.strip():
            assert line.split("  ", 2)[-1].strip(), f"an option without help: {line}"


@SQLITE
def test_report_help_lists_every_report(cli: Cli) -> None:
    result = cli("report", "--help", db=False, now=False)
    assert result.status == 0
    listed = {line.split()[0] for line in result.out.split("Commands:")[1].splitlines() if line}
    assert set(REPORTS) | {"save", "run", "favourites"} == listed


GROUPS = sorted({path[:-1] for path in EVERY_COMMAND if len(path) > 1})


@SQLITE
@pytest.mark.parametrize("path", [(), *GROUPS], ids=["(none)", *(" ".join(p) for p in GROUPS)])
def test_a_group_called_bare_prints_its_help_as_usage(cli: Cli, path: tuple[str, ...]) -> None:
    """``clinicledger patient`` (no command) shows the group's help on stdout and exits 2,
    as a usage error; it is not an error message on stderr. (``clinicledger --json`` alone
    is a usage error: a command is missing.)"""
    for as_json in ((), ("--json",)) if path else ((),):
        result = cli(*as_json, *path, db=False, now=False)
        assert (result.status, result.err) == (2, ""), result
        assert result.out.startswith(f"Usage: clinicledger {' '.join(path)}".rstrip()), result
        assert "Commands:" in result.out


def test_commands_given_one_clock_follow_each_other(cli: Cli, engine: Engine) -> None:
    clock = "2024-03-02T09:00"
    cli.ok("init", now=clock)
    for code in ("P1", "P2", "P3"):
        cli.ok("patient", "add", code, "--name", f"Sam Sample {code}", now=clock)
    with engine.connect() as conn:
        stamps = conn.execute(text("SELECT recorded_at FROM audit_log ORDER BY id")).scalars()
        seen = list(stamps)
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == 4
    earlier = cli("patient", "add", "P4", "--name", "Sam Sample", now="2024-03-02T08:59:59")
    assert earlier.status == 2
    assert earlier.err.startswith("error: now: 2024-03-01T21:59:59 UTC is earlier than")


def test_back_entry_after_master_data_says_how_to_proceed(cli: Cli) -> None:
    today = "2024-03-02T09:00"
    cli.ok("init", now=today)
    cli.ok("location", "add", "MAIN", "--name", "Main Street Rooms", now=today)
    result = cli("location", "add", "ANNEX", "--name", "Annex", now="2023-07-01T09:00", json=True)
    error = result.error()
    assert (result.status, error["code"], error["field"]) == (2, "now_in_past", "now")
    assert error["message"] == (
        "now: 2023-06-30T23:00:00 UTC is earlier than the latest recorded entry "
        "(2024-03-01T22:00:00.000001 UTC); history cannot be recorded out of order. "
        "To enter earlier history, set up the master data with --now at or before its "
        "first date, or bring balances in with 'import opening-balances'"
    )


@SQLITE
def test_a_small_report_is_titled_with_what_was_asked(cli: Cli, practice: None) -> None:
    result = cli("report", "debtors", "--location", "MAIN")
    assert result.status == 0, result
    assert result.out.splitlines()[0] == "debtors, as of 2024-03-02, location MAIN"
    known = cli("report", "receipts", "--from", "2024-03-01", "--to", "2024-03-01",
                "--as-known-at", "2024-03-01T12:00")  # fmt: skip
    assert known.out.splitlines()[0] == (
        "receipts, 2024-03-01 to 2024-03-01, as known at 2024-03-01T12:00:00+11:00"
    )


@SQLITE
def test_a_piped_table_is_fitted_to_columns_when_given(cli: Cli, practice: None) -> None:
    """``COLUMNS=60 clinicledger report ... | less``: names wrap, figures stay whole; without
    COLUMNS a pipe gets every row on one line."""
    asked = ("report", "receipts", "--from", "2024-03-01", "--to", "2024-03-02")
    wide = cli(*asked).out
    assert max(len(line) for line in wide.splitlines()) > 60
    fitted = cli(*asked, columns=60).out
    assert any("Ivy Marlowe" in line for line in wide.splitlines())
    assert not any("Ivy Marlowe" in line for line in fitted.splitlines())  # the name wraps
    assert max(len(line) for line in fitted.splitlines()) < max(
        len(line) for line in wide.splitlines()
    )
    for figure in ("2024-03-01", "PAY-000004", "-40.00", "140.00"):
        assert figure in fitted  # figures are never cut


@SQLITE
def test_the_global_json_option_works_for_reports(cli: Cli, practice: None) -> None:
    data = cli.ok("report", "debtors")
    assert data["report"] == "debtors"
    assert data["totals"]["total"] == "205.00"


# ---------------------------------------------------------------- spreadsheets' CSV


def refused(cli: Cli, *argv: str) -> dict[str, Any]:
    result = cli(*argv, json=True)
    assert result.status == 2, result
    return result.error()


def test_a_windows_1252_csv_is_refused_with_the_way_to_read_it(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    cli.ok("init")
    path = tmp_path / "patients.csv"
    path.write_bytes("code,name\r\nP1,Zo\u00eb Hart\r\nP2,Ren\u00e9e Quill\r\n".encode("cp1252"))
    error = refused(cli, "import", "patients", str(path))
    assert error["code"] == "import_rejected"
    assert error["message"].endswith("; if a spreadsheet saved it as CSV, try --encoding cp1252")
    assert cli.ok("import", "patients", str(path), "--encoding", "cp1252")["created"] == 2
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM patients ORDER BY code")).scalars().all()
    assert names == ["Zo\u00eb Hart", "Ren\u00e9e Quill"]


def test_utf8_with_a_byte_order_mark_and_crlf_is_read(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    cli.ok("init")
    path = tmp_path / "patients.csv"
    path.write_bytes(b"\xef\xbb\xbfcode,name\r\nP1,Zo\xc3\xab Hart\r\n")
    assert cli.ok("import", "patients", str(path))["created"] == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code, name FROM patients")).one() == (
            "P1",
            "Zo\u00eb Hart",
        )


def test_an_unknown_encoding_is_refused_by_name(cli: Cli, tmp_path: Path) -> None:
    cli.ok("init")
    path = tmp_path / "patients.csv"
    path.write_text("code,name\nP1,Sam Sample\n", encoding="utf-8")
    assert refused(cli, "import", "patients", str(path), "--encoding", "latin9") == {
        "code": "choice_unknown",
        "field": "encoding",
        "message": "encoding: 'latin9' is not one of: utf-8, cp1252",
    }


# ---------------------------------------------------------------- favourites


@SQLITE
def test_a_favourite_that_cannot_run_is_not_saved(cli: Cli, practice: None) -> None:
    assert refused(cli, "report", "save", "dr9", "debtors", "--provider", "DR9") == {
        "code": "not_found",
        "field": "provider",
        "message": "provider 'DR9' not found",
    }
    assert refused(cli, "report", "save", "odd", "debtors", "--basis", "snapshot") == {
        "code": "filter_not_applicable",
        "field": "basis",
        "message": "basis: --basis does not apply to debtors",
    }
    assert cli.ok("report", "favourites") == {"favourites": []}


@SQLITE
def test_a_favourite_keeps_its_format_and_is_replaced_only_when_asked(
    cli: Cli, practice: None
) -> None:
    cli.ok("report", "save", "owing", "debtors", "--location", "MAIN", "--format", "csv")
    ran = cli("report", "run", "owing")
    assert ran.status == 0, ran
    rows = list(csv.DictReader(io.StringIO(ran.out)))
    assert [(r["code"], r["total"]) for r in rows] == [("P1", "105.00"), ("FUND1", "100.00")]

    again = refused(cli, "report", "save", "owing", "receipts", "--preset", "today")
    assert again == {
        "code": "favourite_taken",
        "field": "name",
        "message": "a favourite named 'owing' already exists; give --replace to replace it",
    }
    cli.ok("report", "save", "owing", "receipts", "--preset", "today", "--replace")
    listed = cli.ok("report", "favourites")["favourites"]
    assert listed == [
        {
            "name": "owing",
            "report": "receipts",
            "format": "table",
            "settings": {"preset": "today"},
        }
    ]
    assert json.loads(cli("report", "run", "owing", "--format", "json").out)["parameters"] == {
        "from_date": "2024-03-02",
        "to_date": "2024-03-02",
    }


def test_a_retry_with_its_first_clock_is_answered_after_the_ledger_moved_on(cli: Cli) -> None:
    cli.ok("init", now="2024-03-02T09:00")
    cli.ok("location", "add", "MAIN", "--name", "Main Street Rooms", now="2024-03-02T09:00")
    cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe", now="2024-03-02T09:00")
    record = ("payment", "record", "--from", "P1", "--amount", "30.00", "--method", "cash")
    record += ("--received", "2024-03-02", "--location", "MAIN", "--idempotency-key", "R-1")
    first = cli.ok(*record, now="2024-03-02T09:05")
    cli.ok("patient", "add", "P2", "--name", "Otto Brandt", now="2024-03-02T09:30")
    assert cli.ok(*record, now="2024-03-02T09:05") == first  # no clock needed: nothing recorded


def test_a_clock_given_to_the_microsecond_is_compared_to_the_microsecond(cli: Cli) -> None:
    cli.ok("init", now="2024-03-02T09:00:00.500000")
    late = cli("patient", "add", "P1", "--name", "Ivy Marlowe", now="2024-03-02T09:00:00.200000")
    assert late.status == 2 and "is earlier than the latest recorded entry" in late.err
    cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe", now="2024-03-02T09:00:00")
