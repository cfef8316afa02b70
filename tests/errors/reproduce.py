"""One reproducer per user error, in the spirit of hledger's ``test/errors``: a command, the
exact code, field and message it must be refused with, exit status 2, and proof that
nothing at all was written (every row of every table is the same after it). Each
reproducer runs twice: the plain format (``error: MESSAGE`` on stderr) and ``--json``
(``{"error": {"code", "field", "message"}}`` on stderr, nothing on stdout)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy import Engine

try:  # the harness is shared with tests/cli; its name depends on whether tests/ is a package
    from tests.cli import harness
except ModuleNotFoundError:
    from cli import harness  # type: ignore[no-redef]

Cli = harness.Cli
snapshot = harness.snapshot

# For refusals where no single input is at fault and the right field is still open: an
# entry dated today in a closed period (the date comes from the clock, not from an option).
ANY_FIELD: Any = ANY


@dataclass(frozen=True, slots=True)
class Case:
    argv: tuple[str, ...]
    code: str
    field: str | None
    message: str
    given: tuple[tuple[str, ...], ...] = ()  # commands run first; each must succeed
    now: str | None = None  # an explicit --now for the refused command


def case(
    name: str,
    argv: tuple[str, ...] | list[str],
    code: str,
    field: str | None,
    message: str,
    *,
    given: tuple[tuple[str, ...], ...] = (),
    now: str | None = None,
) -> Any:
    return pytest.param(Case(tuple(argv), code, field, message, given, now), id=name)


_codes_on_postgresql: set[str] = set()


def on_backends(cases: list[Any]) -> list[Any]:
    """``(engine, case)`` parameters: every case on SQLite, and on PostgreSQL the first case
    of each error code (messages do not depend on the backend; what does, a rollback that
    leaves nothing behind, is proved once per code there). Use with ``indirect=["engine"]``.
    """
    params = []
    for param in cases:
        [one] = param.values
        name = param.id
        params.append(pytest.param("sqlite", one, id=f"sqlite-{name}"))
        if one.code not in _codes_on_postgresql:
            _codes_on_postgresql.add(one.code)
            params.append(pytest.param("postgresql", one, id=f"postgresql-{name}"))
    return params


def assert_refused(cli: Cli, engine: Engine, case: Case) -> None:
    for argv in case.given:
        cli.ok(*argv)
    before = snapshot(engine)
    now: str | bool = case.now if case.now is not None else True

    plain = cli(*case.argv, now=now)
    as_json = cli(*case.argv, now=now, json=True)
    after = snapshot(engine)

    assert {
        "plain": (plain.status, plain.out, plain.err),
        "json": (as_json.status, as_json.out, _parsed(as_json.err)),
    } == {
        "plain": (2, "", f"error: {case.message}\n"),
        "json": (
            2,
            "",
            {"error": {"code": case.code, "field": case.field, "message": case.message}},
        ),
    }
    assert as_json.err.count("\n") == 1, as_json.err
    assert after == before, "a refused command wrote to the ledger"


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
