"""Side by side with the plain-text accounting tools accountants know (issue 9, item 7).

    .venv/bin/python bench/tools.py --postings 100000 1000000 [--repeats 3]

For each size, the generator (``bench/generate.py``) builds a clinicledger SQLite practice
whose journal has about that many postings (``bench/data/tools-scale-<scale>.db``; kept and
reused), and the whole of that journal is exported, entry by entry, to an hledger/ledger
journal (one file, both read it) and to a Beancount file. Then two questions are timed as
whole processes, in one run, each tool beside clinicledger on the same journal:

- one patient's balance as of a date (``clinicledger balance --patient P --as-of D``);
- one month's income by provider (``clinicledger report income-by-provider --from D1
  --to D2 --basis snapshot --format csv``): the allocations, credit used and un-allocations
  dated in the month, summed per provider of the line they were applied to.

Each tool's answer is checked against clinicledger's to the cent (the run fails on any
difference). Each timing is repeated (3 times by default) in turn across the tools; the
median wall time is reported, with the highest peak RSS of the runs (GNU time's maximum
resident set size), the median CPU time (user + system) and the 1-minute load average
before each run.

The tools are installed if missing: hledger and ledger from Debian's packages (apt-get, as
root), Beancount and beanquery (``bean-query``) from PyPI, pinned as in the ``bench``
optional dependencies of pyproject.toml. Beancount is timed twice: as installed (its loader
keeps a pickle cache of the parsed file beside it, made here by one untimed run first) and
with ``BEANCOUNT_DISABLE_LOAD_CACHE`` set (a parse of the text on every run, as hledger and
ledger always do).

From bench/run.py: ``found = tools.compare((100_000, 1_000_000))`` returns the figures as a
dict (JSON-ready) and ``tools.render(found)`` the Markdown table for RESULTS.md.

The account names carry the dimensions the two questions need:

| clinicledger posting | account |
|---|---|
| RECEIVABLE, the patient's own portion | ``Assets:Receivable:<provider>:Patient:<patient>`` |
| RECEIVABLE, a payer's portion | ``Assets:Receivable:<provider>:Payer:<payer>`` |
| UNALLOCATED, a patient's money | ``Liabilities:Unallocated:Patient:<patient>`` |
| UNALLOCATED, a payer's money | ``Liabilities:Unallocated:Payer:<payer>`` |
| REVENUE_BILLED | ``Income:Billed:<provider>`` |
| GST_PAYABLE | ``Liabilities:GST`` |
| UNBANKED | ``Assets:Unbanked:<location>`` |
| WRITE_OFF | ``Expenses:WriteOff:<reason>`` |
| REFUNDED | ``Assets:Refunded`` |
| OPENING_BALANCE | ``Equity:Opening`` |
| RETAINED | ``Liabilities:Retained`` |

(``<provider>`` is ``NoProvider`` for a line of no provider.) Each entry is a transaction
dated on its ``effective_date`` whose description (Beancount: narration) is its kind, with
the entry's id as its code (Beancount: a link ``^entry-<id>``); amounts are the integer
cents written as decimal text in ``AUD``. A patient's balance is then the receivable of
the patient's own portions plus the patient's unallocated money; a month's income of a
provider is minus the change, by allocation kinds, of the receivable under
``Assets:Receivable:<provider>``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"

# pinned as in pyproject.toml's `bench` optional dependencies
BEANCOUNT_PINS = ("beancount==3.2.3", "beanquery==0.2.0")
BEANCOUNT_VENV = Path(__file__).resolve().parent / "data" / "beancount-venv"
BEAN_QUERY = BEANCOUNT_VENV / "bin" / "bean-query"
DEBIAN_TOOLS = {"hledger": "hledger", "ledger": "ledger"}  # executable: Debian package

# Postings per unit of scale of the generator (6,166,466 at scale 1.0): a size's
# scale is its postings over this, rounded to 4 decimal places.
POSTINGS_AT_SCALE_1 = 6_166_466

AS_OF = dt.date(2025, 6, 30)
MONTH_FROM = dt.date(2025, 3, 1)  # the month of bench/reports.py
MONTH_TO = dt.date(2025, 3, 31)
COMMODITY = "AUD"
# the kinds whose receivable postings are income (clinicledger.reports.income_by_provider)
INCOME_KINDS = ("allocation", "credit_applied", "unallocation")
NO_PROVIDER = "NoProvider"

TOOLS = ("clinicledger", "hledger", "ledger", "beancount", "beancount (no cache)")
QUERIES = ("patient balance", "income by provider (month)")

Log = Callable[[str], None]


def log_stderr(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] tools: {message}", file=sys.stderr, flush=True)


def load1() -> float:
    return round(os.getloadavg()[0], 2)


# --- the tools ---------------------------------------------------------------------------


def venv_bin(name: str) -> str:
    """An executable beside this Python (the virtual environment's), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found beside {sys.executable} nor on PATH")
    return found


def ensure_tools(log: Log = log_stderr) -> dict[str, str]:
    """Install what is missing (hledger and ledger from Debian, Beancount from PyPI) and
    return each tool's version."""
    missing = [pkg for exe, pkg in DEBIAN_TOOLS.items() if shutil.which(exe) is None]
    if missing:
        if os.geteuid() != 0:
            raise SystemExit(f"missing {', '.join(missing)}: run as root or apt-get install them")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        log(f"installing {', '.join(missing)} from Debian's packages")
        if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=True)
            subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
    wanted = dict(pin.split("==") for pin in BEANCOUNT_PINS)
    if not BEAN_QUERY.exists():
        # A virtual environment of its own: Beancount is GPL-2.0, a tool we measure
        # against, never a dependency of clinicledger (which is Apache-2.0).
        log(f"installing {', '.join(BEANCOUNT_PINS)} from PyPI into {BEANCOUNT_VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(BEANCOUNT_VENV)], check=True)
        pip = [str(BEANCOUNT_VENV / "bin" / "pip"), "install", "-q", *BEANCOUNT_PINS]
        subprocess.run(pip, check=True)

    def first_line(command: list[str]) -> str:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return out.strip().splitlines()[0]

    return {
        "hledger": first_line(["hledger", "--version"]),
        "ledger": first_line(["ledger", "--version"]),
        "beancount": f"beancount {wanted['beancount']}, beanquery {wanted['beanquery']}",
        "time": first_line(["/usr/bin/time", "--version"]),
    }


# --- the databases -----------------------------------------------------------------------


def scale_for(postings: int) -> float:
    return round(postings / POSTINGS_AT_SCALE_1, 4)


def database_path(scale: float, data: Path = DATA) -> Path:
    return data / f"tools-scale-{scale:g}.db"


def build_database(path: Path, scale: float, log: Log = log_stderr) -> None:
    """A practice of the generator at ``scale`` (recreated), as bench/run.py loads it."""
    import generate  # bench/generate.py
    from clinicledger.store import schema
    from clinicledger.store.engine import make_engine

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    plan = generate.Plan.for_scale(scale)
    log(f"generating scale {scale:g} ({plan.lines:,} lines) into {path.name}")
    sink = generate.SqliteSink(path)
    try:
        stats = generate.generate(plan, sink, batch_rows=100_000)
    finally:
        sink.close()
    problems = generate.check_plan_totals(plan, stats)
    if problems:
        raise SystemExit("generator did not meet its plan: " + "; ".join(problems))
    log(f"generated {stats.rows['postings']:,} postings in {stats.wall_seconds:.0f} s")


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def counts(path: Path) -> tuple[int, int]:
    """(entries, postings) of a database."""
    with read_only(path) as conn:
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        postings = conn.execute("SELECT count(*) FROM postings").fetchone()[0]
    return int(entries), int(postings)


def busiest_patient(path: Path, as_of: dt.date) -> str:
    """The patient with the most postings of their own balance up to ``as_of``."""
    with read_only(path) as conn:
        (code,) = conn.execute(
            "SELECT patients.code FROM postings JOIN patients ON patients.id = patient_id "
            "WHERE payer_id IS NULL AND account IN ('RECEIVABLE', 'UNALLOCATED') "
            "AND effective_date <= ? GROUP BY patient_id ORDER BY count(*) DESC, patient_id "
            "LIMIT 1",
            (as_of.isoformat(),),
        ).fetchone()
    return str(code)


# --- the export --------------------------------------------------------------------------

_COMPONENT = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")


def component(code: str) -> str:
    """A code as one account-name component that hledger, ledger and Beancount all accept
    (Beancount's rule: a capital or digit, then letters, digits and hyphens)."""
    if _COMPONENT.fullmatch(code):
        return code
    cleaned = re.sub(r"[^A-Za-z0-9-]", "-", code)
    return cleaned if _COMPONENT.fullmatch(cleaned) else "X" + cleaned


def cents_text(cents: int) -> str:
    """Integer cents as decimal text: 123456 -> '1234.56', -5 -> '-0.05'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


class Names:
    """Account names from the dimension ids of a posting (codes looked up once)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        def codes(table: str) -> dict[int, str]:
            rows = conn.execute(f"SELECT id, code FROM {table}")  # fixed table names
            return {int(i): component(str(c)) for i, c in rows}

        self.patients = codes("patients")
        self.payers = codes("payers")
        self.providers = codes("providers")
        self.locations = codes("locations")
        self.cache: dict[tuple[Any, ...], str] = {}

    def party(self, patient_id: int | None, payer_id: int | None) -> str:
        # the patient's own portion is the one of no payer (clinicledger's party_balance)
        if payer_id is not None:
            return f"Payer:{self.payers[payer_id]}"
        if patient_id is not None:
            return f"Patient:{self.patients[patient_id]}"
        return "Unknown"

    def account(
        self,
        account: str,
        patient_id: int | None,
        payer_id: int | None,
        provider_id: int | None,
        location_id: int | None,
        reason: str | None,
    ) -> str:
        key = (account, patient_id, payer_id, provider_id, location_id, reason)
        name = self.cache.get(key)
        if name is not None:
            return name
        provider = self.providers[provider_id] if provider_id is not None else NO_PROVIDER
        if account == "RECEIVABLE":
            name = f"Assets:Receivable:{provider}:{self.party(patient_id, payer_id)}"
        elif account == "UNALLOCATED":
            name = f"Liabilities:Unallocated:{self.party(patient_id, payer_id)}"
        elif account == "REVENUE_BILLED":
            name = f"Income:Billed:{provider}"
        elif account == "GST_PAYABLE":
            name = "Liabilities:GST"
        elif account == "UNBANKED":
            where = self.locations[location_id] if location_id is not None else "Unknown"
            name = f"Assets:Unbanked:{where}"
        elif account == "WRITE_OFF":
            name = f"Expenses:WriteOff:{component((reason or 'Unknown').title())}"
        elif account == "REFUNDED":
            name = "Assets:Refunded"
        elif account == "OPENING_BALANCE":
            name = "Equity:Opening"
        elif account == "RETAINED":
            name = "Liabilities:Retained"
        else:
            name = f"Equity:Other:{component(account.title().replace('_', ''))}"
        self.cache[key] = name
        return name


def journal_rows(
    conn: sqlite3.Connection,
) -> Iterable[tuple[int, str, str, list[tuple[str, int]]]]:
    """(entry id, effective date, kind, [(account, cents)]) of every entry, in id order."""
    names = Names(conn)
    rows = conn.execute(
        "SELECT e.id, e.effective_date, e.kind, p.account, p.amount_cents, p.patient_id, "
        "p.payer_id, p.provider_id, p.location_id, p.reason "
        "FROM entries e JOIN postings p ON p.entry_id = e.id ORDER BY e.id, p.id"
    )
    current: tuple[int, str, str] | None = None
    postings: list[tuple[str, int]] = []
    for entry_id, day, kind, account, cents, patient, payer, provider, location, reason in rows:
        if current is None or current[0] != entry_id:
            if current is not None:
                yield (*current, postings)
            current = (int(entry_id), str(day)[:10], str(kind))
            postings = []
        name = names.account(account, patient, payer, provider, location, reason)
        postings.append((name, int(cents)))
    if current is not None:
        yield (*current, postings)


def export(
    db: Path, ledger_out: Path, beancount_out: Path, *, max_postings: int | None = None
) -> dict[str, Any]:
    """Write the journal of ``db`` (the first ``max_postings`` postings' worth of whole
    entries, in id order; all of it if ``None``) as an hledger/ledger journal and as a
    Beancount file. Returns what was written."""
    started = time.perf_counter()
    accounts: set[str] = set()
    entries = postings = 0
    first_day: str | None = None
    body = beancount_out.with_suffix(".body.tmp")
    with (
        read_only(db) as conn,
        ledger_out.open("w", encoding="utf-8") as led,
        body.open("w", encoding="utf-8") as bean,
    ):
        led.write(f"; exported from {db.name} by bench/tools.py: one transaction per entry\n")
        for entry_id, day, kind, lines in journal_rows(conn):
            if max_postings is not None and postings + len(lines) > max_postings:
                break
            entries += 1
            postings += len(lines)
            first_day = day if first_day is None or day < first_day else first_day
            led.write(f"\n{day} ({entry_id}) {kind}\n")
            bean.write(f'\n{day} * "{kind}" ^entry-{entry_id}\n')
            for name, cents in lines:
                amount = f"    {name}  {cents_text(cents)} {COMMODITY}\n"
                led.write(amount)
                bean.write(amount)
                accounts.add(name)
    with beancount_out.open("w", encoding="utf-8") as out:
        out.write(f"; exported from {db.name} by bench/tools.py: one transaction per entry\n")
        out.write(f'option "title" "{db.stem}"\noption "operating_currency" "{COMMODITY}"\n\n')
        for name in sorted(accounts):
            out.write(f"{first_day} open {name} {COMMODITY}\n")
        with body.open(encoding="utf-8") as rest:
            shutil.copyfileobj(rest, out, 1 << 20)
    body.unlink()
    # a stale pickle cache of an earlier export must not be read
    cache = beancount_out.with_name(f".{beancount_out.name}.picklecache")
    cache.unlink(missing_ok=True)
    return {
        "entries": entries,
        "postings": postings,
        "accounts": len(accounts),
        "ledger_bytes": ledger_out.stat().st_size,
        "beancount_bytes": beancount_out.stat().st_size,
        "seconds": round(time.perf_counter() - started, 2),
    }


# --- the questions -----------------------------------------------------------------------


def to_cents(text: str) -> int:
    """Decimal text as printed by a tool ('1,234.56 AUD', 'AUD -3.50', '-7.54') to cents."""
    cleaned = text.replace(COMMODITY, "").replace(",", "").replace("$", "").strip()
    if cleaned in ("", "0"):
        return 0
    value = Decimal(cleaned) * 100
    if value != value.to_integral_value():
        raise ValueError(f"not whole cents: {text!r}")
    return int(value)


def provider_of(account: str) -> str | None:
    """``Assets:Receivable:PR07`` -> 'PR07' (``NoProvider``: None)."""
    code = account.strip().split(":")[2]
    return None if code == NO_PROVIDER else code


def income_from_accounts(pairs: Iterable[tuple[str, str]]) -> dict[str | None, int]:
    """Income per provider from (receivable account at depth 3, change) pairs."""
    income: dict[str | None, int] = {}
    for account, amount in pairs:
        cents = -to_cents(amount)
        if cents:
            key = provider_of(account)
            income[key] = income.get(key, 0) + cents
    return income


class Question:
    """One question asked of every tool: the command for each, and how to read its answer
    (an int of cents, or a dict of cents per provider code)."""

    def __init__(self, name: str, files: dict[str, Path], db: Path) -> None:
        self.name = name
        self.files = files
        self.db = db

    def command(self, tool: str) -> list[str]:
        raise NotImplementedError

    def parse(self, tool: str, out: str) -> Any:
        raise NotImplementedError


class PatientBalance(Question):
    def __init__(self, files: dict[str, Path], db: Path, patient: str, as_of: dt.date) -> None:
        super().__init__("patient balance", files, db)
        self.patient, self.as_of = patient, as_of
        code = component(patient)
        self.ledger_patterns = [
            f"^Assets:Receivable:[^:]+:Patient:{code}$",
            f"^Liabilities:Unallocated:Patient:{code}$",
        ]
        self.bean_pattern = f"^(Assets:Receivable:[^:]+|Liabilities:Unallocated):Patient:{code}$"
        self.end = (as_of + dt.timedelta(days=1)).isoformat()  # hledger/ledger: exclusive

    def command(self, tool: str) -> list[str]:
        if tool == "clinicledger":
            return [
                *(venv_bin("clinicledger"), "--db", str(self.db), "balance"),
                *("--patient", self.patient, "--as-of", self.as_of.isoformat()),
            ]
        if tool == "hledger":
            return [
                *("hledger", "-f", str(self.files["ledger"]), "balance", "-e", self.end),
                *("-O", "csv", "-N"),
                *(f"acct:{p}" for p in self.ledger_patterns),
            ]
        if tool == "ledger":
            return [
                *("ledger", "--init-file", "/dev/null", "-f", str(self.files["ledger"])),
                *("-e", self.end, "balance", "--flat", "--no-total"),
                *("--balance-format", "%(account)\t%(quantity(scrub(display_total)))\n"),
                *self.ledger_patterns,
            ]
        query = (
            f"SELECT sum(number) AS balance WHERE account ~ '{self.bean_pattern}' "
            f"AND date <= {self.as_of.isoformat()}"
        )
        return [str(BEAN_QUERY), "-f", "csv", str(self.files["beancount"]), query]

    def parse(self, tool: str, out: str) -> int:
        if tool == "clinicledger":
            found = re.search(r"balance (-?[\d,]+\.\d\d)", out)
            if found is None:
                raise ValueError(f"no balance in {out!r}")
            return to_cents(found.group(1))
        if tool == "hledger":
            rows = list(csv.reader(io.StringIO(out)))[1:]
            return sum(to_cents(amount) for _, amount in rows)
        if tool == "ledger":
            return sum(to_cents(line.split("\t")[1]) for line in out.splitlines() if line)
        rows = list(csv.reader(io.StringIO(out)))[1:]
        return sum(to_cents(row[0]) for row in rows if row and row[0])


class IncomeByProvider(Question):
    def __init__(self, files: dict[str, Path], db: Path, first: dt.date, last: dt.date) -> None:
        super().__init__("income by provider (month)", files, db)
        self.first, self.last = first, last
        self.end = (last + dt.timedelta(days=1)).isoformat()
        self.kinds = "^(" + "|".join(INCOME_KINDS) + ")$"

    def command(self, tool: str) -> list[str]:
        first, last = self.first.isoformat(), self.last.isoformat()
        if tool == "clinicledger":
            return [
                *(venv_bin("clinicledger"), "--db", str(self.db), "report", "income-by-provider"),
                *("--from", first, "--to", last, "--basis", "snapshot", "--format", "csv"),
            ]
        if tool == "hledger":
            return [
                *("hledger", "-f", str(self.files["ledger"]), "balance"),
                *("-b", first, "-e", self.end, "--depth", "3", "-O", "csv", "-N"),
                *("acct:^Assets:Receivable:", f"desc:{self.kinds}"),
            ]
        if tool == "ledger":
            return [
                *("ledger", "--init-file", "/dev/null", "-f", str(self.files["ledger"])),
                # the tree, not --flat: ledger 3.3 prints nothing for --flat --depth 3
                *("-b", first, "-e", self.end, "balance", "--no-total", "--depth", "3"),
                *("--balance-format", "%(account)\t%(quantity(scrub(display_total)))\n"),
                # a value expression: the query language would read ( | ) as its own
                *("--limit", f"account =~ /^Assets:Receivable:/ and payee =~ /{self.kinds}/"),
            ]
        query = (
            "SELECT root(account, 3) AS provider, sum(number) AS amount "
            f"WHERE account ~ '^Assets:Receivable:' AND narration ~ '{self.kinds}' "
            f"AND date >= {first} AND date <= {last} GROUP BY provider ORDER BY provider"
        )
        return [str(BEAN_QUERY), "-f", "csv", str(self.files["beancount"]), query]

    def parse(self, tool: str, out: str) -> dict[str | None, int]:
        if tool == "clinicledger":
            table = out.split("\n\n", 1)[0]  # the snapshot basis has no later section
            rows = csv.DictReader(io.StringIO(table))
            income: dict[str | None, int] = {}
            for row in rows:
                cents = to_cents(row["income"])
                if cents:
                    income[row["provider_code"] or None] = cents
            return income
        if tool == "ledger":
            pairs = [line.split("\t") for line in out.splitlines() if line]
            # the tree's parent (Assets:Receivable) is printed too
            return income_from_accounts((a, b) for a, b in pairs if a.count(":") == 2)
        rows = list(csv.reader(io.StringIO(out)))[1:]
        return income_from_accounts((row[0], row[1]) for row in rows if row)


# --- timing ------------------------------------------------------------------------------


def environment(tool: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LEDGER_FILE", None)
    env.pop("BEANCOUNT_DISABLE_LOAD_CACHE", None)
    env.pop("BEANCOUNT_LOAD_CACHE_FILENAME", None)
    if tool == "beancount (no cache)":
        env["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"
        # without the cache, Beancount's loader deletes the cache file: let it delete
        # one of another name, so that the other runs keep theirs
        env["BEANCOUNT_LOAD_CACHE_FILENAME"] = ".{filename}.no-cache-runs"
    return env


def timed(command: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command`` as a whole process under GNU time: wall seconds (measured here, from
    before the fork to after the wait), peak RSS (time's %M: the process's own, not its
    parent's), user + system CPU seconds, its output and the 1-minute load average before
    it."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rss_file:
        load = load1()
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file.name, *command],
            capture_output=True,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - started
        # the last line (a failed command's status line comes before it)
        rss_kib, user_s, system_s = Path(rss_file.name).read_text().splitlines()[-1].split()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return {
        "wall_s": wall,
        "rss_mib": int(rss_kib) / 1024,
        "cpu_s": float(user_s) + float(system_s),
        "load1": load,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


def show(value: Any, *, full: bool = False) -> str:
    """An answer as text: a balance, or income per provider (in short: how many providers
    and their total)."""
    if isinstance(value, int):
        return cents_text(value)
    if not full:
        return f"{len(value)} providers, total {cents_text(sum(value.values()))}"
    return ", ".join(
        f"{k or NO_PROVIDER} {cents_text(v)}" for k, v in sorted(value.items(), key=str)
    )


def ask(question: Question, repeats: int, postings: int, log: Log) -> list[dict[str, Any]]:
    """Time every tool on one question, ``repeats`` rounds each taking every tool in turn;
    each answer is checked against clinicledger's."""
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in TOOLS}
    expected: Any = None
    for round_no in range(repeats):
        for tool in TOOLS:
            run = timed(question.command(tool), environment(tool))
            errors = run.pop("stderr").strip()
            if errors and tool.startswith("beancount"):
                # bean-query reports the file's errors (an unopened account, a transaction
                # that does not balance) on stderr and answers all the same
                raise SystemExit(f"{tool} found errors in the export:\n{errors[:2000]}")
            answer = question.parse(tool, run.pop("stdout"))
            if tool == "clinicledger" and expected is None:
                expected = answer
                log(f"{postings:,} postings, {question.name}: clinicledger says {show(answer)}")
            if answer != expected:
                raise SystemExit(
                    f"{tool} differs from clinicledger on {question.name} at {postings:,} "
                    f"postings:\n  clinicledger: {show(expected, full=True)}\n"
                    f"  {tool}: {show(answer, full=True)}"
                )
            if round_no == 0 and tool != "clinicledger":
                log(f"  {tool} says the same: {show(answer)}")
            runs[tool].append(run)
            log(
                f"  round {round_no + 1} {tool}: {run['wall_s']:.2f} s, "
                f"{run['cpu_s']:.2f} s CPU, {run['rss_mib']:.0f} MiB (load {run['load1']})"
            )
    base = statistics.median(r["wall_s"] for r in runs["clinicledger"])
    figures = []
    for tool in TOOLS:
        walls = [r["wall_s"] for r in runs[tool]]
        median = statistics.median(walls)
        figures.append(
            {
                "tool": tool,
                "postings": postings,
                "query": question.name,
                "median_s": round(median, 3),
                "walls_s": [round(w, 3) for w in walls],
                "peak_rss_mib": round(max(r["rss_mib"] for r in runs[tool]), 1),
                "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs[tool]), 2),
                "ratio": round(median / base, 2),
                "load1": [r["load1"] for r in runs[tool]],
                "answer": show(expected, full=True),
            }
        )
    return figures


def prepare_size(
    target: int, data: Path, rebuild: bool, log: Log
) -> tuple[dict[str, Any], dict[str, Path], Path]:
    scale = scale_for(target)
    db = database_path(scale, data)
    if rebuild or not db.exists():
        build_database(db, scale, log)
    entries, postings = counts(db)
    files = {
        "ledger": data / f"tools-scale-{scale:g}.journal",
        "beancount": data / f"tools-scale-{scale:g}.beancount",
    }
    log(f"exporting {db.name} ({postings:,} postings) to hledger/ledger and Beancount")
    written = export(db, files["ledger"], files["beancount"])
    if (written["entries"], written["postings"]) != (entries, postings):
        raise SystemExit(f"export wrote {written}, the database has {entries}, {postings}")
    log(
        f"wrote {written['entries']:,} transactions, {written['accounts']:,} accounts, "
        f"{written['ledger_bytes'] / 2**20:.0f} MiB journal in {written['seconds']:.0f} s"
    )
    size = {"target": target, "scale": scale, "database": db.name, **written}
    return size, files, db


def compare(
    sizes: Sequence[int] = (100_000, 1_000_000),
    *,
    repeats: int = 3,
    data: Path = DATA,
    rebuild: bool = False,
    log: Log = log_stderr,
) -> dict[str, Any]:
    """The whole comparison: the figures as a JSON-ready dict (see :func:`render`)."""
    data.mkdir(parents=True, exist_ok=True)
    found: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": ensure_tools(log),
        "repeats": repeats,
        "as_of": AS_OF.isoformat(),
        "month": [MONTH_FROM.isoformat(), MONTH_TO.isoformat()],
        "sizes": [],
        "figures": [],
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    for target in sizes:
        size, files, db = prepare_size(target, data, rebuild, log)
        size["patient"] = busiest_patient(db, AS_OF)
        found["sizes"].append(size)
        # one untimed load of the Beancount file, to make the pickle cache it keeps
        warm = IncomeByProvider(files, db, MONTH_FROM, MONTH_TO).command("beancount")
        subprocess.run(warm, env=environment("beancount"), capture_output=True, check=True)
        for question in (
            PatientBalance(files, db, size["patient"], AS_OF),
            IncomeByProvider(files, db, MONTH_FROM, MONTH_TO),
        ):
            found["figures"].extend(ask(question, repeats, size["postings"], log))
    found["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    found["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return found


def render(found: dict[str, Any]) -> str:
    """The figures as Markdown (a heading-less section for RESULTS.md)."""
    out = [
        "| tool | postings | query | median wall s | peak RSS MiB | ratio to clinicledger "
        "| median CPU s (user + sys) | load (1 min) at each run |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for f in found["figures"]:
        r = f["ratio"]
        ratio = "1" if f["tool"] == "clinicledger" else f"{r:.2f}x" if r < 10 else f"{r:.0f}x"
        cpu = f"{f['median_cpu_s']:.2f}" if "median_cpu_s" in f else "-"  # not kept at first
        out.append(
            f"| {f['tool']} | {f['postings']:,} | {f['query']} | {f['median_s']:.2f} "
            f"| {f['peak_rss_mib']:,.0f} | {ratio} | {cpu} "
            f"| {', '.join(map(str, f['load1']))} |"
        )
    out.append("")
    for s in found["sizes"]:
        out.append(
            f"- {s['postings']:,} postings: generator scale {s['scale']:g} "
            f"({s['entries']:,} entries, {s['accounts']:,} accounts in the export; journal "
            f"{s['ledger_bytes'] / 2**20:.1f} MiB, Beancount {s['beancount_bytes'] / 2**20:.1f}"
            f" MiB); patient {s['patient']} as of {found['as_of']}, month "
            f"{found['month'][0]}..{found['month'][1]}."
        )
    versions = found["versions"]
    out.append(
        f"- {versions['hledger']}; {versions['ledger']}; {versions['beancount']}. Whole "
        f"processes, median of {found['repeats']} runs taken in turn, peak RSS the highest of "
        "them (GNU time); the ratio is of median wall times. The machine is shared: the "
        "CPU seconds (user + system) are the figure least moved by its load. Every tool's "
        "answer equals clinicledger's to the cent. "
        '"beancount" reads its pickle cache (made by one untimed run); "no cache" parses '
        "the text every run, as hledger and ledger do."
    )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postings", type=int, nargs="+", default=[100_000, 1_000_000], help="sizes"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the databases")
    parser.add_argument("--json", action="store_true", help="print the figures, not the table")
    args = parser.parse_args(argv)
    found = compare(args.postings, repeats=args.repeats, data=args.data, rebuild=args.rebuild)
    (args.data / "tools.json").write_text(json.dumps(found, indent=2))
    print(json.dumps(found, indent=2) if args.json else render(found), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
