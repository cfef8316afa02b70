"""A SQLite ledger read with the standard library alone: what the database file is (a
ledger of ours, at our newest migration, or something to refuse), and a plain reading
connection for the statements of :mod:`clinicledger.store.lookups`.

Why: importing SQLAlchemy takes about 0.2 s, more than a whole ``clinicledger balance``
may (issue 9: 0.25 s). A command that only reads what ``store.lookups`` reads opens the
file here, without it; every other command opens it through ``store.engine``, whose checks
of the file are these same functions.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinicledger.domain.errors import Unavailable
from clinicledger.domain.text import shown

BUSY_TIMEOUT_S = 30  # as store.engine's connections wait for a writer's lock


def not_a_ledger(label: str, *, foreign: bool = False) -> Unavailable:
    what = "holds tables of another program: it " if foreign else ""
    return Unavailable(
        f"{shown(label)} {what}is not a clinicledger database", code="not_a_ledger", field="db"
    )


def newer_ledger(label: str) -> Unavailable:
    return Unavailable(
        f"{shown(label)} was made by a newer clinicledger (its schema is past {head_revision()})",
        code="ledger_newer",
        field="db",
    )


@functools.cache
def schema_revisions() -> frozenset[str]:
    """Our migrations' revision ids: their files are named ``NNNN_what.py``, numbered in
    the order they run (a test holds Alembic's own order to it)."""
    versions = Path(__file__).parent / "migrations" / "versions"
    return frozenset(path.name[:4] for path in versions.glob("[0-9]*_*.py"))


def head_revision() -> str:
    """The newest migration's revision id."""
    return max(schema_revisions())


def revision_state(revision: str) -> str:
    """What a schema kept at ``revision`` is to this clinicledger: ``current``,
    ``outdated``, ``newer`` (a later number than ours: a newer clinicledger's) or
    ``foreign`` (no revision of ours)."""
    if revision == head_revision():
        return "current"
    if revision in schema_revisions():
        return "outdated"
    if len(revision) == 4 and revision.isascii() and revision.isdigit():
        return "newer" if revision > head_revision() else "foreign"
    return "foreign"


def check_sqlite_file(path: Path, *, create: bool) -> frozenset[str]:
    """Refuse a path that holds no ledger (unless ``create``: init may make one there), a
    file that is not a SQLite database, or one with another program's tables or a newer
    clinicledger's schema, before anything writes to it (a connection of ours switches a
    database to WAL). Read with the standard library, read-only. Returns the schema's
    revisions kept in the file (none for a new one)."""
    if not path.parent.is_dir():
        raise Unavailable(
            f"cannot open the database {shown(str(path))}: the folder "
            f"{shown(str(path.parent))} does not exist",
            code="db_unavailable",
            field="db",
        )
    empty = not path.exists() or path.stat().st_size == 0
    if empty and not create:
        raise Unavailable(
            f"there is no ledger at {shown(str(path))}",
            code="not_initialised",
            field="db",
            path=str(path),
        )
    if empty:
        return frozenset()  # a new ledger: init writes it
    try:
        with contextlib.closing(
            sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        ) as conn:
            tables = {
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            revisions = frozenset(
                {v for (v,) in conn.execute("SELECT version_num FROM alembic_version")}
                if "alembic_version" in tables
                else set()
            )
    except sqlite3.DatabaseError as exc:
        raise not_a_ledger(str(path)) from exc
    if tables and "alembic_version" not in tables:
        raise not_a_ledger(str(path), foreign=True)
    found = {revision_state(revision) for revision in revisions}
    if "newer" in found:
        raise newer_ledger(str(path))
    if "foreign" in found:
        raise not_a_ledger(str(path), foreign=True)
    return revisions


class PlainConnection:
    """A ``sqlite3`` connection with what a :class:`clinicledger.store.sql.Sql` statement
    asks of a connection (``connection.driver_connection``, ``dialect.name``)."""

    class _Dialect:
        name = "sqlite"

    dialect = _Dialect()

    def __init__(self, driver: sqlite3.Connection) -> None:
        self.driver_connection = driver

    @property
    def connection(self) -> Any:
        return self


@dataclass(frozen=True, slots=True)
class PlainSqlite:
    """A SQLite ledger at our newest migration, to read without SQLAlchemy."""

    path: Path

    @classmethod
    def open(cls, path: Path) -> PlainSqlite:
        """The ledger at ``path``, refused as ``store.engine`` would refuse it."""
        if check_sqlite_file(path, create=False) != {head_revision()}:
            raise Unavailable(
                "this database is not initialised or is out of date",
                code="not_initialised",
                field="db",
            )
        return cls(path)

    @contextlib.contextmanager
    def reading(self) -> Iterator[PlainConnection]:
        """One consistent read-only view (a deferred transaction), as ``store.uow.reading``
        gives on SQLite."""
        driver = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        try:
            driver.execute("BEGIN")
            yield PlainConnection(driver)
        finally:
            driver.rollback()
            driver.close()


def sqlite_file(url_text: str) -> Path | None:
    """The file a ``--db`` names, if it is plainly a SQLite file: a path, or
    ``sqlite:///PATH`` with nothing after it; None for anything else (PostgreSQL, URL
    options), which ``store.engine`` reads."""
    if "://" not in url_text:
        return Path(url_text).expanduser()
    prefix = "sqlite:///"
    rest = url_text[len(prefix) :] if url_text.startswith(prefix) else ""
    if not rest or "?" in rest or rest == ":memory:":
        return None
    return Path(rest)
