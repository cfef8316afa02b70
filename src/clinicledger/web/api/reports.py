"""``/api/v1/reports/{name}``: a report as ``clinicledger report NAME --format json`` prints
it, asked with the command line's filters and options as query parameters (``from``,
``to``, ``preset``, ``as_of``, ``as_known_at``, ``provider``, ..., and each report's
options by name: ``basis=snapshot``, ``interval_days=60``, ``by_provider=true``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request

from clinicledger.domain.permissions import Action, report_action, require
from clinicledger.render.formats import to_json_data
from clinicledger.reports.registry import OPTIONS, REPORTS, OptionKind
from clinicledger.services import reporting
from clinicledger.services.report_requests import FIELDS, asked_request
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
