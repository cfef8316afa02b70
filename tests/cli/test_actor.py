"""Who did it (issue 7): every entry and audit record a command writes carries its actor:
``--actor NAME``, else ``$CLINICLEDGER_ACTOR``, else the operating-system user. A name
that is not one (empty, over 100 characters, a control character) is refused with
``actor_malformed`` and nothing is written. ``report adjustments --group actor`` shows one
section per real name. Against the harness practice, whose set-up was done by "system"."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import Engine, select

from clinicledger.store import tables as t

from .harness import Cli, snapshot

RECORD = (
    "payment",
    "record",
    "--from",
    "P1",
    "--amount",
    "25.00",
    "--method",
    "cash",
    "--received",
    "2024-03-02",
    "--location",
    "MAIN",
)
OS_USER = "wren.ashby"  # a generated login name


@pytest.fixture(autouse=True)
def os_user(monkeypatch: pytest.MonkeyPatch) -> str:
    """No actor from the caller's environment; the operating system's user is generated."""
    monkeypatch.delenv("CLINICLEDGER_ACTOR", raising=False)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, OS_USER)
    return OS_USER


def actors_since(engine: Engine, entries_after: int, audit_after: int) -> tuple[set[str], set[str]]:
    """The actors of the entries and audit records after the ids given."""
    E, A = t.entries, t.audit_log
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        entries = set(conn.execute(select(E.c.actor).where(E.c.id > entries_after)).scalars())
        audit = set(conn.execute(select(A.c.actor).where(A.c.id > audit_after)).scalars())
    return entries, audit


def last_ids(engine: Engine) -> tuple[int, int]:
    E, A = t.entries, t.audit_log
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        entry = conn.execute(select(E.c.id).order_by(E.c.id.desc()).limit(1)).scalar_one()
        audit = conn.execute(select(A.c.id).order_by(A.c.id.desc()).limit(1)).scalar_one()
    return entry, audit


def test_the_practice_was_set_up_by_system(engine: Engine, practice: None) -> None:
    assert actors_since(engine, 0, 0) == ({"system"}, {"system"})


def test_actor_flag_is_on_every_entry_and_audit_record(
    engine: Engine, cli: Cli, practice: None
) -> None:
    since = last_ids(engine)
    # a reversal writes two entries (AL-000005's un-allocation, then the reversal) and two
    # audit records
    cli.ok("--actor", "kim", "payment", "reverse", "PAY-000001", "--reason", "cheque dishonoured")
    entries, audit = actors_since(engine, *since)
    assert (entries, audit) == ({"kim"}, {"kim"})
    assert last_ids(engine) == (since[0] + 2, since[1] + 2)


def test_without_actor_the_os_user(engine: Engine, cli: Cli, practice: None, os_user: str) -> None:
    assert getpass.getuser() == os_user
    since = last_ids(engine)
    cli.ok(*RECORD)
    assert actors_since(engine, *since) == ({os_user}, {os_user})


def test_the_environment_names_the_actor(
    engine: Engine, cli: Cli, practice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINICLEDGER_ACTOR", "lee")
    since = last_ids(engine)
    cli.ok(*RECORD)
    assert actors_since(engine, *since) == ({"lee"}, {"lee"})
    # the flag says more than the environment
    since = last_ids(engine)
    cli.ok("--actor", "kim", *RECORD)
    assert actors_since(engine, *since) == ({"kim"}, {"kim"})


def test_a_name_is_kept_trimmed(engine: Engine, cli: Cli, practice: None) -> None:
    since = last_ids(engine)
    cli.ok("--actor", "  Ivy Marlowe ", *RECORD)
    assert actors_since(engine, *since) == ({"Ivy Marlowe"}, {"Ivy Marlowe"})


def test_a_name_of_100_characters_is_kept(engine: Engine, cli: Cli, practice: None) -> None:
    since = last_ids(engine)
    cli.ok("--actor", "k" * 100, *RECORD)
    assert actors_since(engine, *since) == ({"k" * 100}, {"k" * 100})


MALFORMED = {
    "only spaces": "   ",
    "101 characters": "k" * 101,
    "a bell": "k\x07im",
    "an escape": "kim\x1b[31m",
    "a newline inside": "kim\nlee",
    "a NUL": "k\x00im",
}


def refused_message(actor: str) -> str:
    # the name itself is not echoed: it may hold escape sequences for the terminal
    return "actor: a user name is 1-100 printable characters"


@pytest.mark.parametrize("actor", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_actor_is_refused_and_nothing_written(
    engine: Engine, cli: Cli, practice: None, actor: str
) -> None:
    written = snapshot(engine)
    refused = cli("--actor", actor, *RECORD, json=True)
    assert refused.status == 2
    assert refused.error() == {
        "code": "actor_malformed",
        "field": "actor",
        "message": refused_message(actor),
    }
    assert snapshot(engine) == written


@pytest.mark.parametrize("actor", ["k" * 101, "k\x07im"], ids=["101 characters", "a bell"])
def test_a_malformed_actor_from_the_environment_is_refused(
    engine: Engine, cli: Cli, practice: None, monkeypatch: pytest.MonkeyPatch, actor: str
) -> None:
    monkeypatch.setenv("CLINICLEDGER_ACTOR", actor)
    written = snapshot(engine)
    refused = cli(*RECORD, json=True)
    assert refused.status == 2
    assert refused.error()["code"] == "actor_malformed"
    assert snapshot(engine) == written


def test_an_empty_actor_is_refused(engine: Engine, cli: Cli, practice: None) -> None:
    written = snapshot(engine)
    refused = cli("--actor", "", *RECORD, json=True)
    assert refused.status == 2, refused
    assert refused.error() == {
        "code": "actor_malformed",
        "field": "actor",
        "message": refused_message(""),
    }
    assert snapshot(engine) == written


# ---------------------------------------------------------------- adjustments by actor


def section(data: dict, name: str) -> dict:
    (found,) = [s for s in data["sections"] if s["report"] == name]
    return found


def test_adjustments_grouped_by_actor(cli: Cli, practice: None) -> None:
    """The harness practice's own corrections (2024-03-01, by "system"): the 10.00 refund
    of PAY-000002 (E-000007), the 5.00 un-allocation of AL-000008 (E-000009), the reversal
    of the 40.00 cheque PAY-000003 (E-000011). Then kim and lee, on 2024-03-02."""
    cli.ok(
        "--actor", "kim", "line", "adjust", "L-000002", "--amount", "5.00", "--reason", "discount"
    )
    cli.ok(
        "--actor",
        "lee",
        "payment",
        "refund",
        "PAY-000002",
        "--amount",
        "7.50",
        "--reason",
        "overpaid",
    )
    cli.ok("--actor", "kim", "payment", "unallocate", "AL-000005", "--reason", "wrong line")
    cli.ok(
        *("--actor", "lee", "line", "transfer", "L-000003", "--amount", "20.00"),
        *("--reason", "gap", "--to-patient"),
    )
    cli.ok(
        "--actor", "kim", "line", "adjust", "L-000001", "--amount", "12.25", "--reason", "write-off"
    )

    data = cli.ok(
        *("report", "adjustments", "--from", "2024-03-01", "--to", "2024-03-02"),
        *("--group", "actor", "--format", "json"),
    )

    assert [s["report"] for s in data["sections"]] == ["actor: kim", "actor: lee", "actor: system"]
    kim, lee, system = (section(data, f"actor: {name}") for name in ("kim", "lee", "system"))
    assert kim["parameters"] == {"actor": "kim"}
    assert kim["totals"] == {"entries": 3, "adjustment": "17.25", "unallocation": "20.00"}
    assert lee["totals"] == {"entries": 2, "transfer": "20.00", "refund": "7.50"}
    assert system["totals"] == {
        "entries": 3,
        "payment_reversal": "40.00",
        "unallocation": "5.00",
        "refund": "10.00",
    }
    assert {row["who"] for row in kim["rows"]} == {"kim"}
    assert sorted(row["amount"] for row in kim["rows"]) == ["12.25", "20.00", "5.00"]
    assert {row["who"] for row in lee["rows"]} == {"lee"}
    # the main rows: every type, over everyone
    by_type = {row["type"]: (row["entries"], row["amount"]) for row in data["rows"]}
    assert by_type == {
        "adjustment": (2, "17.25"),
        "transfer": (1, "20.00"),
        "line_deletion": (0, "0.00"),
        "payment_reversal": (1, "40.00"),
        "unallocation": (2, "25.00"),
        "refund": (2, "17.50"),
    }
    assert data["totals"] == {"entries": 8}


def test_adjustments_by_the_os_user_are_under_their_name(
    cli: Cli, practice: None, os_user: str
) -> None:
    cli.ok("line", "adjust", "L-000002", "--amount", "5.00", "--reason", "discount")
    data = cli.ok(
        *("report", "adjustments", "--from", "2024-03-02", "--to", "2024-03-02"),
        *("--group", "actor", "--format", "json"),
    )
    assert [s["report"] for s in data["sections"]] == [f"actor: {os_user}"]
    assert data["sections"][0]["totals"] == {"entries": 1, "adjustment": "5.00"}
