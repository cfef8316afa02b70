"""Idempotency keys (issue 7): a retried request with the same key posts once.

Every money-moving use case takes ``idempotency_key=``. The same key and command again
returns the first result and writes nothing at all (every row of every table is as it
was); the same key with another command is refused with ``IdempotencyConflict`` naming the
first field that differs (``command`` for another use case), and writes nothing; a
refused command keeps no key, so the corrected command may use it. Then a Hypothesis
property over random sequences of keys and commands, and eight processes racing on one
key (slow: set ``CLINICLEDGER_TEST_SLOW=1``).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, inspect, select, text

from clinicledger.domain.choices import (
    AdjustmentReason,
    InsuranceStatus,
    LineKind,
    PayerKind,
    PaymentMethod,
)
from clinicledger.domain.errors import (
    ERRORS,
    EXIT_USER_ERROR,
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    OverAllocation,
    UserError,
)
from clinicledger.services import imports, invoicing, masters, payments, periods
from clinicledger.services.invoicing import LineSpec
from clinicledger.services.usecase import UseCase
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork
from conftest import PROPERTY, Clock

D = dt.date
RECEIVED = D(2018, 5, 10)
SERVICE_DAY = D(2018, 5, 1)

# The tables a money-moving use case writes to (the snapshot compares every table).
JOURNAL = ("entries", "postings", "audit_log", "payments", "invoices", "lines")


# ---------------------------------------------------------------- the practice


@dataclass(frozen=True, slots=True, kw_only=True)
class Desk:
    """A small practice made through the services, with the ids the cases need."""

    clock: Clock
    owing_line: int  # L1: P1, 100.00, 30.00 of it paid from ``cash``
    open_line: int  # L2: P1, 100.00, nothing paid
    fund_line: int  # L3: P2, billed to FUND1, 100.00
    cash: int  # P1, 100.00 cash, 70.00 unallocated
    fund_payment: int  # FUND1, 50.00
    allocation: int  # 30.00 of ``cash`` to L1


def service(day: D = SERVICE_DAY) -> LineSpec:
    return LineSpec(kind=LineKind.SERVICE, item_code="CONS", provider_code="DR1", service_date=day)


def record(party: str, cents: int, **extra: Any) -> payments.RecordPayment:
    return payments.RecordPayment(
        from_code=party,
        amount_cents=cents,
        method=extra.pop("method", PaymentMethod.CASH),
        received_date=RECEIVED,
        location_code="MAIN",
        **extra,
    )


def build_desk(clock: Clock) -> Desk:
    clock.now = dt.datetime(2018, 6, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main Street Rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr Rowan Vale")
    masters.add_patient(clock.uow(), code="P1", name="Ivy Marlowe")
    masters.add_patient(clock.uow(), code="P2", name="Otto Brandt")
    masters.add_payer(clock.uow(), code="FUND1", name="Harbour Health Fund", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="CONS", description="Consultation", fee_cents=10000)
    first = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P1", location_code="MAIN", lines=(service(), service(D(2018, 5, 2)))
        ),
    )
    second = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P2", location_code="MAIN", billed_to_code="FUND1", lines=(service(),)
        ),
    )
    cash = payments.record_payment(clock.uow(), record("P1", 10000))
    fund = payments.record_payment(
        clock.uow(), record("FUND1", 5000, method=PaymentMethod.INSURANCE)
    )
    owing, open_ = (line.id for line in first.lines)
    (allocation,) = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=cash, targets=((owing, 3000),))
    )
    return Desk(
        clock=clock,
        owing_line=owing,
        open_line=open_,
        fund_line=second.lines[0].id,
        cash=cash,
        fund_payment=fund,
        allocation=allocation.id,
    )


@pytest.fixture
def desk(clock: Clock) -> Desk:
    return build_desk(clock)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: equal snapshots mean nothing at all was written."""
    names = sorted(inspect(engine).get_table_names())
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return {
            name: sorted(
                (tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr
            )
            for name in names
        }


def counts(engine: Engine, names: tuple[str, ...] = JOURNAL) -> dict[str, int]:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return {
            name: conn.execute(
                select(func.count()).select_from(t.metadata.tables[name])
            ).scalar_one()
            for name in names
        }


def kept_keys(engine: Engine) -> list[tuple[str, str, str]]:
    """(key, use case, actor) of every kept key."""
    K = t.idempotency_keys
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return [
            (r.key, r.use_case, r.actor)
            for r in conn.execute(select(K.c.key, K.c.use_case, K.c.actor).order_by(K.c.id))
        ]


# ---------------------------------------------------------------- one case per use case


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    use_case: UseCase[Any, Any]
    command: Any
    other: Any  # the same use case, another command
    differs: str  # the first field in which ``other`` differs
    writes: tuple[str, ...]  # tables the first run adds rows to


def import_text(cents_text: str) -> bytes:
    return (
        "party,code,date,location,amount,note\n"
        f"patient,P2,2018-04-30,MAIN,{cents_text},brought forward\n"
    ).encode()


CASES: dict[str, Callable[[Desk], Case]] = {
    "record_payment": lambda d: Case(
        use_case=payments.record_payment,
        command=record("P1", 2500, reference="R-1001"),
        other=record("P1", 2600, reference="R-1001"),
        differs="amount",
        writes=("entries", "postings", "audit_log", "payments"),
    ),
    "allocate": lambda d: Case(
        use_case=payments.allocate,
        command=payments.Allocate(payment_id=d.cash, targets=((d.open_line, 2000),)),
        other=payments.Allocate(payment_id=d.cash, targets=((d.open_line, 2500),)),
        differs="to",
        writes=("entries", "postings", "audit_log"),
    ),
    "allocate_auto": lambda d: Case(
        use_case=payments.allocate,
        command=payments.Allocate(payment_id=d.cash, auto=True),
        other=payments.Allocate(payment_id=d.fund_payment, auto=True),
        differs="payment",
        writes=("entries", "postings", "audit_log"),
    ),
    "unallocate": lambda d: Case(
        use_case=payments.unallocate,
        command=payments.Unallocate(allocation_id=d.allocation, reason="wrong line"),
        other=payments.Unallocate(allocation_id=d.allocation, reason="keyed twice"),
        differs="reason",
        writes=("entries", "postings", "audit_log"),
    ),
    "refund": lambda d: Case(
        use_case=payments.refund,
        command=payments.Refund(payment_id=d.cash, amount_cents=1000, reason="overpaid"),
        other=payments.Refund(payment_id=d.cash, amount_cents=1500, reason="overpaid"),
        differs="amount",
        writes=("entries", "postings", "audit_log"),
    ),
    "reverse_payment": lambda d: Case(
        use_case=payments.reverse_payment,
        command=payments.ReversePayment(payment_id=d.cash, reason="cheque dishonoured"),
        other=payments.ReversePayment(payment_id=d.fund_payment, reason="cheque dishonoured"),
        differs="payment",
        writes=("entries", "postings", "audit_log"),
    ),
    "apply_credit": lambda d: Case(
        use_case=payments.apply_credit,
        command=payments.ApplyCredit(patient_code="P1", targets=((d.open_line, 500),)),
        other=payments.ApplyCredit(patient_code="P1", auto=True),
        differs="to",
        writes=("entries", "postings", "audit_log"),
    ),
    "create_invoice": lambda d: Case(
        use_case=invoicing.create_invoice,
        command=invoicing.CreateInvoice(
            patient_code="P1", location_code="MAIN", lines=(service(),)
        ),
        other=invoicing.CreateInvoice(
            patient_code="P1", location_code="MAIN", lines=(service(D(2018, 5, 3)),)
        ),
        differs="line",
        writes=("entries", "postings", "audit_log", "invoices", "lines"),
    ),
    "adjust_line": lambda d: Case(
        use_case=invoicing.adjust_line,
        command=invoicing.AdjustLine(
            line_id=d.open_line, amount_cents=1000, reason=AdjustmentReason.WRITE_OFF
        ),
        other=invoicing.AdjustLine(
            line_id=d.open_line, amount_cents=1000, reason=AdjustmentReason.DISCOUNT
        ),
        differs="reason",
        writes=("entries", "postings", "audit_log"),
    ),
    "transfer": lambda d: Case(
        use_case=invoicing.transfer,
        command=invoicing.Transfer(
            line_id=d.fund_line, amount_cents=2000, reason="gap", to_patient=True
        ),
        other=invoicing.Transfer(
            line_id=d.fund_line, amount_cents=2500, reason="gap", to_patient=True
        ),
        differs="amount",
        writes=("entries", "postings", "audit_log"),
    ),
    "delete_line": lambda d: Case(
        use_case=invoicing.delete_line,
        command=invoicing.DeleteLine(line_id=d.owing_line, reason="keyed in error", cascade=True),
        other=invoicing.DeleteLine(line_id=d.open_line, reason="keyed in error", cascade=True),
        differs="line",
        writes=("entries", "postings", "audit_log"),
    ),
    "import_file": lambda d: Case(
        use_case=imports.import_file,
        command=imports.ImportFile(
            kind="opening-balances", file_name="openings.csv", content=import_text("120.00")
        ),
        other=imports.ImportFile(
            kind="opening-balances", file_name="openings.csv", content=import_text("121.00")
        ),
        differs="file",
        writes=("entries", "postings", "audit_log", "invoices", "lines"),
    ),
    "set_insurance_status": lambda d: Case(
        use_case=invoicing.set_insurance_status,
        command=invoicing.SetInsuranceStatus(line_id=d.fund_line, status=InsuranceStatus.OPEN),
        other=invoicing.SetInsuranceStatus(line_id=d.open_line, status=InsuranceStatus.OPEN),
        differs="line",
        writes=("audit_log",),
    ),
    "close_period": lambda d: Case(
        use_case=periods.close_period,
        command=periods.ClosePeriod(through=D(2018, 5, 31)),
        other=periods.ClosePeriod(through=D(2018, 5, 30)),
        differs="date",
        writes=("audit_log",),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_key_and_command_again_returns_the_first_result(
    desk: Desk, engine: Engine, name: str
) -> None:
    case = CASES[name](desk)
    before = counts(engine)

    first = case.use_case(desk.clock.uow(), case.command, idempotency_key=f"desk-3:{name}")
    after_first = counts(engine)
    written = snapshot(engine)
    again = case.use_case(desk.clock.uow(), case.command, idempotency_key=f"desk-3:{name}")

    assert again == first
    assert type(again) is type(first)
    assert snapshot(engine) == written  # nothing at all: no entry, posting, audit record
    assert {n for n in JOURNAL if after_first[n] > before[n]} == set(case.writes)
    assert kept_keys(engine) == [(f"desk-3:{name}", case.use_case.name, "system")]


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_key_with_another_command_names_the_field_and_writes_nothing(
    desk: Desk, engine: Engine, name: str
) -> None:
    case = CASES[name](desk)
    case.use_case(desk.clock.uow(), case.command, idempotency_key="K-1")
    written = snapshot(engine)

    with pytest.raises(IdempotencyConflict) as caught:
        case.use_case(desk.clock.uow(), case.other, idempotency_key="K-1")

    assert (caught.value.code, caught.value.field) == ("idempotency_conflict", case.differs)
    assert caught.value.key == "K-1"
    assert caught.value.context["key"] == "K-1"
    assert caught.value.message == (
        f"idempotency key 'K-1' was used for another command: its {case.differs} differs"
    )
    assert snapshot(engine) == written


def test_idempotency_conflict_is_a_conflict_refused_with_http_409(desk: Desk) -> None:
    payments.record_payment(desk.clock.uow(), record("P1", 2500), idempotency_key="K-1")
    with pytest.raises(IdempotencyConflict) as caught:
        payments.record_payment(desk.clock.uow(), record("P1", 2600), idempotency_key="K-1")
    assert isinstance(caught.value, Conflict)
    assert ERRORS["idempotency_conflict"].error is IdempotencyConflict
    assert (caught.value.http_status, caught.value.exit_code) == (409, EXIT_USER_ERROR)


def test_without_a_key_the_same_command_posts_twice(desk: Desk, engine: Engine) -> None:
    """The control: what the key prevents."""
    before = counts(engine)
    one = payments.record_payment(desk.clock.uow(), record("P1", 2500))
    two = payments.record_payment(desk.clock.uow(), record("P1", 2500))
    assert one != two
    assert counts(engine)["payments"] == before["payments"] + 2
    assert kept_keys(engine) == []


def test_the_first_differing_field_in_the_commands_order_is_named(desk: Desk) -> None:
    payments.record_payment(desk.clock.uow(), record("P1", 2500), idempotency_key="K-1")
    changed = payments.RecordPayment(
        from_code="P1",
        amount_cents=2500,
        method=PaymentMethod.EFTPOS,  # the first difference
        received_date=RECEIVED,
        location_code="OTHER",
        note="and a note",
    )
    with pytest.raises(IdempotencyConflict) as caught:
        payments.record_payment(desk.clock.uow(), changed, idempotency_key="K-1")
    assert caught.value.field == "method"
    with pytest.raises(IdempotencyConflict) as caught:
        payments.record_payment(
            desk.clock.uow(), record("P1", 2500, note="a note"), idempotency_key="K-1"
        )
    assert caught.value.field == "note"


def test_commands_are_compared_as_they_were_normalised(desk: Desk, engine: Engine) -> None:
    """A command trims its text as it is made: a retry with other spacing is the same."""
    first = payments.refund(
        desk.clock.uow(),
        payments.Refund(payment_id=desk.cash, amount_cents=1000, reason="overpaid  at desk"),
        idempotency_key="K-1",
    )
    written = snapshot(engine)
    again = payments.refund(
        desk.clock.uow(),
        payments.Refund(payment_id=desk.cash, amount_cents=1000, reason=" overpaid at desk "),
        idempotency_key="K-1",
    )
    assert again == first
    assert snapshot(engine) == written


def test_the_same_key_for_another_use_case_names_the_command(desk: Desk, engine: Engine) -> None:
    payment_id = payments.record_payment(
        desk.clock.uow(), record("P1", 2500), idempotency_key="K-1"
    )
    written = snapshot(engine)
    with pytest.raises(IdempotencyConflict) as caught:
        payments.refund(
            desk.clock.uow(),
            payments.Refund(payment_id=payment_id, amount_cents=2500, reason="overpaid"),
            idempotency_key="K-1",
        )
    assert (caught.value.code, caught.value.field) == ("idempotency_conflict", "command")
    assert snapshot(engine) == written


def test_a_replay_returns_the_first_result_even_when_the_ledger_moved_on(
    desk: Desk, engine: Engine
) -> None:
    """Without the key the second un-allocation or reversal would be refused; with it, the
    retry is told what the first one did."""
    entry = payments.unallocate(
        desk.clock.uow(),
        payments.Unallocate(allocation_id=desk.allocation, reason="wrong line"),
        idempotency_key="K-1",
    )
    made = payments.allocate(
        desk.clock.uow(), payments.Allocate(payment_id=desk.cash, auto=True), idempotency_key="K-2"
    )
    assert [(a.line_id, a.amount_cents) for a in made] == [
        (desk.owing_line, 10000),
    ]
    written = snapshot(engine)
    assert (
        payments.unallocate(
            desk.clock.uow(),
            payments.Unallocate(allocation_id=desk.allocation, reason="wrong line"),
            idempotency_key="K-1",
        )
        == entry
    )
    # the payment is now fully applied: a fresh auto allocation would make none
    assert (
        payments.allocate(
            desk.clock.uow(),
            payments.Allocate(payment_id=desk.cash, auto=True),
            idempotency_key="K-2",
        )
        == made
    )
    assert snapshot(engine) == written
    with pytest.raises(Conflict) as caught:
        payments.unallocate(
            desk.clock.uow(),
            payments.Unallocate(allocation_id=desk.allocation, reason="wrong line"),
        )
    assert caught.value.code == "allocation_undone"


def test_an_import_replayed_by_key_returns_its_first_result(desk: Desk, engine: Engine) -> None:
    """By key: the first result (created 1). The same file without the key is caught by its
    own content hash instead (already imported)."""
    command = imports.ImportFile(
        kind="opening-balances", file_name="openings.csv", content=import_text("120.00")
    )
    first = imports.import_file(desk.clock.uow(), command, idempotency_key="K-1")
    assert first == imports.ImportResult(created=1, unchanged=0, already_imported=False)
    assert imports.import_file(desk.clock.uow(), command, idempotency_key="K-1") == first
    unkeyed = imports.import_file(desk.clock.uow(), command)
    assert unkeyed == imports.ImportResult(created=0, unchanged=1, already_imported=True)


def test_a_replay_by_another_clerk_returns_the_first_result(desk: Desk, engine: Engine) -> None:
    clock = desk.clock
    first = payments.record_payment(clock.uow(), record("P1", 2500), idempotency_key="K-1")
    written = snapshot(engine)
    clock.now += dt.timedelta(minutes=1)
    other_clerk = UnitOfWork(engine, now=clock.now, actor="Nell Farrow", strict_clock=True)
    assert payments.record_payment(other_clerk, record("P1", 2500), idempotency_key="K-1") == first
    assert snapshot(engine) == written
    assert kept_keys(engine) == [("K-1", "record_payment", "system")]


def test_the_key_is_kept_in_the_transaction_of_its_entries(desk: Desk, engine: Engine) -> None:
    payments.record_payment(desk.clock.uow(), record("P1", 2500), idempotency_key="K-1")
    K, E = t.idempotency_keys, t.entries
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        key_at = conn.execute(select(K.c.recorded_at)).scalar_one()
        entry_at = conn.execute(select(func.max(E.c.recorded_at))).scalar_one()
        kept = conn.execute(select(K.c.command, K.c.command_sha256, K.c.result)).one()
    assert key_at == entry_at
    assert kept.result == str(counts(engine)["payments"])  # the payment's id, as JSON
    assert len(kept.command_sha256) == 64
    assert '"amount_cents":2500' in kept.command


MALFORMED_KEYS = {
    "empty": "",
    "a space": " ",
    "spaces inside": "desk 3",
    "201 characters": "k" * 201,
    "non-ASCII": "clé-1",
    "a NUL": "k\x00",
    "a tab": "k\t1",
    "a newline": "k-1\n",
    "DEL": "k\x7f",
}


@pytest.mark.parametrize("key", list(MALFORMED_KEYS.values()), ids=list(MALFORMED_KEYS))
def test_a_malformed_key_is_refused_and_nothing_written(
    desk: Desk, engine: Engine, key: str
) -> None:
    written = snapshot(engine)
    with pytest.raises(InvalidInput) as caught:
        payments.record_payment(desk.clock.uow(), record("P1", 2500), idempotency_key=key)
    assert (caught.value.code, caught.value.field) == (
        "idempotency_key_malformed",
        "idempotency_key",
    )
    assert caught.value.message == (
        "idempotency_key: an idempotency key is 1-200 printable ASCII characters, no spaces"
    )
    assert snapshot(engine) == written


@pytest.mark.parametrize(
    "key",
    ["k" * 200, "!", "~", "".join(chr(c) for c in range(ord("!"), ord("~") + 1))],
    ids=["200 characters", "!", "~", "every printable ASCII character"],
)
def test_a_key_at_the_bounds_is_kept(desk: Desk, engine: Engine, key: str) -> None:
    first = payments.record_payment(desk.clock.uow(), record("P1", 2500), idempotency_key=key)
    again = payments.record_payment(desk.clock.uow(), record("P1", 2500), idempotency_key=key)
    assert again == first
    assert [k for k, _, _ in kept_keys(engine)] == [key]


def test_a_refused_command_keeps_no_key_so_the_corrected_one_succeeds(
    desk: Desk, engine: Engine
) -> None:
    written = snapshot(engine)
    too_much = payments.Allocate(payment_id=desk.cash, targets=((desk.open_line, 8000),))
    with pytest.raises(OverAllocation) as caught:
        payments.allocate(desk.clock.uow(), too_much, idempotency_key="K-1")
    assert caught.value.code == "allocation_exceeds_payment"
    assert snapshot(engine) == written
    assert kept_keys(engine) == []

    corrected = payments.Allocate(payment_id=desk.cash, targets=((desk.open_line, 7000),))
    made = payments.allocate(desk.clock.uow(), corrected, idempotency_key="K-1")
    assert [(a.line_id, a.amount_cents) for a in made] == [(desk.open_line, 7000)]
    assert payments.allocate(desk.clock.uow(), corrected, idempotency_key="K-1") == made
    # the refused command is now another command under a kept key
    with pytest.raises(IdempotencyConflict) as conflict:
        payments.allocate(desk.clock.uow(), too_much, idempotency_key="K-1")
    assert conflict.value.field == "to"


def test_a_refused_invoice_with_a_key_uses_no_number_and_keeps_no_key(
    desk: Desk, engine: Engine
) -> None:
    unknown = invoicing.CreateInvoice(
        patient_code="P1",
        location_code="MAIN",
        lines=(
            LineSpec(
                kind=LineKind.SERVICE,
                item_code="NOPE",
                provider_code="DR1",
                service_date=SERVICE_DAY,
            ),
        ),
    )
    written = snapshot(engine)
    with pytest.raises(UserError):
        invoicing.create_invoice(desk.clock.uow(), unknown, idempotency_key="K-1")
    assert snapshot(engine) == written
    good = invoicing.CreateInvoice(patient_code="P1", location_code="MAIN", lines=(service(),))
    made = invoicing.create_invoice(desk.clock.uow(), good, idempotency_key="K-1")
    assert made.number == 3  # the set-up made invoices 1 and 2
    assert invoicing.create_invoice(desk.clock.uow(), good, idempotency_key="K-1") == made


# ---------------------------------------------------------------- a property

KEYS = ("K-1", "K-2", "K-3")
BASE_CENTS = 10000  # the payment the refunds come from


@dataclass(frozen=True, slots=True)
class Command:
    use_case: str  # "record" or "refund"
    amount_cents: int


COMMANDS = (
    Command("record", 1000),
    Command("record", 2000),
    Command("refund", 6000),  # two cannot both come out of 100.00
    Command("refund", 5000),
)


def run_command(uow: UnitOfWork, command: Command, base: int, key: str) -> int:
    if command.use_case == "record":
        return payments.record_payment(uow, record("P1", command.amount_cents), idempotency_key=key)
    return payments.refund(
        uow,
        payments.Refund(payment_id=base, amount_cents=command.amount_cents, reason="overpaid"),
        idempotency_key=key,
    )


def entry_count(engine: Engine) -> int:
    return counts(engine, ("entries",))["entries"]


@PROPERTY
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(range(len(COMMANDS)))),
        min_size=1,
        max_size=10,
    )
)
def test_entries_are_one_per_key_whose_use_succeeded(fresh: Any, steps: list[Any]) -> None:
    """A model: a key is kept by its first successful use; then the same command replays
    its result, another is a conflict. A refused use (a refund past what is left) keeps
    nothing, so a later use of that key may succeed."""
    engine, clock = fresh()
    clock.now = dt.datetime(2018, 6, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main Street Rooms")
    masters.add_patient(clock.uow(), code="P1", name="Ivy Marlowe")
    base = payments.record_payment(clock.uow(), record("P1", BASE_CENTS))
    entries_before = entry_count(engine)

    kept: dict[str, tuple[int, int]] = {}  # key -> (command index, first result)
    left_cents = BASE_CENTS
    for key, index in steps:
        command = COMMANDS[index]
        entries = entry_count(engine)
        if key in kept:
            first_index, first_result = kept[key]
            if first_index == index:
                assert run_command(clock.uow(), command, base, key) == first_result
            else:
                with pytest.raises(IdempotencyConflict) as caught:
                    run_command(clock.uow(), command, base, key)
                same_use_case = COMMANDS[first_index].use_case == command.use_case
                assert caught.value.field == ("amount" if same_use_case else "command")
            assert entry_count(engine) == entries
        elif command.use_case == "refund" and command.amount_cents > left_cents:
            with pytest.raises(OverAllocation):
                run_command(clock.uow(), command, base, key)
            assert entry_count(engine) == entries
        else:
            kept[key] = (index, run_command(clock.uow(), command, base, key))
            if command.use_case == "refund":
                left_cents -= command.amount_cents
            assert entry_count(engine) == entries + 1

    assert entry_count(engine) - entries_before == len(kept)
    assert sorted(k for k, _, _ in kept_keys(engine)) == sorted(kept)


# ---------------------------------------------------------------- eight clerks, one key

CLERKS = 8
WAIT_SECONDS_MAX = 120  # a hung clerk fails the test instead of hanging the run
RACE_NOW = dt.datetime(2018, 6, 1, 12)  # after the set-up; each clerk stamps after the last


@dataclass(frozen=True, slots=True, kw_only=True)
class Told:
    """What one clerk was told: a payment id, or a refusal (a traceback if unclean)."""

    clerk: int
    payment_id: int | None = None
    code: str | None = None
    field: str | None = None
    error: str | None = None


def clerk_main(
    url: str, clerk: int, amounts: tuple[int, ...], barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    engine = make_engine(url)
    try:
        barrier.wait(WAIT_SECONDS_MAX)
        uow = UnitOfWork(engine, now=RACE_NOW, actor=f"clerk-{clerk}")
        command = record("P1", amounts[clerk], reference="R-7")
        try:
            told = Told(
                clerk=clerk,
                payment_id=payments.record_payment(uow, command, idempotency_key="desk-1:R-7"),
            )
        except UserError as exc:
            told = Told(clerk=clerk, code=exc.code, field=exc.field, error=exc.message)
        except BaseException as exc:
            told = Told(clerk=clerk, error="".join(traceback.format_exception(exc)))
    except BaseException as exc:
        barrier.abort()
        told = Told(clerk=clerk, error="".join(traceback.format_exception(exc)))
    finally:
        engine.dispose()
    results.put(told)


def race(engine: Engine, amounts: tuple[int, ...]) -> list[Told]:
    """Eight processes, released together, each recording ``amounts[clerk]`` with one key."""
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CLERKS)
    results = context.Queue()
    clerks = [
        context.Process(target=clerk_main, args=(url, n, amounts, barrier, results))
        for n in range(CLERKS)
    ]
    for process in clerks:
        process.start()
    told: list[Told] = []
    try:
        for _ in clerks:
            try:
                told.append(results.get(timeout=WAIT_SECONDS_MAX))
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
    return sorted(told, key=lambda o: o.clerk)


def receipts(engine: Engine) -> list[tuple[int, int]]:
    """(payment id, amount) of every payment after the set-up's two, and its receipts."""
    P, E = t.payments, t.entries
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        made = [
            (r.id, r.amount_cents)
            for r in conn.execute(select(P.c.id, P.c.amount_cents).where(P.c.id > 2))
        ]
        entries = conn.execute(
            select(func.count()).select_from(E).where(E.c.kind == "payment")
        ).scalar_one()
    assert entries == 2 + len(made)  # one receipt entry per payment
    return made


needs_slow = pytest.mark.skipif(
    not os.environ.get("CLINICLEDGER_TEST_SLOW"),
    reason="spawns eight processes; set CLINICLEDGER_TEST_SLOW=1",
)


@pytest.mark.slow
@needs_slow
def test_eight_clerks_with_one_key_post_one_payment(desk: Desk, engine: Engine) -> None:
    told = race(engine, (2500,) * CLERKS)

    assert [o.error for o in told] == [None] * CLERKS, [o.error for o in told]
    ids = {o.payment_id for o in told}
    assert len(ids) == 1
    (payment_id,) = ids
    assert receipts(engine) == [(payment_id, 2500)]
    assert [(k, u) for k, u, _ in kept_keys(engine)] == [("desk-1:R-7", "record_payment")]


@pytest.mark.slow
@needs_slow
def test_eight_clerks_with_one_key_and_other_amounts_one_wins(desk: Desk, engine: Engine) -> None:
    amounts = tuple(2500 + 100 * n for n in range(CLERKS))
    told = race(engine, amounts)

    winners = [o for o in told if o.payment_id is not None]
    losers = [o for o in told if o.payment_id is None]
    assert len(winners) == 1, told
    assert [(o.code, o.field) for o in losers] == [("idempotency_conflict", "amount")] * 7, [
        o.error for o in losers
    ]
    (winner,) = winners
    assert receipts(engine) == [(winner.payment_id, amounts[winner.clerk])]
    (kept,) = kept_keys(engine)
    assert kept[0] == "desk-1:R-7" and kept[2] == f"clerk-{winner.clerk}"
