"""Running a report: check its filters, read under one consistent view."""

from __future__ import annotations

from sqlalchemy import Engine

from clinicledger.domain.errors import InvalidInput
from clinicledger.reports.base import Report, ReportParams
from clinicledger.reports.registry import REPORTS
from clinicledger.services.common import reading, require_initialised
from clinicledger.store import ledger

FILTER_FLAGS = {
    "from_date": "--from",
    "to_date": "--to",
    "as_of": "--as-of",
    "provider": "--provider",
    "location": "--location",
    "patient": "--patient",
    "payer": "--payer",
}


def run_report(engine: Engine, name: str, params: ReportParams) -> Report:
    """Run report ``name``; a filter or option it does not take is refused, by name."""
    spec = REPORTS.get(name)
    if spec is None:
        raise InvalidInput(
            "report",
            f"'{name}' is not a report; reports: {', '.join(sorted(REPORTS))}",
            code="report_unknown",
        )
    for attribute, flag in FILTER_FLAGS.items():
        if getattr(params, attribute) is not None and attribute not in spec.filters:
            raise InvalidInput(
                flag.lstrip("-"), f"{flag} does not apply to {name}", code="filter_not_applicable"
            )
    for option, value in params.options.items():
        if value is not None and option not in spec.options:
            raise InvalidInput(
                option,
                f"--{option.replace('_', '-')} does not apply to {name}",
                code="filter_not_applicable",
            )
    if params.from_date and params.to_date and params.from_date > params.to_date:
        raise InvalidInput("from", "--from is after --to", code="range_reversed")
    with reading(engine) as conn:
        require_initialised(conn)
        for kind in ("provider", "location", "patient", "payer"):
            code = getattr(params, kind)
            if code is not None:
                ledger.id_for_code(conn, kind, code)
        return spec.run(conn, params)
