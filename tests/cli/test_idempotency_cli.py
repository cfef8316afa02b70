"""``--idempotency-key KEY`` on every money-moving command (issue 7): a script that
retries a command gets the first answer again and the ledger changes once; the same key
with another command exits 2 with ``idempotency_conflict``, naming what differs, and
writes nothing. Run against the harness practice (see harness.py for its figures); "today"
is 2024-03-02."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from .harness import Cli, row_counts, snapshot

RECORD = (
    "payment",
    "record",
    "--from",
    "P1",
    "--method",
    "cash",
    "--received",
    "2024-03-02",
    "--location",
    "MAIN",
)
OPENINGS = (
    "party,code,date,location,amount,note\npatient,P2,2024-02-29,MAIN,120.00,brought forward\n"
)

# Every money-moving command, as a front desk would run it against the harness practice,
# and what it prints the first time (and so again, replayed).
COMMANDS = {
    "payment record": (
        (*RECORD, "--amount", "25.00"),
        {"id": "PAY-000005", "amount": "25.00"},
    ),
    "payment allocate": (
        ("payment", "allocate", "PAY-000002", "--to", "L-000001=10.00"),
        {
            "allocations": [
                {"id": "AL-000013", "line": "L-000001", "payment": "PAY-000002", "amount": "10.00"}
            ]
        },
    ),
    "payment unallocate": (
        ("payment", "unallocate", "AL-000005", "--reason", "wrong line"),
        {"id": "E-000013", "allocation": "AL-000005"},
    ),
    "payment refund": (
        ("payment", "refund", "PAY-000002", "--amount", "5.00", "--reason", "overpaid"),
        {"id": "E-000013", "payment": "PAY-000002", "amount": "5.00"},
    ),
    "payment reverse": (
        ("payment", "reverse", "PAY-000001", "--reason", "cheque dishonoured"),
        {"id": "E-000014", "payment": "PAY-000001"},  # E-000013 un-allocates AL-000005
    ),
    "credit apply": (
        ("credit", "apply", "P1", "--to", "L-000002=5.00"),
        {
            "allocations": [
                {"id": "AL-000013", "line": "L-000002", "payment": "PAY-000001", "amount": "5.00"}
            ]
        },
    ),
    "invoice create": (
        (
            "invoice",
            "create",
            "--patient",
            "P2",
            "--location",
            "MAIN",
            "--line",
            "item=90801,provider=DR1,date=2024-03-01",
        ),
        {
            "id": "INV-000003",
            "number": 3,
            "total": "100.00",
            "lines": [
                {
                    "id": "L-000004",
                    "kind": "service",
                    "amount": "100.00",
                    "gst": "0.00",
                    "service_date": "2024-03-01",
                }
            ],
        },
    ),
    "line adjust": (
        ("line", "adjust", "L-000002", "--amount", "5.00", "--reason", "write-off"),
        {"id": "E-000013", "line": "L-000002", "amount": "5.00"},
    ),
    "line transfer": (
        ("line", "transfer", "L-000003", "--amount", "20.00", "--reason", "gap", "--to-patient"),
        {"id": "E-000013", "line": "L-000003", "amount": "20.00"},
    ),
    "line delete": (
        ("line", "delete", "L-000002", "--reason", "keyed in error"),
        {"id": "E-000013", "line": "L-000002"},
    ),
    "import": (
        ("import", "opening-balances", "{openings}"),
        {
            "kind": "opening-balances",
            "file": "{openings}",
            "created": 1,
            "unchanged": 0,
            "already_imported": False,
        },
    ),
}


def filled(value: object, openings: str) -> object:
    """``value`` with the openings file's path in place of ``{openings}``."""
    if isinstance(value, str):
        return value.replace("{openings}", openings)
    if isinstance(value, tuple | list):
        return type(value)(filled(v, openings) for v in value)
    if isinstance(value, dict):
        return {k: filled(v, openings) for k, v in value.items()}
    return value


