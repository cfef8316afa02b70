"""The write path: a payment recorded and allocated (two units of work) through the
services, by one process and by several at once, beside the floor (bench/floors.py: the
same statements by hand) in the same run (issue 9, target 3 and 6).

    .venv/bin/python bench/writers.py --db URL [--pairs 600] [--processes 8] [--seconds 30]

For every transaction it keeps how long it took from asking to committing (a clerk's wait
for the ledger's lock included), so that the slowest wait is known, and every refusal by
its code (there must be none).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import make_url

import floors
import measure
from clinicledger.domain.choices import PaymentMethod
from clinicledger.domain.errors import UserError
from clinicledger.services.payments import (
    Allocate,
    RecordPayment,
    allocate,
    record_payment,
)
from clinicledger.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine
from clinicledger.store.uow import UnitOfWork
from clinicledger.store.writers import WriterQueue, writer_queue


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pair(engine: Any, target: dict[str, Any], today: dt.date) -> tuple[float, float]:
    """One payment recorded, then allocated to its line: each transaction's seconds."""
    t0 = time.perf_counter()
    payment_id = record_payment(
        UnitOfWork(engine, now=_now(), actor="bench"),
        RecordPayment(
            from_code=target["patient"],
            amount_cents=int(target["owing"]),
            method=PaymentMethod.EFTPOS,
            received_date=today,
            location_code=target["location"],
        ),
    )
    t1 = time.perf_counter()
    allocate(
        UnitOfWork(engine, now=_now(), actor="bench"),
        Allocate(payment_id=payment_id, targets=((int(target["line_id"]), int(target["owing"])),)),
    )
    return t1 - t0, time.perf_counter() - t1


def _floor_pair(
    conn: Any,
    target: dict[str, Any],
    today: dt.date,
    turns: WriterQueue | None = None,
    *,
    chained: bool = True,
) -> tuple[float, float]:
    """The floor's pair; with ``turns``, each transaction waits for the ledger's turn as
    the application's unit of work does (several processes at once); not ``chained``: the
    unchained floor (bench/floors.py)."""
    t0 = time.perf_counter()
    with _turn(turns):
        payment_id = floors.record_payment(
            conn,
            _now().replace(tzinfo=None),
            party_code=target["patient"],
            amount_cents=int(target["owing"]),
            received_date=today,
            location_code=target["location"],
            chained=chained,
        )
    t1 = time.perf_counter()
    with _turn(turns):
        floors.allocate(
            conn,
            _now().replace(tzinfo=None),
            payment_id=payment_id,
            line_id=int(target["line_id"]),
            amount_cents=int(target["owing"]),
            chained=chained,
        )
    return t1 - t0, time.perf_counter() - t1


@contextlib.contextmanager
def _turn(turns: WriterQueue | None) -> Iterator[None]:
    if turns is not None and not turns.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise TimeoutError("no turn")
    try:
        yield
    finally:
        if turns is not None:
            turns.release()


def _today() -> dt.date:
    from zoneinfo import ZoneInfo

    return _now().astimezone(ZoneInfo("Australia/Sydney")).date()


# Who writes: the services, the floor, or the unchained floor (PostgreSQL, a scratch database)
KINDS = ("services", "floor", "unchained")


