"""The error log (issue 8, item 6): an internal error leaves its traceback in a file that
only its owner can read, and that never holds patient data: no value from the input, no
value from a database row, no SQL parameters. Messages are left out (a message may quote
any of these); frames and exception types stay, which is what a bug report needs.

Each bug is injected where a real one would be, in ``store/``: adding patient P9 "Nell
Quade" (the input) calls a broken ``store.masters.insert_master`` that reads patient P1
"Ivy Marlowe" (a row) and fails with both names in its exceptions.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from clinicledger.cli import errors as cli_errors
from clinicledger.domain.errors import InvariantBroken, NotFound
from clinicledger.store import masters as store_masters

from .harness import Cli

ADD = ("patient", "add", "P9", "--name", "Nell Quade")
PATIENT_DATA = ("Nell", "Quade", "Ivy", "Marlowe")  # the input's name and P1's, in part
NAME = " ".join(PATIENT_DATA[:2])  # not in a line of code: a frame shows its line


def _stored_name(conn: Connection) -> str:
    name: str = conn.execute(text("SELECT name FROM patients WHERE code = 'P1'")).scalar_one()
    return name


def bug_with_a_cause(conn: Connection, kind: str, values: Any) -> int:
    stored = _stored_name(conn)
    try:
        raise KeyError(values["name"])
    except KeyError:
        raise RuntimeError(f"{values['name']} looks like {stored}") from ValueError(stored)


def bug_in_handling_a_bug(conn: Connection, kind: str, values: Any) -> int:
    stored = _stored_name(conn)
    try:
        raise LookupError(f"no {values['name']}")
    except LookupError:
        raise TypeError(f"{stored!r} is not {values['name']!r}")  # noqa: B904 (a bug)


def bug_with_sql_parameters(conn: Connection, kind: str, values: Any) -> int:
    """A statement that fails with the input as its parameter: SQLAlchemy's message would
    show ``[parameters: ('Nell Quade', 'Ivy Marlowe')]``."""
    conn.execute(
        text("INSERT INTO no_such_table (name, other) VALUES (:name, :other)"),
        {"name": values["name"], "other": _stored_name(conn)},
    )
    raise AssertionError("unreachable")


def bug_quoting_a_row(conn: Connection, kind: str, values: Any) -> int:
    """A statement whose error the database words with a row's value."""
    if conn.dialect.name == "postgresql":  # invalid input syntax for type integer: "Ivy ..."
        conn.execute(text("SELECT CAST(name AS INTEGER) FROM patients WHERE code = 'P1'"))
    else:  # JSON path error near 'Ivy Marlowe'
        conn.execute(text("SELECT json_extract('{}', name) FROM patients WHERE code = 'P1'"))
    raise AssertionError("unreachable")


