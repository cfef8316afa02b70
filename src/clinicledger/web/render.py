"""The pages' one Jinja2 environment (autoescaped), and how they show money and dates:
with Babel in the practice's locale (``practice set --locale``, en_AU by default), money in
its currency, negatives in the accounting style (``($30.00)``), dates as the practice
reads them, moments in its time zone (``render/html.py``, which PDFs share)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clinicledger.domain.permissions import may
from clinicledger.domain.records import PracticeRecord
from clinicledger.render.html import Formats, environment
from clinicledger.services import masters
from clinicledger.web.pages import NAV
from clinicledger.web.security import CSRF_FIELD, Clerk, settings

TEMPLATES = Path(__file__).parent / "templates"


_environment = environment(TEMPLATES)  # and the shared report templates (render/html.py)
templates = Jinja2Templates(env=_environment)


def render(
    request: Request,
    clerk: Clerk | None,
    name: str,
    *,
    status: int = 200,
    practice: PracticeRecord | None = None,
    **context: Any,
) -> HTMLResponse:
    """Page ``name`` for ``clerk`` (None: nobody is signed in), with the layout's
    navigation showing what their role may do."""
    web = settings(request)
    shown = practice or masters.practice(web.engine)
    formats = Formats(locale=shown.locale, currency=shown.currency, zone=ZoneInfo(shown.timezone))
    caller = clerk.caller if clerk is not None else None
    nav = [item for item in NAV if caller is not None and may(caller.role, item.action)]
    # the menu item this page is, or is under (a location's page: "Master data"); of two,
    # the nearer ("Add a patient", /patients/new, rather than "Patients")
    here = request.url.path
    covering = [(len(found), item.path) for item in nav if (found := item.covers(here))]
    under = max(covering)[1] if covering else None
    return templates.TemplateResponse(
        request,
        name,
        {
            "clerk": clerk,
            "caller": caller,
            "practice": shown,
            "formats": formats,
            "nav": nav,
            "nav_under": under,
            "csrf_field": CSRF_FIELD,
            "csrf_token": caller.csrf_token if caller is not None else None,
            "error": None,
            "values": {},
            **context,
        },
        status_code=status,
    )
