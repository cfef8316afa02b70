"""Bulk writing (store/bulk.py, ``UnitOfWork.append_many`` and ``audit_many``, the bulk
import): the same rows, ids and chains as writing one at a time, on both backends."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from clinicledger import demo
from clinicledger.domain.errors import ImportRejected
from clinicledger.domain.journal import Account, Entry, EntryKind, Posting
from clinicledger.services import check, imports, masters
from clinicledger.store import bulk
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import SharedTransaction, UnitOfWork, reading
from conftest import Clock

NOTES = (None, "moved in", 'a "quoted" note, with a \\ and a comma', "é ü — 中文 \u2028 line")


def entries(location_id: int) -> list[Entry]:
    """Entries of every shape the chain hashes: notes with characters JSON escapes or
    keeps, reasons, several postings."""
    made = []
    for n, note in enumerate(NOTES * 3):
        amount = 1_000 * (n + 1) + n
        made.append(
            Entry(
                kind=EntryKind.OPENING_BALANCE if n % 2 else EntryKind.PAYMENT,
                effective_date=dt.date(2018, 1, 1) + dt.timedelta(days=n),
                note=note,
                reason="brought in" if n % 3 == 0 else None,
                postings=(
                    Posting(account=Account.UNBANKED, amount_cents=amount, location_id=location_id),
                    Posting(
                        account=Account.OPENING_BALANCE,
                        amount_cents=-amount + n,
                        location_id=location_id,
                    ),
                    Posting(account=Account.OPENING_BALANCE, amount_cents=-n),
                ),
            )
        )
    return made


AUDITS = [
    ("opening.bring", "ledger", {"rows": 12, "note": "é"}),
    ("opening.check", "ledger", {}),
    ("opening.done", "ledger:1", {"created": [1, 2], "file": 'a "b"'}),
]


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the chains cover, and the clock that keeps their head."""
    with reading(engine) as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in (t.entries, t.postings, t.audit_log, t.ledger_clock)
        }


def written(
    fresh: Callable[[], tuple[Engine, Clock]], write: Callable[[UnitOfWork, list[Entry]], None]
) -> tuple[dict[str, list[tuple[Any, ...]]], str]:
    engine, clock = fresh()
    masters.add_location(clock.uow(), code="MAIN", name="Main Street Rooms")
    with clock.uow() as uow:
        write(uow, entries(1))
        uow.commit()
    # a later single write chains on after the bulk ones
    with clock.uow() as uow:
        uow.append(entries(1)[0])
        uow.audit("after", "ledger", {})
        uow.commit()
    result = check.check_ledger(engine)
    assert result.violations == ()
    return snapshot(engine), str(result.head)


def one_by_one(uow: UnitOfWork, made: list[Entry]) -> None:
    for entry in made:
        uow.append(entry)
    for action, subject, detail in AUDITS:
        uow.audit(action, subject, detail)


def in_bulk(uow: UnitOfWork, made: list[Entry]) -> None:
    ids = uow.append_many(made)
    assert ids == list(range(ids[0], ids[0] + len(made)))
    uow.audit_many(AUDITS)


def test_append_many_and_audit_many_write_what_one_at_a_time_writes(
    fresh: Callable[[], tuple[Engine, Clock]],
) -> None:
    single_rows, single_head = written(fresh, one_by_one)
    bulk_rows, bulk_head = written(fresh, in_bulk)
    assert bulk_head == single_head
    assert bulk_rows == single_rows
    assert len(single_rows["entries"]) == len(NOTES) * 3 + 1
    assert len(single_rows["audit_log"]) == 1 + 1 + len(AUDITS) + 1  # practice, MAIN, ..., after


def test_nothing_to_write_writes_nothing(clock: Clock, engine: Engine) -> None:
    before = snapshot(engine)
    with clock.uow() as uow:
        assert uow.append_many([]) == []
        uow.audit_many([])
        assert uow.next_invoice_numbers(0) == range(0)
        uow.commit()
    after = snapshot(engine)
    assert after["entries"] == before["entries"] == []
    assert after["audit_log"] == before["audit_log"]


