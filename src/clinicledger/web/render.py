"""The pages' one Jinja2 environment (autoescaped), and how they show money and dates:
with Babel in the practice's locale (``practice set --locale``, en_AU by default), money in
its currency, negatives in the accounting style (``($30.00)``), dates as the practice
reads them, moments in its time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clinicledger.domain.permissions import may
from clinicledger.domain.records import PracticeRecord
from clinicledger.services import masters
from clinicledger.web.pages import NAV
from clinicledger.web.security import CSRF_FIELD, Clerk, settings

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class Formats:
    locale: str
    currency: str
    zone: ZoneInfo

    def money(self, cents: int) -> str:
        return format_currency(
            Decimal(cents).scaleb(-2), self.currency, locale=self.locale, format_type="accounting"
        )

    def day(self, value: dt.date | None) -> str:
        return "" if value is None else format_date(value, "medium", locale=self.locale)

    def moment(self, value: dt.datetime | None) -> str:
        """A stored moment (naive UTC) in the practice's time zone."""
        if value is None:
            return ""
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return format_datetime(aware, "medium", tzinfo=self.zone, locale=self.locale)


@jinja2.pass_context
def _money(context: Any, cents: int) -> str:
    formats: Formats = context["formats"]
    return formats.money(cents)


@jinja2.pass_context
def _day(context: Any, value: dt.date | None) -> str:
    formats: Formats = context["formats"]
    return formats.day(value)


@jinja2.pass_context
def _moment(context: Any, value: dt.datetime | None) -> str:
    formats: Formats = context["formats"]
    return formats.moment(value)


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a name a template expects and is not given is a bug
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(money=_money, day=_day, moment=_moment)
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
    return templates.TemplateResponse(
        request,
        name,
        {
            "clerk": clerk,
            "caller": caller,
            "practice": shown,
            "formats": formats,
            "nav": nav,
            "csrf_field": CSRF_FIELD,
            "csrf_token": caller.csrf_token if caller is not None else None,
            "error": None,
            "values": {},
            **context,
        },
        status_code=status,
    )
