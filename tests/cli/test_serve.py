"""``serve`` and ``demo --serve``: the web app handed to uvicorn (replaced here by a
recorder) over the ledger of ``--db``, and the demo's logins, new on every run."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine

from clinicledger import demo
from clinicledger.services import masters, users
from clinicledger.store.uow import UnitOfWork, reading

from .harness import Cli

pytestmark = pytest.mark.usefixtures("quick_passwords")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run(app: str, **options: Any) -> None:
        calls.append({"app": app, "db": os.environ.get("CLINICLEDGER_DB"), **options})

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_serve_hands_the_web_app_to_uvicorn(cli: Cli, practice, served) -> None:
    answer = cli("serve", "--port", "8123")
    assert answer.status == 0
    assert answer.out == f"serving {cli.db} on http://127.0.0.1:8123/ (Ctrl-C stops it)\n"
    [call] = served
    assert call["app"] == "clinicledger.web.app:app_from_environment" and call["factory"]
    assert (call["host"], call["port"], call["db"]) == ("127.0.0.1", 8123, cli.db)
    assert call["access_log"] is False  # a request's query names patients


def test_serve_refuses_a_database_that_is_no_ledger(cli: Cli, served, tmp_path) -> None:
    answer = cli("serve", db=str(tmp_path / "missing.db"), json=True)
    assert answer.status == 2 and answer.error()["code"] == "not_initialised"
    assert served == []


def _small_demo(
    engine: Engine, *, seed: int, on_building: Any = None, progress: Any = None
) -> demo.DemoSummary:
    """A stand-in for the demo practice (building it takes half a minute)."""
    from clinicledger.reports.summary import ledger_summary

    masters.init_ledger(
        engine, lambda: UnitOfWork(engine, now=dt.datetime(2024, 11, 1, 7), actor="demo")
    )
    with reading(engine) as conn:
        summary = ledger_summary(conn)
    return demo.DemoSummary(seed=seed, built=True, summary=summary, violations=0)


def test_demo_serve_prints_a_new_login_per_role_and_serves(
    cli: Cli, engine: Engine, served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "build", _small_demo)
    first = cli("demo", "--serve", json=True, now=False)
    assert first.status == 0, first.err
    summary, logins = (json.loads(line) for line in first.out.splitlines())
    assert summary["built"] is True
    assert logins["address"] == "http://127.0.0.1:8000/"
    assert [(x["name"], x["role"]) for x in logins["logins"]] == [
        ("reception", "reception"),
        ("billing", "billing"),
        ("manager", "manager"),
        ("admin", "admin"),
    ]
    again = cli("demo", "--serve", now=False)
    assert "Log in as:\n  reception  password " in again.out
    assert logins["logins"][0]["password"] not in again.out  # new passwords every run
    assert len(served) == 2
    manager = logins["logins"][2]
    with pytest.raises(Exception) as old:
        users.log_in(
            UnitOfWork(engine, now=dt.datetime.now(dt.UTC), actor="manager"),
            users.LogIn(name="manager", password=manager["password"]),
        )
    assert getattr(old.value, "code", None) == "login_failed"
