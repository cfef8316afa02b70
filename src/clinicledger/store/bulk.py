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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from clinicledger.store.sql import Db, Sql

# Keys per "IN (...)" read: well under SQLite's 32,766 bound parameters, and few round
# trips for a file of 100,000 rows.
KEYS_PER_READ = 5_000


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


def insert_rows(conn: Db, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """``rows`` into ``table`` with one ``executemany`` for each set of columns given."""
    by_columns: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row), []).append(row)
    for columns, same in by_columns.items():
        Sql(
            f"INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})"
        ).many(conn, same)


def chunks(keys: Iterable[Any], size: int = KEYS_PER_READ) -> Iterator[list[Any]]:
    """``keys`` without repeats, ``size`` at a time."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def rows_by_keys(
    conn: Db,
    select_from: str,
    column: str,
    keys: Iterable[Any],
    *,
    where: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``select_from`` (a statement up to its WHERE) whose ``column`` is one of
    ``keys`` (and that meet ``where``, with ``params``), read in chunks of keys."""
    for chunk in chunks(keys):
        names = {f"k{n}": key for n, key in enumerate(chunk)}
        condition = f"{column} IN ({', '.join(':' + k for k in names)})"
        if where is not None:
            condition = f"{where} AND {condition}"
        statement = Sql(f"{select_from} WHERE {condition}")
        yield from statement.run(conn, {**(params or {}), **names}).fetchall()
