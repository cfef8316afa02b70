"""``init`` run several times at once on a fresh database (a deployment script started on
several machines, a container that initialises on every start): one run creates the
ledger, the others find it made and say so, and none fails. PostgreSQL serialises the
schema upgrade with an advisory lock taken in the migration's transaction; SQLite's
``BEGIN IMMEDIATE`` serialises it already.

Four processes, released together by a barrier, each run the command line's ``init``
(``clinicledger.cli.main.run``, as the installed ``clinicledger`` runs it) against the same
new database, for a few new databases in a row.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import queue
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from clinicledger.store import schema
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine
from conftest import BACKENDS, drop_pg_database, pg_database_url

pytestmark = pytest.mark.slow

PROCESSES = 4
ROUNDS = 3  # new databases, one after another: a race lost once in a few is still caught
WAIT_SECONDS_MAX = 120  # a hung process fails the test instead of hanging the run


@pytest.fixture(params=BACKENDS)
def fresh_urls(
    request: pytest.FixtureRequest, tmp_path: Path, worker_name: str
) -> Iterator[list[str]]:
    """``ROUNDS`` databases that have never been initialised (no tables at all)."""
    if request.param == "sqlite":
        yield [str(tmp_path / f"fresh-{n}.db") for n in range(ROUNDS)]
        return
    names = [f"clinicledger_init_race_{worker_name}_{os.getpid()}_{n}" for n in range(ROUNDS)]
    try:
        yield [pg_database_url(name) for name in names]
    finally:
        for name in names:
            drop_pg_database(name)


def init_main(
    urls: list[str], barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    """Run ``clinicledger --db URL --json init`` for each url, at the barrier's signal;
    put (url, exit status, stdout, stderr) for each."""
    try:
        import clinicledger.cli.main as cli_main

        for url in urls:
            out, err = io.StringIO(), io.StringIO()
            barrier.wait(WAIT_SECONDS_MAX)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = cli_main.run(["--db", url, "--json", "init"])
            results.put((url, status, out.getvalue(), err.getvalue()))
    except BaseException as exc:
        barrier.abort()  # release the others now rather than at their timeout
        results.put((None, -1, "", "".join(traceback.format_exception(exc))))


def race(urls: list[str]) -> dict[str, list[tuple[int, str, str]]]:
    """url -> every process's (exit status, stdout, stderr) for it."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=init_main, args=(urls, barrier, results)) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    runs: dict[str, list[tuple[int, str, str]]] = {url: [] for url in urls}
    try:
        for _ in range(PROCESSES * len(urls)):
            try:
                url, status, out, err = results.get(timeout=WAIT_SECONDS_MAX)
            except queue.Empty:
                codes = [process.exitcode for process in processes]
                pytest.fail(f"no result within {WAIT_SECONDS_MAX}s; exit codes {codes}")
            assert url is not None, f"a process crashed:\n{err}"
            runs[url].append((status, out, err))
    finally:
        for process in processes:
            process.join(WAIT_SECONDS_MAX)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    return runs


def test_init_at_once_creates_the_ledger_once(
    fresh_urls: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log"
    for name in [name for name in os.environ if name.startswith("CLINICLEDGER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CLINICLEDGER_LOG_DIR", str(log))  # the children inherit it

    runs = race(fresh_urls)

    for n, url in enumerate(fresh_urls):
        shown = f"round {n}: {runs[url]}"
        assert sorted(runs[url]) == [
            (0, '{"created": false}\n', ""),
            (0, '{"created": false}\n', ""),
            (0, '{"created": false}\n', ""),
            (0, '{"created": true}\n', ""),
        ], shown
        engine = make_engine(url)
        try:
            assert schema.is_current(engine), shown
            with engine.connect() as conn:
                practices = conn.execute(select(func.count()).select_from(t.practice)).scalar()
                created = conn.execute(
                    select(func.count())
                    .select_from(t.audit_log)
                    .where(t.audit_log.c.action == "practice.create")
                ).scalar()
        finally:
            engine.dispose()
        assert (practices, created) == (1, 1), shown
    assert not log.exists(), "an internal error was logged"