PATIENTS = "code,name\n" + "".join(f"P{n:03d},Patient Number{n}\n" for n in range(1, 31))
PAYERS = "code,name,kind\nHF,Harbour Fund,fund\n"
OPENING = (
    "party,code,date,location,amount,note\n"
    + "".join(
        f"patient,P{n:03d},2018-01-01,MAIN,{'-' if n % 4 == 0 else ''}{n}.25,"
        f"{'brought in' if n % 3 else ''}\n"
        for n in range(1, 31)
    )
    + "payer,HF,2018-01-01,MAIN,99.00,\n"
)


def import_text(clock: Clock, kind: str, text: str) -> imports.ImportResult:
    return imports.import_file(
        clock.uow(), imports.ImportFile(kind=kind, file_name=f"{kind}.csv", content=text.encode())
    )


def test_a_bulk_import_keeps_the_ledger_sound_and_later_writes_follow_on(
    clock: Clock, engine: Engine
) -> None:
    masters.add_location(clock.uow(), code="MAIN", name="Main Street Rooms")
    masters.add_patient(clock.uow(), code="P000", name="Patient Before")
    assert import_text(clock, "patients", PATIENTS).created == 30
    assert import_text(clock, "payers", PAYERS).created == 1
    result = import_text(clock, "opening-balances", OPENING)
    assert (result.created, result.unchanged) == (31, 0)
    # ids and invoice numbers as one insert at a time gives them, then a single insert
    # after them takes the next
    later = masters.add_patient(clock.uow(), code="P999", name="Patient After")
    with reading(engine) as conn:
        patients = conn.execute(
            select(t.patients.c.id, t.patients.c.code).order_by(t.patients.c.id)
        )
        assert [tuple(row) for row in patients] == [
            (1, "P000"),
            *((n + 1, f"P{n:03d}") for n in range(1, 31)),
            (32, "P999"),
        ]
        numbers = conn.execute(
            select(t.invoices.c.id, t.invoices.c.number, t.invoices.c.patient_id).order_by(
                t.invoices.c.id
            )
        )
        charged = [n for n in range(1, 31) if n % 4]
        assert [tuple(row) for row in numbers] == [
            *((k + 1, k + 1, n + 1) for k, n in enumerate(charged)),
            (len(charged) + 1, len(charged) + 1, None),  # the payer's
        ]
        credits = conn.execute(select(t.payments.c.amount_cents).order_by(t.payments.c.id))
        assert list(credits.scalars()) == [n * 100 + 25 for n in range(4, 31, 4)]
        notes = conn.execute(
            select(t.entries.c.note)
            .where(t.entries.c.kind == "opening_balance")
            .order_by(t.entries.c.id)
        )
        assert list(notes.scalars()) == [
            ("brought in" if n % 3 else None) for n in range(1, 31)
        ] + [None]
        audits = conn.execute(
            select(t.audit_log.c.action, t.audit_log.c.subject).order_by(t.audit_log.c.id)
        )
        actions = [tuple(row) for row in audits]
    assert later == 32
    assert actions[3:5] == [("patient.create", "patient:P001"), ("patient.create", "patient:P002")]
    assert actions[-2:] == [("import", "opening-balances"), ("patient.create", "patient:P999")]
    assert check.check_ledger(engine).violations == ()
    # the same files again change nothing; a changed row is refused by line and field
    assert import_text(clock, "opening-balances", OPENING).already_imported
    assert import_text(clock, "opening-balances", OPENING + "\n").unchanged == 31
    changed = OPENING.replace(
        "patient,P007,2018-01-01,MAIN,7.25", "patient,P007,2018-01-01,MAIN,7.26"
    )
    before = snapshot(engine)
    with pytest.raises(ImportRejected) as refused:
        import_text(clock, "opening-balances", changed)
    assert [(p.line, p.column) for p in refused.value.problems] == [(8, "amount")]
    assert "patient 'P007' already has an opening balance of another amount" in str(refused.value)
    assert snapshot(engine) == before


