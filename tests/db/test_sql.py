"""store/sql.py: statements run on the driver's own connection keep values exactly as
SQLAlchemy keeps them, on both backends, so that the two can read each other's rows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select

from clinicledger.store import tables as t
from clinicledger.store.sql import Sql, as_date, as_instant, sqlite_value

BACKENDS = pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)

_INSERT = Sql(
    "INSERT INTO closings (as_of, recorded_at) VALUES (:as_of, :recorded_at) RETURNING id"
)
_READ = Sql("SELECT as_of, recorded_at FROM closings WHERE id = :id")

instants = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2199, 12, 31, 23, 59, 59)
)


@BACKENDS
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.dates(dt.date(1900, 1, 1), dt.date(2199, 12, 31)), instant=instants)
def test_values_written_by_hand_read_back_through_sqlalchemy_and_back(
    engine: Engine, day: dt.date, instant: dt.datetime
) -> None:
    with engine.connect() as conn, conn.begin():
        made = _INSERT.scalar(conn, {"as_of": day, "recorded_at": instant})
        through_core = conn.execute(
            select(t.closings.c.as_of, t.closings.c.recorded_at).where(t.closings.c.id == made)
        ).one()
        assert (through_core.as_of, through_core.recorded_at) == (day, instant)
        core_id = conn.execute(
            insert(t.closings)
            .values(as_of=day + dt.timedelta(days=1), recorded_at=instant)
            .returning(t.closings.c.id)
        ).scalar_one()
        as_of, recorded_at = _READ.one(conn, {"id": core_id})
        assert (as_date(as_of), as_instant(recorded_at)) == (day + dt.timedelta(days=1), instant)
        conn.rollback()


def test_sqlite_values_are_sqlalchemys_storage_format() -> None:
    assert sqlite_value(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05.000000"
    assert sqlite_value(dt.datetime(2024, 1, 2, 3, 4, 5, 6)) == "2024-01-02 03:04:05.000006"
    assert sqlite_value(dt.date(2024, 1, 2)) == "2024-01-02"
    assert (sqlite_value(True), sqlite_value(False)) == (1, 0)
    assert [sqlite_value(v) for v in (None, 7, "x")] == [None, 7, "x"]


_ECHO = Sql("SELECT :instant, :day, :yes, typeof(:yes), :no, :none, :number, :text")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_is_given_values_as_sqlalchemy_keeps_them(engine: Engine) -> None:
    """A statement's date or instant is given to the driver as SQLAlchemy's text of it: an
    instant on the second keeps its six zeros (sqlite3's own default, deprecated since
    Python 3.12, drops them), so that instants compare as text in order; a bool binds as
    an integer."""
    values = {
        "instant": dt.datetime(2024, 1, 2, 3, 4, 5),
        "day": dt.date(2024, 1, 2),
        "yes": True,
        "no": False,
        "none": None,
        "number": 7,
        "text": "x",
    }
    with engine.connect() as conn, conn.begin():
        echoed = _ECHO.one(conn, values)
        _INSERT.many(conn, [{"as_of": values["day"], "recorded_at": values["instant"]}])
        kept = conn.exec_driver_sql("SELECT as_of, recorded_at FROM closings").one()
        conn.rollback()
    assert tuple(echoed) == (
        "2024-01-02 03:04:05.000000",
        "2024-01-02",
        1,
        "integer",
        0,
        None,
        7,
        "x",
    )
    assert tuple(kept) == ("2024-01-02", "2024-01-02 03:04:05.000000")


def test_postgresql_text_takes_psycopg_parameters() -> None:
    statement = Sql("SELECT a FROM b WHERE c = :c AND d = :d_2 AND e = 'x:y'")
    assert statement.postgresql == "SELECT a FROM b WHERE c = %(c)s AND d = %(d_2)s AND e = 'x:y'"
    own = Sql("SELECT 1", postgresql="SELECT 1 FOR UPDATE")
    assert (own.sqlite, own.postgresql) == ("SELECT 1", "SELECT 1 FOR UPDATE")


@BACKENDS
def test_streamed_rows_are_sqlalchemys_rows_as_the_driver_keeps_them(engine: Engine) -> None:
    """store.ledger.stream_rows: the rows SQLAlchemy reads, each value as the driver gives
    it (SQLite: a date or an instant as its text), selected by bound values of every kind
    (an instant, an IN list) and in batches; a stream stopped part-way closes its cursor
    before its transaction ends (PostgreSQL: a server-side cursor), and the transaction goes
    on."""
    from sqlalchemy import func

    from clinicledger.store import ledger

    stamps = [dt.datetime(2025, 3, 1, 9, 0, 0, n * 7) for n in range(ledger.STREAM_BATCH + 5)]
    with engine.connect() as conn, conn.begin():
        for n, stamp in enumerate(stamps):
            _INSERT.scalar(
                conn, {"as_of": dt.date(2025, 1, 1) + dt.timedelta(n), "recorded_at": stamp}
            )
        query = (
            select(t.closings.c.id, t.closings.c.as_of, t.closings.c.recorded_at)
            .where(
                t.closings.c.recorded_at >= stamps[1],
                t.closings.c.id.not_in([1, 3]),
            )
            .order_by(t.closings.c.id)
        )
        through_core = [tuple(row) for row in conn.execute(query)]
        streamed = list(ledger.stream_rows(conn, query))
        assert len(streamed) == len(stamps) - 2  # not the first (by time), nor id 3
        if engine.dialect.name == "sqlite":
            assert streamed == [(n, sqlite_value(d), sqlite_value(i)) for n, d, i in through_core]
        else:
            assert streamed == through_core
        stopped = ledger.stream_rows(conn, query)
        assert next(stopped) == streamed[0]
        stopped.close()
        assert conn.execute(select(func.count()).select_from(t.closings)).scalar() == len(stamps)
