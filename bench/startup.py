"""Start-up and reads: a whole ``clinicledger`` process, and a patient's balance in-process,
each beside its floor in the same run (issue 9, targets 1 and 2).

    .venv/bin/python bench/startup.py --db FILE [--runs 20] [--patients 300]

Floors: a whole process that imports sqlite3 and sums one patient's postings (the least a
process answering the question can do), and that one statement in-process on an open
connection. The runs alternate (ours, the floor's, ours...) so that both meet the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clinicledger.services.balances import balance
from clinicledger.store.engine import make_engine

CLINICLEDGER = str(Path(sys.executable).parent / "clinicledger")

# A patient's own balance in one statement: what the floor of both measures runs.
FLOOR_SQL = (
    "SELECT sum(CASE WHEN p.payer_id IS NULL THEN p.amount_cents ELSE 0 END) FROM postings p"
    " WHERE p.patient_id = (SELECT id FROM patients WHERE code = ?)"
    " AND p.account IN ('RECEIVABLE', 'UNALLOCATED')"
)
FLOOR_PROCESS = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1])\n"
    f"print(c.execute({FLOOR_SQL!r}, (sys.argv[2],)).fetchone()[0])\n"
)


def patients(db: str, wanted: int, seed: int = 11) -> list[str]:
    """Codes of patients who have postings of their own."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        top = conn.execute("SELECT max(id) FROM patients").fetchone()[0]
        rng = random.Random(seed)
        found: list[str] = []
        while len(found) < wanted:
            patient_id = rng.randrange(1, top + 1)
            row = conn.execute(
                "SELECT code FROM patients WHERE id = ? AND EXISTS"
                " (SELECT 1 FROM postings WHERE patient_id = patients.id)",
                (patient_id,),
            ).fetchone()
            if row:
                found.append(row[0])
    conn.close()
    return found


def _timed_process(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def startup(db: str, codes: list[str], runs: int) -> dict[str, Any]:
    """Median wall and CPU seconds of whole processes, alternating."""
    cases = {
        "clinicledger --help": lambda _: [CLINICLEDGER, "--help"],
        "clinicledger balance --patient P": lambda code: [
            CLINICLEDGER, "--db", db, "balance", "--patient", code,
        ],
        "floor: python + sqlite3, one statement": lambda code: [
            sys.executable, "-c", FLOOR_PROCESS, db, code,
        ],
    }  # fmt: skip
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for n in range(runs):
        for name, argv in cases.items():
            wall, cpu = _timed_process(argv(codes[n % len(codes)]))
            walls[name].append(wall)
            cpus[name].append(cpu)
    floor = _median(walls["floor: python + sqlite3, one statement"])
    return {
        name: {
            "wall_s": _median(walls[name]),
            "cpu_s": _median(cpus[name]),
            "ratio_to_floor": _median(walls[name]) / floor,
        }
        for name in cases
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def reads(url: str, db: str, codes: list[str], rounds: int = 4) -> dict[str, Any]:
    """A patient's balance in-process through the service (the engine's pooled
    connection), beside the one statement on an open sqlite3 connection."""
    engine = make_engine(url)
    raw = sqlite3.connect(db, isolation_level=None)
    ours: list[float] = []
    floor: list[float] = []
    for code in codes:  # warm both: every patient's pages in each one's page cache
        balance(engine, patient_code=code)
        raw.execute(FLOOR_SQL, (code,)).fetchone()
    for n in range(rounds):
        order = ("service", "floor") if n % 2 == 0 else ("floor", "service")
        for code in codes:  # each goes first in every other round
            for which in order:
                t0 = time.perf_counter()
                if which == "service":
                    balance(engine, patient_code=code)
                else:
                    raw.execute(FLOOR_SQL, (code,)).fetchone()
                (ours if which == "service" else floor).append(time.perf_counter() - t0)
    engine.dispose()
    raw.close()
    found = {"service": _percentiles(ours), "floor": _percentiles(floor)}
    found["ratio_p50"] = found["service"]["p50_ms"] / found["floor"]["p50_ms"]
    found["ratio_p99"] = found["service"]["p99_ms"] / found["floor"]["p99_ms"]
    return found


def measure(db: str, *, runs: int, patients_wanted: int) -> dict[str, Any]:
    codes = patients(db, patients_wanted)
    return {
        "loadavg_before": os.getloadavg(),
        "startup": startup(db, codes, runs),
        "reads": reads(f"sqlite:///{db}", db, codes),
        "loadavg_after": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a SQLite ledger file")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--patients", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(measure(args.db, runs=args.runs, patients_wanted=args.patients), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
