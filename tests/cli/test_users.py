"""``user`` and ``token`` commands, ``--user`` checked against the permission matrix on
every command, and ``patient account``; against the harness practice (P1: owes 105.00,
credit 50.00, balance 55.00)."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from sqlalchemy import Engine, select

from clinicledger.cli.app import app
from clinicledger.domain.permissions import Action
from clinicledger.store import tables as t

from .harness import Cli

pytestmark = pytest.mark.usefixtures("quick_passwords")


def add(cli: Cli, name: str, role: str, password_file: str) -> dict[str, Any]:
    return cli.ok("user", "add", name, "--role", role, "--password-file", password_file)


def test_users_are_added_listed_changed_and_disabled(cli: Cli, practice, password_file) -> None:
    assert add(cli, "rita", "reception", password_file) == {"name": "rita", "role": "reception"}
    add(cli, "bill", "Billing", password_file)  # a role in any case
    listed = cli.ok("user", "list")
    assert [(u["name"], u["role"], u["active"]) for u in listed["users"]] == [
        ("bill", "billing", True),
        ("rita", "reception", True),
    ]
    assert sorted(listed["users"][0]) == ["active", "changed_at", "created_at", "name", "role"]
    assert cli.ok("user", "set-role", "rita", "manager") == {
        "name": "rita",
        "role": "manager",
        "changed": True,
    }
    assert cli.ok("user", "disable", "rita") == {"name": "rita", "active": False, "changed": True}
    assert cli.ok("user", "disable", "rita")["changed"] is False
    assert cli.ok("user", "enable", "rita") == {"name": "rita", "active": True, "changed": True}
    plain = cli("user", "set-password", "rita", "--password-file", password_file)
    assert (plain.status, plain.out) == (0, "new password for user rita\n")


def test_a_password_is_asked_twice_without_echo(
    cli: Cli, practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[dict[str, Any]] = []

    def prompt(text: str, **options: Any) -> str:
        asked.append({"text": text, **options})
        return "typed at the prompt"

    monkeypatch.setattr(typer, "prompt", prompt)
    assert cli.ok("user", "add", "sam", "--role", "admin")["name"] == "sam"
    assert asked == [{"text": "Password", "hide_input": True, "confirmation_prompt": True}]


def test_a_token_is_printed_once_and_revoked(cli: Cli, practice, password_file) -> None:
    add(cli, "rita", "reception", password_file)
    made = cli.ok("token", "create", "front-desk", "--user", "rita")
    assert (made["name"], made["user"]) == ("front-desk", "rita")
    assert made["token"].startswith("clt_") and len(made["token"]) > 40
    plain = cli("token", "create", "script", "--user", "rita")
    assert plain.status == 0 and plain.out.startswith("clt_")  # the token alone, for $(...)
    assert cli.ok("token", "revoke", "front-desk") == {
        "name": "front-desk",
        "revoked": True,
        "changed": True,
    }
    assert cli.ok("token", "revoke", "front-desk")["changed"] is False


REFUND = ("payment", "refund", "PAY-000002", "--amount", "1.00", "--reason", "overpaid")


def test_user_is_checked_against_the_matrix_and_is_the_actor(
    cli: Cli, practice, password_file, engine: Engine
) -> None:
    add(cli, "rita", "reception", password_file)
    add(cli, "bill", "billing", password_file)
    refused = cli("--user", "rita", *REFUND, json=True)
    assert (refused.status, refused.error()["code"]) == (2, "forbidden")
    assert refused.error()["message"] == (
        "a reception user may not refund payments (payment.refund: billing or above)"
    )
    done = cli.ok("--user", "bill", *REFUND)
    with engine.connect() as conn:
        actor = conn.execute(
            select(t.entries.c.actor).order_by(t.entries.c.id.desc()).limit(1)
        ).scalar_one()
    assert done["id"].startswith("E-") and actor == "bill"
    # reading is reception's; the machine's operator (no --user) may do everything
    assert cli.ok("--user", "rita", "balance", "--patient", "P1")["balance"] == "56.00"
    assert cli("--user", "rita", "user", "list", json=True).error()["code"] == "forbidden"
    assert cli.ok("user", "list")["users"]


def test_the_user_may_come_from_the_environment(
    cli: Cli, practice, password_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(cli, "rita", "reception", password_file)
    monkeypatch.setenv("CLINICLEDGER_USER", "rita")
    assert cli(*REFUND, json=True).error()["code"] == "forbidden"
    assert cli("--user", "nobody", "check", json=True).error()["code"] == "not_found"


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for command in group.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        found[" ".join((*prefix, name))] = command.callback
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        found.update(_commands(sub.typer_instance, (*prefix, sub.name)))
    return found


def test_every_command_declares_its_action() -> None:
    commands = _commands(app)
    missing = sorted(name for name, call in commands.items() if not hasattr(call, "action"))
    assert missing == []
    assert commands["payment refund"].action is Action.PAYMENT_REFUND
    assert commands["report income-by-provider"].action is Action.REPORT_INCOME
    assert commands["report debtors"].action is Action.REPORT_RUN
    assert commands["user add"].action is Action.USER_MANAGE


def test_a_patients_account(cli: Cli, practice) -> None:
    found = cli.ok("patient", "account", "P1")
    assert found["patient"] == {"code": "P1", "name": "Ivy Marlowe", "active": True}
    assert found["balance"] == cli.ok("balance", "--patient", "P1")
    assert [(i["id"], i["total"], i["owing"]) for i in found["invoices"]] == [
        ("INV-000001", "125.00", "105.00")
    ]
    assert [
        (line["id"], line["fee"], line["paid"], line["owing"])
        for line in found["invoices"][0]["lines"]
    ] == [("L-000001", "100.00", "20.00", "80.00"), ("L-000002", "25.00", "0.00", "25.00")]
    assert [
        (p["id"], p["amount"], p["applied"], p["refunded"], p["unallocated"], p["reversed"])
        for p in found["payments"]
    ] == [
        ("PAY-000001", "30.00", "20.00", "0.00", "10.00", False),
        ("PAY-000002", "50.00", "0.00", "10.00", "40.00", False),
        ("PAY-000003", "40.00", "0.00", "0.00", "0.00", True),
    ]
    assert found["payments"][0]["allocations"] == [{"line": "L-000001", "amount": "20.00"}]
    assert found["statement"] == {
        "ledger_balance": "55.00",
        "statement_balance": "105.00",
        "difference": "-50.00",
        "reasons": {"unapplied_credit": "-50.00"},
        "unexplained": "0.00",
    }
    text = cli("patient", "account", "P1")
    assert text.out.startswith("P1 Ivy Marlowe: balance 55.00 (owing 105.00, credit 50.00)\n")
