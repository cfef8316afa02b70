"""The home page: what the signed-in user's role may do, and a patient search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, clerk: Annotated[Clerk, page(None)]) -> HTMLResponse:
    return render(request, clerk, "home.html")
