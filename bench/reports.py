"""Time every report on an existing bench database (issue 3's targets).

    .venv/bin/python bench/run.py --backend sqlite --reports-only [--report-patients 5]

Each month report runs once "first" (the first run in a fresh process, after the other
reports of the process; the OS page cache is not dropped) then ``--report-warm`` times
more ("warm"). Each single-patient report runs for ``--report-patients`` random patients
who have lines, once first and once warm each. A run longer than ``--report-cap`` seconds
is cancelled (SQLite progress handler, PostgreSQL statement_timeout) and shown as over.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import DBAPIError

from clinicledger.reports.base import ReportParams
from clinicledger.services.reporting import run_report
from clinicledger.store import tables as t

MONTH_FROM = dt.date(2025, 3, 1)
MONTH_TO = dt.date(2025, 3, 31)
YEAR_AS_OF = dt.date(2025, 6, 30)
YEAR_FROM = dt.date(2024, 7, 1)
YEAR_TO = dt.date(2025, 6, 30)
TODAY = dt.date(2025, 12, 31)

MONTH = ReportParams(from_date=MONTH_FROM, to_date=MONTH_TO)
MONTH_END = ReportParams(as_of=MONTH_TO)
OPEN_PERIOD = ReportParams(as_of=dt.date(2025, 12, 20))

# (label, report, params, target seconds)
PERIOD_CASES: list[tuple[str, str, ReportParams, float]] = [
    ("income-allocation (month)", "income-allocation", MONTH, 1.0),
    ("income-by-provider (month)", "income-by-provider", MONTH, 1.0),
    ("receipts (month)", "receipts", MONTH, 1.0),
    ("finance-summary (month)", "finance-summary", MONTH, 1.0),
    ("adjustments (month)", "adjustments", MONTH, 1.0),
    ("aging-trend (month)", "aging-trend", MONTH, 1.0),
    ("debtors (as of month end)", "debtors", MONTH_END, 1.0),
    ("unallocated (as of month end)", "unallocated", MONTH_END, 1.0),
    ("unearned (as of month end)", "unearned", MONTH_END, 1.0),
    # In the open period (after the last closing, 2025-11-30): a closing plus 20 days
    ("debtors (open period, as of 2025-12-20)", "debtors", OPEN_PERIOD, 1.0),
    ("unallocated (open period, as of 2025-12-20)", "unallocated", OPEN_PERIOD, 1.0),
    ("debtors (yearly, as of 2025-06-30)", "debtors", ReportParams(as_of=YEAR_AS_OF), 5.0),
    (
        "income-by-provider (yearly)",
        "income-by-provider",
        ReportParams(from_date=YEAR_FROM, to_date=YEAR_TO),
        5.0,
    ),
]

PATIENT_REPORTS = (
    "client-reconciliation",
    "ledger-statement",
    "balance-statement",
    "balance-differences",
)


def patient_params(report: str, code: str) -> ReportParams:
    if report == "client-reconciliation":
        return ReportParams(from_date=MONTH_FROM, to_date=MONTH_TO, patient=code)
    return ReportParams(as_of=MONTH_TO, patient=code)


class Deadline:
    """Cancel a statement still running ``cap`` seconds after ``start()``."""

    def __init__(self, engine: Engine, cap: float) -> None:
        self.cap = cap
        self.until = float("inf")
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.set_progress_handler(
                    lambda: 1 if time.monotonic() > self.until else 0, 100_000
                )

        else:

            @event.listens_for(engine, "connect")
            def _on_connect_pg(dbapi_connection: Any, _record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {int(cap * 1000)}")
                dbapi_connection.commit()

    def start(self) -> None:
        self.until = time.monotonic() + self.cap


def timed_run(engine: Engine, deadline: Deadline, name: str, params: ReportParams) -> dict:
    deadline.start()
    start = time.perf_counter()
    try:
        result = run_report(engine, name, params, today=TODAY)
        rows: int | None = len(result.rows)
        error = None
    except DBAPIError as exc:
        rows, error = None, f"cancelled/failed: {str(exc.orig).splitlines()[0]}"
    finally:
        deadline.until = float("inf")
    return {"seconds": time.perf_counter() - start, "rows": rows, "error": error}


def patients_with_lines(engine: Engine, wanted: int, rng: random.Random) -> list[str]:
    with engine.connect() as conn:
        top = conn.execute(select(func.max(t.invoices.c.id))).scalar_one()
        codes: list[str] = []
        while len(codes) < wanted:
            invoice = rng.randint(1, top)
            code = conn.execute(
                select(t.patients.c.code)
                .join(t.invoices, t.invoices.c.patient_id == t.patients.c.id)
                .join(t.lines, t.lines.c.invoice_id == t.invoices.c.id)
                .where(t.invoices.c.id == invoice)
                .limit(1)
            ).scalar_one_or_none()
            if code is not None and code not in codes:
                codes.append(code)
    return codes


def report_timings(
    engine: Engine, *, patients: int, warm: int, cap: float, rng: random.Random, log: Any
) -> dict[str, Any]:
    deadline = Deadline(engine, cap)
    rows: list[dict[str, Any]] = []
    for label, name, params, target in PERIOD_CASES:
        first = timed_run(engine, deadline, name, params)
        log(f"{label}: first {first['seconds']:.3f} s rows={first['rows']} {first['error'] or ''}")
        warms = []
        if first["error"] is None and first["seconds"] < 4 * target + 10:
            warms = [timed_run(engine, deadline, name, params) for _ in range(warm)]
            log(f"{label}: warm " + ", ".join(f"{w['seconds']:.3f}" for w in warms))
        rows.append(_row(label, target, [first], warms))
    codes = patients_with_lines(engine, patients, rng)
    log(f"patients: {codes}")
    for name in PATIENT_REPORTS:
        firsts, warms = [], []
        for code in codes:
            firsts.append(timed_run(engine, deadline, name, patient_params(name, code)))
            warms.append(timed_run(engine, deadline, name, patient_params(name, code)))
        label = f"{name} (patient, n={len(codes)})"
        log(
            f"{label}: first {[round(f['seconds'], 3) for f in firsts]} "
            f"warm {[round(w['seconds'], 3) for w in warms]}"
        )
        rows.append(_row(label, 1.0, firsts, warms))
    return {"reports": rows, "patients": codes, "cap_s": cap}


def _row(label: str, target: float, firsts: list[dict], warms: list[dict]) -> dict[str, Any]:
    def secs(runs: list[dict]) -> list[float]:
        return [r["seconds"] for r in runs]

    errors = [r["error"] for r in firsts + warms if r["error"]]
    every = secs(firsts + warms)
    return {
        "label": label,
        "target_s": target,
        "first_median_s": statistics.median(secs(firsts)),
        "first_max_s": max(secs(firsts)),
        "warm_median_s": statistics.median(secs(warms)) if warms else None,
        "warm_max_s": max(secs(warms)) if warms else None,
        "rows": firsts[0]["rows"],
        "errors": errors,
        "meets": not errors and max(every) < target,
    }


def render(backend: str, found: dict[str, Any]) -> str:
    def s(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [
        f"### {backend}",
        "",
        "| report | target | first median | first max | warm median | warm max | rows | meets |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in found["reports"]:
        verdict = "yes" if r["meets"] else "**NO**"
        if r["errors"]:
            verdict += f" ({r['errors'][0]})"
        lines.append(
            f"| {r['label']} | < {r['target_s']:g} s | {s(r['first_median_s'])} | "
            f"{s(r['first_max_s'])} | {s(r['warm_median_s'])} | {s(r['warm_max_s'])} | "
            f"{r['rows']} | {verdict} |"
        )
    lines += ["", f"Patients: {', '.join(found['patients'])}.", ""]
    return "\n".join(lines)