def synchronous(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def test_a_new_file_commits_unsynced_while_built_then_full_again(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "new.db"))
    assert synchronous(engine) == 2  # FULL, as every ledger
    with bulk.unsynced_while_new(engine):
        assert synchronous(engine) == 0  # OFF, only while inside
    assert synchronous(engine) == 2
    engine.dispose()


class _Stop(Exception):
    pass


def test_the_demo_relaxes_only_a_file_it_made_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger that existed before (here: initialised, still empty) keeps its durability
    while the demo is built in it. (Only the choice is looked at: the build stops as it
    starts.)"""
    relaxed: list[str] = []

    def recorded(engine: Engine) -> contextlib.AbstractContextManager[None]:
        relaxed.append(str(engine.url.database))
        return contextlib.nullcontext()

    def stop(_demo: demo.Demo) -> list[demo.Patient]:
        raise _Stop

    monkeypatch.setattr(bulk, "unsynced_while_new", recorded)
    monkeypatch.setattr(demo.Demo, "set_up", stop)
    existing = make_engine(str(tmp_path / "existing.db"))
    clock = dt.datetime.combine(demo.START, dt.time(7))
    masters.init_ledger(existing, lambda: UnitOfWork(existing, now=clock, actor="t"))
    new = make_engine(str(tmp_path / "new.db"))
    for engine in (existing, new):
        with pytest.raises(_Stop):
            demo.build(engine, seed=1)
        engine.dispose()
    assert relaxed == [str(tmp_path / "new.db")]


def some_work(uows: Callable[[], UnitOfWork]) -> None:
    """A few use cases, as a front desk would run them one after another."""
    masters.add_location(uows(), code="MAIN", name="Main Street Rooms")
    masters.add_patient(uows(), code="P1", name="Patient One")
    for made in entries(1)[:4]:
        with uows() as uow:
            uow.append(made)
            uow.audit("entry.add", "ledger", {"note": made.note})
            uow.commit()


def test_units_of_work_sharing_a_transaction_write_what_they_write_alone(
    fresh: Callable[[], tuple[Engine, Clock]],
) -> None:
    alone_engine, alone = fresh()
    some_work(alone.uow)
    masters.add_patient(alone.uow(), code="P2", name="Patient Two")
    expected = snapshot(alone_engine)  # before the next ledger (on PostgreSQL: the same one)
    shared_engine, clock = fresh()
    with SharedTransaction(shared_engine) as shared:

        def within() -> UnitOfWork:
            made = clock.uow()
            return UnitOfWork(
                shared_engine, now=made.now, actor=made.actor, strict_clock=True, within=shared
            )

        some_work(within)
        shared.commit()  # what is done so far is kept; the work goes on
        masters.add_patient(within(), code="P2", name="Patient Two")
    assert snapshot(shared_engine) == expected
    assert check.check_ledger(shared_engine).violations == ()


def test_a_unit_of_work_failing_in_a_shared_transaction_leaves_nothing_of_itself(
    clock: Clock, engine: Engine
) -> None:
    before = snapshot(engine)
    with SharedTransaction(engine) as shared:
        with (
            pytest.raises(_Stop),
            UnitOfWork(engine, now=clock.now, actor="system", within=shared) as uow,
        ):
            uow.append(
                Entry(
                    kind=EntryKind.OPENING_BALANCE,
                    effective_date=dt.date(2018, 1, 1),
                    postings=(
                        Posting(account=Account.UNBANKED, amount_cents=100),
                        Posting(account=Account.OPENING_BALANCE, amount_cents=-100),
                    ),
                )
            )
            uow.audit("entry.add", "ledger", {})
            raise _Stop
        with UnitOfWork(engine, now=clock.now, actor="system", within=shared) as uow:
            uow.commit()  # nothing written: the clock row alone
    assert snapshot(engine) == before
    with pytest.raises(_Stop), SharedTransaction(engine) as shared:
        masters.add_location(
            UnitOfWork(engine, now=clock.now, actor="system", within=shared),
            code="MAIN",
            name="Main Street Rooms",
        )
        raise _Stop  # the block fails: nothing of it is kept
    assert snapshot(engine) == before
    with reading(engine) as conn:
        assert conn.execute(select(t.locations)).all() == []
