"""Build the large-practice database and measure it; write ``bench/RESULTS.md``.

    .venv/bin/python bench/run.py --backend sqlite|postgresql|both [--scale 1.0]
    .venv/bin/python bench/run.py --speed [bench/speed.py's options]

The first builds the bench practice and writes the sections of RESULTS.md after its
opening; ``--speed`` (bench/speed.py) measures issue 9's figures on that practice, each
beside its floor in the same run, and writes the opening section (the rest is kept).

``--scale`` shrinks the practice (0.01 is a quick smoke run). The SQLite file is
``bench/data/clinicledger_bench.db`` and the PostgreSQL database ``clinicledger_bench``
(both recreated on every run). Each backend's figures are also kept as JSON in
``bench/data/`` and RESULTS.md is rendered from the figures of the same scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import clinicledger
import generate
import measure
import report
import reports
from clinicledger.services import periods
from clinicledger.store import schema
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork

BENCH = Path(__file__).resolve().parent

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/clinicledger_bench"
DATA = BENCH / "data"
SNAPSHOT_ENV = "CLINICLEDGER_BENCH_SNAPSHOT"
MEMORY_STAGES = ("_clock_order", "_audit_chain")


def log(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def prepare_sqlite(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


def prepare_postgres(url: str) -> str:
    drop_postgres(url)
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


def drop_postgres(url: str) -> None:
    """Drop the database at ``url`` (the server's other connections to it ended)."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_size(backend: str, url: str) -> int:
    if backend == "sqlite":
        path = Path(make_url(url).database or "")
        return sum(
            Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
        )
    engine = create_engine(url)
    with engine.connect() as conn:
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    engine.dispose()
    return size


def payer_lines(url: str) -> dict[str, int]:
    """How many lines are billed to each payer."""
    engine = make_engine(url)
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        rows = conn.execute(
            text(
                "SELECT payers.code, count(*) FROM lines "
                "JOIN invoices ON invoices.id = lines.invoice_id "
                "JOIN payers ON payers.id = invoices.payer_id GROUP BY payers.code"
            )
        ).all()
        conn.rollback()
    engine.dispose()
    return {str(code): int(count) for code, count in rows}


def vacuum_analyze(url: str) -> float:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - t0


def pg_server_version(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
        settings = {
            name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
            for name in ("shared_buffers", "work_mem", "synchronous_commit", "fsync")
        }
    engine.dispose()
    return f"{version} ({', '.join(f'{k}={v}' for k, v in settings.items())})"


def close_period(url: str) -> dict[str, Any]:
    """Close the period through the last month end before the practice's latest business
    day, through the service, as the practice manager would at each month end (here once,
    after three years: the costliest close there is). Point-in-time reports then read the
    kept month-end balances."""
    engine = make_engine(url)
    with engine.connect() as conn:
        latest = conn.execute(text("SELECT max(effective_date) FROM entries")).scalar_one()
    latest = dt.date.fromisoformat(str(latest)[:10])
    through = latest.replace(day=1) - dt.timedelta(days=1)
    t0 = time.perf_counter()
    periods.close_period(
        UnitOfWork(engine, now=dt.datetime.now(dt.UTC), actor="bench"),
        periods.ClosePeriod(through=through),
    )
    seconds = time.perf_counter() - t0
    with engine.connect() as conn:
        closings, kept = conn.execute(
            text("SELECT count(DISTINCT closing_id), count(*) FROM closing_balances")
        ).one()
    engine.dispose()
    return {"through": through.isoformat(), "seconds": seconds, "closings": closings, "kept": kept}


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    plan = generate.Plan.for_scale(args.scale)
    result: dict[str, Any] = {
        "backend": backend,
        "scale": args.scale,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "plan": {
            "patients": plan.patients,
            "lines": plan.lines,
            "payments": plan.payments,
            "allocations": plan.allocations,
        },
        "loadavg": {"start": loadavg()},
    }
    if backend == "sqlite":
        url = prepare_sqlite(DATA / "clinicledger_bench.db")
        sink: generate.Sink = generate.SqliteSink(DATA / "clinicledger_bench.db")
        result["server"] = f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    else:
        url = prepare_postgres(args.pg_url)
        sink = generate.PostgresSink(psycopg_dsn(url))
        result["server"] = "PostgreSQL " + pg_server_version(url)

    log(f"{backend}: loading scale {args.scale} ({plan.lines:,} lines)")
    try:
        stats = generate.generate(
            plan, sink, batch_rows=args.batch_rows, progress=lambda m: log(f"{backend}: {m}")
        )
    finally:
        sink.close()
    problems = generate.check_plan_totals(plan, stats)
    if problems:
        raise SystemExit("generator did not meet its plan: " + "; ".join(problems))
    result["load"] = {
        "rows": stats.rows,
        "seconds": stats.seconds,
        "commit_seconds": stats.commit_seconds,
        "finish_seconds": stats.finish_seconds,
        "db_seconds": stats.db_seconds,
        "wall_seconds": stats.wall_seconds,
        "allocations": stats.allocations,
        "flushes": stats.flushes,
        "batch_rows": args.batch_rows,
        "last_recorded_at": stats.last_recorded_at.isoformat() if stats.last_recorded_at else None,
    }
    result["loadavg"]["after_load"] = loadavg()
    log(
        f"{backend}: loaded {sum(stats.rows.values()):,} rows in {stats.wall_seconds:.0f} s "
        f"(database {stats.db_seconds:.0f} s)"
    )
    if backend == "postgresql":
        result["vacuum_analyze_seconds"] = vacuum_analyze(url)
        log(f"{backend}: VACUUM ANALYZE {result['vacuum_analyze_seconds']:.0f} s")
    log(f"{backend}: closing the period")
    result["close"] = close_period(url)
    log(
        f"{backend}: closed through {result['close']['through']} in "
        f"{result['close']['seconds']:.0f} s"
    )
    result["database_bytes"] = database_size(backend, url)
    result["payer_lines"] = payer_lines(url)
    result["check_timeout"] = args.check_timeout

    engine = make_engine(url)
    measure.set_statement_timeout(engine, args.check_timeout)
    rng = random.Random(generate.SEED + 1)
    log(f"{backend}: balance queries")
    sample = measure.balance_sample(engine, args.patients, rng)
    result["balances"] = measure.balance_queries(engine, sample)
    result["plans"] = measure.explain_balances(engine)
    result["loadavg"]["after_balances"] = loadavg()
    log(f"{backend}: {args.iterations} x record_payment + allocate")
    result["services"] = measure.post_and_allocate(engine, args.iterations, rng)
    result["loadavg"]["after_services"] = loadavg()
    result["fidelity"] = measure.fidelity(engine, result["services"]["first_entry"], rng)
    log(f"{backend}: fidelity {result['fidelity']}")
    log(f"{backend}: check_ledger")
    result["check"] = measure.check_ledger_time(engine)
    log(f"{backend}: memory of the Python-side checks")
    result["check_memory"] = measure.stage_memory(url, MEMORY_STAGES)
    result["loadavg"]["after_check"] = loadavg()
    log(f"{backend}: balances with the proposed covering indexes")
    result["proposed_index"] = measure.balances_with_covering_indexes(engine, sample)
    engine.dispose()
    result["max_rss_mib"] = measure.peak_rss_mib()
    result["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return result


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kib = 0
    snapshot = os.environ.get(SNAPSHOT_ENV)
    if snapshot:
        commit = f"{snapshot[:12]} (a snapshot of that commit, `--snapshot`)"
    else:
        commit = f"{git_head()[:12]} plus the uncommitted work of that moment"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlalchemy": importlib_metadata.version("SQLAlchemy"),
        "psycopg": importlib_metadata.version("psycopg"),
        "commit": commit,
        "clinicledger_from": str(Path(clinicledger.__file__).parent),
    }


def git_head() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(BENCH), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def run_on_snapshot(argv: list[str]) -> None:
    """Re-run this script on a copy of ``src/`` at the current commit, so that every
    backend measures the same code and migrations while others keep editing src/."""
    commit = git_head()
    dest = Path(tempfile.gettempdir()) / f"clinicledger-bench-src-{commit[:12]}"
    if not (dest / "src").exists():
        dest.mkdir(parents=True, exist_ok=True)
        command = ["git", "-C", str(BENCH.parent), "archive", commit, "src"]
        archive = subprocess.run(command, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    env = dict(os.environ, PYTHONPATH=str(dest / "src"), **{SNAPSHOT_ENV: commit})
    args = [a for a in argv if a != "--snapshot"]
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *args], env)


def run_reports_only(args: argparse.Namespace) -> int:
    """Time the reports on the existing database(s); keep the figures as JSON and print
    the Markdown tables (RESULTS.md is not re-rendered)."""
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        url = f"sqlite:///{DATA / 'clinicledger_bench.db'}" if backend == "sqlite" else args.pg_url
        engine = make_engine(url)
        log(f"{backend}: timing reports (load {loadavg()})")
        found = reports.report_timings(
            engine,
            patients=args.report_patients,
            warm=args.report_warm,
            cap=args.report_cap,
            rng=random.Random(3),
            log=log,
        )
        engine.dispose()
        found["loadavg_after"] = loadavg()
        found["when"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        (DATA / f"reports-{backend}.json").write_text(json.dumps(found, indent=2, default=str))
        print(reports.render(backend, found), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--speed"]:
        import speed

        return speed.main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--patients", type=int, default=200, help="patients to query")
    parser.add_argument("--batch-rows", type=int, default=100_000, help="postings per flush")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--check-timeout",
        type=int,
        default=600,
        help="PostgreSQL statement timeout (s) for the measurements",
    )
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite RESULTS.md from the kept figures"
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="measure a copy of src/ at the current commit (in the temporary directory)",
    )
    parser.add_argument("--no-render", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--reports-only",
        action="store_true",
        help="time every report on the existing database (no reload); see bench/reports.py",
    )
    parser.add_argument("--report-patients", type=int, default=5)
    parser.add_argument("--report-warm", type=int, default=2, help="warm runs per report")
    parser.add_argument("--report-cap", type=float, default=120.0, help="seconds per run")
    args = parser.parse_args(argv)
    if args.reports_only:
        return run_reports_only(args)
    if args.snapshot and not os.environ.get(SNAPSHOT_ENV):
        run_on_snapshot(sys.argv[1:] if argv is None else argv)
    DATA.mkdir(exist_ok=True)
    if args.backend == "both" and not args.render_only:
        # one process per backend, so that each one's peak memory is its own
        for backend in ("sqlite", "postgresql"):
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    *("--backend", backend, "--scale", str(args.scale)),
                    *("--iterations", str(args.iterations), "--patients", str(args.patients)),
                    *("--batch-rows", str(args.batch_rows), "--pg-url", args.pg_url),
                    *("--check-timeout", str(args.check_timeout), "--no-render"),
                ],
                check=True,
            )
    elif not args.render_only:
        found = run_backend(args.backend, args)
        found["machine"] = machine()
        (DATA / f"results-{args.backend}-{args.scale:g}.json").write_text(
            json.dumps(found, indent=2, default=str)
        )
    if args.no_render:
        return 0
    figures = {}
    for backend in ("sqlite", "postgresql"):
        path = DATA / f"results-{backend}-{args.scale:g}.json"
        if path.exists():
            figures[backend] = json.loads(path.read_text())
    import speed

    kept = args.results.read_text() if args.results.exists() else ""
    args.results.write_text(report.render(figures, args.scale))
    for name in ("web", "speed"):  # sections measured by runs of their own, kept
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        if begin in kept and end in kept:
            block = kept[kept.index(begin) : kept.index(end)]
            speed.replace_section(args.results, block.splitlines()[1:], name)
    log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
