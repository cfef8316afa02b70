"""``POST /api/v1/periods/close``, ``GET /api/v1/periods`` and ``GET /api/v1/check``: the
same objects as ``clinicledger --json period close|list`` and ``check``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from clinicledger.domain.chain import parse_head
from clinicledger.domain.permissions import Action
from clinicledger.domain.text import parse_date
from clinicledger.services import check, periods
from clinicledger.shapes import periods as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(tags=["periods"], responses=ERRORS)


class Close(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: str  # YYYY-MM-DD, the last day of the period to close


@router.post("/periods/close")
def close_period(close: Close, clerk: Annotated[Clerk, api(Action.PERIOD_CLOSE)]) -> dict[str, Any]:
    """Close everything up to and including ``date``: nothing can be dated inside it
    afterwards. The answer holds the head of the ledger's chains: keep it outside the
    ledger (``check?expect_head=`` proves later that nothing before it changed)."""
    day = parse_date(close.date, field="date")
    done = periods.close_period(clerk.uow(), periods.ClosePeriod(through=day))
    return shapes.closed(day, done)


@router.get("/periods")
def list_periods(clerk: Annotated[Clerk, api(Action.PERIOD_CLOSE)]) -> dict[str, Any]:
    """Every period close, the latest first, with the head it recorded."""
    return shapes.close_list(periods.list_closes(clerk.engine))


@router.get("/check")
def check_ledger(
    clerk: Annotated[Clerk, api(Action.LEDGER_CHECK)],
    print_head: bool = False,
    expect_head: str | None = None,
) -> dict[str, Any]:
    """Money conservation over the whole journal, both hash chains, and the money of
    payments and lines: ``ok``, or every violation (answered 200 either way: the check
    ran). ``expect_head`` (a head a close gave) proves the ledger still extends it."""
    expected = parse_head(expect_head) if expect_head is not None else None
    return shapes.checked(check.check_ledger(clerk.engine, expect=expected), head=print_head)
