"""What the hash-chained journal costs (issue 8): the write path and a bulk load, by the
code just before the journal was chained and by today's, side by side in one run.

    .venv/bin/python bench/chaining.py [--pairs 300] [--rounds 4] [--scale 0.02]

Each version runs from a copy of its own ``src/`` and ``bench/`` (``git archive``), on a
ledger of its own made by its own migrations, in its own process: the same payments
recorded and allocated through the services, and the same generated practice loaded by
its own generator. The rounds alternate between the versions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
BEFORE_CHAINING = "b4b3267"  # the commit before "journal proves itself" (2864e57)

# Run inside a version's copy: build a small ledger through the services, then time
# ``pairs`` payments recorded and allocated; print pairs per second.
WRITE_PATH = r"""
import datetime as dt, json, sys, time
from clinicledger.domain.choices import LineKind, PaymentMethod
from clinicledger.services import invoicing, masters
from clinicledger.services.invoicing import LineSpec
from clinicledger.services.payments import Allocate, RecordPayment, allocate, record_payment
from clinicledger.store import schema
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork

path, pairs = sys.argv[1], int(sys.argv[2])
engine = make_engine(path)
clock = [dt.datetime(2024, 1, 5, 8, tzinfo=dt.UTC)]

def uow():
    clock[0] += dt.timedelta(seconds=1)
    return UnitOfWork(engine, now=clock[0], actor="bench")  # a clock in the past

masters.init_ledger(engine, uow)
masters.add_location(uow(), code="MAIN", name="Main")
masters.add_provider(uow(), code="DR1", name="Dr One")
masters.add_item(uow(), code="500", description="Consult", fee_cents=10000)
lines = []
for n in range(pairs):
    masters.add_patient(uow(), code=f"P{n}", name=f"Patient {n}")
    made = invoicing.create_invoice(uow(), invoicing.CreateInvoice(
        patient_code=f"P{n}", location_code="MAIN", lines=(LineSpec(
            kind=LineKind.SERVICE, item_code="500", provider_code="DR1",
            service_date=dt.date(2024, 1, 2)),)))
    lines.append((f"P{n}", made.lines[0].id))
t0 = time.perf_counter()
for code, line_id in lines:
    paid = record_payment(uow(), RecordPayment(
        from_code=code, amount_cents=10000, method=PaymentMethod.EFTPOS,
        received_date=dt.date(2024, 1, 3), location_code="MAIN"))
    allocate(uow(), Allocate(payment_id=paid, targets=((line_id, 10000),)))
print(json.dumps({"pairs_per_s": pairs / (time.perf_counter() - t0)}))
"""

# Run inside a version's copy, from its bench/: load a generated practice; print rows/s.
BULK_LOAD = r"""
import json, sys, time
from pathlib import Path
import generate, run
path, scale = Path(sys.argv[1]), float(sys.argv[2])
run.prepare_sqlite(path)
sink = generate.SqliteSink(path)
t0 = time.perf_counter()
try:
    stats = generate.generate(generate.Plan.for_scale(scale), sink, batch_rows=100_000)
finally:
    sink.close()
rows = sum(stats.rows.values())
print(json.dumps({"rows": rows, "rows_per_s": rows / (time.perf_counter() - t0)}))
"""


def snapshot(commit: str, into: Path) -> Path:
    """``src/`` and ``bench/`` of ``commit``, extracted under ``into``."""
    dest = into / commit
    if not (dest / "src").exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(BENCH.parent), "archive", commit, "src", "bench"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        # That commit's generator still passed the actor to Entry, which issue 7 had made
        # the unit of work's: the one line that kept it from running (fixed since).
        generator = dest / "bench" / "generate.py"
        text = generator.read_text()
        generator.write_text(
            "\n".join(line for line in text.split("\n") if line.strip() != "actor=ACTOR,")
        )
    return dest


def _run(tree: Path, code: str, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {done.stderr.strip().splitlines()[-1]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def measure_chaining(*, pairs: int, rounds: int, scale: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="clinicledger-chaining-"))
    trees = {"before chaining": snapshot(BEFORE_CHAINING, work), "now": Path(BENCH.parent)}
    writes: dict[str, list[float]] = {name: [] for name in trees}
    loads: dict[str, list[float]] = {name: [] for name in trees}
    for n in range(rounds):
        for name, tree in trees.items():
            db = work / f"{name.replace(' ', '-')}-{n}.db"
            writes[name].append(_run(tree, WRITE_PATH, str(db), str(pairs))["pairs_per_s"])
            loaded = _run(tree, BULK_LOAD, str(db) + ".load", str(scale), cwd=tree / "bench")
            loads[name].append(loaded["rows_per_s"])
    found = {
        name: {"write_pairs_per_s": _median(writes[name]), "load_rows_per_s": _median(loads[name])}
        for name in trees
    }
    before, now = found["before chaining"], found["now"]
    return {
        "before_commit": BEFORE_CHAINING,
        "loadavg": os.getloadavg(),
        **found,
        "write_ratio": now["write_pairs_per_s"] / before["write_pairs_per_s"],
        "load_ratio": now["load_rows_per_s"] / before["load_rows_per_s"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.02)
    args = parser.parse_args()
    found = measure_chaining(pairs=args.pairs, rounds=args.rounds, scale=args.scale)
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
