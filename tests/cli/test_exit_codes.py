"""Exit codes: 0 ok, 1 ``check`` found violations, 2 refused input, 70 an internal error
(one line and a pointer to the log; never a traceback or a raw database error)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import clinicledger.cli.main as cli_main
from clinicledger.domain.errors import InvariantBroken
from clinicledger.services import payments

from .harness import Cli, snapshot

RECORD = (
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
)


def past_the_guards(engine: Engine, statement: str) -> None:
    """Run ``statement`` as only a hand at the database could: past the append-only
    triggers, leaving them in place (PostgreSQL's test database is shared by the tests of
    one worker; SQLite's file is the test's own, but is treated the same)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(statement))
            return
        triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        kept = triggers.all()
        for name, _ in kept:
            conn.execute(text(f"DROP TRIGGER {name}"))
        conn.execute(text(statement))
        for _, sql in kept:
            conn.execute(text(sql))


def test_check_exits_0_on_a_sound_ledger(cli: Cli, practice: None) -> None:
    # 12 entries of 2 postings each (no GST: the practice is not GST-registered)
    assert cli.ok("check") == {"ok": True, "entries": 12, "postings": 24, "violations": []}
    plain = cli("check")
    assert (plain.status, plain.out, plain.err) == (
        0,
        "checked 12 entries, 24 postings: ok\n",
        "",
    )


def test_check_exits_1_on_an_unbalanced_entry(cli: Cli, engine: Engine, practice: None) -> None:
    # break the ledger as only a bug or a hand at the database could: posting 1 is
    # L-000001's receivable in its charge entry E-000001
    past_the_guards(engine, "UPDATE postings SET amount_cents = amount_cents + 500 WHERE id = 1")

    as_json = cli("check", json=True)
    plain = cli("check")

    assert (as_json.status, as_json.err) == (1, "")
    # issue 8: the edit also breaks the entry's hash, and the line's fee no longer is
    # what its charge posted
    chain = (
        "entry E-000001 does not follow from the one before it: it, its postings or what "
        "came before it was altered"
    )
    fee = "line L-000001 says 100.00 (GST 0.00); its charge in the journal says 105.00 (GST 0.00)"
    assert as_json.json() == {
        "ok": False,
        "entries": 12,
        "postings": 24,
        "violations": [
            {"code": "entry_unbalanced", "message": "entry E-000001 sums to 5.00, not 0.00"},
            {"code": "line_amount_differs", "message": fee},
            {"code": "entry_chain_broken", "message": chain},
        ],
    }
    assert (plain.status, plain.out, plain.err) == (
        1,
        "checked 12 entries, 24 postings: 3 violation(s)\n"
        "  entry_unbalanced: entry E-000001 sums to 5.00, not 0.00\n"
        f"  line_amount_differs: {fee}\n"
        f"  entry_chain_broken: {chain}\n",
        "",
    )


def test_check_exits_1_on_an_over_applied_payment(cli: Cli, engine: Engine, practice: None) -> None:
    # a balanced entry that applies 15.00 of PAY-000001, which has 10.00 left, to L-000001
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entries (recorded_at, effective_date, actor, kind) "
                "VALUES ('2024-03-02 00:00:00', '2024-03-02', 'intruder', 'allocation')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO postings (entry_id, account, amount_cents, effective_date, "
                "recorded_at, entry_kind, patient_id, location_id, payment_id, line_id, "
                "invoice_id) VALUES "
                "(13, 'UNALLOCATED', 1500, '2024-03-02', '2024-03-02 00:00:00', 'allocation', "
                "1, 1, 1, NULL, NULL), "
                "(13, 'RECEIVABLE', -1500, '2024-03-02', '2024-03-02 00:00:00', 'allocation', "
                "1, 1, NULL, 1, 1)"
            )
        )

    result = cli("check", json=True)

    assert result.status == 1
    # issue 8: an entry written around the ledger is also outside both chains
    assert result.json()["violations"] == [
        {
            "code": "payment_over_applied",
            "message": "payment PAY-000001 is applied, refunded or reversed 5.00 beyond its amount",
        },
        {
            "code": "entry_chain_broken",
            "message": "entry E-000013 does not follow from the one before it: it, its "
            "postings or what came before it was altered",
        },
        {
            "code": "entry_unaudited",
            "message": "entry E-000013 has no audit record: it was written around the ledger",
        },
        {
            "code": "chain_head_mismatch",
            "message": "the ledger's head says 12 entries; the journal holds 13 ending "
            "otherwise: entries were cut from its end or written around the ledger",
        },
    ]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_check_exits_1_on_an_altered_audit_log(cli: Cli, engine: Engine, practice: None) -> None:
    past_the_guards(engine, "UPDATE audit_log SET detail = '{\"id\": 7}' WHERE id = 3")

    result = cli("check", json=True)

    assert result.status == 1
    assert result.json()["violations"] == [
        {
            "code": "audit_chain_broken",
            "message": "audit record 3 does not follow from the one before it: the log was altered",
        }
    ]


