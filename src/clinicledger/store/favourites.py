"""Report favourites (``saved_reports``): a name, a report and its settings as JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from clinicledger.store import tables as t

S = t.saved_reports


@dataclass(frozen=True, slots=True, kw_only=True)
class Favourite:
    name: str
    report: str
    parameters: str  # JSON (reports.favourites)
    recorded_at: dt.datetime


def find(conn: Connection, name: str) -> Favourite | None:
    row = conn.execute(select(S).where(S.c.name == name)).one_or_none()
    return None if row is None else _favourite(row)


def all_favourites(conn: Connection) -> tuple[Favourite, ...]:
    return tuple(_favourite(row) for row in conn.execute(select(S).order_by(S.c.name)))


def _favourite(row: Row[Any]) -> Favourite:
    return Favourite(
        name=row.name, report=row.report, parameters=row.parameters, recorded_at=row.recorded_at
    )


def keep(
    conn: Connection, *, name: str, report: str, parameters: str, recorded_at: dt.datetime
) -> None:
    """Keep a favourite, replacing one of the same name."""
    values = {"report": report, "parameters": parameters, "recorded_at": recorded_at}
    if conn.execute(select(S.c.id).where(S.c.name == name)).first() is None:
        conn.execute(insert(S).values(name=name, **values))
    else:
        conn.execute(update(S).where(S.c.name == name).values(**values))
