"""A SQLite ledger read without SQLAlchemy (store/plain.py) gives every balance exactly as
the engine does, and a plain command loads none of the heavy libraries (issue 9)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from clinicledger.services import masters
from clinicledger.services.balances import balance
from clinicledger.store import tables as t
from clinicledger.store.plain import PlainSqlite, sqlite_file
from clinicledger.store.uow import reading
from conftest import PROPERTY
from journals import START, play, step

SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def subjects(engine: Engine) -> list[dict[str, object]]:
    """Every patient, payer, invoice and line of the ledger, as ``balance`` names them."""
    with reading(engine) as conn:
        found: list[dict[str, object]] = [
            {"patient_code": code} for code in conn.execute(select(t.patients.c.code)).scalars()
        ]
        found += [{"payer_code": code} for code in conn.execute(select(t.payers.c.code)).scalars()]
        found += [
            {"invoice_number": n} for n in conn.execute(select(t.invoices.c.number)).scalars()
        ]
        found += [{"line_id": n} for n in conn.execute(select(t.lines.c.id)).scalars()]
    return found


@SQLITE
@PROPERTY
@given(steps=st.lists(step, min_size=6, max_size=20), days=st.integers(-10, 120))
def test_every_balance_read_plainly_is_the_engines(fresh, steps, days) -> None:
    engine, clock = fresh()
    moments = play(clock, steps)
    plain = PlainSqlite.open(Path(str(engine.url.database)))
    as_of = START + dt.timedelta(days=days)
    known = moments[len(moments) // 2]
    for subject in subjects(engine):
        for when in (
            {},
            {"as_of": as_of},
            {"as_known_at": known},
            {"as_of": as_of, "as_known_at": known},
        ):
            assert balance(plain, **subject, **when) == balance(engine, **subject, **when)


@pytest.mark.parametrize(
    ("given", "path"),
    [
        ("ledger.db", "ledger.db"),
        ("~/ledger.db", str(Path("~/ledger.db").expanduser())),
        ("sqlite:///ledger.db", "ledger.db"),
        ("sqlite:////var/ledger.db", "/var/ledger.db"),
        ("sqlite:///ledger.db?mode=ro", None),  # options: the engine reads them
        ("sqlite://", None),
        ("postgresql+psycopg://u@h/db", None),
    ],
)
def test_which_db_is_read_plainly(given: str, path: str | None) -> None:
    assert sqlite_file(given) == (None if path is None else Path(path))


# The libraries a plain command must not load: the database and migration libraries (a
# fifth of a second to import), what they pull in, the demo, charts, Pydantic.
HEAVY = ("sqlalchemy", "alembic", "mako", "pygments", "pydantic", "matplotlib", "rich")
LOADED = (
    "import sys\n"
    "from clinicledger.cli.main import run\n"
    "status = run(sys.argv[1:])\n"
    "loaded = sorted(name for name in {heavy!r} + ('clinicledger.demo',)\n"
    "    if name in sys.modules and type(sys.modules[name]).__name__ != '_LazyModule')\n"
    "print('loaded:', ','.join(loaded), 'status:', status)\n"
)


def loaded_by(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_help_loads_no_heavy_library() -> None:
    assert loaded_by("--help") == "loaded:  status: 0"
    assert loaded_by("payment", "record", "--help") == "loaded:  status: 0"


@SQLITE
def test_a_balance_loads_no_heavy_library(fresh) -> None:
    engine, clock = fresh()
    masters.add_patient(clock.uow(), code="P1", name="Sam Sample")
    db = str(engine.url.database)
    assert loaded_by("--db", db, "balance", "--patient", "P1") == "loaded:  status: 0"
    # a command that writes loads the database library, and nothing else it need not
    assert loaded_by("--db", db, "location", "add", "NORTH", "--name", "North") == (
        "loaded: sqlalchemy status: 0"
    )
