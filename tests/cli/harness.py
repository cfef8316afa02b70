"""What the command-line and error tests share: running ``clinicledger`` in-process, a small
practice to run it against, and a snapshot of every table to prove a refused command wrote
nothing.

The practice (``build_practice``) is made through the services on 2024-03-01 (practice
time, Australia/Sydney); its ids are fixed because every test starts from an empty ledger:

```
patients P1, P2; payer FUND1 (fund); location MAIN; provider DR1;
item 90801 (100.00, GST-free); product GEL "Cold pack" (15.00)
INV-000001  P1, billed to the patient
  L-000001  service 90801   100.00   owes 80.00  (AL-000005: 20.00 from PAY-000001)
  L-000002  cancellation     25.00   owes 25.00
INV-000002  P2, billed to FUND1
  L-000003  service 90801   100.00   FUND1 owes 100.00
PAY-000001  P1 cash      30.00   10.00 unallocated
PAY-000002  P1 eftpos    50.00   10.00 refunded (E-000007); AL-000008 (5.00 to L-000001)
                                 un-allocated (E-000009); 40.00 unallocated
PAY-000003  P1 cheque    40.00   reversed (E-000011)
PAY-000004  FUND1 insurance 60.00  60.00 unallocated
P1: owes 105.00, credit 50.00, balance 55.00
```

The command line then runs from 2024-03-02 09:00 practice time, one minute per command, so
"today" is 2024-03-02 for every command a test runs.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from sqlalchemy import Engine, inspect, text

import clinicledger.cli.main as cli_main
from clinicledger.domain.choices import LineKind, PayerKind, PaymentMethod
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork

PRACTICE_DAY = dt.date(2024, 3, 1)
CLI_START = dt.datetime(2024, 3, 2, 9, 0)  # practice local time; "today" is 2024-03-02
TODAY = "2024-03-02"


def db_url(engine: Engine) -> str:
    """The ``--db`` value that reaches the fixture's database."""
    return engine.url.render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        """stdout, which must be exactly one JSON object on one line."""
        assert self.out.endswith("\n") and self.out.count("\n") == 1, self.out
        data = json.loads(self.out)
        assert isinstance(data, dict), self.out
        return data

    def error(self) -> dict[str, Any]:
        """The ``--json`` error: nothing on stdout, one JSON object on stderr."""
        assert self.out == "", self.out
        assert self.err.endswith("\n") and self.err.count("\n") == 1, self.err
        data = json.loads(self.err)
        assert list(data) == ["error"], data
        assert sorted(data["error"]) == ["code", "field", "message"], data
        return data["error"]


_build_command = typer.main.get_command
_commands: dict[int, Any] = {}


def _command_built_once(app: typer.Typer) -> Any:
    """Typer builds its click command tree on every ``run()`` (about 80 ms: it evaluates
    every annotation); a real process builds it once, so the tests build it once too."""
    if id(app) not in _commands:
        _commands[id(app)] = _build_command(app)
    return _commands[id(app)]


