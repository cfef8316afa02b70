"""Every error to what its reader sees, in this one place: a page with the message (beside
its field on a form, which keeps what was typed), or for the API
``{"error": {"code", "field", "message"}}`` with the HTTP status of the code's class
(``domain.errors.ERRORS``): 422 bad input, 404, 409 conflicts, 401, 403. Never a
traceback: an internal error answers 500 and is written to the error log
(:mod:`clinicledger.errorlog`, as the command line's), with no message text and so no
patient data. A page asked for without a login goes to the login form, and back after it.

The services word their errors without knowing the door; here the web words its own
hints where a code needs one (:data:`HINTS`), as ``cli/errors.py`` does for the command
line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinicledger import errorlog
from clinicledger.domain.errors import (
    ERRORS,
    ClinicLedgerError,
    InvalidInput,
    NotFound,
    Unauthenticated,
    UserError,
)
from clinicledger.web.render import render
from clinicledger.web.security import Clerk

HINTS: dict[str, Callable[[UserError], str]] = {
    "not_found": lambda e: (
        e.message
        + (
            f"; did you mean {' or '.join(e.suggestions)}?"
            if isinstance(e, NotFound) and e.suggestions
            else ""
        )
    ),
    "csrf_invalid": lambda e: (
        "the form is out of date (or did not come from this app): "
        "it has been opened again, please submit it once more"
    ),
}


@dataclass(frozen=True, slots=True)
class Shown:
    """An error as a page or an answer shows it; ``beside`` is what a form shows next to
    the field (which the field's label already names)."""

    code: str
    field: str | None
    message: str
    status: int
    beside: str = ""

    def json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "field": self.field, "message": self.message}}


def shown(error: UserError) -> Shown:
    hint = HINTS.get(error.code)
    try:
        text = hint(error) if hint is not None else error.message
    except (KeyError, TypeError, ValueError):
        text = error.message
    beside = error.reason if isinstance(error, InvalidInput) and hint is None else text
    return Shown(error.code, error.field, text, ERRORS[error.code].http_status, beside)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def form_page(
    request: Request,
    clerk: Clerk | None,
    template: str,
    error: UserError,
    *,
    values: Mapping[str, str],
    **context: Any,
) -> HTMLResponse:
    """A rejected form, again: what was typed kept, the message beside its field (or above
    the form, for an error of no one field), and the error's HTTP status."""
    refused = shown(error)
    return render(
        request,
        clerk,
        template,
        status=refused.status,
        error=refused,
        values=dict(values),
        **context,
    )


def _page(request: Request, refused: Shown) -> Response:
    try:
        return render(request, None, "error.html", status=refused.status, error=refused)
    except Exception:  # the ledger itself may be what failed: say it plainly
        return PlainTextResponse(f"error: {refused.message}", status_code=refused.status)


def _answer(request: Request, refused: Shown) -> Response:
    if is_api(request):
        return JSONResponse(refused.json(), status_code=refused.status)
    return _page(request, refused)


def internal(request: Request, exc: BaseException) -> Response:
    """An error that is a bug: logged, and answered without a word of what it was about."""
    errorlog.log(exc)
    code = exc.code if isinstance(exc, ClinicLedgerError) else "internal"
    refused = Shown(code, None, f"internal error ({type(exc).__name__}); it has been logged", 500)
    return _answer(request, refused)


async def _clinicledger_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, UserError):
        return internal(request, exc)
    if isinstance(exc, Unauthenticated) and not is_api(request):
        # back here after the login; a form posted without one goes home (it must be
        # opened again, with a session's CSRF token)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        wanted = target if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={quote(wanted, safe='/')}", 303)
    return _answer(request, shown(exc))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """What FastAPI refuses before a route runs (a missing or mistyped parameter), in
    the shape of every other refusal."""
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {}
    where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = where[-1] if where else None
    message = "; ".join(
        f"{'.'.join(str(p) for p in problem.get('loc', ())[1:]) or 'request'}: "
        f"{problem.get('msg', 'is not valid')}"
        for problem in problems[:5]
    )
    return _answer(request, Shown("invalid_input", field, message, 422))


async def _http_error(request: Request, exc: Exception) -> Response:
    """A path that names no page (404), a method a path does not take (405)."""
    assert isinstance(exc, HTTPException)
    code = "not_found" if exc.status_code == 404 else "usage"
    message = "no such page" if exc.status_code == 404 else str(exc.detail).lower()
    response = _answer(request, Shown(code, None, message, exc.status_code))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(ClinicLedgerError, _clinicledger_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(InternalErrors)


class InternalErrors:
    """Any other exception: logged here and answered 500, so that it goes no further (the
    server would log it with its message, which may quote a patient)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                errorlog.log(exc)
                return
            response = internal(Request(scope, receive), exc)
            await response(scope, receive, send)
