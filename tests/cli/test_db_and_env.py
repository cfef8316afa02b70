"""Where the ledger is (``--db``: a plain path, a ``sqlite:///`` URL, a PostgreSQL URL,
``$CLINICLEDGER_DB``, ``./clinicledger.db``) and what time it is (``--now``,
``$CLINICLEDGER_NOW``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from clinicledger.store import tables as t

from .harness import Cli, db_url

SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@SQLITE
def test_db_as_a_plain_path_and_as_a_sqlite_url(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "practice" / "ledger.db"
    path.parent.mkdir()

    assert cli.ok("init", db=str(path)) == {"created": True}
    assert path.is_file()
    assert cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe", db=f"sqlite:///{path}") == {
        "id": 1,
        "code": "P1",
    }
    assert cli.ok("balance", "--patient", "P1", db=str(path))["balance"] == "0.00"


@SQLITE
def test_db_from_the_environment(cli: Cli, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "env.db"
    monkeypatch.setenv("CLINICLEDGER_DB", str(path))

    assert cli.ok("init", db=False) == {"created": True}
    assert cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe", db=False)["id"] == 1
    assert path.is_file()


@SQLITE
def test_db_option_wins_over_the_environment(cli: Cli, tmp_path: Path, monkeypatch) -> None:
    chosen, other = tmp_path / "chosen.db", tmp_path / "other.db"
    cli.ok("init", db=str(chosen))
    cli.ok("init", db=str(other))
    monkeypatch.setenv("CLINICLEDGER_DB", str(other))

    cli.ok("patient", "add", "P1", "--name", "Ivy Marlowe", db=str(chosen))

    assert cli("balance", "--patient", "P1", db=str(chosen)).status == 0
    assert cli("balance", "--patient", "P1", db=False).status == 2  # other.db has no P1


@SQLITE
def test_default_db_is_clinicledger_db_in_the_working_folder(
    cli: Cli, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.ok("init", db=False) == {"created": True}
    assert (tmp_path / "clinicledger.db").is_file()


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_postgresql_url_with_or_without_the_driver_name(cli: Cli, engine: Engine) -> None:
    url = db_url(engine)
    assert url.startswith("postgresql+psycopg://")
    cli.ok("init", db=url)
    cli.ok(
        "patient",
        "add",
        "P1",
        "--name",
        "Ivy Marlowe",
        db=url.replace("postgresql+psycopg://", "postgresql://", 1),
    )
    with engine.connect() as conn:
        assert conn.execute(select(t.patients.c.code)).scalars().all() == ["P1"]


def recorded_at(engine: Engine) -> list[dt.datetime]:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return list(
            conn.execute(select(t.entries.c.recorded_at).order_by(t.entries.c.id)).scalars()
        )


@SQLITE
def test_now_from_the_environment(cli: Cli, engine: Engine, practice: None, monkeypatch) -> None:
    monkeypatch.setenv("CLINICLEDGER_NOW", "2024-03-02T10:30")  # Sydney, 11 hours ahead
    cli.ok(
        "payment",
        "record",
        "--from",
        "P1",
        "--amount",
        "30.00",
        "--method",
        "cash",
        "--received",
        "2024-03-02",
        "--location",
        "MAIN",
        now=False,
    )
    assert recorded_at(engine)[-1] == dt.datetime(2024, 3, 1, 23, 30)


@SQLITE
def test_now_option_wins_over_the_environment(
    cli: Cli, engine: Engine, practice: None, monkeypatch
) -> None:
    monkeypatch.setenv("CLINICLEDGER_NOW", "2024-03-02T10:30")
    cli.ok(
        "payment",
        "record",
        "--from",
        "P1",
        "--amount",
        "30.00",
        "--method",
        "cash",
        "--received",
        "2024-03-02",
        "--location",
        "MAIN",
        now="2024-03-02T12:00:00+00:00",
    )
    assert recorded_at(engine)[-1] == dt.datetime(2024, 3, 2, 12, 0)


@SQLITE
def test_now_sets_today_for_entries_dated_today(cli: Cli, engine: Engine, practice: None) -> None:
    # 2024-03-02 23:30 UTC is already 2024-03-03 in Sydney: a payment received that day is
    # not in the future, and the refund made then is dated 2024-03-03
    cli.ok(
        "payment",
        "record",
        "--from",
        "P1",
        "--amount",
        "30.00",
        "--method",
        "cash",
        "--received",
        "2024-03-03",
        "--location",
        "MAIN",
        now="2024-03-02T23:30:00+00:00",
    )
    cli.ok(
        "payment",
        "refund",
        "PAY-000005",
        "--amount",
        "5.00",
        "--reason",
        "overpaid",
        now="2024-03-02T23:31:00+00:00",
    )
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        dates = conn.execute(
            select(t.entries.c.effective_date).where(t.entries.c.id > 12).order_by(t.entries.c.id)
        ).scalars()
        assert list(dates) == [dt.date(2024, 3, 3), dt.date(2024, 3, 3)]
