"""Timings over a loaded bench database, through the application's own engine and services."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, event, exists, func, select, text
from sqlalchemy.exc import DBAPIError

from clinicledger.domain.journal import Account
from clinicledger.domain.rules import PaymentMethod
from clinicledger.services import check
from clinicledger.services.balances import balance
from clinicledger.services.payments import allocate, record_payment
from clinicledger.store import tables as t
from clinicledger.store.uow import UnitOfWork

P = t.postings
ZONE = ZoneInfo("Australia/Sydney")


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """Median, p95 and max of a list of durations, in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


def set_statement_timeout(engine: Engine, seconds: int) -> None:
    """PostgreSQL only: cancel any statement of this engine running longer than this."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {seconds * 1000}")
        dbapi_connection.commit()


# --- post and allocate ---------------------------------------------------------------------


def owing_patient_lines(engine: Engine, wanted: int, rng: random.Random) -> list[dict[str, Any]]:
    """Random lines with money owing on the patient's portion, with what is needed to pay
    them through the services (patient code, location code, owing)."""
    found: dict[int, dict[str, Any]] = {}
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        max_line = conn.execute(select(func.max(t.lines.c.id))).scalar_one()
        tries = 0
        while len(found) < wanted and tries < 200:
            tries += 1
            sample = rng.sample(range(1, max_line + 1), min(max_line, 5000))
            owing = func.sum(P.c.amount_cents)
            rows = conn.execute(
                select(
                    P.c.line_id,
                    owing.label("owing"),
                    t.patients.c.code.label("patient"),
                    t.locations.c.code.label("location"),
                )
                .join(t.patients, t.patients.c.id == P.c.patient_id)
                .join(t.locations, t.locations.c.id == P.c.location_id)
                .where(
                    P.c.line_id.in_(sample),
                    P.c.account == Account.RECEIVABLE.value,
                    P.c.payer_id.is_(None),
                )
                .group_by(P.c.line_id, t.patients.c.code, t.locations.c.code)
                .having(owing > 0)
            ).all()
            for row in rows:
                found.setdefault(row.line_id, dict(row._mapping))
        conn.rollback()
    chosen = sorted(found.values(), key=lambda r: r["line_id"])
    rng.shuffle(chosen)
    return chosen[:wanted]


def post_and_allocate(engine: Engine, iterations: int, rng: random.Random) -> dict[str, Any]:
    """``record_payment`` then ``allocate``, each its own unit of work, one after another."""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        last = conn.execute(select(t.ledger_clock.c.last_recorded_at)).scalar_one()
        conn.rollback()
    targets = owing_patient_lines(engine, iterations, rng)
    if len(targets) < iterations:
        raise RuntimeError(f"only {len(targets)} lines with money owing; wanted {iterations}")
    start = (last + dt.timedelta(hours=1)).replace(tzinfo=dt.UTC)
    received = start.astimezone(ZONE).date()
    record_s: list[float] = []
    allocate_s: list[float] = []
    began = time.perf_counter()
    for n, target in enumerate(targets):
        now = start + dt.timedelta(seconds=2 * n)
        t0 = time.perf_counter()
        payment_id = record_payment(
            UnitOfWork(engine, now=now, actor="bench"),
            from_code=target["patient"],
            amount_cents=int(target["owing"]),
            method=PaymentMethod.EFTPOS,
            received_date=received,
            location_code=target["location"],
        )
        t1 = time.perf_counter()
        allocate(
            UnitOfWork(engine, now=now + dt.timedelta(seconds=1), actor="bench"),
            payment_id=payment_id,
            targets=[(int(target["line_id"]), int(target["owing"]))],
        )
        t2 = time.perf_counter()
        record_s.append(t1 - t0)
        allocate_s.append(t2 - t1)
    elapsed = time.perf_counter() - began
    pairs = [a + b for a, b in zip(record_s, allocate_s, strict=True)]
    return {
        "iterations": iterations,
        "seconds": elapsed,
        "payments_per_s": iterations / elapsed,
        "record_payment": summary_ms(record_s),
        "allocate": summary_ms(allocate_s),
        "pair": summary_ms(pairs),
    }


# --- balances ------------------------------------------------------------------------------


def _time_each(codes: list[str], call: Callable[[str], object]) -> list[float]:
    times: list[float] = []
    for code in codes:
        t0 = time.perf_counter()
        call(code)
        times.append(time.perf_counter() - t0)
    return times


def balance_queries(engine: Engine, patients: int, rng: random.Random) -> dict[str, Any]:
    """``services.balances.balance`` for random patients and every payer: now, and as of /
    as known at the middle of the history."""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        patient_count = conn.execute(select(func.count()).select_from(t.patients)).scalar_one()
        payer_codes = list(conn.execute(select(t.payers.c.code).order_by(t.payers.c.id)).scalars())
        conn.rollback()
    sample = rng.sample(range(1, patient_count + 1), min(patients, patient_count))
    patient_codes = [f"P{n:06d}" for n in sample]
    balance(engine, patient_code="P000001")  # warm the pool; not counted
    mid_date = dt.date(2024, 6, 30)
    mid_known = dt.datetime(2024, 6, 30, 14, 0, tzinfo=dt.UTC)
    results: dict[str, Any] = {}
    results["patient"] = summary_ms(
        _time_each(patient_codes, lambda c: balance(engine, patient_code=c))
    )
    results["payer"] = summary_ms(_time_each(payer_codes, lambda c: balance(engine, payer_code=c)))
    results["patient_as_known_at"] = summary_ms(
        _time_each(
            patient_codes,
            lambda c: balance(engine, patient_code=c, as_of=mid_date, as_known_at=mid_known),
        )
    )
    results["payer_as_known_at"] = summary_ms(
        _time_each(
            payer_codes,
            lambda c: balance(engine, payer_code=c, as_of=mid_date, as_known_at=mid_known),
        )
    )
    per_payer = {}
    for code in payer_codes:
        t0 = time.perf_counter()
        balance(engine, payer_code=code)
        per_payer[code] = (time.perf_counter() - t0) * 1000
    results["per_payer_ms"] = per_payer
    return results


def explain_balances(engine: Engine, *, patient: bool = True) -> dict[str, str]:
    """The plans of the two sums ``ledger.party_balance`` runs, for the busiest payer and a
    patient (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        payer_id = conn.execute(
            select(t.payers.c.id).where(t.payers.c.code == "MEDICARE")
        ).scalar_one()
        queries = {
            "payer RECEIVABLE sum (MEDICARE)": select(
                func.coalesce(func.sum(P.c.amount_cents), 0)
            ).where(P.c.payer_id == payer_id, P.c.account == Account.RECEIVABLE.value),
            "payer RECEIVABLE sum as known at (MEDICARE)": select(
                func.coalesce(func.sum(P.c.amount_cents), 0)
            ).where(
                P.c.payer_id == payer_id,
                P.c.account == Account.RECEIVABLE.value,
                P.c.effective_date <= dt.date(2024, 6, 30),
                P.c.recorded_at <= dt.datetime(2024, 6, 30, 14, 0),
            ),
            "patient RECEIVABLE sum (P000001)": select(
                func.coalesce(func.sum(P.c.amount_cents), 0)
            ).where(
                P.c.patient_id == 1,
                P.c.payer_id.is_(None),
                P.c.account == Account.RECEIVABLE.value,
            ),
        }
        if not patient:
            del queries["patient RECEIVABLE sum (P000001)"]
        plans: dict[str, str] = {}
        for label, stmt in queries.items():
            sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            if engine.dialect.name == "postgresql":
                rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
                plans[label] = sql + "\n\n" + "\n".join(rows)
            else:
                rows = conn.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
                plans[label] = sql + "\n\n" + "\n".join(str(r[-1]) for r in rows)
        conn.rollback()
    return plans


# --- check ---------------------------------------------------------------------------------

CHECK_STAGES = (
    "_unbalanced_entries",
    "_entries_without_postings",
    "_posting_times",
    "_clock_order",
    "_over_applied_payments",
    "_over_credited_lines",
    "_audit_chain",
)


def _error_text(exc: DBAPIError) -> str:
    return f"{type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}"


def check_ledger_time(engine: Engine) -> dict[str, Any]:
    """``services.check.check_ledger`` once, timing each of its checks as it goes (the
    module's check functions are wrapped for this process only). If a check is cancelled
    by the statement timeout, the checks it did not reach are then timed on their own."""
    stages: dict[str, dict[str, Any]] = {}
    originals = {name: getattr(check, name) for name in CHECK_STAGES if hasattr(check, name)}

    def timed(name: str, function: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        def wrapper(*args: Any, **kwargs: Any) -> list[Any]:
            t0 = time.perf_counter()
            try:
                found = function(*args, **kwargs)
            except DBAPIError as exc:
                stages[name] = {"seconds": time.perf_counter() - t0, "error": _error_text(exc)}
                raise
            stages[name] = {"seconds": time.perf_counter() - t0, "violations": len(found)}
            return found

        return wrapper

    result: dict[str, Any] = {}
    for name, function in originals.items():
        setattr(check, name, timed(name, function))
    t0 = time.perf_counter()
    try:
        found = check.check_ledger(engine)
    except DBAPIError as exc:
        result["whole"] = {"seconds": time.perf_counter() - t0, "error": _error_text(exc)}
    else:
        codes: dict[str, int] = {}
        for v in found.violations:
            codes[v.code] = codes.get(v.code, 0) + 1
        result["whole"] = {
            "seconds": time.perf_counter() - t0,
            "entries": found.entries,
            "postings": found.postings,
            "violations": len(found.violations),
            "violation_codes": codes,
        }
    finally:
        for name, function in originals.items():
            setattr(check, name, function)
    for name, function in originals.items():
        if name in stages:
            continue
        t0 = time.perf_counter()
        try:
            with reading_conn(engine) as conn:
                found_stage = function(conn)
        except DBAPIError as exc:
            stages[name] = {"seconds": time.perf_counter() - t0, "error": _error_text(exc)}
        else:
            stages[name] = {
                "seconds": time.perf_counter() - t0,
                "violations": len(found_stage),
                "alone": True,
            }
    result["stages"] = stages
    result["proposed"] = proposed_checks(engine)
    return result


@contextmanager
def reading_conn(engine: Engine) -> Iterator[Connection]:
    """A read transaction on the application's engine (deferred BEGIN on SQLite)."""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn, conn.begin():
        yield conn


def proposed_checks(engine: Engine) -> dict[str, Any]:
    """The replacement proposed for ``_entries_without_postings``: NOT EXISTS (an anti-join
    on ix_postings_entry_id) instead of NOT IN (which PostgreSQL cannot hash at this size
    and so rescans the postings once per entry)."""
    E = t.entries
    stmt = select(E.c.id).where(~exists().where(P.c.entry_id == E.c.id))
    t0 = time.perf_counter()
    with reading_conn(engine) as conn:
        rows = conn.execute(stmt).all()
    return {
        "_entries_without_postings as NOT EXISTS": {
            "seconds": time.perf_counter() - t0,
            "violations": len(rows),
        }
    }


def explain_entries_without_postings(engine: Engine) -> str:
    """The plan (no ANALYZE) of check's NOT IN query, and of the NOT EXISTS replacement."""
    E = t.entries
    statements = {
        "as in services/check.py (NOT IN)": select(E.c.id).where(~E.c.id.in_(select(P.c.entry_id))),
        "proposed (NOT EXISTS)": select(E.c.id).where(~exists().where(P.c.entry_id == E.c.id)),
    }
    parts: list[str] = []
    with reading_conn(engine) as conn:
        for label, stmt in statements.items():
            sql = str(stmt.compile(dialect=engine.dialect))
            prefix = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
            rows = conn.execute(text(prefix + sql)).all()
            plan = "\n".join(
                str(r[0] if engine.dialect.name == "postgresql" else r[-1]) for r in rows
            )
            parts.append(f"-- {label}\n{sql}\n\n{plan}")
    return "\n\n".join(parts)


# --- the proposed payer index --------------------------------------------------------------

PROPOSED_PAYER_INDEX = {
    "postgresql": (
        "CREATE INDEX ix_postings_payer ON postings (payer_id, account) "
        "INCLUDE (amount_cents, effective_date, recorded_at)"
    ),
    "sqlite": (
        "CREATE INDEX ix_postings_payer ON postings "
        "(payer_id, account, effective_date, recorded_at, amount_cents)"
    ),
}


def payer_balances_with_covering_index(engine: Engine) -> dict[str, Any]:
    """Replace ix_postings_payer (payer_id, account) by a covering index, as a migration
    would, then time the payer balances again (only in this bench database)."""
    dialect = engine.dialect.name
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("DROP INDEX ix_postings_payer"))
        conn.execute(text(PROPOSED_PAYER_INDEX[dialect]))
        conn.commit()
    build = time.perf_counter() - t0
    vacuum = 0.0
    if dialect == "postgresql":
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE postings"))
        vacuum = time.perf_counter() - t0
    with reading_conn(engine) as conn:
        payer_codes = list(conn.execute(select(t.payers.c.code).order_by(t.payers.c.id)).scalars())
    balance(engine, payer_code=payer_codes[0])  # warm, as before
    mid_date = dt.date(2024, 6, 30)
    mid_known = dt.datetime(2024, 6, 30, 14, 0, tzinfo=dt.UTC)
    per_payer: dict[str, float] = {}
    for code in payer_codes:
        t0 = time.perf_counter()
        balance(engine, payer_code=code)
        per_payer[code] = (time.perf_counter() - t0) * 1000
    return {
        "ddl": PROPOSED_PAYER_INDEX[dialect],
        "build_seconds": build,
        "vacuum_seconds": vacuum,
        "payer": summary_ms(_time_each(payer_codes, lambda c: balance(engine, payer_code=c))),
        "payer_as_known_at": summary_ms(
            _time_each(
                payer_codes,
                lambda c: balance(engine, payer_code=c, as_of=mid_date, as_known_at=mid_known),
            )
        ),
        "per_payer_ms": per_payer,
        "plans": explain_balances(engine, patient=False),
    }


# --- memory of the Python-side checks ------------------------------------------------------


def _audit_chain_streamed(conn: Connection) -> list[str]:
    """``check._audit_chain`` with the rows streamed (``yield_per``: a server-side cursor
    on PostgreSQL) instead of fetched all at once; the proposed change."""
    from clinicledger.store.uow import GENESIS_HASH, audit_hash

    found: list[str] = []
    previous = GENESIS_HASH
    rows = conn.execution_options(yield_per=10_000).execute(
        select(t.audit_log).order_by(t.audit_log.c.id)
    )
    for row in rows:
        expected = audit_hash(
            previous, row.recorded_at, row.actor, row.action, row.subject, row.detail
        )
        if row.prev_hash != previous or row.hash != expected:
            found.append(str(row.id))
        previous = row.hash
    return found


def _run_stage_here(url: str, stage: str) -> dict[str, Any]:
    import resource

    from clinicledger.store.engine import make_engine

    engine = make_engine(url)
    function = _audit_chain_streamed if stage == "_audit_chain_streamed" else getattr(check, stage)
    t0 = time.perf_counter()
    with reading_conn(engine) as conn:
        found = function(conn)
    seconds = time.perf_counter() - t0
    engine.dispose()
    return {
        "seconds": seconds,
        "violations": len(found),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def stage_memory(url: str, stages: tuple[str, ...]) -> dict[str, Any]:
    """Each check in a fresh process, for its peak memory (the client's share of it)."""
    import json
    import subprocess
    import sys

    found: dict[str, Any] = {}
    for stage in stages:
        done = subprocess.run(
            [sys.executable, __file__, url, stage], capture_output=True, text=True, check=True
        )
        found[stage] = json.loads(done.stdout)
    return found


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(_run_stage_here(sys.argv[1], sys.argv[2])))