BUGS: dict[str, tuple[Callable[..., int], str]] = {
    "exception-with-a-cause": (bug_with_a_cause, "RuntimeError"),
    "exception-in-handling-another": (bug_in_handling_a_bug, "TypeError"),
    "database-error-with-parameters": (bug_with_sql_parameters, "sqlalchemy.exc."),
    "database-error-quoting-a-row": (bug_quoting_a_row, "sqlalchemy.exc."),
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("bug", list(BUGS))
def test_the_log_holds_no_patient_data(
    cli: Cli,
    practice: None,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    bug: str,
) -> None:
    broken, logged_type = BUGS[bug]
    monkeypatch.setattr(store_masters, "insert_master", broken)
    log = clean_environment / "error.log"

    result = cli(*ADD, json=True)

    assert (result.status, result.error()["code"]) == (70, "internal"), result
    logged = log.read_text()
    assert logged.startswith("--- ") and "Traceback (most recent call last):" in logged
    assert f"{logged_type}" in logged  # the type (and, below, the frames) stay
    assert f", in {broken.__name__}\n" in logged  # the frames, down to the bug's own
    assert [word for word in PATIENT_DATA if word in logged] == []
    assert "[parameters:" not in logged and "[SQL:" not in logged
    assert (mode(log), mode(log.parent)) == (0o600, 0o700)


def test_each_exception_of_a_chain_is_logged_without_its_message(
    cli: Cli, practice: None, clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_masters, "insert_master", bug_with_a_cause)

    cli(*ADD)

    logged = (clean_environment / "error.log").read_text()
    # the cause first, as Python prints it; an exception never raised has no frames
    assert "ValueError (message not logged)\n" in logged
    assert "The above exception was the direct cause of the following exception:" in logged
    assert "RuntimeError (message not logged)\n" in logged
    assert logged.index("ValueError") < logged.index("RuntimeError")


def test_a_database_error_keeps_its_code_not_its_message(
    cli: Cli,
    engine: Engine,
    practice: None,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store_masters, "insert_master", bug_quoting_a_row)

    cli(*ADD)

    logged = (clean_environment / "error.log").read_text()
    if engine.dialect.name == "postgresql":
        driver = "psycopg.errors.InvalidTextRepresentation (sqlstate 22P02)"
    else:
        driver = "sqlite3.OperationalError (sqlite_errorname SQLITE_ERROR)"
    assert f"{driver} (message not logged)\n" in logged
    assert "sqlalchemy.exc." in logged


def test_database_errors_hide_their_parameters(engine: Engine) -> None:
    """The engine never words an error with the statement's parameters: an error that
    reaches a message, a log or a terminal by any path carries none."""
    with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
        conn.execute(text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": NAME})
    assert "Nell" not in str(caught.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(caught.value)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_log_with_looser_rights_is_made_private(
    cli: Cli, practice: None, clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment.mkdir(mode=0o755)
    os.chmod(clean_environment, 0o755)  # whatever the umask
    log = clean_environment / "error.log"
    log.write_text("--- an earlier error\n")
    os.chmod(log, 0o644)
    monkeypatch.setattr(store_masters, "insert_master", bug_with_a_cause)

    assert cli(*ADD).status == 70

    assert (mode(log), mode(clean_environment)) == (0o600, 0o700)
    assert log.read_text().startswith("--- an earlier error\n--- ")  # appended to


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_new_log_is_private_whatever_the_umask(
    cli: Cli, practice: None, clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_masters, "insert_master", bug_with_a_cause)
    before = os.umask(0)
    try:
        assert cli(*ADD).status == 70
    finally:
        os.umask(before)
    log = clean_environment / "error.log"
    assert (mode(log), mode(log.parent)) == (0o600, 0o700)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_log_that_is_a_link_is_not_followed(
    cli: Cli,
    practice: None,
    clean_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("")
    clean_environment.mkdir(mode=0o700)
    (clean_environment / "error.log").symlink_to(elsewhere)
    monkeypatch.setattr(store_masters, "insert_master", bug_with_a_cause)

    result = cli(*ADD)

    assert (result.status, result.err) == (
        70,
        "error: internal error (RuntimeError); details in (log unavailable)\n",
    )
    assert elsewhere.read_text() == ""


def test_our_own_invariant_keeps_its_message_and_a_user_error_its_code() -> None:
    """An :class:`InvariantBroken` is worded by us from ids and counts; a user error may
    quote the input (a code typed), so only its code and field are kept."""
    try:
        try:
            raise NotFound("patient", f"'{NAME}'", field="patient")
        except NotFound:
            raise InvariantBroken("2 entries would be committed without their audit record")  # noqa: B904
    except InvariantBroken as exc:
        logged = "".join(cli_errors.logged_traceback(exc))
    assert "NotFound (code not_found, field patient; message not logged)\n" in logged
    assert "During handling of the above exception, another exception occurred:" in logged
    assert logged.endswith(
        "clinicledger.domain.errors.InvariantBroken: "
        "2 entries would be committed without their audit record\n"
    )
    assert "Nell" not in logged


def test_a_chain_that_loops_is_logged_once() -> None:
    first, second = ValueError("Ivy"), KeyError("Marlowe")
    first.__context__, second.__context__ = second, first
    group = ExceptionGroup("two of them: Ivy", [first, RuntimeError("Quade")])

    logged = "".join(cli_errors.logged_traceback(group))

    assert logged.count("ValueError (message not logged)") == 1
    assert logged.count("KeyError (message not logged)") == 1
    assert "RuntimeError (message not logged)" in logged
    assert [word for word in PATIENT_DATA if word in logged] == []
