"""Reports: the list of those the caller's role may run, and each report's page: a filter
form made from the report's entry in the registry (its filters, its options, the date
presets), the result as a table with its chart where it has one, the same result as CSV
and as PDF (the links carry the same filters), and saved favourites (the command line's
``report save`` / ``report run``, through the same services).

Running a report is the action of its name (``report_action``): income per provider is
the manager's. The page checks it once the name is known; the route declares the least."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from clinicledger.domain.errors import NotFound, UserError
from clinicledger.domain.permissions import Action, may, report_action, require
from clinicledger.domain.records import PracticeRecord
from clinicledger.render import formats as plain
from clinicledger.render.html import Formats, heading, report_view
from clinicledger.render.pdf import MEDIA_TYPE, Letterhead, report_pdf
from clinicledger.render.svg import bar_chart
from clinicledger.reports.base import PRESETS, Report, ReportWarning
from clinicledger.reports.registry import REPORTS, OptionKind, ReportSpec
from clinicledger.services import charts, masters, reporting
from clinicledger.services.report_requests import FIELDS, NOT_ASKED, asked_request
from clinicledger.web.errors import form_page
from clinicledger.web.pages.invoices import Choice
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)

# The filters of the registry as a form names them (the command line's flags).
# How a favourite saved from a page opens: the page, or its download (the command line's
# `report run NAME` prints it the same way).
OPENS_AS = (
    Choice("table", "This page"),
    Choice("csv", "A CSV download"),
    Choice("pdf", "A PDF download"),
)

FILTER_FIELDS = {
    "as_of": ("as_of", "As of", "YYYY-MM-DD; today if left empty"),
    "provider": ("provider", "Provider", "A provider's code"),
    "location": ("location", "Location", "A location's code"),
    "patient": ("patient", "Patient", "A patient's code"),
    "payer": ("payer", "Payer", "A payer's code"),
}
# The web's way out of a report's warning, by the warning's code (a report names no door;
# the command line words its own hints).
WARNING_HINTS = {
    "unapplied_credit": Markup(
        'from each patient\'s <a href="/patients">account page</a>: Apply credit'
    )
}
DEFAULT_PRESET = "this-month"  # a report of a period opens on this month
PAGE_ROWS = 500  # rows of each part shown on a page; the downloads hold them all


def _spec(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise NotFound("report", f"'{name}'", field="report")
    return spec


def _formats(practice: PracticeRecord) -> Formats:
    return Formats(
        locale=practice.locale,
        currency=practice.currency,
        zone=ZoneInfo(practice.timezone),
    )


def _asked(request: Request) -> dict[str, str]:
    """The query's fields a report form has (a link's other parameters are ignored)."""
    return {key: value for key, value in request.query_params.items() if key in FIELDS}


def _query(values: dict[str, str]) -> str:
    given = {key: value for key, value in values.items() if value}
    return urlencode(given)


def _run(clerk: Clerk, name: str, values: dict[str, str]) -> tuple[reporting.ReportRequest, Report]:
    require(clerk.caller.role, report_action(name))
    asked = asked_request(name, values)
    return asked, reporting.run_request(clerk.engine, asked, now=clerk.now)


def _worded(report: Report) -> Report:
    """``report`` with the web's hints (links) added to its warnings, for its page."""
    return dataclasses.replace(
        report,
        warnings=tuple(
            ReportWarning(w.code, escape(w.text) + Markup(" (%s)") % WARNING_HINTS[w.code])
            if w.code in WARNING_HINTS
            else w
            for w in report.warnings
        ),
    )


def _form(spec: ReportSpec) -> dict[str, Any]:
    """What the filter form of ``spec`` shows: the date range (with the presets), the
    filters it takes, its options (those asked over the web)."""
    return {
        "range": "from_date" in spec.filters,
        "filters": [shown for f, shown in FILTER_FIELDS.items() if f in spec.filters],
        "options": [o for o in spec.options if o.name not in NOT_ASKED],
        "presets": PRESETS,
        "kinds": OptionKind,
    }


@router.get("/reports")
def report_list(request: Request, clerk: Annotated[Clerk, page(Action.REPORT_RUN)]) -> HTMLResponse:
    role = clerk.caller.role
    shown = {name: spec for name, spec in REPORTS.items() if may(role, report_action(name))}
    kept = [f for f in reporting.list_favourites(clerk.engine) if f.report in shown]
    return render(request, clerk, "reports/list.html", reports=shown, favourites=kept)


