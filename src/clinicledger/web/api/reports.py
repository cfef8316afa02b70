"""``/api/v1/reports/{name}``: a report as ``clinicledger report NAME --format json`` prints
it, asked with the command line's filters and options as query parameters (``from``,
``to``, ``preset``, ``as_of``, ``as_known_at``, ``provider``, ..., and each report's
options by name: ``basis=snapshot``, ``interval_days=60``, ``by_provider=true``).

``/api/v1/reports/favourites``: the saved favourites, a favourite saved and one run;
the same objects as ``clinicledger --json report favourites|save`` and ``report run
NAME --format json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from clinicledger.domain.permissions import Action, report_action, require
from clinicledger.render.formats import to_json_data
from clinicledger.reports.registry import OPTIONS, REPORTS, OptionKind
from clinicledger.services import reporting
from clinicledger.services.report_requests import FIELDS, asked_request
from clinicledger.shapes import reports as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERRORS)

_HELP = {
    "from": "First day, inclusive (YYYY-MM-DD)",
    "to": "Last day, inclusive (YYYY-MM-DD)",
    "preset": "A date range instead of from and to: this-month, last-financial-year, ...",
    "as_of": "As of this date (YYYY-MM-DD)",
    "as_known_at": "As the ledger knew it at this moment (a naive one is the practice's time)",
    "provider": "Only this provider",
    "location": "Only this location",
    "patient": "Only this patient",
    "payer": "Only this payer",
}
_PARAMETERS = [
    {
        "name": field,
        "in": "query",
        "required": False,
        "description": _HELP.get(field) or OPTIONS[field].help,
        "schema": {"type": "boolean"}
        if field in OPTIONS and OPTIONS[field].kind is OptionKind.FLAG
        else {"type": "string"},
    }
    for field in FIELDS
]


@router.get("/favourites")
def favourites(clerk: Annotated[Clerk, api(Action.REPORT_RUN)]) -> dict[str, Any]:
    """The saved favourites: each one's report, format and the filters it keeps."""
    return shapes.favourites(reporting.list_favourites(clerk.engine))


class NewFavourite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    report: str
    format: str = "table"
    replace: bool = False
    parameters: dict[str, str] = Field(
        default={},
        description="The report's filters and options, named as the report's query parameters",
    )


@router.post("/favourites", status_code=201)
def save_favourite(
    new: NewFavourite, clerk: Annotated[Clerk, api(Action.REPORT_RUN)]
) -> JSONResponse:
    """Keep a report and its filters under a name (a preset covers the day it is run);
    it is run once as it is saved."""
    if new.report in REPORTS:
        require(clerk.caller.role, report_action(new.report))
    reporting.save_favourite(
        clerk.uow(),
        reporting.SaveFavourite(
            name=new.name,
            request=asked_request(new.report, new.parameters),
            format=new.format,
            replace=new.replace,
        ),
    )
    return JSONResponse(shapes.saved(new.name, new.report), status_code=201)


@router.get(
    "/favourites/{favourite:path}",
    responses={200: {"description": "The report: parameters, columns, rows, totals, warnings"}},
)
def run_favourite(
    favourite: str, clerk: Annotated[Clerk, api(Action.REPORT_RUN)]
) -> dict[str, Any]:
    """Run a favourite again, for the day it is run (as JSON, whatever format it keeps)."""
    report, _ = reporting.run_favourite(clerk.engine, favourite, now=clerk.now)
    require(clerk.caller.role, report_action(report.name))
    return to_json_data(report)


@router.get(
    "/{name}",
    openapi_extra={"parameters": _PARAMETERS},
    responses={200: {"description": "The report: parameters, columns, rows, totals, warnings"}},
)
def report(
    name: str, request: Request, clerk: Annotated[Clerk, api(Action.REPORT_RUN)]
) -> dict[str, Any]:
    """Run report ``name`` (``clinicledger report --help`` lists them); income per
    provider needs a manager's token."""
    if name in REPORTS:
        require(clerk.caller.role, report_action(name))
    asked = asked_request(name, dict(request.query_params))
    return to_json_data(reporting.run_request(clerk.engine, asked, now=clerk.now))
