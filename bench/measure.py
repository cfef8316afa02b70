"""Timings over a loaded bench database, through the application's own engine and services."""

from __future__ import annotations

import datetime as dt
import inspect
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from clinicledger.domain.choices import PaymentMethod
from clinicledger.domain.journal import Account
from clinicledger.services.balances import balance
from clinicledger.services.check import check_ledger
from clinicledger.services.payments import Allocate, RecordPayment, allocate, record_payment
from clinicledger.store import integrity
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
        first_entry = conn.execute(select(func.max(t.entries.c.id) + 1)).scalar_one()
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
            UnitOfWork(engine, now=now, actor="bench", allow_future_clock=True),
            RecordPayment(
                from_code=target["patient"],
                amount_cents=int(target["owing"]),
                method=PaymentMethod.EFTPOS,
                received_date=received,
                location_code=target["location"],
            ),
        )
        t1 = time.perf_counter()
        allocate(
            UnitOfWork(
                engine, now=now + dt.timedelta(seconds=1), actor="bench", allow_future_clock=True
            ),
            Allocate(
                payment_id=payment_id,
                targets=((int(target["line_id"]), int(target["owing"])),),
            ),
        )
        t2 = time.perf_counter()
        record_s.append(t1 - t0)
        allocate_s.append(t2 - t1)
    elapsed = time.perf_counter() - began
    pairs = [a + b for a, b in zip(record_s, allocate_s, strict=True)]
    return {
        "iterations": iterations,
        "first_entry": first_entry,
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


MID_DATE = dt.date(2024, 6, 30)
MID_KNOWN = dt.datetime(2024, 6, 30, 14, 0, tzinfo=dt.UTC)


def balance_sample(engine: Engine, patients: int, rng: random.Random) -> dict[str, list[str]]:
    """Random patient codes and every payer code."""
    with reading_conn(engine) as conn:
        patient_count = conn.execute(select(func.count()).select_from(t.patients)).scalar_one()
        payer_codes = list(conn.execute(select(t.payers.c.code).order_by(t.payers.c.id)).scalars())
    sample = rng.sample(range(1, patient_count + 1), min(patients, patient_count))
    return {"patients": [f"P{n:06d}" for n in sample], "payers": payer_codes}


def balance_queries(engine: Engine, sample: dict[str, list[str]]) -> dict[str, Any]:
    """``services.balances.balance`` for the sampled patients and every payer: now, and as
    of / as known at the middle of the history."""
    patients, payers = sample["patients"], sample["payers"]
    balance(engine, patient_code="P000001")  # warm the pool; not counted
    results: dict[str, Any] = {}
    results["patient"] = summary_ms(_time_each(patients, lambda c: balance(engine, patient_code=c)))
    results["payer"] = summary_ms(_time_each(payers, lambda c: balance(engine, payer_code=c)))
    results["patient_as_known_at"] = summary_ms(
        _time_each(
            patients,
            lambda c: balance(engine, patient_code=c, as_of=MID_DATE, as_known_at=MID_KNOWN),
        )
    )
    results["payer_as_known_at"] = summary_ms(
        _time_each(
            payers,
            lambda c: balance(engine, payer_code=c, as_of=MID_DATE, as_known_at=MID_KNOWN),
        )
    )
    per_payer = {}
    for code in payers:
        t0 = time.perf_counter()
        balance(engine, payer_code=code)
        per_payer[code] = (time.perf_counter() - t0) * 1000
    results["per_payer_ms"] = per_payer
    return results


def captured_sql(engine: Engine, call: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements (and parameters) ``call`` sends that read the postings."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "postings" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def explain_balances(engine: Engine, *, patient: bool = True) -> dict[str, str]:
    """The plans of the statements ``services.balances.balance`` sends for the busiest
    payer and for a patient, captured as sent (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN
    QUERY PLAN on SQLite)."""
    mid_date, mid_known = MID_DATE, MID_KNOWN
    calls: dict[str, Callable[[], object]] = {
        "payer balance (MEDICARE)": lambda: balance(engine, payer_code="MEDICARE"),
        "payer balance as of / as known at 2024-06-30 (MEDICARE)": lambda: balance(
            engine, payer_code="MEDICARE", as_of=mid_date, as_known_at=mid_known
        ),
    }
    if patient:
        calls["patient balance (P000001)"] = lambda: balance(engine, patient_code="P000001")
        calls["patient balance as of / as known at 2024-06-30 (P000001)"] = lambda: balance(
            engine, patient_code="P000001", as_of=mid_date, as_known_at=mid_known
        )
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    plans: dict[str, str] = {}
    for label, call in calls.items():
        parts: list[str] = []
        for statement, parameters in captured_sql(engine, call):
            with reading_conn(engine) as conn:
                rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            plan = "\n".join(str(r[0] if postgres else r[-1]) for r in rows)
            parts.append(f"{statement.strip()}\n-- parameters: {parameters}\n\n{plan}")
        plans[label] = "\n\n".join(parts)
    return plans


# --- check ---------------------------------------------------------------------------------


def check_stages() -> tuple[str, ...]:
    """The checks ``check_ledger`` runs, in order: the private functions of
    ``store.integrity`` that its ``check`` calls (so that a check added later is timed too)."""
    names = integrity.check.__code__.co_names
    return tuple(n for n in names if n.startswith("_") and callable(getattr(integrity, n, None)))


def _violations(found: Any) -> int:
    """How many violations a check found (a chain's check also returns the hashes it met)."""
    return len(found[0]) if isinstance(found, tuple) else len(found)


def _error_text(exc: DBAPIError) -> str:
    return f"{type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}"


def check_ledger_time(engine: Engine) -> dict[str, Any]:
    """``services.check.check_ledger`` once, timing each of its checks as it goes (the
    check functions of ``store.integrity`` are wrapped for this process only). If a check
    is cancelled by the statement timeout, the checks it did not reach are then timed on
    their own."""
    stages: dict[str, dict[str, Any]] = {}
    originals = {name: getattr(integrity, name) for name in check_stages()}

    def timed(name: str, function: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        def wrapper(*args: Any, **kwargs: Any) -> list[Any]:
            t0 = time.perf_counter()
            try:
                found = function(*args, **kwargs)
            except DBAPIError as exc:
                stages[name] = {"seconds": time.perf_counter() - t0, "error": _error_text(exc)}
                raise
            stages[name] = {"seconds": time.perf_counter() - t0, "violations": _violations(found)}
            return found

        return wrapper

    result: dict[str, Any] = {}
    for name, function in originals.items():
        setattr(integrity, name, timed(name, function))
    t0 = time.perf_counter()
    try:
        found = check_ledger(engine)
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
            setattr(integrity, name, function)
    for name, function in originals.items():
        if name in stages or list(inspect.signature(function).parameters) != ["conn"]:
            continue  # timed already, or a check of the expected head, run only with one
        t0 = time.perf_counter()
        try:
            with reading_conn(engine) as conn:
                found_stage = function(conn)
        except DBAPIError as exc:
            stages[name] = {"seconds": time.perf_counter() - t0, "error": _error_text(exc)}
        else:
            stages[name] = {
                "seconds": time.perf_counter() - t0,
                "violations": _violations(found_stage),
                "alone": True,
            }
    result["stages"] = stages
    return result


@contextmanager
def reading_conn(engine: Engine) -> Iterator[Connection]:
    """A read transaction on the application's engine (deferred BEGIN on SQLite)."""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn, conn.begin():
        yield conn


# --- the proposed payer index --------------------------------------------------------------

PROPOSED_INDEXES = {
    "postgresql": (
        "CREATE INDEX ix_postings_patient ON postings (patient_id, account, effective_date) "
        "INCLUDE (recorded_at, payer_id, amount_cents)",
        "CREATE INDEX ix_postings_payer ON postings (payer_id, account, effective_date) "
        "INCLUDE (recorded_at, amount_cents)",
    ),
    "sqlite": (
        "CREATE INDEX ix_postings_patient ON postings "
        "(patient_id, account, effective_date, recorded_at, payer_id, amount_cents)",
        "CREATE INDEX ix_postings_payer ON postings "
        "(payer_id, account, effective_date, recorded_at, amount_cents)",
    ),
}


def balances_with_covering_indexes(engine: Engine, sample: dict[str, list[str]]) -> dict[str, Any]:
    """Replace ix_postings_patient and ix_postings_payer (party, account) by covering
    indexes that also range over effective_date, as a migration would, then time the same
    balances again (only in this bench database)."""
    dialect = engine.dialect.name
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("DROP INDEX ix_postings_patient"))
        conn.execute(text("DROP INDEX ix_postings_payer"))
        for ddl in PROPOSED_INDEXES[dialect]:
            conn.execute(text(ddl))
        conn.commit()
    build = time.perf_counter() - t0
    vacuum = 0.0
    if dialect == "postgresql":
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE postings"))
        vacuum = time.perf_counter() - t0
    found = balance_queries(engine, sample)
    found.update(
        ddl=list(PROPOSED_INDEXES[dialect]),
        build_seconds=build,
        vacuum_seconds=vacuum,
        plans=explain_balances(engine),
        open_period=open_period_payer_sums(engine, sample),
    )
    return found


# --- memory of the Python-side checks ------------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike getrusage, not inherited from the
    parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _run_stage_here(url: str, stage: str) -> dict[str, Any]:
    from clinicledger.store.engine import make_engine

    engine = make_engine(url)
    function = getattr(integrity, stage)
    t0 = time.perf_counter()
    with reading_conn(engine) as conn:
        found = function(conn)
    seconds = time.perf_counter() - t0
    engine.dispose()
    return {
        "seconds": seconds,
        "violations": _violations(found),
        "max_rss_mib": peak_rss_mib(),
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


# --- fidelity: generated rows against rows the services write ------------------------------

DIMENSIONS = (
    "patient_id",
    "payer_id",
    "provider_id",
    "location_id",
    "invoice_id",
    "line_id",
    "payment_id",
    "reason",
)


def _entry_shapes(conn: Connection, entry_ids: list[int]) -> dict[str, set[tuple[Any, ...]]]:
    """Per entry kind, the shapes of its entries: each posting's account, sign and which
    dimensions it carries, and whether it carries its entry's dates."""
    E = t.entries
    shapes: dict[int, list[tuple[Any, ...]]] = {}
    kinds: dict[int, str] = {}
    for chunk in range(0, len(entry_ids), 2000):
        rows = conn.execute(
            select(E.c.kind, E.c.effective_date.label("e_date"), E.c.recorded_at.label("e_at"), P)
            .join(P, P.c.entry_id == E.c.id)
            .where(E.c.id.in_(entry_ids[chunk : chunk + 2000]))
        ).all()
        for r in rows:
            kinds[r.entry_id] = r.kind
            shapes.setdefault(r.entry_id, []).append(
                (
                    r.account,
                    (r.amount_cents > 0) - (r.amount_cents < 0),
                    tuple(getattr(r, d) is not None for d in DIMENSIONS),
                    r.effective_date == r.e_date and r.recorded_at == r.e_at,
                )
            )
    found: dict[str, set[tuple[Any, ...]]] = {}
    for entry_id, postings in shapes.items():
        found.setdefault(kinds[entry_id], set()).add(tuple(sorted(postings)))
    return found


def fidelity(engine: Engine, first_service_entry: int, rng: random.Random) -> dict[str, Any]:
    """Write a few invoices through ``services.invoicing.create_invoice`` (a taxable item,
    an untaxed one, one billed to a payer), then compare the shapes of the entries the
    services wrote (charges, payments, allocations) with those of generated entries of the
    same kinds, and check that each unit of work's entries and audit records share one
    ``recorded_at``."""
    from clinicledger.domain.choices import LineKind
    from clinicledger.services.invoicing import CreateInvoice, LineSpec, create_invoice

    with reading_conn(engine) as conn:
        last = conn.execute(select(t.ledger_clock.c.last_recorded_at)).scalar_one()
    now = (last + dt.timedelta(minutes=5)).replace(tzinfo=dt.UTC)
    today = now.astimezone(ZONE).date()
    for n, (item, billed_to) in enumerate((("RPT1", None), ("10961", None), ("23", "MEDICARE"))):
        create_invoice(
            UnitOfWork(
                engine, now=now + dt.timedelta(seconds=n), actor="bench", allow_future_clock=True
            ),
            CreateInvoice(
                patient_code=f"P{n + 1:06d}",
                location_code="CBD",
                billed_to_code=billed_to,
                lines=(
                    LineSpec(
                        kind=LineKind.SERVICE,
                        item_code=item,
                        provider_code="PR01",
                        service_date=today,
                    ),
                    LineSpec(
                        kind=LineKind.SERVICE,
                        item_code="GYM1",
                        provider_code="PR02",
                        service_date=today,
                    ),
                ),
            ),
        )
    E = t.entries
    with reading_conn(engine) as conn:
        service_ids = list(
            conn.execute(select(E.c.id).where(E.c.id >= first_service_entry)).scalars()
        )
        generated_ids = rng.sample(
            range(1, first_service_entry), min(20_000, first_service_entry - 1)
        )
        service = _entry_shapes(conn, service_ids)
        generated = _entry_shapes(conn, generated_ids)
        # every audit record written by the services shares its stamp with an entry
        entry_stamps = set(
            conn.execute(select(E.c.recorded_at).where(E.c.id >= first_service_entry)).scalars()
        )
        audit_stamps = set(
            conn.execute(
                select(t.audit_log.c.recorded_at).where(
                    t.audit_log.c.recorded_at >= min(entry_stamps)
                )
            ).scalars()
        )
    kinds: dict[str, Any] = {}
    for kind, shapes in service.items():
        missing = shapes - generated.get(kind, set())
        kinds[kind] = {
            "shapes": len(shapes),
            "missing_in_generated": [list(m) for m in missing],
        }
    return {
        "kinds": kinds,
        "same_shapes": all(not k["missing_in_generated"] for k in kinds.values()),
        "audit_shares_entry_stamps": audit_stamps == entry_stamps,
    }


CLOSE_DATE = dt.date(2025, 9, 30)


def open_period_payer_sums(engine: Engine, sample: dict[str, list[str]]) -> dict[str, Any]:
    """What a payer's balance would cost if a balance were kept at each period close: the
    sum of its postings dated after the last close (here 2025-09-30), one read transaction
    each, through the indexes in place. Not a service: the design proposed for payers."""
    with reading_conn(engine) as conn:
        ids = dict(conn.execute(select(t.payers.c.code, t.payers.c.id)).tuples().all())
    accounts = (Account.RECEIVABLE.value, Account.UNALLOCATED.value)

    def open_sum(code: str) -> None:
        with reading_conn(engine) as conn:
            conn.execute(
                select(P.c.account, func.sum(P.c.amount_cents))
                .where(
                    P.c.payer_id == ids[code],
                    P.c.account.in_(accounts),
                    P.c.effective_date > CLOSE_DATE,
                )
                .group_by(P.c.account)
            ).all()

    open_sum(sample["payers"][0])  # warm, as the balances were
    times = _time_each(sample["payers"], open_sum)
    return {
        "close": CLOSE_DATE.isoformat(),
        "payer": summary_ms(times),
        "per_payer_ms": {c: s * 1000 for c, s in zip(sample["payers"], times, strict=True)},
    }
