"""Who is asking, and may they: sessions for the pages, bearer tokens for the API, the
CSRF check of every form, the security headers of every response, and the one action each
route declares.

A route declares its action once, as one parameter, and works with what it is given:

```python
@router.get("/patients/{code}")
def account(request: Request, code: str, clerk: Annotated[Clerk, page(Action.PATIENT_READ)]):
    found = accounts.patient_account(clerk.engine, code, now=clerk.now)
```

``page`` reads the session cookie and, on a POST, the form's CSRF token; ``api`` reads
``Authorization: Bearer TOKEN`` (no cookies, so no CSRF). Either refuses before the route
runs: 401 without a valid login (``web/errors.py`` sends a page to the login form), 403
when the caller's role may not do the action (``domain/permissions.py``). ``page(None)``
is any signed-in user (the home page, logging out). The authorization matrix test reads
these declarations back from the routes (``tests/web/test_matrix.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinicledger.domain.errors import Forbidden, Locked, Unauthenticated
from clinicledger.domain.permissions import Action, require
from clinicledger.services import users
from clinicledger.services.users import Caller
from clinicledger.store.uow import UnitOfWork

if TYPE_CHECKING:
    from clinicledger.store.engine import Engine

SESSION_COOKIE = "clinicledger_session"
LOGIN_COOKIE = "clinicledger_login"  # the login form's CSRF token, before any session
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Every response. The pages load nothing but their own stylesheet and scripts: no inline
# script or style, no frames, no plug-ins, forms posted only here.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE = "no-store"  # every page and answer names patients; only /static/ may be kept


@dataclass(frozen=True, slots=True)
class Web:
    """The app's settings, kept on ``app.state.web``."""

    engine: Engine
    clock: Callable[[], dt.datetime]  # aware


def settings(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


@dataclass(frozen=True, slots=True)
class Clerk:
    """What a route works with once its caller may do its action: who they are, the
    ledger, and the moment the request came (aware)."""

    caller: Caller
    web: Web
    now: dt.datetime

    @property
    def engine(self) -> Engine:
        return self.web.engine

    def uow(self) -> UnitOfWork:
        """A unit of work acting as the caller: every entry and audit record names them."""
        return UnitOfWork(self.engine, now=self.web.clock(), actor=self.caller.name)


class Needs:
    """The dependency behind :func:`page` and :func:`api`: the action it guards is kept
    on it, for the matrix test."""

    def __init__(self, action: Action | None, *, api: bool) -> None:
        self.action = action
        self.api = api

    async def __call__(self, request: Request) -> Clerk:
        web = settings(request)
        now = web.clock()
        if self.api:
            caller = await run_in_threadpool(_bearer, web, request)
        else:
            caller = await run_in_threadpool(_session, web, request, now)
        if self.action is not None:
            require(caller.role, self.action)
        if not self.api and request.method not in SAFE_METHODS:
            form = await request.form()
            check_csrf(form.get(CSRF_FIELD), caller.csrf_token)
        return Clerk(caller=caller, web=web, now=now)


def page(action: Action | None) -> Any:
    """A page's caller, signed in by session, who may do ``action`` (None: anyone
    signed in)."""
    return Depends(Needs(action, api=False))


def api(action: Action) -> Any:
    """An API caller, signed in by bearer token, who may do ``action``."""
    return Depends(Needs(action, api=True))


def _bearer(web: Web, request: Request) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "an API request needs 'Authorization: Bearer TOKEN'", code="login_required"
        )
    return users.token_caller(web.engine, token.strip())


def _session(web: Web, request: Request, now: dt.datetime) -> Caller:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated("not logged in", code="login_required")
    found = users.session_caller(web.engine, secret, now=now)
    if found.stale and found.caller.session_id is not None:
        # the ledger busy with a clerk's work: "last seen" is brought forward next time
        with contextlib.suppress(Locked):
            users.touch_session(
                UnitOfWork(web.engine, now=now, actor=found.caller.name), found.caller.session_id
            )
    return found.caller


def check_csrf(given: object, expected: str | None) -> None:
    """A state-changing form must carry its session's token (compared in constant time)."""
    if not (
        isinstance(given, str)
        and expected is not None
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        raise Forbidden(
            "the form is out of date or did not come from this app: open it again",
            code="csrf_invalid",
        )


def signed_in(request: Request) -> Caller | None:
    """The caller of a live session, if there is one (the login page asks)."""
    web = settings(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        return users.session_caller(web.engine, secret, now=web.clock()).caller
    except Unauthenticated:
        return None


def secure(request: Request) -> bool:
    """Cookies are Secure when the app is served over HTTPS (behind a proxy too: uvicorn
    reads X-Forwarded-Proto from a proxy on this machine)."""
    return request.url.scheme == "https"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this app, never another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


class SecurityHeaders:
    """Adds :data:`HEADERS` to every response, and ``Cache-Control: no-store`` to every
    one but the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, sending)
