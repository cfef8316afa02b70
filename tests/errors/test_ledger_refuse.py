"""Refusals about the ledger itself and whoever acts on it: a ``--db`` that cannot be
reached, holds no ledger yet or another program's tables; a ledger busy with another
clerk's work, or missing its clock row (a bug: exit 70); ``--actor`` and
``--idempotency-key``; and the refusals of writing commands whose causes are set up outside
the command line: a code naming both a patient and a payer, deactivated master data, files
to import, amounts no command line can type."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert

import clinicledger.store.engine as store_engine
from clinicledger.cli import app
from clinicledger.domain.choices import LineKind, PaymentMethod
from clinicledger.domain.errors import IdempotencyConflict, InvalidInput, UserError
from clinicledger.services import invoicing, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine
from clinicledger.store.plain import head_revision, schema_revisions

from .commands import TODAY, invoice, record, refund
from .reproduce import Case, Cli, assert_refused, case, harness, on_backends, snapshot

ACTOR = "actor: a user name is 1-100 printable characters"
KEY = "idempotency_key: an idempotency key is 1-200 printable ASCII characters, no spaces"
INIT = "run 'clinicledger init'"


def keyed(key: str, amount: str = "30.00", method: str = "cash") -> tuple[str, ...]:
    return record(amount, "--idempotency-key", key, method=method)


CASES = [
    # who is acting: every entry and audit record names them
    *[
        case(f"actor-{name}", ("--actor", actor, *record()), "actor_malformed", "actor", ACTOR)
        for name, actor in [
            ("empty", ""),
            ("blank", "   "),
            ("too-long", "d" * 101),
            ("with-a-control-character", "front\tdesk"),
            # the message does not echo the name: this one would recolour the terminal
            ("with-a-terminal-escape", "desk\x1b[31m"),
        ]
    ],
    # idempotency keys: what a client can send in a header
    case(
        "idempotency-key-with-a-space",
        keyed("desk 3"),
        "idempotency_key_malformed",
        "idempotency_key",
        KEY,
    ),
    case("idempotency-key-empty", keyed(""), "idempotency_key_malformed", "idempotency_key", KEY),
    case(
        "idempotency-key-too-long",
        keyed("k" * 201),
        "idempotency_key_malformed",
        "idempotency_key",
        KEY,
    ),
    case(
        "idempotency-key-not-ascii",
        keyed("clé-1"),
        "idempotency_key_malformed",
        "idempotency_key",
        KEY,
    ),
    *[
        case(
            f"idempotency-key-reused-for-{name}",
            again,
            "idempotency_conflict",
            field,
            f"idempotency key 'desk-3:17' was used for another command{differs}",
            given=(keyed("desk-3:17"),),
        )
        for name, again, field, differs in [
            (
                "another-method",
                keyed("desk-3:17", method="eftpos"),
                "method",
                ": its method differs",
            ),
            # named as every other error names the input
            (
                "another-amount",
                keyed("desk-3:17", amount="31.00"),
                "amount",
                ": its amount differs",
            ),
            (
                "another-command",
                (*refund("PAY-000001", "1.00"), "--idempotency-key", "desk-3:17"),
                "command",
                "",
            ),
        ]
    ],
    # free text past its bound
    case(
        "payment-reference-too-long",
        record("30.00", "--reference", "R" * 101),
        "text_too_long",
        "reference",
        "reference: is 101 characters long; at most 100 are kept",
    ),
    case(
        "payment-note-too-long",
        record("30.00", "--note", "n" * 2001),
        "text_too_long",
        "note",
        "note: is 2001 characters long; at most 2000 are kept",
    ),
    case(
        "refund-reason-too-long",
        refund("PAY-000001", "5.00", reason="r" * 501),
        "text_too_long",
        "reason",
        "reason: is 501 characters long; at most 500 are kept",
    ),
    # the practice
    case(
        "practice-set-with-nothing-to-set",
        ("practice", "set"),
        "nothing_to_change",
        "practice",
        "practice: nothing to change: give --name, --abn, --gst-registered, --timezone, "
        "--currency or --locale",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_refused(engine: Engine, case: Case, practice: None, cli: Cli) -> None:
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- set up with raw SQL

AMBIGUOUS = [
    case(
        "payment-from-a-code-of-a-patient-and-a-payer",
        record(party="P1"),
        "party_ambiguous",
        "from",
        "from: 'P1' names both a patient and a payer",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(AMBIGUOUS), indirect=["engine"])
def test_a_code_naming_a_patient_and_a_payer_is_refused(
    engine: Engine, case: Case, practice: None, cli: Cli
) -> None:
    # ``payer add P1`` is refused (code_taken); only a hand at the database, or a ledger
    # from before that rule, holds the clash
    with engine.begin() as conn:
        conn.execute(insert(t.payers).values(code="P1", name="Parkside Insurance", kind="insurer"))
    assert_refused(cli, engine, case)


def deactivated(kind: str, code: str, key: str | None = None) -> str:
    return (
        f"{kind} '{key or code}' is deactivated: it is kept for history, and takes no new "
        f"invoices; '{kind} activate {code}' brings it back"
    )


INACTIVE = [
    case(
        "invoice-for-a-deactivated-patient",
        invoice(),
        "inactive",
        "patient",
        deactivated("patient", "P1"),
        given=(("patient", "deactivate", "P1"),),
    ),
    case(
        "invoice-at-a-deactivated-location",
        invoice(),
        "inactive",
        "location",
        deactivated("location", "MAIN"),
        given=(("location", "deactivate", "MAIN"),),
    ),
    case(
        "invoice-billed-to-a-deactivated-payer",
        (*invoice(patient="P2"), "--billed-to", "FUND1"),
        "inactive",
        "billed_to",
        deactivated("payer", "FUND1"),
        given=(("payer", "deactivate", "FUND1"),),
    ),
    case(
        "invoice-a-deactivated-item",
        invoice(),
        "inactive",
        "line 1",
        deactivated("item", "90801"),
        given=(("item", "deactivate", "90801"),),
    ),
    case(
        "invoice-by-a-deactivated-provider",
        invoice(f"cancellation,provider=DR1,date={TODAY},fee=25.00"),
        "inactive",
        "line 1",
        deactivated("provider", "DR1"),
        given=(("provider", "deactivate", "DR1"),),
    ),
    case(
        # a product line names its product by title; the way back names it by code
        "invoice-a-deactivated-product",
        invoice("product=Cold pack,fee=15.00"),
        "inactive",
        "line 1",
        deactivated("product", "GEL", key="Cold pack"),
        given=(("product", "deactivate", "GEL"),),
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(INACTIVE), indirect=["engine"])
def test_deactivated_master_data_takes_no_new_invoices(
    engine: Engine, case: Case, practice: None, cli: Cli
) -> None:
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- files to import

PATIENTS_WITH_PROBLEMS = "code,name\nP7,Lena Hartigan\nP 8,Milo Ferris\nP9,\nP7,Lena Hartigan\n"

IMPORT_CASES = [
    case(
        "import-a-file-that-is-not-there",
        ("import", "patients", "missing.csv"),
        "file_unreadable",
        "file",
        "file: cannot read missing.csv: No such file or directory",
    ),
    case(  # G10: was read whole before its size was checked, until the process was killed
        "import-an-endless-file",
        ("import", "patients", "/dev/zero"),
        "import_rejected",
        "(file)",
        "zero rejected, nothing imported: line 1, column (file): is more than 67108864 bytes long",
    ),
    case(
        "import-a-folder",
        ("import", "patients", "folder"),
        "file_unreadable",
        "file",
        "file: cannot read folder: Is a directory",
    ),
    case(
        "import-rows-with-problems",
        ("import", "patients", "patients.csv"),
        "import_rejected",
        "code",
        "patients.csv rejected, nothing imported: "
        "line 3, column code: 'P 8' is not a code: use 1-40 letters, digits, . _ - /; "
        "line 4, column name: a name of 1-200 characters is required; "
        "line 5, column code: code 'P7' is also on line 2",
    ),
    case(
        "import-without-a-header",
        ("import", "patients", "empty.csv"),
        "import_rejected",
        "code",
        "empty.csv rejected, nothing imported: line 1, column code: required column is "
        "missing; line 1, column name: required column is missing",
    ),
    case(
        "import-a-spreadsheets-cp1252-as-utf-8",
        ("import", "patients", "cp1252.csv"),
        "import_rejected",
        "(file)",
        "cp1252.csv rejected, nothing imported: line 2, column (file): not UTF-8 text: "
        "invalid continuation byte; if a spreadsheet saved it as CSV, try --encoding cp1252",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(IMPORT_CASES), indirect=["engine"])
def test_an_import_refused_imports_nothing(
    engine: Engine,
    case: Case,
    practice: None,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = tmp_path / "files"
    (files / "folder").mkdir(parents=True)
    (files / "patients.csv").write_text(PATIENTS_WITH_PROBLEMS)
    (files / "empty.csv").write_text("")
    (files / "cp1252.csv").write_bytes("code,name\nP7,Renée Castell\n".encode("cp1252"))
    monkeypatch.chdir(files)
    assert_refused(cli, engine, case)


# ---------------------------------------------------------------- the ledger's database


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


# ``balance`` reads a SQLite file without SQLAlchemy (store/plain.py): it is refused alike.
BALANCE = ("balance", "--patient", "P1")


def assert_refused_without_a_ledger(cli: Cli, case: Case) -> None:
    """:func:`reproduce.assert_refused` for a ``--db`` that is no ledger: exit 2, the same
    message plain and as JSON; what it must leave unchanged is the test's to say."""
    plain = cli(*case.argv)
    as_json = cli(*case.argv, json=True)
    app.settings.close()  # the command line's engine outlives run() in-process
    assert {
        "plain": (plain.status, plain.out, plain.err),
        "json": (as_json.status, as_json.error()),
    } == {
        "plain": (2, "", f"error: {case.message}\n"),
        "json": (2, {"code": case.code, "field": case.field, "message": case.message}),
    }


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (a relative ``--db`` would land here)."""
    made = tmp_path / "work"
    made.mkdir()
    monkeypatch.chdir(made)
    return made


def at(db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(db, capsys, monkeypatch)


def test_a_db_in_a_folder_that_does_not_exist_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = folder / "no-such-folder" / "ledger.db"
    for argv in (("report", "debtors"), ("init",), BALANCE):
        assert_refused_without_a_ledger(
            at(str(missing), capsys, monkeypatch),
            Case(
                argv,
                "db_unavailable",
                "db",
                f"cannot open the database {missing}: the folder {missing.parent} does not exist",
            ),
        )
    assert files_in(folder) == {} and not missing.parent.exists()


def test_a_postgresql_database_that_does_not_exist_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/clinicledger_no_such_ledger"
    assert_refused_without_a_ledger(
        at(url, capsys, monkeypatch),
        Case(
            ("report", "debtors"),
            "db_unavailable",
            "db",
            f"cannot open the database {url}: connection failed: connection to server at "
            '"127.0.0.1", port 5432 failed: FATAL:  database "clinicledger_no_such_ledger" '
            "does not exist",
        ),
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://clinic@localhost/ledger",
            "db: only sqlite:/// and postgresql+psycopg:// are supported",
        ),
        ("://", "db: '://' is not a database URL"),
    ],
    ids=["another-database", "not-a-url"],
)
@pytest.mark.parametrize("argv", [("report", "debtors"), ("init",)], ids=["report", "init"])
def test_a_db_url_that_is_not_supported_is_refused(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    message: str,
    argv: tuple[str, ...],
) -> None:
    assert_refused_without_a_ledger(
        at(url, capsys, monkeypatch), Case(argv, "invalid_input", "db", message)
    )
    assert files_in(folder) == {}


def test_a_db_file_that_is_not_sqlite_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = folder / "notes.txt"
    notes.write_text("Tuesday: order more cold packs\n")
    before = files_in(folder)
    for argv in (("report", "debtors"), ("init",), BALANCE):
        assert_refused_without_a_ledger(
            at(str(notes), capsys, monkeypatch),
            Case(argv, "not_a_ledger", "db", f"{notes} is not a clinicledger database"),
        )
    assert files_in(folder) == before


def another_programs_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('order more cold packs')")
    conn.close()


@pytest.mark.parametrize(
    "argv", [("init",), ("report", "debtors"), BALANCE], ids=["init", "report", "balance"]
)
def test_a_sqlite_file_of_another_program_is_refused(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    other = folder / "notes.db"
    another_programs_database(other)
    engine = make_engine(str(other))
    try:
        assert_refused(
            at(str(other), capsys, monkeypatch),
            engine,
            Case(
                argv,
                "not_a_ledger",
                "db",
                f"{other} holds tables of another program: it is not a clinicledger database",
            ),
        )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "argv", [("init",), ("report", "debtors"), BALANCE], ids=["init", "report", "balance"]
)
def test_a_ledger_of_a_newer_clinicledger_is_refused(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    """A ledger migrated by a later release (a revision past ours) is not another
    program's: the message says to upgrade clinicledger, and nothing is written."""
    ledger = folder / "ledger.db"
    assert at(str(ledger), capsys, monkeypatch)("init").status == 0
    app.settings.close()
    newer = f"{int(head_revision()) + 1:04d}"
    with sqlite3.connect(ledger) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    conn.close()
    engine = make_engine(str(ledger))
    try:
        assert_refused(
            at(str(ledger), capsys, monkeypatch),
            engine,
            Case(
                argv,
                "ledger_newer",
                "db",
                f"{ledger} was made by a newer clinicledger (its schema is past "
                f"{head_revision()}): upgrade clinicledger to use it",
            ),
        )
    finally:
        engine.dispose()


