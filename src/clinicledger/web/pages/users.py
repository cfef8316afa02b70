"""Users (admin): who may log in and with which role; add one (the password typed twice),
disable and enable, give another role, set a new password."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicledger.domain.choices import check_choice
from clinicledger.domain.errors import InvalidInput, NotFound, UserError
from clinicledger.domain.permissions import ROLES, Action, Role
from clinicledger.services import users
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)
Admin = Annotated[Clerk, page(Action.USER_MANAGE)]

NOTICES = {
    "added": "Added: they can log in now.",
    "disabled": "Disabled: their sessions have ended and their API tokens are revoked.",
    "enabled": "Enabled: they can log in again.",
    "role": "Role changed: from their next request on.",
    "password": "New password set: their sessions have ended.",
    "unchanged": "Nothing changed: it already was so.",
}
ROLE_WORDS = [role.value for role in ROLES]


def _role(text: str) -> Role:
    return Role(check_choice(text, ROLE_WORDS, field="role"))


def _twice(password: str, again: str) -> str:
    """The password, typed the same twice (as the command line's prompt asks)."""
    if password != again:
        raise InvalidInput(
            "password_again", "the two passwords differ: type it twice", code="password_mismatch"
        )
    return password


def _list(request: Request, clerk: Clerk, *, notice: str = "", **more: Any) -> HTMLResponse:
    return render(
        request,
        clerk,
        "users/list.html",
        users=users.list_users(clerk.engine),
        roles=ROLE_WORDS,
        notice=NOTICES.get(notice, ""),
        **more,
    )


def _back(name: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/users?done={notice}#user-{quote(name)}", 303)


@router.get("/users")
def list_users(request: Request, clerk: Admin, done: str = "") -> HTMLResponse:
    return _list(request, clerk, notice=done)


@router.get("/users/new")
def new_user(request: Request, clerk: Admin) -> HTMLResponse:
    return render(
        request, clerk, "users/new.html", roles=ROLE_WORDS, values={"role": Role.RECEPTION.value}
    )


@router.post("/users/new")
def add_user(
    request: Request,
    clerk: Admin,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    try:
        command = users.AddUser(
            name=name.strip(), role=_role(role), password=_twice(password, password_again)
        )
        users.add_user(clerk.uow(), command)
    except UserError as error:
        return form_page(
            request,
            clerk,
            "users/new.html",
            error,
            values={"name": name, "role": role},
            roles=ROLE_WORDS,
        )
    return _back(command.name, "added")


@router.post("/users/{name:path}/disable")
def disable_user(name: str, clerk: Admin) -> RedirectResponse:
    changed = users.disable_user(clerk.uow(), users.DisableUser(name=name))
    return _back(name, "disabled" if changed else "unchanged")


@router.post("/users/{name:path}/enable")
def enable_user(name: str, clerk: Admin) -> RedirectResponse:
    changed = users.enable_user(clerk.uow(), users.EnableUser(name=name))
    return _back(name, "enabled" if changed else "unchanged")


@router.post("/users/{name:path}/role")
def set_role(
    request: Request, name: str, clerk: Admin, role: Annotated[str, Form()] = ""
) -> Response:
    try:
        changed = users.set_role(clerk.uow(), users.SetRole(name=name, role=_role(role)))
    except InvalidInput as error:
        return form_page(
            request,
            clerk,
            "users/list.html",
            error,
            values={},
            users=users.list_users(clerk.engine),
            roles=ROLE_WORDS,
            notice="",
        )
    return _back(name, "role" if changed else "unchanged")


@router.get("/users/{name:path}/password")
def password_form(request: Request, name: str, clerk: Admin) -> HTMLResponse:
    found = next((u for u in users.list_users(clerk.engine) if u.name == name), None)
    if found is None:
        raise NotFound("user", f"'{name}'", field="name")
    return render(request, clerk, "users/password.html", user_name=name)


@router.post("/users/{name:path}/password")
def set_password(
    request: Request,
    name: str,
    clerk: Admin,
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    try:
        command = users.SetPassword(name=name, password=_twice(password, password_again))
        users.set_password(clerk.uow(), command)
    except UserError as error:
        return form_page(request, clerk, "users/password.html", error, values={}, user_name=name)
    return _back(name, "password")
