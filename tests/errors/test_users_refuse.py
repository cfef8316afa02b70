"""Refusals of the logins and the permission matrix at the command line: a short
password, a name taken, a disabled user, a role that may not, ``--user`` with ``--actor``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .reproduce import Case, assert_refused

pytestmark = pytest.mark.usefixtures("quick_passwords")


def add_rita(password_file: str) -> tuple[str, ...]:
    return ("user", "add", "rita", "--role", "reception", "--password-file", password_file)


def test_a_short_password(cli, engine, practice, tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("too short\n")
    assert_refused(
        cli,
        engine,
        Case(
            ("user", "add", "sam", "--role", "admin", "--password-file", str(short)),
            "password_length",
            "password",
            "password: a password is 12-200 characters long",
        ),
    )


def test_a_user_name_taken(cli, engine, practice, password_file) -> None:
    assert_refused(
        cli,
        engine,
        Case(
            add_rita(password_file),
            "name_taken",
            "name",
            "user 'rita' already exists",
            given=(add_rita(password_file),),
        ),
    )


def test_a_token_for_a_disabled_user(cli, engine, practice, password_file) -> None:
    assert_refused(
        cli,
        engine,
        Case(
            ("token", "create", "desk", "--user", "rita"),
            "user_disabled",
            "user",
            "user 'rita' is disabled",
            given=(add_rita(password_file), ("user", "disable", "rita")),
        ),
    )


def test_a_role_that_may_not(cli, engine, practice, password_file) -> None:
    assert_refused(
        cli,
        engine,
        Case(
            ("--user", "rita", "period", "close", "2024-02-29"),
            "forbidden",
            None,
            "a reception user may not close periods (period.close: manager or above)",
            given=(add_rita(password_file),),
        ),
    )


def test_a_user_and_an_actor(cli, engine, practice, password_file) -> None:
    assert_refused(
        cli,
        engine,
        Case(
            ("--user", "rita", "--actor", "someone", "balance", "--patient", "P1"),
            "actor_conflict",
            "actor",
            "actor: give --user or --actor, not both (a user is the actor)",
            given=(add_rita(password_file),),
        ),
    )
