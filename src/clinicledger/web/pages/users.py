"""Users: who may log in, and with which role (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clinicledger.domain.permissions import Action
from clinicledger.services import users
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)


@router.get("/users")
def list_users(request: Request, clerk: Annotated[Clerk, page(Action.USER_MANAGE)]) -> HTMLResponse:
    return render(request, clerk, "users/list.html", users=users.list_users(clerk.engine))
