"""Engines for SQLite (the embedded default) and PostgreSQL.

SQLite: WAL, synchronous=FULL, foreign keys on, a busy timeout, and every writing
transaction opened with ``BEGIN IMMEDIATE`` so that a check-then-write reads under the
write lock (DESIGN.md, "Concurrency"). Reading connections use a plain deferred ``BEGIN``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, OperationalError

from clinicledger.domain.errors import InvalidInput, Unavailable
from clinicledger.domain.text import shown
from clinicledger.store.plain import check_sqlite_file, not_a_ledger

# Connection and Engine are the handles services pass on to store/ without touching
# SQLAlchemy themselves.
__all__ = [
    "Connection",
    "Engine",
    "make_engine",
    "normalise_url",
    "open_engine",
    "refresh_planner_statistics",
    "sqlite_path",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Each connection's page cache, in KiB (SQLite's default is 2 MiB). A report of a large
# practice looks up its rows' lines, invoices and payments at random: with 64 MiB those
# pages stay in the cache rather than being read from the operating system's again (a year
# of income allocation: a fifth faster). It is taken as pages are read, not beforehand.
SQLITE_CACHE_KIB = 65_536
# Rows sampled per index by ANALYZE: SQLite's advice is 100-1000; on the bench practice
# (6M postings) the whole ANALYZE then takes some 20 ms.
SQLITE_ANALYSIS_LIMIT = 400


def refresh_planner_statistics(conn: Connection) -> None:
    """Give the query planner fresh table statistics after a close. SQLite keeps none
    unless told to, and without them it read every receivable posting for a month's income
    allocation (bench: 1.2 s instead of 0.45 s). PostgreSQL's autovacuum keeps its own in
    time; the closing balances just written are analysed at once."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")
    else:
        conn.exec_driver_sql("ANALYZE closings, closing_balances")


def normalise_url(text: str) -> str:
    """A SQLAlchemy URL as given, or a plain file path turned into a SQLite URL."""
    if "://" in text:
        try:
            url = make_url(text)
        except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
            raise InvalidInput(
                "db", f"'{shown(text)}' is not a database URL", code="invalid_input"
            ) from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise InvalidInput(
                "db",
                "only sqlite:/// and postgresql+psycopg:// are supported",
                code="invalid_input",
            )
        if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{Path(text).expanduser()}"


def sqlite_path(url_text: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    url = make_url(normalise_url(url_text))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def open_engine(url_text: str, *, create: bool) -> Engine:
    """An engine on a database that can be reached. Without ``create`` a SQLite file must
    already exist (a mistyped path must not leave an empty file behind)."""
    path = sqlite_path(url_text)
    if path is not None:
        check_sqlite_file(path, create=create)
    engine = make_engine(url_text)
    label = path if path is not None else make_url(engine.url).render_as_string(hide_password=True)
    try:
        engine.connect().close()
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no connection"
        raise Unavailable(
            f"cannot open the database {shown(str(label))}: {shown(reason)}",
            code="db_unavailable",
            field="db",
        ) from exc
    except DatabaseError as exc:  # SQLite: "file is not a database"
        engine.dispose()
        raise not_a_ledger(str(label)) from exc
    return engine


def make_engine(url_text: str) -> Engine:
    url = normalise_url(url_text)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url, pool_pre_ping=True, isolation_level="READ COMMITTED", hide_parameters=True
    )


_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        # REPLACE (INSERT OR REPLACE, an UPSERT's replace) deletes the row it replaces:
        # with recursive triggers the DELETE triggers refuse that too (belt and braces:
        # migration 0014's BEFORE INSERT triggers refuse it for any client)
        cursor.execute("PRAGMA recursive_triggers = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # said to the driver itself (through SQLAlchemy a payment recorded and allocated
        # ran at 0.73 of its floor's rate, against 0.78 so, bench); its error as
        # SQLAlchemy's, as any statement's
        begin = _BEGIN[mode]
        try:
            conn.connection.driver_connection.execute(begin)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(begin, None, exc, sqlite3.Error) from exc

    return engine