@pytest.fixture
def openings(tmp_path: Path) -> str:
    path = tmp_path / "openings.csv"
    path.write_text(OPENINGS, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_run_twice_with_a_key_prints_the_same_and_posts_once(
    cli: Cli, engine: Engine, practice: None, openings: str, name: str
) -> None:
    argv, printed = filled(COMMANDS[name], openings)
    before = snapshot(engine)

    first = cli.ok(*argv, "--idempotency-key", f"desk-3:{name.replace(' ', '-')}")
    written = snapshot(engine)
    again = cli.ok(*argv, "--idempotency-key", f"desk-3:{name.replace(' ', '-')}")

    assert first == printed
    assert again == first
    assert written != before
    assert snapshot(engine) == written


def test_payment_record_twice_with_a_key_holds_one_payment(
    cli: Cli, engine: Engine, practice: None
) -> None:
    before = row_counts(engine)
    argv = (*RECORD, "--amount", "25.00", "--idempotency-key", "desk-3:R-1001")

    first = cli(*argv, json=True)
    again = cli(*argv, json=True)
    plain = cli(*argv)

    assert (first.status, again.status, plain.status) == (0, 0, 0)
    assert first.out == again.out == '{"id": "PAY-000005", "amount": "25.00"}\n'
    assert plain.out == "recorded payment PAY-000005 of 25.00\n"
    assert first.err == again.err == plain.err == ""
    after = row_counts(engine)
    assert after["payments"] == before["payments"] + 1
    assert after["entries"] == before["entries"] + 1
    assert after["idempotency_keys"] == before["idempotency_keys"] + 1


def test_without_a_key_the_same_command_posts_twice(
    cli: Cli, engine: Engine, practice: None
) -> None:
    assert cli.ok(*RECORD, "--amount", "25.00") == {"id": "PAY-000005", "amount": "25.00"}
    assert cli.ok(*RECORD, "--amount", "25.00") == {"id": "PAY-000006", "amount": "25.00"}


CONFLICT_PREFIX = "idempotency key 'desk-3:R-1001' was used for another command: its "


def test_the_same_key_with_another_amount_exits_2_naming_the_field(
    cli: Cli, engine: Engine, practice: None
) -> None:
    cli.ok(*RECORD, "--amount", "25.00", "--idempotency-key", "desk-3:R-1001")
    written = snapshot(engine)

    refused = cli(*RECORD, "--amount", "26.00", "--idempotency-key", "desk-3:R-1001", json=True)
    plain = cli(*RECORD, "--amount", "26.00", "--idempotency-key", "desk-3:R-1001")

    assert refused.status == plain.status == 2
    error = refused.error()
    assert (error["code"], error["field"]) == ("idempotency_conflict", "amount")
    assert error["message"].startswith(CONFLICT_PREFIX), error
    assert error["message"].endswith(" differs"), error
    assert plain.out == ""
    assert plain.err == f"error: {error['message']}\n"
    assert snapshot(engine) == written


def test_the_conflict_names_the_flag_the_command_was_given(
    cli: Cli, engine: Engine, practice: None
) -> None:
    cli.ok(*RECORD, "--amount", "25.00", "--idempotency-key", "desk-3:R-1001")
    refused = cli(*RECORD, "--amount", "26.00", "--idempotency-key", "desk-3:R-1001", json=True)
    assert refused.error()["message"] == CONFLICT_PREFIX + "amount differs"


def test_the_same_key_for_another_command_names_the_command(
    cli: Cli, engine: Engine, practice: None
) -> None:
    cli.ok(*RECORD, "--amount", "25.00", "--idempotency-key", "desk-3:R-1001")
    written = snapshot(engine)
    refused = cli(
        *("payment", "refund", "PAY-000002", "--amount", "5.00", "--reason", "overpaid"),
        *("--idempotency-key", "desk-3:R-1001"),
        json=True,
    )
    assert refused.status == 2
    error = refused.error()
    assert error == {
        "code": "idempotency_conflict",
        "field": "command",
        "message": "idempotency key 'desk-3:R-1001' was used for another command",
    }
    assert snapshot(engine) == written


@pytest.mark.parametrize(
    "key", ["", "desk 3", "k" * 201, "clé"], ids=["empty", "a space", "201 characters", "é"]
)
def test_a_malformed_key_exits_2_and_writes_nothing(
    cli: Cli, engine: Engine, practice: None, key: str
) -> None:
    written = snapshot(engine)
    refused = cli(*RECORD, "--amount", "25.00", "--idempotency-key", key, json=True)
    assert refused.status == 2
    assert refused.error() == {
        "code": "idempotency_key_malformed",
        "field": "idempotency_key",
        "message": "idempotency_key: an idempotency key is 1-200 printable ASCII characters, "
        "no spaces",
    }
    assert snapshot(engine) == written


def test_a_refused_command_with_a_key_leaves_the_key_free(
    cli: Cli, engine: Engine, practice: None
) -> None:
    """PAY-000001 has 10.00 unallocated: 20.00 is refused, and the key is not used up."""
    written = snapshot(engine)
    refused = cli(
        *("payment", "allocate", "PAY-000001", "--to", "L-000001=20.00"),
        *("--idempotency-key", "desk-3:A-1"),
        json=True,
    )
    assert refused.status == 2
    assert refused.error()["code"] == "allocation_exceeds_payment"
    assert snapshot(engine) == written
    made = cli.ok(
        *("payment", "allocate", "PAY-000001", "--to", "L-000001=10.00"),
        *("--idempotency-key", "desk-3:A-1"),
    )
    assert [a["amount"] for a in made["allocations"]] == ["10.00"]
