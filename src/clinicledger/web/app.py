"""The web app: :func:`create_app` over a ledger, with its pages, its API under ``/api/v1``
(OpenAPI at ``/openapi.json``), its static files, its error pages and its security
headers. ``clinicledger serve`` runs :func:`app_from_environment` under uvicorn.

To add a screen or an endpoint, add its module to :data:`PAGES` or :data:`API` (README:
"How to add a screen and an endpoint")."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from clinicledger.store.uow import real_clock
from clinicledger.web import errors
from clinicledger.web.api import balances as balances_api
from clinicledger.web.api import documents as documents_api
from clinicledger.web.api import imports as imports_api
from clinicledger.web.api import invoices as invoices_api
from clinicledger.web.api import lines as lines_api
from clinicledger.web.api import masters as masters_api
from clinicledger.web.api import patients as patients_api
from clinicledger.web.api import payments as payments_api
from clinicledger.web.api import periods as periods_api
from clinicledger.web.api import reports as reports_api
from clinicledger.web.api import tokens as tokens_api
from clinicledger.web.api import users as users_api
from clinicledger.web.pages import (
    corrections,
    documents,
    home,
    imports,
    invoices,
    masters,
    patients,
    payments,
    periods,
    reports,
    sessions,
    tokens,
    users,
)
from clinicledger.web.security import SecurityHeaders, Web

if TYPE_CHECKING:
    from clinicledger.store.engine import Engine

STATIC = Path(__file__).parent / "static"
PAGES: tuple[APIRouter, ...] = (
    sessions.router,
    home.router,
    patients.router,
    users.router,
    reports.router,
    documents.router,
    invoices.router,
    payments.router,
    corrections.router,
)
API: tuple[APIRouter, ...] = (
    patients_api.router,
    balances_api.router,
    users_api.router,
    reports_api.router,
    documents_api.router,
    invoices_api.router,
    payments_api.router,
    lines_api.router,
)
# the back office; masters first: its /patients/{code}/edit is not a patient's account
PAGES = (masters.router, *PAGES, imports.router, periods.router, tokens.router)
API += (masters_api.router, imports_api.router, periods_api.router, tokens_api.router)
API_PREFIX = "/api/v1"


def create_app(
    engine: Engine,
    *,
    clock: Callable[[], dt.datetime] = real_clock,
) -> FastAPI:
    """The app over ``engine`` (a ledger at the newest migration). ``clock`` gives the
    moment of each request (aware), for tests. Money and dates are written in the
    practice's locale (``practice set --locale``)."""
    app = FastAPI(
        title="clinicledger",
        summary="Accounts receivable and practice billing for health practices",
        version="1",
        docs_url=None,  # the interactive docs load scripts from elsewhere: not with our CSP
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.web = Web(engine=engine, clock=clock)
    for router in PAGES:
        app.include_router(router)
    for router in API:
        app.include_router(router, prefix=API_PREFIX)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.add_middleware(SecurityHeaders)  # the outermost: every response, errors' too
    return app


def app_from_environment() -> FastAPI:
    """The app over ``$CLINICLEDGER_DB`` (default ``./clinicledger.db``)."""
    from clinicledger.store import schema
    from clinicledger.store.engine import open_engine

    engine = open_engine(os.environ.get("CLINICLEDGER_DB") or "./clinicledger.db", create=False)
    schema.require_current(engine)
    return create_app(engine)
