"""Time every report on a bench database, each beside its own SQL run raw (issue 9, target 5).

    .venv/bin/python bench/reports.py --db bench/data/clinicledger_bench.db --out FILE.md

For each report and period (a month, a year) four fresh processes, one after another:

1. the report through ``services.reporting.run_report`` (query and row objects, first run
   in the process, then warm: best of :data:`RUNS`), the statements SQLite runs for it
   captured as SQLite runs them (its trace: through SQLAlchemy or on the driver's own
   cursor, each parameter's value written in);
2. the floor: those statements run by plain ``sqlite3`` in a process that imports nothing
   else, with the same page cache as the application's connections, every row fetched
   (best of :data:`RUNS`, as the warm report);
3. and 4. the report streamed to a CSV and to a JSON file through ``render.write``, each
   process's peak resident memory (``ru_maxrss``).

Step 1 runs twice (a first process captures the statements and warms the OS page cache as
the floor's would be; the second is timed). It writes a Markdown table to ``--out``.
``report_timings`` and ``render`` below are the older table (issue 3) ``run.py
--reports-only`` prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import DBAPIError

from clinicledger.reports.base import ReportParams
from clinicledger.services.reporting import run_report
from clinicledger.store import tables as t
from clinicledger.store.engine import SQLITE_CACHE_KIB

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


# ---------------------------------------------------------------- issue 9: floors and memory

YEAR = ReportParams(from_date=YEAR_FROM, to_date=YEAR_TO)
YEAR_END = ReportParams(as_of=YEAR_AS_OF)
RANGE_REPORTS = (
    "income-allocation",
    "income-by-provider",
    "receipts",
    "finance-summary",
    "adjustments",
    "aging-trend",
)
POINT_REPORTS = ("debtors", "unallocated", "unearned")
PERIODS = {
    "month": {"range": MONTH, "point": MONTH_END},
    "year": {"range": YEAR, "point": YEAR_END},
}
MONTH_TARGET_S = 0.5
YEAR_TARGET_S = 2.0
RATIO_TARGET = 1.5
PEAK_TARGET_MB = 200.0
# A report whose own SQL takes less than this is judged on its time alone: its fixed cost
# (the practice's settings, building the statement: a millisecond or two) is many times
# a floor of a few rows.
RATIO_FLOOR_MIN_S = 0.02
# Warm runs of the report and runs of its floor, the best of each kept: one run on a shared
# machine varied by a third from the next (receipts for a month, 2026-12-07: 0.12-0.16 s
# warm, its floor 0.08-0.14 s).
RUNS = 3


def case_params(report: str, period: str) -> ReportParams:
    return PERIODS[period]["range" if report in RANGE_REPORTS else "point"]


def _engine(db: str) -> Engine:
    from clinicledger.store.engine import make_engine

    return make_engine(f"sqlite:///{db}")


def child_time(db: str, report: str, period: str, capture: str | None) -> dict[str, Any]:
    """Run the report once in this fresh process; keep what it sent to SQLite."""
    engine = _engine(db)
    sent: list[tuple[str, Any]] = []

    def _capture(dbapi_connection: Any, _record: Any) -> None:
        # as SQLite runs them, values written in: the statements SQLAlchemy sends and the
        # ones run on the driver's own connection (store.sql, store.ledger.stream_rows)
        dbapi_connection.set_trace_callback(lambda statement: sent.append((statement, [])))

    if capture:  # the timed process runs without it
        event.listen(engine, "connect", _capture)
    start = time.perf_counter()
    result = run_report(engine, report, case_params(report, period), today=TODAY)
    seconds = time.perf_counter() - start
    rows = len(result.rows) + sum(len(s.rows) for s in result.sections)
    del result
    warm = warm_cpu = None
    if not capture:  # more runs in the same process: modules loaded, statements compiled
        warm = warm_cpu = float("inf")
        for _ in range(RUNS):
            start, start_cpu = time.perf_counter(), time.process_time()
            run_report(engine, report, case_params(report, period), today=TODAY)
            warm = min(warm, time.perf_counter() - start)
            warm_cpu = min(warm_cpu, time.process_time() - start_cpu)
    if capture:
        # Reads only: the practice's settings, the report's statements; a write never runs.
        reads = [(s, p) for s, p in sent if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        with open(capture, "w") as handle:
            json.dump(reads, handle, default=str)
    return {
        "seconds": seconds,
        "warm_seconds": warm,
        "warm_cpu_seconds": warm_cpu,
        "rows": rows,
        "statements": len(sent),
    }


def child_floor(db: str, capture: str) -> dict[str, Any]:
    """The captured statements, run by plain sqlite3 with every row fetched: best of
    :data:`RUNS`."""
    with open(capture) as handle:
        statements = json.load(handle)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # the application's
    best = best_cpu = float("inf")
    rows = 0
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        rows = 0
        for statement, parameters in statements:
            rows += len(conn.execute(statement, parameters).fetchall())
        conn.execute("COMMIT")
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    conn.close()
    return {
        "seconds": best,
        "cpu_seconds": best_cpu,
        "rows_fetched": rows,
        "statements": len(statements),
    }


def child_stream(db: str, report: str, period: str, format_: str, out: str) -> dict[str, Any]:
    """Write the report as CSV or JSON to ``out`` the way the command line does."""
    from clinicledger import render
    from clinicledger.services import reporting

    engine = _engine(db)
    start = time.perf_counter()
    with reporting.streamed_report(
        engine, report, case_params(report, period), today=TODAY
    ) as found:
        render.write(found, format_, out)
    return {"seconds": time.perf_counter() - start, "bytes": os.path.getsize(out)}


def _in_child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_case(db: str, report: str, period: str, work: Path) -> dict[str, Any]:
    capture = str(work / "statements.json")
    warmup = _in_child(["time", db, report, period, capture])
    if "error" in warmup:
        return {"report": report, "period": period, "error": warmup["error"]}
    timed = _in_child(["time", db, report, period, ""])
    floor = _in_child(["floor", db, capture])
    streams = {
        format_: _in_child(["stream", db, report, period, format_, str(work / f"out.{format_}")])
        for format_ in ("csv", "json")
    }
    return {
        "report": report,
        "period": period,
        "seconds": timed.get("seconds"),
        "warm_seconds": timed.get("warm_seconds"),
        "rows": timed.get("rows"),
        "statements": warmup.get("statements"),
        "floor_seconds": floor.get("seconds"),
        "floor_cpu_seconds": floor.get("cpu_seconds"),
        "warm_cpu_seconds": timed.get("warm_cpu_seconds"),
        "streams": streams,
        "error": timed.get("error") or floor.get("error"),
    }


def _met(case: dict[str, Any]) -> str:
    """A month: its warm run under the target and within the ratio of its floor (one of at
    least :data:`RATIO_FLOOR_MIN_S`); a year:
    its first run under the target; both: CSV and JSON under the memory target."""
    if case.get("error"):
        return f"**error** ({case['error']})"
    misses = []
    if case["period"] == "month":
        if case["warm_seconds"] >= MONTH_TARGET_S:
            misses.append(f"over {MONTH_TARGET_S:g} s")
        if (
            case["floor_seconds"] >= RATIO_FLOOR_MIN_S
            and case["warm_seconds"] > RATIO_TARGET * case["floor_seconds"]
        ):
            misses.append(f"over {RATIO_TARGET:g}x")
    elif case["seconds"] >= YEAR_TARGET_S:
        misses.append(f"over {YEAR_TARGET_S:g} s")
    peaks = [s.get("peak_mb") for s in case["streams"].values()]
    if any(p is None or p >= PEAK_TARGET_MB for p in peaks):
        misses.append(f"memory {PEAK_TARGET_MB:g} MB")
    return "met" if not misses else "**missed** (" + ", ".join(misses) + ")"


def render_cases(cases: list[dict[str, Any]], *, db: str, started: str, load: float) -> str:
    def s(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    def mb(stream: dict[str, Any]) -> str:
        return "-" if stream.get("peak_mb") is None else f"{stream['peak_mb']:.0f}"

    lines = [
        f"### Reports beside their own SQL (SQLite, {started} UTC)",
        "",
        f"Database `{db}`. First: the report's first run in a fresh process; warm: the "
        f"best of {RUNS} runs after it (modules loaded, statements compiled); the floor: the "
        "report's own statements, as SQLite ran them for it (values written in), run by plain "
        "sqlite3 (the application's page cache size), "
        f"every row fetched, best of {RUNS}. CPU: the process's own CPU time for the same "
        "runs, the least of each (on a busy "
        "machine, what the work cost, without the waiting for a core). "
        f"Month: {MONTH_FROM}..{MONTH_TO} (as of {MONTH_TO}); year: "
        f"{YEAR_FROM}..{YEAR_TO} (as of {YEAR_AS_OF}). Targets: a month under "
        f"{MONTH_TARGET_S:g} s and within {RATIO_TARGET:g}x of its floor (warm), a year under "
        f"{YEAR_TARGET_S:g} s on its first run, CSV and JSON under {PEAK_TARGET_MB:g} MB peak. "
        f"Load average at the start {load:.2f} (shared 2-core machine).",
        "",
        "| report | period | floor (raw SQL) s | clinicledger s, first | clinicledger s, warm "
        "| ratio (warm) | CPU s floor / warm | CPU ratio | rows | peak MB CSV | peak MB JSON "
        "| target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        floor, first, warm = (
            case.get("floor_seconds"),
            case.get("seconds"),
            case.get("warm_seconds"),
        )
        ratio = f"{warm / floor:.2f}x" if floor and warm else "-"
        floor_cpu, warm_cpu = case.get("floor_cpu_seconds"), case.get("warm_cpu_seconds")
        cpu_ratio = f"{warm_cpu / floor_cpu:.2f}x" if floor_cpu and warm_cpu else "-"
        streams = case.get("streams", {})
        lines.append(
            f"| {case['report']} | {case['period']} | {s(floor)} | {s(first)} | {s(warm)} | "
            f"{ratio} | {s(floor_cpu)} / {s(warm_cpu)} | {cpu_ratio} | "
            f"{case.get('rows', '-')} | {mb(streams.get('csv', {}))} | "
            f"{mb(streams.get('json', {}))} | {_met(case)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return _child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the bench SQLite file (only read)")
    parser.add_argument("--out", required=True, type=Path, help="the Markdown table to write")
    parser.add_argument("--reports", default=",".join(RANGE_REPORTS + POINT_REPORTS))
    parser.add_argument("--periods", default="month,year")
    parser.add_argument("--json", type=Path, help="also keep the figures as JSON here")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0]
    cases = []
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as work:
        for period in args.periods.split(","):
            for report in args.reports.split(","):
                case = measure_case(args.db, report, period, Path(work))
                print(json.dumps(case), file=sys.stderr, flush=True)
                cases.append(case)
    args.out.write_text(render_cases(cases, db=args.db, started=started, load=load))
    if args.json:
        args.json.write_text(json.dumps(cases, indent=2))
    return 0


def _child(argv: list[str]) -> int:
    kind, db = argv[0], argv[1]
    if kind == "time":
        found = child_time(db, argv[2], argv[3], argv[4] or None)
    elif kind == "floor":
        found = child_floor(db, argv[2])
    else:
        found = child_stream(db, argv[2], argv[3], argv[4], argv[5])
    found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