def test_refused_input_exits_2(cli: Cli, practice: None) -> None:
    result = cli(*RECORD[:-2], "--location", "ANNEX")
    assert (result.status, result.out, result.err) == (
        2,
        "",
        "error: location 'ANNEX' not found\n",
    )


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (RuntimeError("Ivy Marlowe owes 55.00"), "internal"),
        (InvariantBroken("Ivy Marlowe's entry sums to 1 cent"), "invariant_broken"),
    ],
    ids=["runtime-error", "invariant-broken"],
)
def test_an_internal_error_exits_70_with_one_line_and_a_log(
    cli: Cli,
    engine: Engine,
    practice: None,
    monkeypatch: pytest.MonkeyPatch,
    clean_environment: Path,
    raised: Exception,
    code: str,
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise raised

    monkeypatch.setattr(payments, "record_payment", broken)
    log = clean_environment / "error.log"
    name = type(raised).__name__

    plain = cli(*RECORD)
    as_json = cli(*RECORD, json=True)

    message = f"internal error ({name}); details in {log}"
    assert (plain.status, plain.out, plain.err) == (70, "", f"error: {message}\n")
    assert as_json.status == 70
    assert as_json.error() == {"code": code, "field": None, "message": message}
    # the traceback is in the log, and no patient detail reached the terminal
    logged = log.read_text()
    assert logged.count("Traceback (most recent call last)") == 2
    # issue 8: only our own InvariantBroken keeps its message (ours hold ids and counts);
    # another exception's message may carry what was typed, and is left out
    kept = isinstance(raised, InvariantBroken)
    assert (f"{name}: Ivy Marlowe" if kept else f"{name} (message not logged)") in logged
    assert "Ivy" not in plain.err + as_json.err


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_debug_shows_the_traceback(
    cli: Cli, practice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(payments, "record_payment", broken)
    result = cli("--debug", *RECORD)
    assert result.status == 70
    assert "Traceback (most recent call last)" in result.err
    assert result.err.endswith("\n") and "error: internal error (RuntimeError)" in result.err


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_help_exits_0(cli: Cli) -> None:
    result = cli("--help", now=False, db=False)
    assert result.status == 0
    assert "payment" in result.out and result.err == ""


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_ledger_that_was_never_initialised_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    cli("init", db=str(path))  # a ledger exists here; the one below does not
    other = tmp_path / "other.db"

    result = cli("patient", "add", "P1", "--name", "Ivy Marlowe", db=str(other), json=True)

    assert result.status == 2
    assert result.error() == {
        "code": "not_initialised",
        "field": "db",
        "message": f"there is no ledger at {other}: run 'clinicledger init' (or check --db)",
    }
    assert not other.exists()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_mistyped_db_path_leaves_no_file_behind(cli: Cli, tmp_path: Path) -> None:
    typo = tmp_path / "clinicledgr.db"
    result = cli("balance", "--patient", "P1", db=str(typo))
    assert result.status == 2
    assert not typo.exists()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_db_that_cannot_be_opened_is_refused_not_a_crash(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "ledger.db"

    result = cli("init", db=str(missing), json=True)

    assert result.status == 2, result
    error = result.error()
    assert error["field"] == "db"
    assert error["code"] != "internal"
    assert str(missing) in error["message"]
    assert "OperationalError" not in error["message"]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_unsupported_db_url_is_refused(cli: Cli) -> None:
    result = cli("init", db="mysql://clinic@localhost/ledger", json=True)
    assert result.status == 2
    assert result.error() == {
        "code": "invalid_input",
        "field": "db",
        "message": "db: only sqlite:/// and postgresql+psycopg:// are supported",
    }


def test_practice_set_with_nothing_to_set_is_refused(
    cli: Cli, engine: Engine, practice: None
) -> None:
    before = snapshot(engine)
    result = cli("practice", "set", json=True)
    assert result.status == 2, result
    assert result.error()["code"] != "internal"
    assert snapshot(engine) == before


def test_run_twice_in_one_process_uses_each_runs_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run()`` is the entry point; called twice in one process (a script, a test), each
    call must use its own ``--db``, not the engine the first call left behind."""
    monkeypatch.setattr(cli_main, "settings", cli_main.Settings())
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    try:
        assert cli_main.run(["--db", str(first), "--now", "2024-03-02T09:00", "init"]) == 0
        assert cli_main.run(["--db", str(second), "--now", "2024-03-02T09:01", "init"]) == 0
        capsys.readouterr()
        assert cli_main.run(["--db", str(second), "--json", "check"]) == 0
    finally:
        if cli_main.settings._engine is not None:
            cli_main.settings._engine.dispose()
    assert capsys.readouterr().out.startswith('{"ok": true')
    assert second.exists()
