"""Closing a period: no later entry may carry an effective date inside it, and its
receivable and unapplied balances are kept at each month end (``store.closings``). A close
is also when the planner statistics are refreshed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import Conflict
from clinicledger.domain.periods import check_not_future
from clinicledger.services.common import business_today
from clinicledger.services.usecase import ResultCodec, use_case
from clinicledger.store import closings
from clinicledger.store.closings import CloseRecord
from clinicledger.store.engine import Engine, refresh_planner_statistics
from clinicledger.store.uow import UnitOfWork, reading


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed:
    """A close: the dates whose balances were kept, and the head of the ledger's chains
    at the close (to keep outside the ledger: ``check --expect-head`` proves it later)."""

    kept: tuple[dt.date, ...]
    head: str


CLOSED: ResultCodec[Closed] = ResultCodec(
    dump=lambda closed: {"kept": [d.isoformat() for d in closed.kept], "head": closed.head},
    load=lambda data: Closed(
        kept=tuple(dt.date.fromisoformat(d) for d in data["kept"]), head=data["head"]
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosePeriod:
    INPUTS: ClassVar[dict[str, str]] = {"through": "date"}

    through: dt.date


@use_case(CLOSED)
def close_period(uow: UnitOfWork, command: ClosePeriod) -> Closed:
    """Close everything up to and including ``through``. A close cannot be undone. Returns
    the dates whose balances were kept (the month ends not kept before, and ``through``)
    and the head of the chains just before the close's own audit record, which holds it."""
    through = command.through
    check_in_range(through, field="date")
    check_not_future(through, business_today(uow), field="date")
    closed = uow.closed_through
    if closed is not None and through <= closed:
        raise Conflict(
            f"the period up to {closed.isoformat()} is already closed",
            code="period_already_closed",
            field="date",
        )
    closings.close_through(uow.conn, through)
    kept = closings.keep_closing_balances(uow.conn, through, recorded_at=uow.stamp())
    refresh_planner_statistics(uow.conn)  # a month end: the ledger has grown
    head = str(uow.head)
    uow.audit(
        "period.close",
        "practice",
        {"through": through.isoformat(), "closings": [d.isoformat() for d in kept], "head": head},
    )
    return Closed(kept=kept, head=head)


def list_closes(engine: Engine) -> tuple[CloseRecord, ...]:
    """Every period close, the latest first: the day it closed through and the head of the
    chains it recorded (to compare with the one kept outside the ledger)."""
    with reading(engine) as conn:
        return closings.closes(conn)
