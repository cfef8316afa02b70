"""Running a report: check its filters, read under one consistent view."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import Engine, insert, select, update

from clinicledger.domain.errors import InvalidInput, NotFound
from clinicledger.domain.rules import check_code
from clinicledger.reports.base import Report, ReportParams, local_time
from clinicledger.reports.favourites import favourite_data, favourite_from_data
from clinicledger.reports.registry import REPORTS, ReportSpec
from clinicledger.services.common import reading, require_initialised
from clinicledger.store import ledger
from clinicledger.store import tables as t
from clinicledger.store.uow import UnitOfWork, to_naive_utc

FILTER_FLAGS = {
    "from_date": "--from",
    "to_date": "--to",
    "as_of": "--as-of",
    "provider": "--provider",
    "location": "--location",
    "patient": "--patient",
    "payer": "--payer",
}


def run_report(
    engine: Engine, name: str, params: ReportParams, *, today: dt.date | None = None
) -> Report:
    """Run report ``name``; a filter or option it does not take is refused, by name. A
    point-in-time report without ``as_of`` is run as of ``today`` (the practice's date), or
    as of the date of ``as_known_at`` when given."""
    spec = _spec(name)
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
    if params.as_known_at is not None and params.as_known_at.tzinfo is not None:
        params = replace(params, as_known_at=to_naive_utc(params.as_known_at))
    with reading(engine) as conn, _cyclic_gc_paused():
        require_initialised(conn)
        if spec.as_of_today and params.as_of is None:
            # As known at T, "today" is T's date: the report must not change day by day.
            if params.as_known_at is not None:
                zone = ledger.practice_zone(conn)
                params = replace(params, as_of=local_time(params.as_known_at, zone).date())
            elif today is not None:
                params = replace(params, as_of=today)
        for kind in ("provider", "location", "patient", "payer"):
            code = getattr(params, kind)
            if code is not None:
                ledger.id_for_code(conn, kind, code)
        return spec.run(conn, params)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A large report builds tens of thousands of small objects that all live until it is
    rendered, and Python's cycle collector would walk them over and over (a third of the
    debtors listing's time on the bench practice). They hold no cycles: reference counting
    frees them. Only the report that turned the collector off turns it on again, so it is
    never left off; with reports in several threads it may come back on before the last
    one ends, which costs time, not correctness."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _spec(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise InvalidInput(
            "report",
            f"'{name}' is not a report; reports: {', '.join(sorted(REPORTS))}",
            code="report_unknown",
        )
    return spec


def save_report(
    uow: UnitOfWork, *, name: str, report: str, params: ReportParams, preset: str | None = None
) -> None:
    """Save a report's settings under ``name`` (a favourite); saving again replaces them."""
    check_code(name, field="name")
    _spec(report)
    text = json.dumps(favourite_data(report, params, preset=preset), sort_keys=True)
    with uow:
        table = t.saved_reports
        existing = uow.conn.execute(select(table.c.id).where(table.c.name == name)).first()
        if existing is None:
            uow.conn.execute(
                insert(table).values(
                    name=name, report=report, parameters=text, recorded_at=uow.stamp()
                )
            )
        else:
            uow.conn.execute(
                update(table)
                .where(table.c.name == name)
                .values(report=report, parameters=text, recorded_at=uow.stamp())
            )
        uow.audit("report.save", f"report:{name}", {"report": report, "settings": text})
        uow.commit()


def saved_report(engine: Engine, name: str, *, today: dt.date) -> tuple[str, ReportParams]:
    """A favourite's report and parameters; a saved preset is resolved against ``today``."""
    with reading(engine) as conn:
        require_initialised(conn)
        text = conn.execute(
            select(t.saved_reports.c.parameters).where(t.saved_reports.c.name == name)
        ).scalar_one_or_none()
    if text is None:
        raise NotFound("saved report", f"'{name}'", field="name")
    return favourite_from_data(json.loads(text), today=today)
