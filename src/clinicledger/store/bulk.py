"""Writing and reading many rows in a few statements, for bulk work (imports, the demo):
ids reserved at once, rows written with ``executemany``, rows read by many keys in
chunks. The rows are the ones the single-row statements write, with the ids they would
have given (``tests/db/test_bulk.py``).

Why: an import of 100,000 patients ran one INSERT and one audit record at a time, 1,795
rows a second, against some 110,000 for the same rows written by hand with
``executemany`` (bench, issue 9). The write lock of the unit of work is held throughout,
so ids counted on are ids no other clerk can take.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from clinicledger.store.sql import Db, Sql, storing


def reserve_ids(conn: Db, table: str, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``, in the order single inserts would take
    them: on SQLite one past the highest (no AUTOINCREMENT: SQLite itself would take
    those, and the unit of work's write lock is held), on PostgreSQL the table's own
    sequence."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        reserved = Sql(
            "",
            postgresql=f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
            " FROM generate_series(1, :count)",
        )
        return sorted(int(row[0]) for row in reserved.run(conn, {"count": count}).fetchall())
    highest = Sql(f"SELECT max(id) FROM {table}").scalar(conn)
    first = int(highest or 0) + 1
    return list(range(first, first + count))


def insert_statement(table: str, columns: Sequence[str]) -> Sql:
    """``INSERT INTO table (columns)`` with values by position, for
    :meth:`Sql.many_as_stored`."""
    names = ", ".join(columns)
    return Sql(
        f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})",
        postgresql=f"INSERT INTO {table} ({names}) VALUES ({', '.join('%s' for _ in columns)})",
    )


def insert_rows(conn: Db, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """``rows`` into ``table`` with one ``executemany`` for each set of columns given."""
    by_columns: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row), []).append(row)
    store, as_is = storing(conn), (int, str, type(None))
    for columns, same in by_columns.items():
        insert_statement(table, columns).many_as_stored(
            conn,
            (tuple(v if type(v) in as_is else store(v) for v in row.values()) for row in same),
        )


def rows_by_keys(
    conn: Db,
    select_from: str,
    column: str,
    keys: Iterable[Any],
    *,
    where: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of ``select_from`` (a statement up to its WHERE) whose ``column`` is one of
    ``keys`` (and that meet ``where``, with ``params``). The keys go as one parameter, a
    JSON array on SQLite (``json_each``), an array on PostgreSQL (``= ANY``): a statement
    with thousands of parameters took SQLite longer to prepare than to run."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return []
    condition = "" if where is None else f"{where} AND "
    statement = Sql(
        f"{select_from} WHERE {condition}{column} IN (SELECT value FROM json_each(:keys))",
        postgresql=f"{select_from} WHERE {condition}{column} = ANY(:keys)",
    )
    given = json.dumps(unique) if conn.dialect.name == "sqlite" else unique
    rows: list[tuple[Any, ...]] = statement.run(conn, {**(params or {}), "keys": given}).fetchall()
    return rows


@contextmanager
def unsynced_while_new(engine: Engine) -> Iterator[None]:
    """For building a brand-new SQLite ledger that nobody holds yet (the demo): while
    inside, its commits do not wait for the disk (``synchronous = OFF``); after, every
    connection is made afresh with the engine's own ``synchronous = FULL``, and a
    checkpoint writes the whole of it to the database file and syncs it, so that nothing
    built is left unsynced. A crash inside may lose or damage what was being built, which
    is only the new file itself: never use it on a ledger that holds anything. Nothing is
    relaxed on PostgreSQL or an in-memory database.

    Why: the demo is some 8,000 units of work, each committed with an fsync; on this
    machine the fsyncs were two thirds of its build time (bench/bulk.py)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return

    def relax(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous = OFF")

    engine.dispose()  # connections already made keep FULL: make them anew
    event.listen(engine, "connect", relax)
    try:
        yield
    finally:
        event.remove(engine, "connect", relax)
        engine.dispose()
        with engine.connect() as conn:  # synchronous = FULL again: the checkpoint syncs
            driver = conn.connection.driver_connection  # outside a transaction, as it must
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# The page cache of a connection writing many rows (SQLite; KiB). Each index of the tables
# written (postings have seven) takes pages all over its tree: with SQLite's default 2 MiB
# they were read and written again and again (bench: 100,000 opening balances, 200,000
# postings, took twice as long). Pages are taken as they are needed, up to this bound.
BULK_CACHE_KIB = 128 * 1024


@contextmanager
def roomy_cache(conn: Db) -> Iterator[None]:
    """Inside, ``conn`` (SQLite) keeps up to :data:`BULK_CACHE_KIB` of pages; after, its
    own cache size again (the pages past it are let go). Nothing on PostgreSQL, whose
    buffers are the server's."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    (kept,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(kept)}")
