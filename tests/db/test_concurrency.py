"""Several clerks at once (DESIGN.md, "Concurrency, idempotency, immutability").

Eight processes, released together by a barrier, allocate, refund, un-allocate and reverse
against the same payments, on SQLite and on PostgreSQL, with the real clock (as the command
line runs without ``--now``). First come four waves whose outcome does not depend on who
wins (eight clerks ask for more than one payment or line holds), then many rounds of a
random mix. Afterwards no payment is over-applied, every success a clerk was told of is in
the journal with its amount, and every loser got the clean domain error a lone clerk would
get: never "database is locked", a serialization failure or a traceback. The same waves
then run through the installed ``clinicledger`` command, eight processes at a time: exit 2
and one ``error: ...`` line on stderr for every loser.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import queue
import random
import re
import subprocess
import sys
import threading
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from clinicledger.domain.choices import LineKind, PaymentMethod
from clinicledger.domain.errors import UserError
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Account
from clinicledger.domain.money import format_cents
from clinicledger.services import check, invoicing, masters, payments
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork, reading

pytestmark = pytest.mark.slow

CLERKS = 8
MIXED_ROUNDS = 30
WAIT_SECONDS_MAX = 120  # a hung clerk fails the test instead of hanging the run
FEE_CENTS = 6000
PATIENTS = ("P1", "P2", "P3")

# name: (patient, amount). A to D are the waves' payments (see WAVES); all six take part
# in the mixed rounds.
PAYMENTS = {
    "A": ("P1", 5000),
    "B": ("P2", 10000),
    "C": ("P3", 5000),  # 20.00 of it allocated at set-up; the reversal must undo that
    "D": ("P3", 50000),
    "E": ("P1", 20000),
    "F": ("P2", 12000),  # 10.00 refunded at set-up, so it can never be reversed
}

# What a lone clerk can be refused, by operation: anything else is a failure.
EXPECTED_CODES = {
    "allocate": {"allocation_exceeds_payment", "allocation_exceeds_line", "payment_reversed"},
    "refund": {"refund_exceeds_unallocated", "payment_reversed"},
    "reverse": {"payment_reversed", "payment_refunded"},
    "unallocate": {"allocation_undone"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Wave:
    """Every clerk tries the same thing at once; how many win does not depend on timing."""

    name: str
    op: str
    payment: str
    amount_cents: int | None = None
    line_index: int | None = None  # None: clerk number mod 3, so each line takes <= 3 asks
    winners: int
    code: str
    message: str  # the loser's message; {payment} and {line} are filled in


WAVES = (
    # 50.00 fits two 20.00 allocations; no line of 60.00 can be the limit (<= 3 asks each).
    Wave(
        name="allocate past the payment",
        op="allocate",
        payment="A",
        amount_cents=2000,
        winners=2,
        code="allocation_exceeds_payment",
        message="payment {payment} has 10.00 unallocated; cannot allocate 20.00 to line {line}",
    ),
    Wave(
        name="refund past the payment",
        op="refund",
        payment="B",
        amount_cents=3000,
        winners=3,
        code="refund_exceeds_unallocated",
        message="payment {payment} has 10.00 unallocated; cannot refund 30.00",
    ),
    Wave(
        name="reverse twice",
        op="reverse",
        payment="C",
        winners=1,
        code="payment_reversed",
        message="payment {payment} was reversed",
    ),
    # 500.00 of payment, but the line owes 60.00: two 25.00 allocations fit.
    Wave(
        name="allocate past the line",
        op="allocate",
        payment="D",
        amount_cents=2500,
        line_index=1,
        winners=2,
        code="allocation_exceeds_line",
        message="line {line} has 10.00 owing; cannot allocate 25.00 from payment {payment}",
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Practice:
    lines: dict[str, tuple[int, ...]]  # patient code -> line ids
    payments: dict[str, int]  # PAYMENTS name -> payment id
    payment_patients: dict[int, str]
    payment_amounts_cents: dict[int, int]
    allocations: dict[int, tuple[int, int, int]]  # set-up: entry -> (payment, line, amount)
    refunds: dict[int, tuple[int, int]]  # set-up: entry -> (payment, amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    wave: str  # a Wave's name, or "mixed"
    op: str
    payment_id: int | None = None
    line_id: int | None = None
    amount_cents: int | None = None
    allocation_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    clerk: int
    attempt: Attempt
    entry_id: int | None = None  # set when the clerk was told it succeeded
    code: str | None = None  # a UserError's code
    error_type: str | None = None
    message: str | None = None  # a UserError's message, or the traceback of anything else

    @property
    def refused_cleanly(self) -> bool:
        return self.code is not None


@dataclass
class ClerkReport:
    clerk: int
    outcomes: list[Outcome] = field(default_factory=list)
    crash: str | None = None


def build_practice(clock: Any) -> Practice:
    """Three generated patients, three 60.00 lines each, six payments, one allocation and
    one refund: all through the services."""
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr Generated One")
    masters.add_item(clock.uow(), code="SESS", description="Session", fee_cents=FEE_CENTS)
    lines: dict[str, tuple[int, ...]] = {}
    for n, code in enumerate(PATIENTS, 1):
        masters.add_patient(clock.uow(), code=code, name=f"Generated Patient {n}")
        invoice = invoicing.create_invoice(
            clock.at_date(dt.date(2018, 2, 5)),
            invoicing.CreateInvoice(
                patient_code=code,
                location_code="MAIN",
                billed_to_code=None,
                lines=[
                    invoicing.LineSpec(
                        kind=LineKind.SERVICE,
                        item_code="SESS",
                        provider_code="DR1",
                        service_date=dt.date(2018, 2, day),
                    )
                    for day in (1, 2, 3)
                ],
            ),
        )
        lines[code] = tuple(line.id for line in invoice.lines)
    ids: dict[str, int] = {}
    for name, (code, amount_cents) in PAYMENTS.items():
        ids[name] = payments.record_payment(
            clock.at_date(dt.date(2018, 2, 15)),
            payments.RecordPayment(
                from_code=code,
                amount_cents=amount_cents,
                method=PaymentMethod.CASH,
                received_date=dt.date(2018, 2, 15),
                location_code="MAIN",
            ),
        )
    (allocation,) = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=ids["C"], targets=[(lines["P3"][0], 2000)])
    )
    refund_id = payments.refund(
        clock.uow(),
        payments.Refund(payment_id=ids["F"], amount_cents=1000, reason="overpaid at the desk"),
    )
    return Practice(
        lines=lines,
        payments=ids,
        payment_patients={ids[name]: code for name, (code, _) in PAYMENTS.items()},
        payment_amounts_cents={ids[name]: cents for name, (_, cents) in PAYMENTS.items()},
        allocations={allocation.id: (ids["C"], lines["P3"][0], 2000)},
        refunds={refund_id: (ids["F"], 1000)},
    )


def wave_attempt(practice: Practice, wave: Wave, clerk: int) -> Attempt:
    payment_id = practice.payments[wave.payment]
    line_id = None
    if wave.op == "allocate":
        index = clerk % 3 if wave.line_index is None else wave.line_index
        line_id = practice.lines[practice.payment_patients[payment_id]][index]
    return Attempt(
        wave=wave.name,
        op=wave.op,
        payment_id=payment_id,
        line_id=line_id,
        amount_cents=wave.amount_cents,
    )


def payment_label(attempt: Attempt) -> str:
    assert attempt.payment_id is not None
    return format_id("payment", attempt.payment_id)


def loser_message(wave: Wave, attempt: Attempt) -> str:
    return wave.message.format(
        payment=payment_label(attempt),
        line=format_id("line", attempt.line_id) if attempt.line_id is not None else "",
    )


# ------------------------------------------------- the clerks (child processes)


def mixed_attempt(engine: Engine, practice: Practice, rng: random.Random) -> Attempt:
    """A random operation on a random payment; an un-allocation picks one of the two oldest
    live allocations, so clerks choosing in the same round collide on it."""
    payment_id = rng.choice(sorted(practice.payment_patients))
    roll = rng.random()
    if roll >= 0.94:
        return Attempt(wave="mixed", op="reverse", payment_id=payment_id)
    if roll >= 0.7:
        with reading(engine) as conn:
            live = ledger.live_allocations(conn)[:2]
        if live:
            return Attempt(wave="mixed", op="unallocate", allocation_id=rng.choice(live).id)
    elif roll >= 0.45:
        return Attempt(
            wave="mixed",
            op="refund",
            payment_id=payment_id,
            amount_cents=rng.choice((300, 700, 1200)),
        )
    return Attempt(
        wave="mixed",
        op="allocate",
        payment_id=payment_id,
        line_id=rng.choice(practice.lines[practice.payment_patients[payment_id]]),
        amount_cents=rng.choice((500, 1000, 1500, 2500)),
    )


def perform(engine: Engine, clerk: int, attempt: Attempt) -> Outcome:
    """One use case in its own unit of work, stamped by the real clock as the CLI does."""
    uow = UnitOfWork(engine, now=dt.datetime.now(dt.UTC), actor=f"clerk{clerk}")
    reason = f"clerk {clerk} {attempt.wave}"
    try:
        if attempt.op == "allocate":
            assert attempt.payment_id and attempt.line_id and attempt.amount_cents
            (made,) = payments.allocate(
                uow,
                payments.Allocate(
                    payment_id=attempt.payment_id, targets=[(attempt.line_id, attempt.amount_cents)]
                ),
            )
            entry_id = made.id
        elif attempt.op == "refund":
            assert attempt.payment_id and attempt.amount_cents
            entry_id = payments.refund(
                uow,
                payments.Refund(
                    payment_id=attempt.payment_id, amount_cents=attempt.amount_cents, reason=reason
                ),
            )
        elif attempt.op == "reverse":
            assert attempt.payment_id
            entry_id = payments.reverse_payment(
                uow, payments.ReversePayment(payment_id=attempt.payment_id, reason=reason)
            )
        else:
            assert attempt.allocation_id
            entry_id = payments.unallocate(
                uow, payments.Unallocate(allocation_id=attempt.allocation_id, reason=reason)
            )
    except UserError as exc:
        return Outcome(
            clerk=clerk,
            attempt=attempt,
            code=exc.code,
            error_type=type(exc).__name__,
            message=exc.message,
        )
    except Exception as exc:
        return Outcome(
            clerk=clerk,
            attempt=attempt,
            error_type=type(exc).__name__,
            message="".join(traceback.format_exception(exc)),
        )
    return Outcome(clerk=clerk, attempt=attempt, entry_id=entry_id)


def clerk_main(
    url: str, clerk: int, practice: Practice, barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    report = ClerkReport(clerk=clerk)
    try:
        engine = make_engine(url)
        try:
            for wave in WAVES:
                attempt = wave_attempt(practice, wave, clerk)
                barrier.wait(WAIT_SECONDS_MAX)
                report.outcomes.append(perform(engine, clerk, attempt))
            rng = random.Random(f"clerk-{clerk}")
            for _ in range(MIXED_ROUNDS):
                attempt = mixed_attempt(engine, practice, rng)
                barrier.wait(WAIT_SECONDS_MAX)
                report.outcomes.append(perform(engine, clerk, attempt))
        finally:
            engine.dispose()
    except BaseException as exc:
        barrier.abort()  # release the other clerks now rather than at their timeout
        report.crash = "".join(traceback.format_exception(exc))
    results.put(report)


def race(engine: Engine, practice: Practice) -> list[Outcome]:
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CLERKS)
    results = context.Queue()
    clerks = [
        context.Process(target=clerk_main, args=(url, n, practice, barrier, results))
        for n in range(CLERKS)
    ]
    for process in clerks:
        process.start()
    reports: list[ClerkReport] = []
    try:
        for _ in clerks:
            try:
                reports.append(results.get(timeout=WAIT_SECONDS_MAX))
            except queue.Empty:
                codes = [process.exitcode for process in clerks]
                pytest.fail(f"clerks did not report within {WAIT_SECONDS_MAX}s; exit codes {codes}")
    finally:
        for process in clerks:
            process.join(WAIT_SECONDS_MAX)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    crashes = [f"clerk {r.clerk}:\n{r.crash}" for r in reports if r.crash]
    assert not crashes, "\n".join(crashes)
    return [outcome for r in reports for outcome in r.outcomes]


# ------------------------------------------------- what must hold afterwards


def assert_losers_refused_cleanly(outcomes: list[Outcome]) -> None:
    unclean = [
        f"clerk {o.clerk} {o.attempt}: {o.error_type}: {o.message}"
        for o in outcomes
        if o.entry_id is None
        and (not o.refused_cleanly or o.code not in EXPECTED_CODES[o.attempt.op])
    ]
    assert not unclean, "\n\n".join(unclean)


def assert_waves(outcomes: list[Outcome]) -> None:
    for wave in WAVES:
        taken = [o for o in outcomes if o.attempt.wave == wave.name]
        assert len(taken) == CLERKS, wave.name
        assert sum(o.entry_id is not None for o in taken) == wave.winners, wave.name
        losers = [o for o in taken if o.entry_id is None]
        assert [(o.code, o.message) for o in losers] == [
            (wave.code, loser_message(wave, o.attempt)) for o in losers
        ], wave.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Journal:
    allocations: dict[int, tuple[int, int, int]]  # entry -> (payment, line, amount)
    refunds: dict[int, tuple[int, int]]  # entry -> (payment, amount)
    reversals: dict[int, int]  # entry -> payment
    unallocations: dict[int, int]  # entry -> the allocation it undoes
    unallocated_cents: dict[int, int]  # payment -> money not applied, refunded or reversed
    owing_cents: dict[int, int]  # line -> owing


def read_journal(engine: Engine, practice: Practice) -> Journal:
    E, P = t.entries, t.postings
    allocations: dict[int, tuple[int, int, int]] = {}
    refunds: dict[int, tuple[int, int]] = {}
    reversals: dict[int, int] = {}
    unallocations: dict[int, int] = {}
    with reading(engine) as conn:
        rows = conn.execute(
            select(E.c.id, E.c.kind, E.c.reverses, P.c.account, P.c.amount_cents)
            .add_columns(P.c.payment_id, P.c.line_id)
            .join(P, P.c.entry_id == E.c.id)
            .order_by(E.c.id, P.c.id)
        ).all()
        for r in rows:
            if r.kind == "allocation" and r.account == Account.RECEIVABLE.value:
                allocations[r.id] = (r.payment_id, r.line_id, -r.amount_cents)
            elif r.kind == "refund" and r.account == Account.REFUNDED.value:
                refunds[r.id] = (r.payment_id, -r.amount_cents)
            elif r.kind == "payment_reversal" and r.account == Account.UNALLOCATED.value:
                reversals[r.id] = r.payment_id
            elif r.kind == "unallocation":
                unallocations[r.id] = r.reverses
        unallocated = {
            p: lookups.payment_unallocated_cents(conn, p) for p in practice.payment_patients
        }
        owing = {
            line: lookups.line_owing_cents(conn, line, None)
            for lines in practice.lines.values()
            for line in lines
        }
    assert not {"credit_applied"} & {r.kind for r in rows}
    return Journal(
        allocations=allocations,
        refunds=refunds,
        reversals=reversals,
        unallocations=unallocations,
        unallocated_cents=unallocated,
        owing_cents=owing,
    )


def assert_nothing_lost_nothing_over_applied(
    engine: Engine, practice: Practice, outcomes: list[Outcome]
) -> None:
    assert check.check_ledger(engine).violations == ()
    won = [o for o in outcomes if o.entry_id is not None]
    told: dict[str, dict[int, Any]] = {op: {} for op in EXPECTED_CODES}
    for o in won:
        a = o.attempt
        assert o.entry_id is not None
        told[a.op][o.entry_id] = {
            "allocate": (a.payment_id, a.line_id, a.amount_cents),
            "refund": (a.payment_id, a.amount_cents),
            "reverse": a.payment_id,
            "unallocate": a.allocation_id,
        }[a.op]
    journal = read_journal(engine, practice)

    # Every success a clerk was told of is in the journal, with its amount, and the journal
    # holds nothing else.
    allocations = practice.allocations | told["allocate"]
    assert journal.allocations == allocations
    assert journal.refunds == practice.refunds | told["refund"]
    assert journal.reversals == told["reverse"]
    assert len(set(journal.reversals.values())) == len(journal.reversals)
    reversed_payments = set(journal.reversals.values())
    # An allocation is undone by one un-allocation, from a clerk or from its payment's
    # reversal, and never twice.
    assert told["unallocate"].items() <= journal.unallocations.items()
    undone = set(told["unallocate"].values()) | {
        entry for entry, (payment, _, _) in allocations.items() if payment in reversed_payments
    }
    assert Counter(journal.unallocations.values()) == Counter(undone)

    # The amounts add up, payment by payment and line by line, from the clerks' own tallies.
    live = {e: a for e, a in allocations.items() if e not in undone}
    refunds = practice.refunds | told["refund"]
    for payment_id, amount_cents in practice.payment_amounts_cents.items():
        applied = sum(cents for payment, _, cents in live.values() if payment == payment_id)
        refunded = sum(cents for payment, cents in refunds.values() if payment == payment_id)
        if payment_id in reversed_payments:
            assert (applied, refunded) == (0, 0), format_id("payment", payment_id)
            expected = 0
        else:
            expected = amount_cents - applied - refunded
        assert expected >= 0, format_id("payment", payment_id)
        assert journal.unallocated_cents[payment_id] == expected, format_id("payment", payment_id)
    for line_id, owing_cents in journal.owing_cents.items():
        applied = sum(cents for _, line, cents in live.values() if line == line_id)
        assert owing_cents == FEE_CENTS - applied >= 0, format_id("line", line_id)


def test_eight_clerks_race_on_the_same_payments(engine: Engine, clock: Any) -> None:
    practice = build_practice(clock)

    outcomes = race(engine, practice)

    assert len(outcomes) == CLERKS * (len(WAVES) + MIXED_ROUNDS)
    assert_losers_refused_cleanly(outcomes)
    assert_waves(outcomes)
    assert_nothing_lost_nothing_over_applied(engine, practice, outcomes)


# ------------------------------------------------- the same waves at the command line


def cli_arguments(wave: Wave, attempt: Attempt, clerk: int) -> list[str]:
    assert attempt.payment_id is not None
    payment = format_id("payment", attempt.payment_id)
    if wave.op == "allocate":
        assert attempt.line_id is not None and attempt.amount_cents is not None
        target = f"{format_id('line', attempt.line_id)}={format_cents(attempt.amount_cents)}"
        return ["payment", "allocate", payment, "--to", target]
    if wave.op == "refund":
        assert attempt.amount_cents is not None
        amount = format_cents(attempt.amount_cents)
        return ["payment", "refund", payment, "--amount", amount, "--reason", f"clerk {clerk}"]
    return ["payment", "reverse", payment, "--reason", f"clerk {clerk}"]


# One wave per command; the service race above covers the fourth. Each ``clinicledger`` run
# costs a Python start-up, so fewer waves keep the test inside its time budget.
CLI_WAVES = WAVES[:3]

CLI_WINNER_OUTPUT = {
    "allocate": r"1 allocation\(s\)\n  AL-\d{6}  PAY-\d{6} -> L-\d{6} +\d+\.\d\d\n",
    "refund": r"refunded \d+\.\d\d of payment PAY-\d{6}\n",
    "reverse": r"reversed payment PAY-\d{6}\n",
}


def test_eight_clerks_race_at_the_command_line(engine: Engine, clock: Any, tmp_path: Path) -> None:
    """Each wave: eight ``clinicledger`` processes at once; even clerks ask for ``--json``."""
    practice = build_practice(clock)
    program = Path(sys.executable).parent / "clinicledger"
    url = engine.url.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICLEDGER_")}
    env["CLINICLEDGER_LOG_DIR"] = str(tmp_path / "log")
    barrier = threading.Barrier(CLERKS)

    def clerk(n: int) -> list[tuple[Wave, subprocess.CompletedProcess[str]]]:
        done = []
        try:
            for wave in CLI_WAVES:
                flags = ["--json"] if n % 2 == 0 else []
                argv = [str(program), "--db", url, *flags]
                argv += cli_arguments(wave, wave_attempt(practice, wave, n), n)
                barrier.wait(WAIT_SECONDS_MAX)
                run = subprocess.run(
                    argv, capture_output=True, text=True, env=env, timeout=WAIT_SECONDS_MAX
                )
                done.append((wave, run))
        except BaseException:
            barrier.abort()
            raise
        return done

    with ThreadPoolExecutor(max_workers=CLERKS) as pool:
        runs = list(enumerate(pool.map(clerk, range(CLERKS))))

    for wave in CLI_WAVES:
        winners = 0
        for n, done in runs:
            (run,) = [run for w, run in done if w is wave]
            attempt = wave_attempt(practice, wave, n)
            shown = f"{wave.name}, clerk {n}: exit {run.returncode}\n{run.stdout}{run.stderr}"
            assert "Traceback" not in run.stderr + run.stdout, shown
            if run.returncode == 0:
                winners += 1
                assert run.stderr == "", shown
                if n % 2 == 0:
                    data = json.loads(run.stdout)
                    made = data["allocations"] if wave.op == "allocate" else [data]
                    assert [m["payment"] for m in made] == [payment_label(attempt)], shown
                else:
                    assert re.fullmatch(CLI_WINNER_OUTPUT[wave.op], run.stdout), shown
                continue
            assert run.returncode == 2, shown
            assert run.stdout == "", shown
            expected = loser_message(wave, attempt)
            if n % 2 == 0:
                assert run.stderr.count("\n") == 1, shown
                error = json.loads(run.stderr)["error"]
                assert (error["code"], error["message"]) == (wave.code, expected), shown
            else:
                assert run.stderr == f"error: {expected}\n", shown
        assert winners == wave.winners, wave.name

    journal = read_journal(engine, practice)
    assert check.check_ledger(engine).violations == ()
    a, b, c, d = (practice.payments[name] for name in "ABCD")
    assert sorted(cents for p, _, cents in journal.allocations.values() if p == a) == [2000] * 2
    assert sorted(cents for p, cents in journal.refunds.values() if p == b) == [3000] * 3
    assert list(journal.reversals.values()) == [c]
    assert journal.unallocated_cents[a] == journal.unallocated_cents[b] == 1000
    assert journal.unallocated_cents[c] == 0
    assert journal.unallocated_cents[d] == 50000
    assert not (tmp_path / "log").exists(), "an internal error was logged"
