"""Logging in and out: ``/login`` and ``/logout``.

The login form carries a CSRF token too, before there is a session: a random value in a
cookie of its own, which the form must send back (so that another site cannot log a
browser in as someone else)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from clinicledger.domain.errors import UserError
from clinicledger.services import users
from clinicledger.store.uow import UnitOfWork
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Clerk,
    check_csrf,
    page,
    safe_next,
    secure,
    settings,
    signed_in,
)

router = APIRouter(include_in_schema=False)
LOGIN_FORM_SECONDS = 3600


def _login_page(
    request: Request, next_path: str, error: UserError | None = None, name: str = ""
) -> Response:
    """The login form, with a new CSRF token in its cookie."""
    token = secrets.token_urlsafe(32)
    shown = safe_next(next_path)
    typed = {"name": name}
    response: Response = (
        render(request, None, "login.html", values=typed, login_token=token, next_path=shown)
        if error is None
        else form_page(
            request, None, "login.html", error, values=typed, login_token=token, next_path=shown
        )
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_FORM_SECONDS,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if signed_in(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    return _login_page(request, next)


@router.post("/login")
def log_in(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    web = settings(request)
    try:
        check_csrf(csrf_token, request.cookies.get(LOGIN_COOKIE))
        started = users.log_in(
            UnitOfWork(web.engine, now=web.clock(), actor=users.login_actor(name)),
            users.LogIn(name=name, password=password),
        )
    except UserError as error:
        return _login_page(request, next, error, name=name)  # never the password
    response = RedirectResponse(safe_next(next), 303)
    response.set_cookie(
        SESSION_COOKIE,
        started.secret,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def log_out(request: Request, clerk: Annotated[Clerk, page(None)]) -> Response:
    users.log_out(clerk.uow(), clerk.caller)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