def _worker(
    url: str,
    kind: str,
    targets: list[dict[str, Any]],
    seconds: float,
    ready: Any,
    out: Any,
) -> None:
    """One clerk of ``kind`` (:data:`KINDS`): pairs for ``seconds`` from the moment every
    clerk is ready (connected, its modules imported), or until its targets run out. The
    floor's pairs take each transaction in the ledger's turn as the application's
    (store/writers.py)."""
    today = _today()
    floor = kind != "services"
    if floor:
        postgresql = url.startswith("postgresql")
        raw = floors.connect_pg(url) if postgresql else floors.connect(url)
        turns = None if postgresql else writer_queue(url)  # PostgreSQL: the clock row's lock
        chained = kind == "floor"

        def pair(target: dict[str, Any]) -> tuple[float, float]:
            return _floor_pair(raw, target, today, turns, chained=chained)

    else:
        engine = make_engine(url)
        engine.connect().close()

        def pair(target: dict[str, Any]) -> tuple[float, float]:
            return _pair(engine, target, today)

    times: list[float] = []
    refused: dict[str, int] = {}
    failed: dict[str, int] = {}
    pairs = 0
    ready.wait()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    deadline = started + seconds
    for target in targets:
        if time.perf_counter() > deadline:
            break
        try:
            times += pair(target)
            pairs += 1
        except UserError as exc:
            refused[exc.code] = refused.get(exc.code, 0) + 1
        except Exception as exc:
            failed[type(exc).__name__] = failed.get(type(exc).__name__, 0) + 1
    ended = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    if floor:
        raw.close()
    else:
        engine.dispose()
    out.put(
        {
            "pairs": pairs,
            "times": times,
            "refused": refused,
            "failed": failed,
            "started": started,
            "ended": ended,
            # user + system seconds of the clerk's pairs (its waits for the lock cost none)
            "cpu_s": cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime,
        }
    )


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    if not ordered:
        return {}
    return {
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


WARM_PAIRS = 5  # untimed, each side, before the one-process rounds


def one_process(url: str, targets: list[dict[str, Any]], rounds: int = 4) -> dict[str, Any]:
    """The services and the floor taking turns on the same ledger, a block of pairs each
    per round, so that both meet the same disk and the same load; each side first makes
    :data:`WARM_PAIRS` pairs untimed (the first compiles the statements)."""
    engine = make_engine(url)
    today = _today()
    raw: Any = (
        floors.connect(str(engine.url.database))
        if engine.dialect.name == "sqlite"
        else floors.connect_pg(url)
    )
    found: dict[str, dict[str, Any]] = {
        name: {"seconds": 0.0, "cpu": 0.0, "pairs": 0, "times": []}
        for name in ("services", "floor")
    }
    queue = iter(targets)
    for _ in range(WARM_PAIRS):  # each compiles its statements and warms its caches first
        _pair(engine, next(queue), today)
        _floor_pair(raw, next(queue), today)
    block = max(1, (len(targets) - 2 * WARM_PAIRS) // (rounds * len(found)))
    for _ in range(rounds):
        for name, run in found.items():
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(block):
                target = next(queue)
                if name == "services":
                    run["times"] += _pair(engine, target, today)
                else:
                    run["times"] += _floor_pair(raw, target, today)
                run["pairs"] += 1
            run["seconds"] += time.perf_counter() - t0
            run["cpu"] += time.process_time() - c0
    engine.dispose()
    raw.close()
    result = {}
    for name, run in found.items():
        result[name] = {
            "pairs": run["pairs"],
            "pairs_per_s": run["pairs"] / run["seconds"],
            "cpu_ms_per_pair": run["cpu"] / run["pairs"] * 1000,
            **_summary(run["times"]),
        }
    if "floor" in result:
        result["ratio_to_floor"] = (
            result["services"]["pairs_per_s"] / result["floor"]["pairs_per_s"]
        )
    return result


def many_processes(
    url: str, targets: list[dict[str, Any]], processes: int, seconds: float, *, kind: str
) -> dict[str, Any]:
    """``processes`` clerks at once for ``seconds``, each on its own lines. The rate counts
    the pairs committed from the moment every clerk is ready (a barrier: each has imported
    its modules and connected) to the end of the last pair, so that starting the
    processes on a busy machine is not counted as the clerks' writing; the rate from the
    first process's start is kept too (``pairs_per_s_from_spawn``). ``kind``: whose
    clerks (:data:`KINDS`; for the floor's on SQLite, ``url`` is the file)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    ready = context.Barrier(processes)
    share = len(targets) // processes
    spawned = time.perf_counter()
    workers = [
        context.Process(
            target=_worker,
            args=(url, kind, targets[n * share : (n + 1) * share], seconds, ready, out),
        )
        for n in range(processes)
    ]
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    started = min(r["started"] for r in results)
    ended = max(r["ended"] for r in results)
    return {
        "processes": processes,
        "pairs": sum(r["pairs"] for r in results),
        "cpu_s": sum(r["cpu_s"] for r in results),
        "seconds": ended - started,
        "seconds_from_spawn": ended - spawned,
        **_problems(results),
        "times": [t for r in results for t in r["times"]],
    }


def _problems(results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The refusals and failures of ``results``, counted by code or exception."""
    found: dict[str, dict[str, int]] = {"refused": {}, "failed": {}}
    for r in results:
        for kind, counts in found.items():
            for key, n in r[kind].items():
                counts[key] = counts.get(key, 0) + n
    return found


def many_side_by_side(
    url: str, targets: list[dict[str, Any]], processes: int, seconds: float, rounds: int = 2
) -> dict[str, Any]:
    """The services' clerks and the floor's, taking turns in ``rounds`` rounds of
    ``seconds / rounds`` each, so that both meet the same load."""
    engine = make_engine(url)
    path = str(engine.url.database) if engine.dialect.name == "sqlite" else url
    engine.dispose()
    kinds = ("services", "floor")
    share = len(targets) // (rounds * len(kinds))
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    queue = iter(range(rounds * len(kinds)))
    for _ in range(rounds):
        for kind in kinds:
            n = next(queue)
            mine = targets[n * share : (n + 1) * share]
            runs[kind].append(
                many_processes(
                    path if kind == "floor" else url, mine, processes, seconds / rounds, kind=kind
                )
            )
    return {kind: _combined(found, processes) for kind, found in runs.items()}


def _combined(found: list[dict[str, Any]], processes: int) -> dict[str, Any]:
    """The rounds of :func:`many_processes` of one kind, as one figure."""
    pairs = sum(r["pairs"] for r in found)
    times = [t for r in found for t in r["times"]]
    return {
        "processes": processes,
        "pairs": pairs,
        "pairs_per_s": pairs / sum(r["seconds"] for r in found),
        "pairs_per_s_from_spawn": pairs / sum(r["seconds_from_spawn"] for r in found),
        "cpu_ms_per_pair": sum(r["cpu_s"] for r in found) / pairs * 1000,
        **_problems(found),
        "waits_over_1s": sum(1 for t in times if t > 1.0),
        **_summary(times),
    }


CEILING_SCALE = 0.1  # the scratch practice: 100,000 lines, owing lines enough for the rounds


def ceiling(pg_url: str, processes: int, seconds: float, rounds: int = 2) -> dict[str, Any]:
    """What this machine allows writers at all: the unchained floor (bench/floors.py: no
    ledger lock, no clock row kept) by 1 process and by ``processes``, taking turns in
    ``rounds`` rounds, on a scratch PostgreSQL database of its own (a practice generated at
    :data:`CEILING_SCALE`; dropped after), since it leaves a broken chain."""
    import generate
    import run

    url = make_url(pg_url)
    scratch = url.set(database=f"{url.database}_ceiling").render_as_string(hide_password=False)
    run.prepare_postgres(scratch)
    try:
        sink = generate.PostgresSink(run.psycopg_dsn(scratch))
        try:
            generate.generate(generate.Plan.for_scale(CEILING_SCALE), sink)
        finally:
            sink.close()
        run.vacuum_analyze(scratch)
        engine = make_engine(scratch)
        targets = measure.owing_patient_lines(engine, int(seconds * 1200), random.Random(11))
        engine.dispose()
        share = len(targets) // (2 * rounds)
        runs: dict[int, list[dict[str, Any]]] = {1: [], processes: []}
        for n in range(2 * rounds):
            clerks = 1 if n % 2 == 0 else processes
            mine = targets[n * share : (n + 1) * share]
            runs[clerks].append(
                many_processes(scratch, mine, clerks, seconds / rounds, kind="unchained")
            )
    finally:
        run.drop_postgres(scratch)
    one, many = (_combined(runs[clerks], clerks) for clerks in (1, processes))
    return {"one": one, "many": many, "ratio": many["pairs_per_s"] / one["pairs_per_s"]}


def measure_writers(
    url: str, *, pairs: int, processes: int, seconds: float, only: str = "", seed: int = 7
) -> dict[str, Any]:
    rng = random.Random(seed)
    engine = make_engine(url)
    wanted = pairs + int(seconds * 1200)  # more than 8 clerks get through, twice
    targets = measure.owing_patient_lines(engine, wanted, rng)
    engine.dispose()
    first = targets[:pairs]
    rest = targets[pairs:]
    found: dict[str, Any] = {"loadavg_before": os.getloadavg()}
    if only != "many":
        found["one"] = one_process(url, first)
    if only != "one":
        many = many_side_by_side(url, rest, processes, seconds)
        found["many"] = many["services"]
        if "floor" in many:
            found["many_floor"] = many["floor"]
    if url.startswith("postgresql") and only != "one":
        found["ceiling"] = ceiling(url, processes, seconds)
    found["loadavg_after"] = os.getloadavg()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--only", choices=("one", "many"), default="")
    args = parser.parse_args()
    found = measure_writers(
        args.db,
        pairs=args.pairs,
        processes=args.processes,
        seconds=args.seconds,
        only=args.only,
    )
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
