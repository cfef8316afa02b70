"""Running a report: a person's request (a preset or dates, filters, options, an
as-known-at in the practice's time) resolved and checked once, then read under one
consistent view; and report favourites, saved and run again through the same rules.

Every date a report is asked about (from, to, as of, as known at, and the day a preset
is worked out from) is one the ledger holds (``domain.dates.check_in_range``): a report's
arithmetic on a date (the day after ``to``, a time zone's offset, age brackets before an
as-of) then never overflows the calendar."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from clinicledger.domain.choices import check_choice
from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import Conflict, InvalidInput, NotFound
from clinicledger.domain.text import check_code, check_plain
from clinicledger.render import FORMATS
from clinicledger.reports.base import (
    PRESETS,
    Report,
    ReportParams,
    collected,
    local_time,
    preset_range,
)
from clinicledger.reports.favourites import favourite_data, favourite_from_data
from clinicledger.reports.registry import FILTERS, REPORTS, ReportSpec
from clinicledger.store import favourites, lookups
from clinicledger.store.engine import Connection, Engine
from clinicledger.store.lookups import practice_date, practice_instant
from clinicledger.store.uow import UnitOfWork, cyclic_gc_paused, reading

# How a filter is named where it is refused, as its other errors name it (from, as_of).
FILTER_FIELDS = {name: name.removesuffix("_date") for name in FILTERS}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRequest:
    """A report as a person asks for it. Dates are a ``preset`` (worked out on the day the
    report runs) or ``from_date``/``to_date``, not both; a naive ``as_known_at`` is the
    practice's local time. ``chart``: also draw it, where the report can be drawn."""

    report: str
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    preset: str | None = None
    as_of: dt.date | None = None
    as_known_at: dt.datetime | None = None
    provider: str | None = None
    location: str | None = None
    patient: str | None = None
    payer: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    chart: bool = False


def run_request(engine: Engine, request: ReportRequest, *, now: dt.datetime) -> Report:
    """Run what ``request`` asks, as of the practice's date at ``now``."""
    with streamed_request(engine, request, now=now) as report:
        return collected(report)


@contextmanager
def streamed_request(
    engine: Engine, request: ReportRequest, *, now: dt.datetime
) -> Iterator[Report]:
    """:func:`run_request`, its rows left to be read (``Report.more``) while the block
    runs, in the report's one reading transaction: to write them out as they are read."""
    spec = _spec(request.report)
    check_in_range(now, field="now")
    with reading(engine) as conn, cyclic_gc_paused():
        lookups.require_practice(conn)
        today = practice_date(conn, practice_instant(conn, now))
        params = _resolve(conn, spec, request, today)
        yield _run(conn, spec, request.report, params, today, streamed=True)


def run_report(
    engine: Engine, name: str, params: ReportParams, *, today: dt.date | None = None
) -> Report:
    """Run report ``name`` with parameters already resolved (``as_known_at`` naive UTC or
    aware); a point-in-time report without ``as_of`` runs as of ``today``."""
    with streamed_report(engine, name, params, today=today) as report:
        return collected(report)


@contextmanager
def streamed_report(
    engine: Engine, name: str, params: ReportParams, *, today: dt.date | None = None
) -> Iterator[Report]:
    """:func:`run_report`, its rows read while the block runs (:func:`streamed_request`)."""
    spec = _spec(name)
    _check_applies(spec, name, params)
    if params.as_known_at is not None:
        check_in_range(params.as_known_at, field="as_known_at")
    with reading(engine) as conn, cyclic_gc_paused():
        lookups.require_practice(conn)
        yield _run(conn, spec, name, params, today, streamed=True)


def _resolve(
    conn: Connection, spec: ReportSpec, request: ReportRequest, today: dt.date
) -> ReportParams:
    """A request's parameters: the preset as dates, the as-known-at moment as stored."""
    first, last = request.from_date, request.to_date
    if request.preset is not None:
        if "from_date" not in spec.filters:
            raise InvalidInput(
                "preset",
                f"does not apply to {request.report}",
                code="filter_not_applicable",
                report=request.report,
            )
        if first is not None or last is not None:
            raise InvalidInput(
                "preset",
                "give a preset or dates (from, to), not both",
                code="range_conflict",
                given=True,
            )
        first, last = preset_range(check_choice(request.preset, PRESETS, field="preset"), today)
        for day in (first, last):  # a preset worked out near the ends of the ledger's dates
            check_in_range(day, field="preset")
    if request.chart and not spec.chart:
        raise InvalidInput(
            "chart",
            f"does not apply to {request.report}",
            code="filter_not_applicable",
            report=request.report,
        )
    if request.as_known_at is not None:
        check_in_range(request.as_known_at, field="as_known_at")  # before it is converted
    params = ReportParams(
        from_date=first,
        to_date=last,
        as_of=request.as_of,
        as_known_at=None
        if request.as_known_at is None
        else practice_instant(conn, request.as_known_at),
        provider=request.provider,
        location=request.location,
        patient=request.patient,
        payer=request.payer,
        options={k: v for k, v in request.options.items() if v is not None},
    )
    _check_applies(spec, request.report, params)
    return params


def _check_applies(spec: ReportSpec, name: str, params: ReportParams) -> None:
    """A filter or option the report does not take is refused, by name."""
    for attribute in FILTERS:
        if getattr(params, attribute) is not None and attribute not in spec.filters:
            raise InvalidInput(
                FILTER_FIELDS[attribute],
                f"does not apply to {name}",
                code="filter_not_applicable",
                report=name,
            )
    for option, value in params.options.items():
        if value is not None and option not in spec.option_names:
            raise InvalidInput(
                option, f"does not apply to {name}", code="filter_not_applicable", report=name
            )
    if params.from_date and params.to_date and params.from_date > params.to_date:
        raise InvalidInput("from", "the start is after the end", code="range_reversed")