@pytest.mark.parametrize("argv", [("report", "debtors"), BALANCE], ids=["report", "balance"])
def test_a_ledger_of_an_older_schema_is_refused_until_upgraded(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    ledger = folder / "ledger.db"
    assert at(str(ledger), capsys, monkeypatch)("init").status == 0
    app.settings.close()
    older = sorted(schema_revisions())[-2]
    with sqlite3.connect(ledger) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (older,))
    conn.close()
    engine = make_engine(str(ledger))
    try:
        assert_refused(
            at(str(ledger), capsys, monkeypatch),
            engine,
            Case(
                argv,
                "not_initialised",
                "db",
                f"this database is not initialised or is out of date: {INIT}",
            ),
        )
    finally:
        engine.dispose()


def test_a_refused_init_leaves_another_programs_database_as_it_was(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = folder / "notes.db"
    another_programs_database(other)
    before = files_in(folder)

    result = at(str(other), capsys, monkeypatch)("init", json=True)
    app.settings.close()  # the command line's engine outlives run() in-process

    assert result.error()["code"] == "not_a_ledger"
    with sqlite3.connect(other) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    conn.close()
    assert (mode, files_in(folder)) == (("delete",), before)


def test_a_db_file_that_does_not_exist_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = folder / "clinicledgr.db"
    for argv in (("report", "debtors"), BALANCE):
        assert_refused_without_a_ledger(
            at(str(typo), capsys, monkeypatch),
            Case(
                argv,
                "not_initialised",
                "db",
                f"there is no ledger at {typo}: {INIT} (or check --db)",
            ),
        )
    assert files_in(folder) == {}


def test_an_empty_db_file_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = folder / "ledger.db"
    empty.touch()
    for argv in (("payment", "allocate", "PAY-000001", "--auto"), BALANCE):
        assert_refused_without_a_ledger(
            at(str(empty), capsys, monkeypatch),
            Case(
                argv,
                "not_initialised",
                "db",
                f"there is no ledger at {empty}: {INIT} (or check --db)",
            ),
        )
    # refused before anything opened it: still an empty file, nothing beside it
    assert list(files_in(folder)) == ["ledger.db"]
    assert empty.stat().st_size == 0


NO_PRACTICE = [
    case(
        "balance-of-a-ledger-without-a-practice",
        BALANCE,
        "not_initialised",
        None,
        f"the ledger has no practice yet: {INIT}",
    ),
    case(
        "report-on-a-ledger-without-a-practice",
        ("report", "debtors"),
        "not_initialised",
        None,
        f"the ledger has no practice yet: {INIT}",
    ),
    case(
        "favourites-of-a-ledger-without-a-practice",
        ("report", "favourites"),
        "not_initialised",
        None,
        f"the ledger has no practice yet: {INIT}",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(NO_PRACTICE), indirect=["engine"])
def test_a_ledger_at_the_newest_migration_without_a_practice_is_refused(
    engine: Engine, case: Case, cli: Cli
) -> None:
    # the ``engine`` fixture alone: the schema, and no ``init`` yet
    assert_refused(cli, engine, case)


def test_demo_is_refused_on_a_ledger_with_a_practice(
    engine: Engine, practice: None, cli: Cli
) -> None:
    before = snapshot(engine)
    result = cli("demo", json=True)
    assert (result.status, result.error()) == (
        2,
        {
            "code": "demo_needs_empty_ledger",
            "field": "db",
            "message": "this database already holds a practice; the demo needs an empty one "
            "(use --db demo.db)",
        },
    )
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_demo_refused_says_only_why(engine: Engine, practice: None, cli: Cli) -> None:
    assert_refused(
        cli,
        engine,
        Case(
            ("demo",),
            "demo_needs_empty_ledger",
            "db",
            "this database already holds a practice; the demo needs an empty one "
            "(use --db demo.db)",
        ),
    )


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_ledger_busy_with_another_clerk_is_refused(
    engine: Engine, practice: None, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command line's engine is made after this: it waits 100 ms for the lock, not 30 s
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 100)
    busy = "the ledger is busy with another clerk's work; try again"
    # (not assert_refused: its snapshot would wait for the lock too)
    before = snapshot(engine)
    other_clerk = sqlite3.connect(str(engine.url.database), isolation_level=None)
    other_clerk.execute("BEGIN IMMEDIATE")
    try:
        plain = cli(*record())
        as_json = cli(*record(), json=True)
    finally:
        other_clerk.execute("ROLLBACK")
        other_clerk.close()

    assert {
        "plain": (plain.status, plain.out, plain.err),
        "json": (as_json.status, as_json.error()),
    } == {
        "plain": (2, "", f"error: {busy}\n"),
        "json": (2, {"code": "ledger_busy", "field": None, "message": busy}),
    }
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_a_ledger_without_its_clock_row_is_a_bug(
    engine: Engine, practice: None, cli: Cli, clean_environment: Path
) -> None:
    with engine.begin() as conn:
        conn.execute(delete(t.ledger_clock))
    before = snapshot(engine)
    log = clean_environment / "error.log"

    plain = cli(*record())
    as_json = cli(*record(), json=True)

    message = f"internal error (InvariantBroken); details in {log}"
    assert {
        "plain": (plain.status, plain.out, plain.err),
        "json": (as_json.status, as_json.error()),
    } == {
        "plain": (70, "", f"error: {message}\n"),
        "json": (70, {"code": "invariant_broken", "field": None, "message": message}),
    }
    logged = log.read_text()
    assert logged.count("Traceback (most recent call last)") == 2
    assert "InvariantBroken: the ledger_clock row is missing: the schema is incomplete" in logged
    assert snapshot(engine) == before


# ---------------------------------------------------------------- what only a caller of the
# services can get wrong


def assert_service_refuses(
    engine: Engine,
    call: Callable[[], object],
    error: type[UserError],
    code: str,
    field: str,
    message: str,
) -> None:
    before = snapshot(engine)
    with pytest.raises(UserError) as raised:
        call()
    got = raised.value
    assert (type(got), got.code, got.field, got.message, str(got)) == (
        error,
        code,
        field,
        message,
        message,
    )
    assert snapshot(engine) == before


TOO_LARGE = "{}: 1000000000000.00 is more than 999999999999.99"


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_an_amount_past_twelve_digits_is_refused(engine: Engine, practice: None) -> None:
    # the command line reads at most twelve digits of dollars ("thirteen-digits" in
    # test_amounts.py); a caller of the services can pass any int
    uow = harness.service_clock(engine, harness.CLI_START)
    assert_service_refuses(
        engine,
        lambda: payments.record_payment(
            uow(),
            payments.RecordPayment(
                from_code="P1",
                amount_cents=10**14,
                method=PaymentMethod.CASH,
                received_date=dt.date(2024, 3, 2),
                location_code="MAIN",
            ),
        ),
        InvalidInput,
        "amount_too_large",
        "amount",
        TOO_LARGE.format("amount"),
    )
    assert_service_refuses(
        engine,
        lambda: payments.refund(
            uow(), payments.Refund(payment_id=1, amount_cents=10**14, reason="overpaid")
        ),
        InvalidInput,
        "amount_too_large",
        "amount",
        TOO_LARGE.format("amount"),
    )
    assert_service_refuses(
        engine,
        lambda: payments.allocate(uow(), payments.Allocate(payment_id=1, targets=[(1, 10**14)])),
        InvalidInput,
        "amount_too_large",
        "to",
        TOO_LARGE.format("to"),
    )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_a_product_line_without_a_product_is_refused(engine: Engine, practice: None) -> None:
    # the command line makes a product line only of ``product=TITLE``
    uow = harness.service_clock(engine, harness.CLI_START)
    assert_service_refuses(
        engine,
        lambda: invoicing.create_invoice(
            uow(),
            invoicing.CreateInvoice(
                patient_code="P1",
                location_code="MAIN",
                billed_to_code=None,
                lines=[LineSpec(kind=LineKind.PRODUCT, fee_cents=1500)],
            ),
        ),
        InvalidInput,
        "product_missing",
        "line 1",
        "line 1: a product line needs a product",  # the command line says product=TITLE
    )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_an_idempotency_key_reused_for_another_amount_is_refused(
    engine: Engine, practice: None
) -> None:
    uow = harness.service_clock(engine, harness.CLI_START)

    def pay(cents: int) -> int:
        return payments.record_payment(
            uow(),
            payments.RecordPayment(
                from_code="P1",
                amount_cents=cents,
                method=PaymentMethod.CASH,
                received_date=dt.date(2024, 3, 2),
                location_code="MAIN",
            ),
            idempotency_key="desk-3:17",
        )

    pay(3000)
    assert_service_refuses(
        engine,
        lambda: pay(3100),
        IdempotencyConflict,
        "idempotency_conflict",
        "amount",
        "idempotency key 'desk-3:17' was used for another command: its amount differs",
    )
