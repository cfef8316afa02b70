"""Engines for SQLite (the embedded default) and PostgreSQL.

SQLite: WAL, synchronous=FULL, foreign keys on, a busy timeout, and every writing
transaction opened with ``BEGIN IMMEDIATE`` so that a check-then-write reads under the
write lock (DESIGN.md, "Concurrency"). Reading connections use a plain deferred ``BEGIN``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from clinicledger.domain.errors import InvalidInput

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(text: str) -> str:
    """A SQLAlchemy URL as given, or a plain file path turned into a SQLite URL."""
    if "://" in text:
        try:
            url = make_url(text)
        except ArgumentError as exc:
            raise InvalidInput("db", f"'{text}' is not a database URL") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise InvalidInput("db", "only sqlite:/// and postgresql+psycopg:// are supported")
        if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{Path(text).expanduser()}"


def make_engine(url_text: str) -> Engine:
    url = normalise_url(url_text)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
