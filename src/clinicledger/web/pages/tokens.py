"""API tokens (admin): the tokens and their users, create one (shown once, on the page the
form answers with: never in an address or a redirect), revoke one."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicledger.domain.errors import UserError
from clinicledger.domain.permissions import Action
from clinicledger.services import users
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)
Admin = Annotated[Clerk, page(Action.USER_MANAGE)]

NOTICES = {
    "revoked": "Revoked: it no longer works.",
    "unchanged": "It was already revoked.",
}


def _context(clerk: Clerk, **more: Any) -> dict[str, Any]:
    return {
        "tokens": users.list_tokens(clerk.engine),
        "users": [user.name for user in users.list_users(clerk.engine) if user.active],
        "made": None,
        "notice": "",
        **more,
    }


@router.get("/tokens")
def list_tokens(request: Request, clerk: Admin, done: str = "") -> HTMLResponse:
    return render(
        request,
        clerk,
        "tokens/list.html",
        values={"user": clerk.caller.name},
        **_context(clerk, notice=NOTICES.get(done, "")),
    )


@router.post("/tokens")
def create_token(
    request: Request,
    clerk: Admin,
    name: Annotated[str, Form()] = "",
    user: Annotated[str, Form()] = "",
) -> Response:
    typed = {"name": name, "user": user}
    try:
        made = users.create_token(clerk.uow(), users.CreateToken(name=name.strip(), user=user))
    except UserError as error:
        return form_page(request, clerk, "tokens/list.html", error, values=typed, **_context(clerk))
    return render(
        request, clerk, "tokens/list.html", values={"user": user}, **_context(clerk, made=made)
    )


@router.post("/tokens/{name:path}/revoke")
def revoke_token(name: str, clerk: Admin) -> RedirectResponse:
    changed = users.revoke_token(clerk.uow(), users.RevokeToken(name=name))
    return RedirectResponse(
        f"/tokens?done={'revoked' if changed else 'unchanged'}#token-{quote(name)}", 303
    )
