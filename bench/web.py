"""Pages and API timings (issue 10, "Feel"): every page and every GET endpoint served by
``clinicledger serve`` over a ledger, median and p95, and 8 API clients at once recording
and allocating payments for 30 s (requests per second, errors).

    .venv/bin/python bench/web.py [--db FILE ...] [--repeats 20] [--clients 8] [--seconds 30]

It builds the demo practice in a temporary file (``clinicledger demo``) and times it, with
the writing clients; then each ``--db`` ledger (the bench practice), its pages only,
adding logins and a token to it (write on a copy). The server runs in a process of its
own, as in use; the pages are asked for one after another by one client signed in as admin
(who may see every page). A page whose path names a record (a patient, an invoice, a
payment, a report) is asked for with one of the ledger's own: the patient with the most
lines, the newest invoice and payment, each report by name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from clinicledger.domain.permissions import Role
from clinicledger.services import users
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork

CLINICLEDGER = str(Path(sys.executable).parent / "clinicledger")
PASSWORD = "bench-password-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SLOW_S = 5.0  # a page this slow is asked for once, not ``repeats`` times
# The query an endpoint needs to answer more than a refusal.
QUERIES = {"/api/v1/balances": "?patient={patient}"}
_PARAM = re.compile(r"\{([a-z_]+)(?::\w+)?\}")  # {code:path}, {payment:ledger_id}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def build_demo(folder: Path) -> Path:
    db = folder / "demo.db"
    subprocess.run([CLINICLEDGER, "--db", str(db), "demo"], check=True, stdout=subprocess.DEVNULL)
    return db


def add_logins(db: Path) -> str:
    """An admin login and a reception token (for the writing clients); the token."""
    engine = make_engine(str(db))
    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%H%M%S%f")

    def uow() -> UnitOfWork:
        return UnitOfWork(engine, now=dt.datetime.now(dt.UTC), actor="bench")

    users.add_user(uow(), users.AddUser(name=f"bench{stamp}", role=Role.ADMIN, password=PASSWORD))
    made = users.create_token(uow(), users.CreateToken(name=f"bench{stamp}", user=f"bench{stamp}"))
    engine.dispose()
    os.environ["BENCH_WEB_USER"] = f"bench{stamp}"
    return made.secret


MASTER_TABLES = ("locations", "providers", "payers", "items", "products")  # patients: the busiest


def samples(db: Path) -> dict[str, str]:
    """A value for each path parameter the pages and endpoints take."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    patient = conn.execute(
        "SELECT p.code FROM patients p JOIN invoices i ON i.patient_id = p.id "
        "GROUP BY p.id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    invoice = conn.execute("SELECT max(number) FROM invoices").fetchone()[0]
    payment = conn.execute("SELECT max(id) FROM payments").fetchone()[0]
    line = conn.execute("SELECT max(id) FROM lines").fetchone()[0]
    codes = {  # a record's code on each kind of record's pages ({code} in their paths)
        f"code:{table}": conn.execute(f"SELECT min(code) FROM {table}").fetchone()[0]
        for table in MASTER_TABLES
    }
    conn.close()
    return {
        **codes,
        "code": patient,
        "patient": patient,
        "number": str(invoice),
        "invoice": str(invoice),
        "payment": f"PAY-{payment:06d}",
        "line": f"L-{line:06d}",
        "name": "debtors",
    }


def serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [CLINICLEDGER, "--db", str(db), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the server did not start")


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login").text
    found = _CSRF.search(form)
    assert found is not None, "no CSRF token on the login page"
    answer = client.post(
        "/login",
        data={"name": os.environ["BENCH_WEB_USER"], "password": PASSWORD, "csrf_token": found[1]},
    )
    assert answer.status_code in (200, 303), answer.status_code
    return client


def paths(base: str, values: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every GET page and API path, with sample values; and those that could not be
    filled in (named in the output, not timed)."""
    from clinicledger.web.app import PAGES

    wanted: list[str] = []
    skipped: list[str] = []
    templates = [
        route.path  # type: ignore[attr-defined]
        for router in PAGES
        for route in router.routes
        if "GET" in getattr(route, "methods", ())
    ]
    api = httpx.get(f"{base}/openapi.json").json()
    templates += [
        path + QUERIES.get(path, "") for path, ops in api["paths"].items() if "get" in ops
    ]
    for template in dict.fromkeys(templates):
        if template in ("/login", "/logout") or template.endswith(
            (".pdf", "/pdf", "/receipt", ".csv")
        ):
            continue
        names = _PARAM.findall(template)
        table = next((t for t in MASTER_TABLES if f"/{t}/" in template), None)
        given = values if table is None else {**values, "code": values[f"code:{table}"]}
        if all(n in given for n in names):
            wanted.append(_PARAM.sub(lambda m, given=given: given[m[1]], template))
        else:
            skipped.append(template)
    return wanted, skipped


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def time_pages(base: str, token: str, wanted: list[str], repeats: int) -> list[dict[str, Any]]:
    pages = signed_in(base)
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    found = []
    for path in wanted:
        client = api if path.startswith("/api/") else pages
        times: list[float] = []
        status: int | str = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            try:
                status = client.get(path).status_code
            except httpx.TimeoutException:
                status = "timed out"
            times.append(time.perf_counter() - t0)
            if times[-1] > SLOW_S:  # a whole-ledger answer (the check): once is enough
                break
        found.append(
            {
                "path": path,
                "status": status,
                "asked": len(times),
                "median_ms": statistics.median(times) * 1000,
                "p95_ms": _p95(times) * 1000,
            }
        )
    return found


def desk(db: Path, wanted: int) -> list[dict[str, str]]:
    """For the writing clients: patients, each with a location, an item and its provider
    (the ledger's own codes), to invoice and be paid for."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    location = conn.execute("SELECT code FROM locations WHERE active ORDER BY id").fetchone()[0]
    provider = conn.execute("SELECT code FROM providers WHERE active ORDER BY id").fetchone()[0]
    item = conn.execute("SELECT code FROM items WHERE active ORDER BY id").fetchone()[0]
    patients = conn.execute(
        "SELECT code FROM patients WHERE active ORDER BY id LIMIT ?", (wanted,)
    ).fetchall()
    conn.close()
    return [
        {"patient": p[0], "location": location, "provider": provider, "item": item}
        for p in patients
    ]


def _client(base: str, token: str, visits: list[dict[str, str]], seconds: float, out: Any) -> None:
    """Until ``seconds`` have passed: invoice a visit, record its payment, allocate it
    (three POSTs, as the front desk does at the end of an appointment)."""
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    times: list[float] = []
    errors: dict[str, int] = {}
    today = dt.date.today().isoformat()
    end = time.perf_counter() + seconds

    def post(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        t0 = time.perf_counter()
        answer = api.post(path, json=body)
        times.append(time.perf_counter() - t0)
        if answer.status_code == 201:
            found: dict[str, Any] = answer.json()
            return found
        code = answer.json().get("error", {}).get("code") if answer.content else None
        key = f"{answer.status_code} {code}"
        errors[key] = errors.get(key, 0) + 1
        return None

    n = 0
    while time.perf_counter() < end:
        visit = visits[n % len(visits)]
        n += 1
        line = {"item": visit["item"], "provider": visit["provider"], "date": today}
        made = post(
            "/api/v1/invoices",
            {"patient": visit["patient"], "location": visit["location"], "lines": [line]},
        )
        if made is None:
            continue
        body = {"from": visit["patient"], "amount": "10.00", "method": "eftpos"}
        paid = post("/api/v1/payments", {**body, "received": today, "location": visit["location"]})
        if paid is not None:
            post(f"/api/v1/payments/{paid['id']}/allocations", {"auto": True})
    out.put({"times": times, "errors": errors})


def clients(base: str, token: str, db: Path, processes: int, seconds: float) -> dict[str, Any]:
    visits = desk(db, 50 * processes)
    out: Any = multiprocessing.Queue()
    share = [visits[i::processes] for i in range(processes)]
    workers = [
        multiprocessing.Process(target=_client, args=(base, token, share[i], seconds, out))
        for i in range(processes)
    ]
    start = time.perf_counter()
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    times = [t for r in results for t in r["times"]]
    errors: dict[str, int] = {}
    for r in results:
        for key, n in r["errors"].items():
            errors[key] = errors.get(key, 0) + n
    return {
        "clients": processes,
        "seconds": elapsed,
        "requests": len(times),
        "requests_per_s": len(times) / elapsed,
        "errors": errors,
        "median_ms": statistics.median(times) * 1000 if times else None,
        "p95_ms": _p95(times) * 1000 if times else None,
    }


def month_reports(month: str, patient: str) -> list[str]:
    """Every report's page for one month (``YYYY-MM``): a period's reports over it, a
    point-in-time report as of its last day, a patient's for ``patient``."""
    from clinicledger.reports.registry import REPORTS

    first = dt.date.fromisoformat(month + "-01")
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    wanted = []
    for name, spec in REPORTS.items():
        asked = {"patient": patient} if "patient" in spec.filters else {}
        if "from_date" in spec.filters:
            asked |= {"from": first.isoformat(), "to": last.isoformat()}
        else:
            asked |= {"as_of": last.isoformat()}
        wanted.append(f"/reports/{name}?" + "&".join(f"{k}={v}" for k, v in asked.items()))
    return wanted


def measure(
    db: Path | None, repeats: int, processes: int, seconds: float, month: str | None = None
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="clinicledger-web-"))
    ledger = db if db is not None else build_demo(folder)
    token = add_logins(ledger)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(ledger, port)
    try:
        values = samples(ledger)
        wanted, skipped = paths(base, values)
        if month is not None:
            wanted += month_reports(month, values["patient"])
        # the whole-ledger check last: on a large ledger it outlives the client's timeout and
        # goes on in the server's threads, which would slow every page asked for after it
        wanted.sort(key=lambda path: path.endswith("/check"))
        found: dict[str, Any] = {
            "ledger": "demo practice" if db is None else str(db),
            "loadavg_before": os.getloadavg(),
            "pages": time_pages(base, token, wanted, repeats),
            "skipped": skipped,
        }
        if processes:
            found["clients"] = clients(base, token, ledger, processes, seconds)
        found["loadavg_after"] = os.getloadavg()
        return found
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # still answering a request it will not finish
            server.kill()
            server.wait()


def render(found: dict[str, Any]) -> str:
    pages = found["pages"]
    slowest = max(pages, key=lambda p: p["p95_ms"])
    out = [
        f"Over the {found['ledger']} (load average "
        f"{', '.join(f'{x:.1f}' for x in found['loadavg_before'])}): {len(pages)} pages and "
        f"endpoints, each asked for in turn; the slowest p95 is {slowest['path']} at "
        f"{slowest['p95_ms']:,.0f} ms (target for pages: p95 under 150 ms on the demo).",
        "",
        "| path | status | asked | median | p95 |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| `{p['path']}` | {p['status']} | {p['asked']} | "
            f"{p['median_ms']:,.1f} ms | {p['p95_ms']:,.1f} ms |"
            for p in pages
        ),
        "",
    ]
    if found["skipped"]:
        out += [
            "Not timed (no sample for their path): "
            + ", ".join(f"`{s}`" for s in found["skipped"]),
            "",
        ]
    c = found.get("clients")
    if c:
        out += [
            f"{c['clients']} API clients at once, each invoicing a visit, recording its payment "
            f"and allocating it (three POSTs) for {c['seconds']:.0f} s: "
            f"{c['requests']:,} requests, {c['requests_per_s']:,.1f} requests/s, "
            f"median {c['median_ms']:,.0f} ms, p95 {c['p95_ms']:,.0f} ms, "
            f"errors: {c['errors'] or 'none'}.",
            "",
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        type=Path,
        nargs="*",
        default=[],
        help="ledger files, timed after a new demo practice (write on copies)",
    )
    parser.add_argument(
        "--month", default="2025-03", help="YYYY-MM: every report's page over it, on --db"
    )
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8, help="writing API clients (0: none)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="print the figures, not the table")
    parser.add_argument("--results", type=Path, help="also write them into this RESULTS.md")
    args = parser.parse_args(argv)
    runs = [measure(None, args.repeats, args.clients, args.seconds)]
    for db in args.db:
        write(runs, args.results)  # each ledger's figures kept as soon as they are had
        runs.append(measure(db, max(3, args.repeats // 4), 0, 0, args.month))  # reads only
    print(json.dumps(runs, indent=2) if args.json else "\n".join(render(r) for r in runs))
    write(runs, args.results)
    return 0


def write(runs: list[dict[str, Any]], results: Path | None) -> None:
    (Path(__file__).parent / "data").mkdir(exist_ok=True)
    (Path(__file__).parent / "data" / "web.json").write_text(json.dumps(runs, indent=2))
    if results is not None:
        import speed

        heading = "## Pages and the API (issue 10): `bench/web.py`"
        speed.replace_section(results, [heading, "", *(render(r) for r in runs)], "web")


if __name__ == "__main__":
    raise SystemExit(main())
