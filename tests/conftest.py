"""Fixtures shared by every test that touches a database.

``engine`` is parametrised over SQLite and PostgreSQL (``CLINICLEDGER_TEST_PG``, an admin
URL; default the local server). The schema comes from the Alembic migrations only: once per
session into a template, then each test gets a clean copy (SQLite: a copied file;
PostgreSQL: its own database per xdist worker, truncated before each test).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from clinicledger.services import masters
from clinicledger.store import schema
from clinicledger.store.engine import make_engine
from clinicledger.store.tables import metadata
from clinicledger.store.uow import UnitOfWork

PG_ADMIN_URL = os.environ.get(
    "CLINICLEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def worker_name(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(str(path))
    schema.upgrade(engine)
    engine.dispose()
    return path


def pg_database_url(name: str) -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url(worker_name: str) -> Iterator[str]:
    """A database of this test process's own (pytest runs may overlap on one server)."""
    name = f"clinicledger_test_{worker_name}_{os.getpid()}"
    url = pg_database_url(name)
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    drop_pg_database(name)


def reset_pg(engine: Engine) -> None:
    """Empty every table. The append-only tables refuse TRUNCATE (migration 0013): the
    reset runs as a replica, for which ordinary triggers do not fire."""
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO ledger_clock (id, last_invoice_number) VALUES (1, 0)"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        made = make_engine(str(path))
    else:
        made = make_engine(request.getfixturevalue("pg_url"))
        reset_pg(made)
        triggers = pg_triggers(made)
    yield made
    if request.param != "sqlite":
        # the database is shared by this worker's tests: one that changes its schema
        # (drops a trigger to tamper) breaks the next, so it fails here, by name
        assert pg_triggers(made) == triggers, "the test changed the shared schema's triggers"
    made.dispose()


def pg_triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return set(found.scalars())


@dataclass
class Clock:
    """A test clock: each unit of work is stamped one minute after the one before."""

    engine: Engine
    now: dt.datetime = field(default_factory=lambda: dt.datetime(2018, 1, 1, 9, 0))

    def uow(self, *, at: dt.datetime | None = None) -> UnitOfWork:
        if at is not None:
            self.now = at
        else:
            self.now += dt.timedelta(minutes=1)
        return UnitOfWork(self.engine, now=self.now, actor="system", strict_clock=True)

    def at_date(self, day: dt.date, hour: int = 10) -> UnitOfWork:
        moment = dt.datetime.combine(day, dt.time(hour))
        return self.uow(at=max(moment, self.now + dt.timedelta(minutes=1)))


@pytest.fixture
def clock(engine: Engine) -> Clock:
    made = Clock(engine)
    masters.init_ledger(engine, made.uow)
    return made


@pytest.fixture
def fresh(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """For property tests: a function making a new empty ledger for each example, on the
    ``engine``'s backend; it returns (engine, clock)."""
    numbers = itertools.count()
    made: list[Engine] = []
    sqlite = engine.dialect.name == "sqlite"
    template = request.getfixturevalue("sqlite_template") if sqlite else None

    def new() -> tuple[Engine, Clock]:
        if template is not None:
            path = tmp_path / f"ledger-{next(numbers)}.db"
            shutil.copy(template, path)
            ledger_engine = make_engine(str(path))
            made.append(ledger_engine)
        else:
            reset_pg(engine)
            ledger_engine = engine
        clock = Clock(ledger_engine)
        masters.init_ledger(ledger_engine, clock.uow)
        return ledger_engine, clock

    yield new
    for e in made:
        e.dispose()


# Hypothesis settings of the property tests that build a ledger per example.
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed with argon2id at its least cost, for tests that log in often (the
    real settings take a tenth of a second a login; tests/db/test_users.py uses them)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from clinicledger.services import users

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(users, "_PASSWORDS", cheap)
    users._unknown_user_hash.cache_clear()


@pytest.fixture
def password_file(tmp_path: Path) -> str:
    """A file whose first line is a password (``user add --password-file``)."""
    path = tmp_path / "password.txt"
    path.write_text("correct horse battery\n")
    return str(path)