def _check_dates(params: ReportParams) -> None:
    """Every date of ``params`` is one the ledger holds, refused by its field otherwise.
    The as-known-at moment is checked as it was given, before it is converted to UTC
    (:func:`_resolve`, :func:`run_report`)."""
    for attribute in ("from_date", "to_date", "as_of"):
        day = getattr(params, attribute)
        if day is not None:
            check_in_range(day, field=FILTER_FIELDS[attribute])


def _run(
    conn: Connection,
    spec: ReportSpec,
    name: str,
    params: ReportParams,
    today: dt.date | None,
    *,
    streamed: bool = False,
) -> Report:
    _check_dates(params)
    if params.as_known_at is not None and params.as_known_at.tzinfo is not None:
        params = replace(params, as_known_at=practice_instant(conn, params.as_known_at))
    if spec.as_of_today and params.as_of is None:
        # As known at T, "today" is T's date: the report must not change day by day.
        if params.as_known_at is not None:
            zone = lookups.practice_zone(conn)
            params = replace(params, as_of=local_time(params.as_known_at, zone).date())
        elif today is not None:
            params = replace(params, as_of=today)
    for kind in ("provider", "location", "patient", "payer"):
        code = getattr(params, kind)
        if code is not None:
            lookups.id_for_code(conn, kind, code)
    return spec.run(conn, params, streamed=streamed)


def _spec(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise InvalidInput(
            "report",
            f"'{name}' is not a report; reports: {', '.join(sorted(REPORTS))}",
            code="report_unknown",
        )
    return spec


# ---------------------------------------------------------------- favourites


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveFavourite:
    """Keep ``request`` under ``name`` (with its preset unresolved, so that it covers the
    day it is run), and the ``format`` to show it in; ``replace`` one of the same name."""

    name: str
    request: ReportRequest
    format: str = "table"
    replace: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Favourite:
    name: str
    report: str
    format: str
    settings: dict[str, Any]  # the saved filters and options (one level), as JSON values


def save_favourite(uow: UnitOfWork, command: SaveFavourite) -> None:
    """A favourite must run: it is run once, as of today, in a reading transaction (a
    report must not hold the ledger's write lock), then kept."""
    name = check_code(command.name, field="name")
    format_ = check_choice(command.format, FORMATS, field="format")
    request = command.request
    spec = _spec(request.report)
    with reading(uow.engine) as conn, cyclic_gc_paused():
        lookups.require_practice(conn)
        _check_free(conn, name, command.replace)
        today = practice_date(conn, practice_instant(conn, uow.now))
        params = _resolve(conn, spec, request, today)
        _run(conn, spec, request.report, params, today)
    kept = params if request.preset is None else replace(params, from_date=None, to_date=None)
    data = favourite_data(request.report, kept, preset=request.preset)
    data["format"] = format_
    text = json.dumps(data, sort_keys=True)
    with uow:
        _check_free(uow.conn, name, command.replace)  # again, under the lock
        favourites.keep(
            uow.conn, name=name, report=request.report, parameters=text, recorded_at=uow.stamp()
        )
        uow.audit("report.save", f"report:{name}", {"report": request.report, "settings": text})
        uow.commit()


def _check_free(conn: Connection, name: str, replacing: bool) -> None:
    if not replacing and favourites.find(conn, name) is not None:
        raise Conflict(
            f"a favourite named '{name}' already exists",
            code="favourite_taken",
            field="name",
            name=name,
        )


def run_favourite(engine: Engine, name: str, *, now: dt.datetime) -> tuple[Report, str]:
    """Run a favourite as of the practice's date at ``now``: (the report, its format)."""
    with streamed_favourite(engine, name, now=now) as (report, format_):
        return collected(report), format_


@contextmanager
def streamed_favourite(
    engine: Engine, name: str, *, now: dt.datetime
) -> Iterator[tuple[Report, str]]:
    """:func:`run_favourite`, its rows read while the block runs (:func:`streamed_request`)."""
    check_plain(name, field="name")
    with reading(engine) as conn, cyclic_gc_paused():
        lookups.require_practice(conn)
        saved = favourites.find(conn, name)
        if saved is None:
            raise NotFound("saved report", f"'{name}'", field="name")
        today = practice_date(conn, practice_instant(conn, check_in_range(now, field="now")))
        data, format_ = _kept(saved.parameters)
        report, params = favourite_from_data(data, today=today)
        spec = _spec(report)
        _check_applies(spec, report, params)
        yield _run(conn, spec, report, params, today, streamed=True), format_


def _kept(text: str) -> tuple[dict[str, Any], str]:
    """A kept favourite's settings (a JSON object, checked in full by
    ``favourite_from_data``) and its format, the door's, kept beside them."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InvalidInput("favourite", "is not a favourite's settings", code="favourite_malformed")
    format_ = data.pop("format", "table")
    return data, format_ if format_ in FORMATS else "table"


def list_favourites(engine: Engine) -> tuple[Favourite, ...]:
    with reading(engine) as conn:
        lookups.require_practice(conn)
        found = []
        for saved in favourites.all_favourites(conn):
            data, format_ = _kept(saved.parameters)
            kept = data.get("parameters")
            settings = dict(kept) if isinstance(kept, dict) else {}
            options = settings.pop("options", {})
            settings.update(options if isinstance(options, dict) else {})
            if data.get("preset"):
                settings["preset"] = data["preset"]
            found.append(
                Favourite(
                    name=saved.name,
                    report=saved.report,
                    format=format_,
                    settings=settings,
                )
            )
        return tuple(found)