@router.get("/reports/favourites/{favourite:path}")
def run_favourite(
    favourite: str, clerk: Annotated[Clerk, page(Action.REPORT_RUN)]
) -> RedirectResponse:
    """A favourite opens its report's page with the filters it keeps (a preset stays a
    preset: it covers the day it is run)."""
    found = next((f for f in reporting.list_favourites(clerk.engine) if f.name == favourite), None)
    if found is None:
        raise NotFound("saved report", f"'{favourite}'", field="name")
    require(clerk.caller.role, report_action(found.report))
    values = {}
    for key, value in found.settings.items():
        field = {"from_date": "from", "to_date": "to"}.get(key, key)
        if key == "as_known_at":  # kept as UTC
            value = f"{value}+00:00"
        values[field] = "true" if value is True else str(value)
    values["favourite"] = favourite
    download = f".{found.format}" if found.format in ("csv", "pdf") else ""
    return RedirectResponse(f"/reports/{quote(found.report)}{download}?{_query(values)}", 303)


@router.get("/reports/{name}.csv")
def report_csv(
    request: Request, name: str, clerk: Annotated[Clerk, page(Action.REPORT_RUN)]
) -> Response:
    _spec(name)
    _, report = _run(clerk, name, _asked(request))
    return Response(
        plain.to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/reports/{name}.pdf")
def report_pdf_file(
    request: Request, name: str, clerk: Annotated[Clerk, page(Action.REPORT_RUN)]
) -> Response:
    _spec(name)
    asked, report = _run(clerk, name, _asked(request))
    practice = masters.practice(clerk.engine)
    formats = _formats(practice)
    chart = charts.report_chart(clerk.engine, asked, report, now=clerk.now)
    printed = report_pdf(
        report,
        Letterhead(practice=practice, formats=formats, printed_at=clerk.now),
        chart=None if chart is None else bar_chart(chart, formats.money),
    )
    return Response(
        printed,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.get("/reports/{name}")
def report_page(
    request: Request, name: str, clerk: Annotated[Clerk, page(Action.REPORT_RUN)]
) -> HTMLResponse:
    spec = _spec(name)
    require(clerk.caller.role, report_action(name))
    values = _asked(request)
    if not values and "from_date" in spec.filters and not request.query_params:
        values = {"preset": DEFAULT_PRESET}  # first opened: this month
    return _shown(request, clerk, name, spec, values, saved=request.query_params.get("saved"))


def _shown(
    request: Request,
    clerk: Clerk,
    name: str,
    spec: ReportSpec,
    values: dict[str, str],
    *,
    saved: str | None = None,
    refused: UserError | None = None,
    favourite: str = "",
    format: str = "table",
) -> HTMLResponse:
    practice = masters.practice(clerk.engine)
    formats = _formats(practice)
    favourites = [f for f in reporting.list_favourites(clerk.engine) if f.report == name]
    codes = {  # offered as the filter fields are typed in (a datalist: no script)
        kind: masters.list_masters(clerk.engine, kind, inactive=True).rows
        for kind in ("provider", "location", "patient", "payer")
        if kind in spec.filters
    }
    context: dict[str, Any] = {
        "codes": codes,
        "report_name": name,
        "title": heading(name),
        "spec": spec,
        "shape": _form(spec),
        "favourites": favourites,
        "saved": saved,
        "favourite_name": favourite,
        "opens_as": OPENS_AS,
        "query": _query(values),
        "view": None,
        "chart": None,
        "report": None,
    }
    try:
        asked, report = _run(clerk, name, values)
    except UserError as error:
        if error.code == "forbidden":
            raise
        refused = error  # the filters' refusal, before any other
    else:
        chart = charts.report_chart(clerk.engine, asked, report, now=clerk.now)
        context.update(
            view=report_view(_worded(report), formats, limit=PAGE_ROWS),
            report=report,
            chart=None if chart is None else Markup(bar_chart(chart, formats.money)),
        )
    if refused is not None:
        return form_page(
            request,
            clerk,
            "reports/report.html",
            refused,
            values={**values, "name": favourite, "format": format},
            practice=practice,
            **context,
        )
    return render(
        request, clerk, "reports/report.html", values=values, practice=practice, **context
    )


@router.post("/reports/{report}/favourites")
async def save_favourite(
    request: Request,
    report: str,
    clerk: Annotated[Clerk, page(Action.REPORT_RUN)],
    name: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "table",
) -> Response:
    """Keep the filters shown under a name, opening as the page or as a download (a
    favourite must run: it is run once)."""
    spec = _spec(report)
    require(clerk.caller.role, report_action(report))
    form = await request.form()
    values = {key: str(form[key]) for key in FIELDS if isinstance(form.get(key), str)}
    try:
        reporting.save_favourite(
            clerk.uow(),
            reporting.SaveFavourite(
                name=name.strip(),
                request=asked_request(report, values),
                format=format,
            ),
        )
    except UserError as error:
        return _shown(
            request, clerk, report, spec, values, refused=error, favourite=name, format=format
        )
    values["saved"] = name.strip()
    return RedirectResponse(f"/reports/{quote(report)}?{_query(values)}", 303)
