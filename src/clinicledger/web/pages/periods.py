"""Closing the books and proving them (managers): close a period through a date (the page
then shows the head of the chains the close recorded, to keep outside the ledger), the
closes so far, and ``check``: ok, or every violation it found."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicledger.domain.chain import parse_head
from clinicledger.domain.errors import UserError
from clinicledger.domain.permissions import Action
from clinicledger.domain.text import parse_date
from clinicledger.services import check, periods
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)


@router.get("/periods")
def period_list(
    request: Request, clerk: Annotated[Clerk, page(Action.PERIOD_CLOSE)], closed: str = ""
) -> HTMLResponse:
    found = periods.list_closes(clerk.engine)
    latest = found[0] if found and closed == found[0].through.isoformat() else None
    return render(request, clerk, "periods/list.html", closes=found, latest=latest)


@router.post("/periods/close")
def close_period(
    request: Request,
    clerk: Annotated[Clerk, page(Action.PERIOD_CLOSE)],
    date: Annotated[str, Form()] = "",
) -> Response:
    try:
        day = parse_date(date.strip(), field="date")
        periods.close_period(clerk.uow(), periods.ClosePeriod(through=day))
    except UserError as error:
        return form_page(
            request,
            clerk,
            "periods/list.html",
            error,
            values={"date": date},
            closes=periods.list_closes(clerk.engine),
            latest=None,
        )
    return RedirectResponse(f"/periods?closed={quote(day.isoformat())}", 303)


@router.get("/check")
def check_ledger(
    request: Request,
    clerk: Annotated[Clerk, page(Action.LEDGER_CHECK)],
    expect_head: str = "",
    run: bool = False,
) -> HTMLResponse:
    """The check's form; the check itself runs when asked (``run``): it reads the whole
    journal, which takes a while on a large ledger."""
    typed = {"expect_head": expect_head}
    try:
        expected = parse_head(expect_head.strip()) if expect_head.strip() else None
    except UserError as error:
        return form_page(request, clerk, "periods/check.html", error, values=typed, result=None)
    result = check.check_ledger(clerk.engine, expect=expected) if run else None
    return render(request, clerk, "periods/check.html", values=typed, result=result)