class Cli:
    """``clinicledger`` run in-process, as a fresh process would run it: new settings each
    time (``run()`` itself keeps the first call's engine; see
    ``test_run_twice_in_one_process_uses_each_runs_db``), the engine disposed afterwards, and
    a clock (``--now``) that moves one minute per command."""

    def __init__(
        self,
        db: str | None,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        start: dt.datetime = CLI_START,
    ) -> None:
        self.db = db
        self.now = start
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def tick(self) -> str:
        self.now += dt.timedelta(minutes=1)
        return self.now.isoformat(timespec="minutes")

    def __call__(
        self,
        *args: str,
        json: bool = False,
        now: str | bool = True,
        db: str | bool = True,
        columns: int | None = None,
    ) -> Result:
        argv: list[str] = []
        if db is True and self.db is not None:
            argv += ["--db", self.db]
        elif isinstance(db, str):
            argv += ["--db", db]
        if now is True:
            argv += ["--now", self.tick()]
        elif isinstance(now, str):
            argv += ["--now", now]
        if json:
            argv.append("--json")
        argv += args
        self._capsys.readouterr()
        if columns is None:  # a test's output is its own, whatever the terminal running it
            self._monkeypatch.delenv("COLUMNS", raising=False)
        else:
            self._monkeypatch.setenv("COLUMNS", str(columns))
        self._monkeypatch.setattr(typer.main, "get_command", _command_built_once)
        self._monkeypatch.setattr(cli_main, "settings", cli_main.Settings())
        try:
            status = cli_main.run(argv)
        finally:
            engine = cli_main.settings._engine
            if engine is not None:
                engine.dispose()
        out, err = self._capsys.readouterr()
        return Result(status, out, err)

    def ok(self, *args: str, **options: Any) -> dict[str, Any]:
        """Run with ``--json``; it must succeed, print one object and nothing on stderr."""
        result = self(*args, json=True, **options)
        assert (result.status, result.err) == (0, ""), result
        return result.json()


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the ledger is tiny in these tests): equal snapshots
    before and after a command mean it wrote nothing at all."""
    names = sorted(inspect(engine).get_table_names())
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return {
            name: sorted(
                (tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr
            )
            for name in names
        }


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in sorted(inspect(engine).get_table_names())
        }


def service_clock(engine: Engine, start: dt.datetime) -> Callable[[], UnitOfWork]:
    moments = [start]

    def uow() -> UnitOfWork:
        moments[0] += dt.timedelta(minutes=1)
        return UnitOfWork(engine, now=moments[0], actor="system", strict_clock=True)

    return uow


def build_practice(engine: Engine) -> None:
    uow = service_clock(engine, dt.datetime.combine(PRACTICE_DAY, dt.time(8, 0)))
    masters.init_ledger(engine, uow)
    masters.add_location(uow(), code="MAIN", name="Main Street Rooms")
    masters.add_provider(uow(), code="DR1", name="Dr Rowan Vale")
    masters.add_patient(uow(), code="P1", name="Ivy Marlowe")
    masters.add_patient(uow(), code="P2", name="Otto Brandt")
    masters.add_payer(uow(), code="FUND1", name="Harbour Health Fund", kind=PayerKind.FUND)
    masters.add_item(uow(), code="90801", description="Consultation", fee_cents=10000)
    masters.add_product(uow(), code="GEL", title="Cold pack", fee_cents=1500)
    service = LineSpec(
        kind=LineKind.SERVICE, item_code="90801", provider_code="DR1", service_date=PRACTICE_DAY
    )
    first = invoicing.create_invoice(
        uow(),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[
                service,
                LineSpec(
                    kind=LineKind.CANCELLATION,
                    provider_code="DR1",
                    service_date=PRACTICE_DAY,
                    fee_cents=2500,
                ),
            ],
        ),
    )
    second = invoicing.create_invoice(
        uow(),
        invoicing.CreateInvoice(
            patient_code="P2", location_code="MAIN", billed_to_code="FUND1", lines=[service]
        ),
    )

    def pay(party: str, cents: int, method: PaymentMethod) -> int:
        return payments.record_payment(
            uow(),
            payments.RecordPayment(
                from_code=party,
                amount_cents=cents,
                method=method,
                received_date=PRACTICE_DAY,
                location_code="MAIN",
            ),
        )

    cash = pay("P1", 3000, PaymentMethod.CASH)
    applied = payments.allocate(uow(), payments.Allocate(payment_id=cash, targets=[(1, 2000)]))
    eftpos = pay("P1", 5000, PaymentMethod.EFTPOS)
    refund = payments.refund(
        uow(), payments.Refund(payment_id=eftpos, amount_cents=1000, reason="overpaid")
    )
    undone = payments.allocate(uow(), payments.Allocate(payment_id=eftpos, targets=[(1, 500)]))
    unallocation = payments.unallocate(
        uow(), payments.Unallocate(allocation_id=undone[0].id, reason="wrong line")
    )
    cheque = pay("P1", 4000, PaymentMethod.CHEQUE)
    reversal = payments.reverse_payment(
        uow(), payments.ReversePayment(payment_id=cheque, reason="cheque dishonoured")
    )
    fund = pay("FUND1", 6000, PaymentMethod.INSURANCE)

    made = (
        [line.id for line in first.lines + second.lines],
        [cash, eftpos, cheque, fund],
        [applied[0].id, refund, undone[0].id, unallocation, reversal],
    )
    assert made == ([1, 2, 3], [1, 2, 3, 4], [5, 7, 8, 9, 11]), made


# ---------------------------------------------------------------- fixtures (conftests import)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ledger or clock from the caller's environment; internal-error logs in tmp."""
    monkeypatch.delenv("CLINICLEDGER_DB", raising=False)
    monkeypatch.delenv("CLINICLEDGER_NOW", raising=False)
    log_dir = tmp_path / "log"
    monkeypatch.setenv("CLINICLEDGER_LOG_DIR", str(log_dir))
    return log_dir


@pytest.fixture
def cli(engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(db_url(engine), capsys, monkeypatch)


@pytest.fixture(scope="session")
def practice_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The practice, built once per session into a SQLite file."""
    path = tmp_path_factory.mktemp("practice") / "practice.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(str(path))
    build_practice(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def practice(engine: Engine, request: pytest.FixtureRequest) -> None:
    """The practice in the test's ledger: a copy of the template on SQLite, built afresh
    on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        build_practice(engine)
        return
    engine.dispose()
    target = Path(str(engine.url.database))
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(request.getfixturevalue("practice_template"), target)
