"""Closing a period in storage: the practice's ``closed_through``, and the balances kept at
each month end inside it (``closings``; read back by :func:`ledger.account_balances`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, literal, select, update

from clinicledger.domain.dates import month_ends
from clinicledger.store import ledger
from clinicledger.store import tables as t


def close_through(conn: Connection, through: dt.date) -> None:
    conn.execute(update(t.practice).where(t.practice.c.id == 1).values(closed_through=through))


def keep_closing_balances(
    conn: Connection, through: dt.date, *, recorded_at: dt.datetime
) -> tuple[dt.date, ...]:
    """Keep the balances at each month end not yet kept, up to ``through``, and at
    ``through`` itself; each built from the one before it and the postings in between.
    Returns the dates kept."""
    previous = ledger.closing_before(conn, as_of=None, as_known_at=None)
    if previous is not None:
        first = previous.as_of + dt.timedelta(days=1)
    else:
        first = _first_posting_date(conn) or through
    dates = (*(d for d in month_ends(first, through) if d != through), through)
    for as_of in dates:
        closing_id = conn.execute(
            insert(t.closings)
            .values(as_of=as_of, recorded_at=recorded_at)
            .returning(t.closings.c.id)
        ).scalar_one()
        for account, keys in ledger.KEPT_BALANCES.items():
            balances = ledger.balances_since(previous, account, as_of=as_of, as_known_at=None)
            conn.execute(
                insert(t.closing_balances).from_select(
                    ["closing_id", "account", *keys, "amount_cents"],
                    select(
                        literal(closing_id),
                        literal(account.value),
                        *(balances.c[k] for k in keys),
                        balances.c.amount_cents,
                    ),
                )
            )
        previous = ledger.Closing(id=closing_id, as_of=as_of, recorded_at=recorded_at)
    return dates


def _first_posting_date(conn: Connection) -> dt.date | None:
    """The earliest date of a posting to a kept account."""
    P = t.postings
    found = [
        conn.execute(
            select(func.min(P.c.effective_date)).where(P.c.account == account.value)
        ).scalar_one()
        for account in ledger.KEPT_BALANCES
    ]
    dates = [d for d in found if d is not None]
    return min(dates) if dates else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseRecord:
    """A period close as its audit record keeps it: the day it closed through, the head
    of the chains it recorded, who closed it and when."""

    through: dt.date
    head: str
    actor: str
    recorded_at: dt.datetime


def closes(conn: Connection) -> tuple[CloseRecord, ...]:
    """Every period close, the latest first."""
    rows = conn.execute(
        select(t.audit_log.c.detail, t.audit_log.c.actor, t.audit_log.c.recorded_at)
        .where(t.audit_log.c.action == "period.close")
        .order_by(t.audit_log.c.id.desc())
    ).all()
    found = []
    for detail, actor, recorded_at in rows:
        kept = json.loads(detail)
        found.append(
            CloseRecord(
                through=dt.date.fromisoformat(kept["through"]),
                head=str(kept["head"]),
                actor=actor,
                recorded_at=recorded_at,
            )
        )
    return tuple(found)
