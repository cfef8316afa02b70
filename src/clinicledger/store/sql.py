"""The statements of the hot paths (a unit of work's clock and chains, the records a
payment or an allocation decides on, the rows they write), written once as SQL and run on
the database driver's own connection, inside the caller's SQLAlchemy transaction.

Why: SQLAlchemy spends some 27 microseconds on each statement it runs, even one built
once; the driver itself spends 2. A payment recorded and allocated runs about twenty
statements, so that was half a millisecond of a pair whose floor (the same statements by
hand, same file, same fsyncs) is about a millisecond (bench, issue 9). Everything else
(reports, master data, migrations) stays SQLAlchemy Core.

A statement is written in SQLite's dialect with ``:name`` parameters and, where
PostgreSQL needs other words (``FOR UPDATE``), given its own text; ``:name`` becomes
psycopg's ``%(name)s``. Values cross as the two drivers and the SQLAlchemy schema keep
them: on SQLite a date is ``YYYY-MM-DD``, an instant ``YYYY-MM-DD HH:MM:SS.ffffff`` and a
boolean 0 or 1 (:func:`sqlite_value`), and what comes back is read with :func:`as_date`
and :func:`as_instant`. ``tests/db/test_sql.py`` proves that rows written either way read
back the same either way, on both backends; the service tests run every statement on both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


_AS_IS = frozenset({int, str, type(None)})


def sqlite_value(value: Any) -> Any:
    """``value`` as SQLAlchemy keeps it in SQLite (see the module docstring)."""
    kind = type(value)
    if kind in _AS_IS:  # most values, first
        return value
    if kind is dt.datetime:
        return value.isoformat(" ", "microseconds")
    if kind is dt.date:
        return value.isoformat()
    if kind is bool:
        return int(value)
    return value


def storing(conn: Db) -> Callable[[Any], Any]:
    """How a value is given to ``conn``'s driver: :func:`sqlite_value` on SQLite, as it is
    on PostgreSQL."""
    return sqlite_value if conn.dialect.name == "sqlite" else _itself


def _itself(value: Any) -> Any:
    return value


def as_date(value: Any) -> dt.date | None:
    """A date read back: SQLite gives its text, PostgreSQL a date."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def as_instant(value: Any) -> dt.datetime | None:
    """A naive UTC instant read back: SQLite gives its text, PostgreSQL a datetime."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


class Db(Protocol):
    """What a statement needs of a connection: the driver's own (``connection.
    driver_connection``) and the dialect's name. A SQLAlchemy ``Connection`` is one; so is
    :class:`clinicledger.store.plain.PlainConnection`."""

    @property
    def connection(self) -> Any: ...

    @property
    def dialect(self) -> Any: ...


class Sql:
    """One statement, its SQLite text and its PostgreSQL text."""

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, sqlite: str, *, postgresql: str | None = None) -> None:
        self.sqlite = sqlite
        self.postgresql = _NAMED.sub(r"%(\1)s", sqlite if postgresql is None else postgresql)

    def run(self, conn: Db, params: Mapping[str, Any] | None = None) -> Any:
        """Run it with ``params``; the driver's cursor, to fetch from."""
        driver = conn.connection.driver_connection
        assert driver is not None
        if conn.dialect.name == "sqlite":
            given = {} if params is None else {k: sqlite_value(v) for k, v in params.items()}
            return driver.execute(self.sqlite, given)
        return driver.execute(self.postgresql, params or {})

    def many(self, conn: Db, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once for each of ``rows``."""
        driver = conn.connection.driver_connection
        assert driver is not None
        if conn.dialect.name == "sqlite":
            as_is, kept_as = _AS_IS, sqlite_value  # most values are kept as they are
            driver.executemany(
                self.sqlite,
                (
                    {k: v if type(v) in as_is else kept_as(v) for k, v in row.items()}
                    for row in rows
                ),
            )
        else:
            with driver.cursor() as cursor:
                cursor.executemany(self.postgresql, rows)

    def many_as_stored(self, conn: Db, rows: Iterable[Sequence[Any]]) -> None:
        """Run it once for each of ``rows``: values by position (``?`` on SQLite, ``%s`` on
        PostgreSQL), each already as the driver takes it (:func:`storing`). For bulk
        writing: no dictionary is made or value converted per row."""
        driver = conn.connection.driver_connection
        assert driver is not None
        if conn.dialect.name == "sqlite":
            driver.executemany(self.sqlite, rows)
        else:
            with driver.cursor() as cursor:
                cursor.executemany(self.postgresql, list(rows))

    def one(self, conn: Db, params: Mapping[str, Any] | None = None) -> Any:
        """The one row it returns, or None."""
        return self.run(conn, params).fetchone()

    def scalar(self, conn: Db, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the one row it returns (None if no row)."""
        row = self.run(conn, params).fetchone()
        return None if row is None else row[0]
