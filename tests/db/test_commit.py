"""A unit of work's commit on PostgreSQL: the ledger's lock goes as soon as the commit is
in the WAL, and the unit of work returns only once the commit is on disk
(``UnitOfWork._wait_for_disk`` says why). PostgreSQL only: SQLite's commit is one step.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from tests.conftest import Clock, reset_pg

from clinicledger.services import masters
from clinicledger.store.engine import make_engine


@pytest.fixture
def pg(pg_url: str) -> Iterator[tuple[Engine, Clock]]:
    engine = make_engine(pg_url)
    reset_pg(engine)
    clock = Clock(engine)
    masters.init_ledger(engine, clock.uow)
    yield engine, clock
    engine.dispose()


def _lsn(conn_or_engine: object, function: str) -> int:
    """A WAL position as a number (bytes from the start)."""
    sql = text(f"SELECT {function}() - '0/0'::pg_lsn")
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return int(conn.execute(sql).scalar_one())
    return int(conn_or_engine.execute(sql).scalar_one())  # type: ignore[attr-defined]


def test_a_unit_of_work_returns_once_its_commit_is_on_disk(
    pg: tuple[Engine, Clock],
) -> None:
    engine, clock = pg
    for n in range(20):
        uow = clock.uow()
        with uow:
            masters.insert_master(uow, "location", {"code": f"L{n}", "name": f"Rooms {n}"})
            written_to = _lsn(uow.conn, "pg_current_wal_insert_lsn")
            uow.commit()
        # everything the unit of work wrote, and its commit after it, is flushed
        assert _lsn(engine, "pg_current_wal_flush_lsn") > written_to


def test_the_connection_is_left_as_the_server_sets_it(pg: tuple[Engine, Clock]) -> None:
    engine, clock = pg
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    with engine.connect() as conn:  # the pool's one connection, the unit of work's
        assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        conn.rollback()
