"""Closing balances (migration 0008): a close keeps, at each month end inside the period and
at its own date, every non-zero balance of the kept accounts; a balance read through the
latest closing equals the sum over all history; ``check`` proves the kept balances and
that nothing lands in a closed period; the tables are append-only. Both backends."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from clinicledger.domain.chain import parse_head
from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.dates import month_ends
from clinicledger.domain.errors import UserError
from clinicledger.domain.journal import Account, Entry, EntryKind, Posting
from clinicledger.render.formats import to_json
from clinicledger.reports.base import ReportParams
from clinicledger.services import check, invoicing, masters, payments, periods
from clinicledger.services.check import Violation
from clinicledger.services.invoicing import LineSpec
from clinicledger.services.reporting import run_report
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t
from clinicledger.store.uow import reading
from conftest import PROPERTY, Clock

D = dt.date
KEPT = tuple(ledger.KEPT_BALANCES)


def add_masters(clock: Clock) -> None:
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient Two")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_payer(clock.uow(), code="DVA", name="Veterans", kind=PayerKind.DVA)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)


def consult(day: dt.date, fee_cents: int | None = None) -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE,
        item_code="500",
        provider_code="DR1",
        service_date=day,
        fee_cents=fee_cents,
    )


def invoice(clock: Clock, day: dt.date, patient: str, spec: LineSpec, billed_to=None) -> int:
    made = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code=patient, location_code="MAIN", billed_to_code=billed_to, lines=[spec]
        ),
    )
    return made.lines[0].id


def pay(clock: Clock, day: dt.date, code: str, cents: int, method=PaymentMethod.EFTPOS) -> int:
    return payments.record_payment(
        clock.at_date(day),
        payments.RecordPayment(
            from_code=code,
            amount_cents=cents,
            method=method,
            received_date=day,
            location_code="MAIN",
        ),
    )


def close(clock: Clock, day: dt.date, through: dt.date) -> None:
    periods.close_period(clock.at_date(day), periods.ClosePeriod(through=through))


def ids(engine) -> dict[str, int]:
    with reading(engine) as conn:
        return {
            "p1": lookups.id_for_code(conn, "patient", "P1"),
            "p2": lookups.id_for_code(conn, "patient", "P2"),
            "fund": lookups.id_for_code(conn, "payer", "FUND"),
        }


def closings(engine) -> list[ledger.Closing]:
    with reading(engine) as conn:
        rows = conn.execute(select(t.closings).order_by(t.closings.c.as_of)).all()
    return [ledger.Closing(id=r.id, as_of=r.as_of, recorded_at=r.recorded_at) for r in rows]


def kept(engine, as_of: dt.date, account: Account) -> dict[tuple, int]:
    """The balances a closing kept for ``account``: (its keys) -> cents."""
    keys = ledger.KEPT_BALANCES[account]
    kb = t.closing_balances
    with reading(engine) as conn:
        rows = conn.execute(
            select(*(kb.c[k] for k in keys), kb.c.amount_cents)
            .join(t.closings, t.closings.c.id == kb.c.closing_id)
            .where(t.closings.c.as_of == as_of, kb.c.account == account.value)
        ).all()
    found = {tuple(r[:-1]): int(r[-1]) for r in rows}
    assert len(found) == len(rows), "a balance kept twice"
    return found


def ordered(rows, keys: tuple[str, ...]) -> list[tuple]:
    """Rows of (keys..., cents) in a stable order, cents as int (a PostgreSQL sum is a
    Decimal)."""
    cents = len(keys)
    return sorted(
        (tuple(int(v) if n == cents else v for n, v in enumerate(r)) for r in rows), key=repr
    )


def rows_of(conn, balances, account: Account) -> list[tuple]:
    """A ``balances_since`` subquery's rows: the account's keys and cents."""
    keys = ledger.KEPT_BALANCES[account]
    columns = [*(balances.c[k] for k in keys), balances.c.amount_cents]
    return ordered(conn.execute(select(*columns)), keys)


def kept_rows(conn, closing: ledger.Closing, account: Account) -> list[tuple]:
    """A closing's kept rows of ``account``, as :func:`rows_of` gives them."""
    kb = t.closing_balances
    keys = ledger.KEPT_BALANCES[account]
    rows = conn.execute(
        select(*(kb.c[k] for k in keys), kb.c.amount_cents).where(
            kb.c.closing_id == closing.id, kb.c.account == account.value
        )
    )
    return ordered(rows, keys)


def close_audits(engine) -> list[tuple[dt.datetime, dict]]:
    with reading(engine) as conn:
        rows = conn.execute(
            select(t.audit_log.c.recorded_at, t.audit_log.c.detail)
            .where(t.audit_log.c.action == "period.close")
            .order_by(t.audit_log.c.id)
        ).all()
    return [(r.recorded_at, json.loads(r.detail)) for r in rows]


def retain(clock: Clock, day: dt.date, payment_id: int, party: dict, cents: int) -> None:
    """Keep ``cents`` of a payment's unapplied money (no service posts RETAINED yet: the
    entry is written as tests/reports/test_unallocated.py writes it)."""
    raw_entry(
        clock,
        day,
        "retain",
        [
            {"payment_id": payment_id, **party, "account": "UNALLOCATED", "amount_cents": cents},
            {"payment_id": payment_id, **party, "account": "RETAINED", "amount_cents": -cents},
        ],
    )


def raw_entry(clock: Clock, day: dt.date, kind: str, postings: list[dict]) -> None:
    """An entry no service writes yet (retaining funds), dated ``day``, written through the
    unit of work so that it is chained and audited like any other."""
    with clock.at_date(day) as uow:
        entry_id = uow.append(
            Entry(
                kind=EntryKind(kind),
                effective_date=day,
                reason="rounding",
                postings=tuple(
                    Posting(**{**p, "account": Account(p["account"])}) for p in postings
                ),
            )
        )
        uow.audit("test.raw_entry", f"E-{entry_id:06d}", {})
        uow.commit()


# ---- a small practice, January to March 2024 ---------------------------------------


@pytest.fixture
def book(clock):
    """January to March 2024, closed through 15 February on 21 February:

    L1 P1 10 Jan 100.00; PA1 (P1, 150.00, 15 Jan) applies 100.00 to it; 20.00 refunded
       from PA1 on 31 Jan; the allocation undone on 14 Feb: L1 owes 100.00, PA1 holds 130.00
    L2 P2 billed to FUND 12 Jan 100.00; 30.00 gap moved to P2 on 20 Jan; FUND pays 70.00
       (PF, 10 Feb) and P2 pays 50.00 (PB, 12 Feb) applying 30.00: L2 owes nothing
    PB keeps 3.00 retained on 13 Feb: PB holds 17.00 unapplied and 3.00 retained
    L3 P1 5 Feb 100.00, 15.00 written off on 15 Feb: 85.00
    L4 P1 for 5 Mar (invoiced ahead, on 14 Feb); L5 P2 20 Feb: both after 15 Feb
    The refund and the write-off are dated on closing dates: a closing includes its day.
    """
    clock.now = dt.datetime(2024, 1, 2, 9)
    add_masters(clock)
    made = ids(clock.engine)
    made["l1"] = invoice(clock, D(2024, 1, 10), "P1", consult(D(2024, 1, 10)))
    made["l2"] = invoice(clock, D(2024, 1, 12), "P2", consult(D(2024, 1, 12)), "FUND")
    made["pa1"] = pay(clock, D(2024, 1, 15), "P1", 15000)
    [first] = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=made["pa1"], targets=[(made["l1"], 10000)])
    )
    invoicing.transfer(
        clock.at_date(D(2024, 1, 20)),
        invoicing.Transfer(line_id=made["l2"], amount_cents=3000, reason="gap", to_patient=True),
    )
    payments.refund(
        clock.at_date(D(2024, 1, 31)),
        payments.Refund(payment_id=made["pa1"], amount_cents=2000, reason="asked"),
    )
    made["l3"] = invoice(clock, D(2024, 2, 5), "P1", consult(D(2024, 2, 5)))
    invoicing.adjust_line(
        clock.at_date(D(2024, 2, 15)),
        invoicing.AdjustLine(
            line_id=made["l3"], amount_cents=1500, reason=AdjustmentReason.WRITE_OFF
        ),
    )
    made["pf"] = pay(clock, D(2024, 2, 10), "FUND", 7000, PaymentMethod.INSURANCE)
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=made["pf"], targets=[(made["l2"], 7000)])
    )
    made["pb"] = pay(clock, D(2024, 2, 12), "P2", 5000)
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=made["pb"], targets=[(made["l2"], 3000)])
    )
    retain(clock, D(2024, 2, 13), made["pb"], {"patient_id": made["p2"]}, 300)
    payments.unallocate(
        clock.at_date(D(2024, 2, 14)), payments.Unallocate(allocation_id=first.id, reason="wrong")
    )
    made["l4"] = invoice(clock, D(2024, 2, 14), "P1", consult(D(2024, 3, 5)))
    made["l5"] = invoice(clock, D(2024, 2, 20), "P2", consult(D(2024, 2, 20)))
    close(clock, D(2024, 2, 21), D(2024, 2, 15))
    return made


def march(clock: Clock, book: dict) -> None:
    """After the close, in the open period: L3 paid on 26 Feb; 100.00 of PA1 applied to L4
    on 6 Mar; L5 deleted on 10 Mar; FUND pays 10.00 unmatched on 31 Mar. Then the close
    through 31 March, on 2 April."""
    paid = pay(clock, D(2024, 2, 26), "P1", 8500)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=paid, targets=[(book["l3"], 8500)]))
    payments.allocate(
        clock.at_date(D(2024, 3, 6)),
        payments.Allocate(payment_id=book["pa1"], targets=[(book["l4"], 10000)]),
    )
    invoicing.delete_line(
        clock.at_date(D(2024, 3, 10)), invoicing.DeleteLine(line_id=book["l5"], reason="error")
    )
    book["pf2"] = pay(clock, D(2024, 3, 31), "FUND", 1000, PaymentMethod.INSURANCE)
    close(clock, D(2024, 4, 2), D(2024, 3, 31))


def test_a_close_keeps_each_month_end_and_its_own_date(book, engine, clock) -> None:
    p1, p2, fund = book["p1"], book["p2"], book["fund"]
    # The first posting is dated 10 January: January's end, then the closing date itself.
    assert [c.as_of for c in closings(engine)] == [D(2024, 1, 31), D(2024, 2, 15)]
    # 31 Jan: L1 was paid (not kept); L2's fund portion 70.00, its gap 30.00; PA1 holds
    # 150.00 - 100.00 applied - 20.00 refunded = 30.00 (credit: negative).
    assert kept(engine, D(2024, 1, 31), Account.RECEIVABLE) == {
        (book["l2"], fund, p2): 7000,
        (book["l2"], None, p2): 3000,
    }
    assert kept(engine, D(2024, 1, 31), Account.UNALLOCATED) == {(book["pa1"],): -3000}
    assert kept(engine, D(2024, 1, 31), Account.RETAINED) == {}
    # 15 Feb: L1 owes again (allocation undone), L3 85.00; L2 is settled (not kept) and
    # L4 (5 Mar) and L5 (20 Feb) are later. PA1 130.00; PF all applied; PB 50 - 30 - 3.
    assert kept(engine, D(2024, 2, 15), Account.RECEIVABLE) == {
        (book["l1"], None, p1): 10000,
        (book["l3"], None, p1): 8500,
    }
    assert kept(engine, D(2024, 2, 15), Account.UNALLOCATED) == {
        (book["pa1"],): -13000,
        (book["pb"],): -1700,
    }
    assert kept(engine, D(2024, 2, 15), Account.RETAINED) == {(book["pb"],): -300}

    march(clock, book)
    assert [c.as_of for c in closings(engine)] == [
        D(2024, 1, 31),
        D(2024, 2, 15),
        D(2024, 2, 29),
        D(2024, 3, 31),
    ]
    # 31 Mar: L3 paid, L4 paid from PA1, L5 deleted; PA1 30.00, PB 17.00, FUND's 10.00.
    assert kept(engine, D(2024, 3, 31), Account.RECEIVABLE) == {(book["l1"], None, p1): 10000}
    assert kept(engine, D(2024, 3, 31), Account.UNALLOCATED) == {
        (book["pa1"],): -3000,
        (book["pb"],): -1700,
        (book["pf2"],): -1000,
    }
    # The audit record of each close names its closings, which carry the close's time.
    audits = close_audits(engine)
    heads = [detail.pop("head") for _, detail in audits]  # issue 8: a close keeps the head
    assert [detail for _, detail in audits] == [
        {"through": "2024-02-15", "closings": ["2024-01-31", "2024-02-15"]},
        {"through": "2024-03-31", "closings": ["2024-02-29", "2024-03-31"]},
    ]
    for head in heads:
        assert check.check_ledger(engine, expect=parse_head(head)).violations == ()
    stamps = [at for at, _ in audits]
    assert [c.recorded_at for c in closings(engine)] == [stamps[0]] * 2 + [stamps[1]] * 2
    assert check.check_ledger(engine).violations == ()


def test_a_first_close_without_postings_keeps_only_its_date(clock, engine) -> None:
    clock.now = dt.datetime(2024, 1, 2, 9)
    add_masters(clock)
    close(clock, D(2024, 3, 4), D(2024, 3, 1))
    assert [c.as_of for c in closings(engine)] == [D(2024, 3, 1)]
    assert all(kept(engine, D(2024, 3, 1), account) == {} for account in KEPT)
    # A later close starts the day after it; a month-end through date is kept once.
    invoice(clock, D(2024, 3, 5), "P1", consult(D(2024, 3, 5)))
    close(clock, D(2024, 5, 2), D(2024, 4, 30))
    assert [c.as_of for c in closings(engine)] == [D(2024, 3, 1), D(2024, 3, 31), D(2024, 4, 30)]
    assert [detail["closings"] for _, detail in close_audits(engine)] == [
        ["2024-03-01"],
        ["2024-03-31", "2024-04-30"],
    ]


def test_kept_balances_are_the_sums_over_all_history(book, engine, clock) -> None:
    march(clock, book)
    with reading(engine) as conn:
        for closing, account in itertools.product(closings(engine), KEPT):
            everything = ledger.balances_since(None, account, as_of=closing.as_of, as_known_at=None)
            assert kept_rows(conn, closing, account) == rows_of(conn, everything, account), (
                closing.as_of,
                account,
            )


def test_a_balance_read_through_a_closing_is_the_sum_over_all_history(book, engine, clock) -> None:
    march(clock, book)
    first_close = close_audits(engine)[0][0]
    days = [D(2024, 1, 1) + dt.timedelta(days=n) for n in range(0, 100, 3)]
    moments = [None, first_close - dt.timedelta(microseconds=1), first_close]
    with reading(engine) as conn:
        for as_of, as_known_at, account in itertools.product([None, *days], moments, KEPT):
            read = ledger.account_balances(conn, account, as_of=as_of, as_known_at=as_known_at)
            plain = ledger.balances_since(None, account, as_of=as_of, as_known_at=as_known_at)
            assert rows_of(conn, read, account) == rows_of(conn, plain, account), (
                as_of,
                as_known_at,
                account,
            )


def test_retained_funds_show_when_last_kept_through_closings(book, engine, clock) -> None:
    march(clock, book)
    with reading(engine) as conn:
        kept_at = conn.execute(
            select(func.max(t.postings.c.recorded_at)).where(t.postings.c.account == "RETAINED")
        ).scalar_one()
    report = run_report(engine, "unallocated", ReportParams(as_of=D(2024, 3, 31)))
    [section] = report.sections
    [row] = section.rows
    assert (row.payment, row.retained_cents) == (f"PAY-{book['pb']:06d}", 300)
    # when it was kept (local time), read through the closing of 31 March
    assert row.retained_at.replace(tzinfo=None) == kept_at.replace(tzinfo=dt.UTC).astimezone(
        ZoneInfo("Australia/Sydney")
    ).replace(tzinfo=None)


def test_a_payment_is_one_balance_whatever_party_its_postings_carry(book, engine, clock) -> None:
    """PB's 3.00 retained (posted with P2 as the party) is cleared by an entry that names
    the payment only: PB retains nothing, and is neither listed nor kept twice."""
    pb = book["pb"]
    raw_entry(
        clock,
        D(2024, 3, 20),
        "retain_clear",
        [
            {"payment_id": pb, "account": "RETAINED", "amount_cents": 300},
            {"payment_id": pb, "account": "REVENUE_BILLED", "amount_cents": -300},
        ],
    )
    close(clock, D(2024, 4, 2), D(2024, 3, 31))
    report = run_report(engine, "unallocated", ReportParams(as_of=D(2024, 3, 31)))
    assert report.sections[0].rows == ()
    assert kept(engine, D(2024, 3, 31), Account.RETAINED) == {}
    assert kept(engine, D(2024, 2, 29), Account.RETAINED) == {(pb,): -300}


# ---- check ---------------------------------------------------------------------------


def test_check_is_clean_after_closes(book, engine, clock) -> None:
    assert check.check_ledger(engine).violations == ()
    march(clock, book)
    assert check.check_ledger(engine).violations == ()


def insert_kept(engine, as_of: dt.date, **values) -> None:
    closing_id = next(c.id for c in closings(engine) if c.as_of == as_of)
    with engine.begin() as conn:
        conn.execute(
            insert(t.closing_balances).values(
                closing_id=closing_id,
                **values,
            )
        )


def test_check_finds_a_kept_balance_the_journal_does_not_give(book, engine, clock) -> None:
    march(clock, book)
    # L3 was paid on 26 February: nothing is owed on it on 31 March.
    insert_kept(
        engine,
        D(2024, 3, 31),
        account="RECEIVABLE",
        line_id=book["l3"],
        patient_id=book["p1"],
        amount_cents=4200,
    )
    assert check.check_ledger(engine).violations == (
        Violation(
            code="closing_mismatch",
            message="the RECEIVABLE balances kept at the closing of 2024-03-31 differ from "
            "the journal (1 balance(s) wrong, missing or kept twice)",
        ),
    )


def test_check_finds_a_wrong_kept_balance_in_an_earlier_closing(book, engine) -> None:
    insert_kept(
        engine,
        D(2024, 1, 31),
        account="UNALLOCATED",
        payment_id=book["pa1"],
        patient_id=book["p1"],
        amount_cents=-500,
    )
    # Only that closing: the next one is checked against the last closing found right.
    assert check.check_ledger(engine).violations == (
        Violation(
            code="closing_mismatch",
            message="the UNALLOCATED balances kept at the closing of 2024-01-31 differ from "
            "the journal (1 balance(s) wrong, missing or kept twice)",
        ),
    )


def test_check_finds_a_balance_kept_twice(book, engine) -> None:
    insert_kept(
        engine,
        D(2024, 2, 15),
        account="RECEIVABLE",
        line_id=book["l3"],
        patient_id=book["p1"],
        amount_cents=8500,
    )
    with reading(engine) as conn:  # the debt is read twice through the closing
        read = ledger.account_balances(
            conn, Account.RECEIVABLE, as_of=D(2024, 2, 20), as_known_at=None
        )
        owing = conn.execute(
            select(read.c.amount_cents).where(read.c.line_id == book["l3"])
        ).scalar_one()
        assert int(owing) == 17000
    assert [v.code for v in check.check_ledger(engine).violations] == ["closing_mismatch"]


def test_check_finds_an_entry_dated_inside_a_closed_period(book, engine, clock) -> None:
    march(clock, book)
    # Written past the services (which refuse it), after both closes: 5.00 more on L1,
    # dated 10 February.
    with clock.at_date(D(2024, 4, 3)) as uow:
        recorded_at = uow.stamp()
        day = D(2024, 2, 10)
        entry_id = uow.conn.execute(
            insert(t.entries)
            .values(recorded_at=recorded_at, effective_date=day, actor="system", kind="charge")
            .returning(t.entries.c.id)
        ).scalar_one()
        common = {
            "entry_id": entry_id,
            "effective_date": day,
            "recorded_at": recorded_at,
            "entry_kind": "charge",
        }
        uow.conn.execute(
            insert(t.postings),
            [
                {
                    **common,
                    "account": "RECEIVABLE",
                    "amount_cents": 500,
                    "line_id": book["l1"],
                    "patient_id": book["p1"],
                },
                {
                    **common,
                    "account": "REVENUE_BILLED",
                    "amount_cents": -500,
                    "line_id": book["l1"],
                    "patient_id": book["p1"],
                },
            ],
        )
        uow.commit()
    found = check.check_ledger(engine).violations
    assert found[0] == Violation(
        code="entry_in_closed_period",
        message=f"entry E-{entry_id:06d} is dated 2024-02-10, inside the period "
        "closed through 2024-03-31 before it was recorded",
    )
    # issue 8: written around the ledger, it is also outside the chains, unaudited, and
    # makes L1's charge differ from its fee
    assert [v.code for v in found[1:]] == [
        "line_amount_differs",
        "entry_chain_broken",
        "entry_unaudited",
        "chain_head_mismatch",
    ]
    # Why it matters: the closings no longer give what the journal gives.
    with reading(engine) as conn:
        args = dict(as_of=D(2024, 4, 3), as_known_at=None)
        read = ledger.account_balances(conn, Account.RECEIVABLE, **args)
        plain = ledger.balances_since(None, Account.RECEIVABLE, **args)
        assert rows_of(conn, read, Account.RECEIVABLE) == [(book["l1"], None, book["p1"], 10000)]
        assert rows_of(conn, plain, Account.RECEIVABLE) == [(book["l1"], None, book["p1"], 10500)]


# ---- append-only ---------------------------------------------------------------------

CHANGES = {
    ("closings", "UPDATE"): "UPDATE closings SET as_of = as_of",
    ("closings", "DELETE"): "DELETE FROM closings",
    ("closing_balances", "UPDATE"): "UPDATE closing_balances SET amount_cents = 0",
    ("closing_balances", "DELETE"): "DELETE FROM closing_balances",
}


@pytest.mark.parametrize(("table", "action"), list(CHANGES))
def test_closings_refuse_to_change(book, engine, table: str, action: str) -> None:
    def rows() -> list[tuple]:
        with reading(engine) as conn:
            return sorted(map(tuple, conn.execute(text(f"SELECT * FROM {table}"))), key=repr)

    before = rows()
    assert before  # there is something to change
    with pytest.raises(DBAPIError, match=f"{table} is append-only"), engine.begin() as conn:
        conn.execute(text(CHANGES[table, action]))
    assert rows() == before


# ---- properties over random journals -------------------------------------------------

START = D(2024, 1, 8)
PARTIES = ("P1", "P2", "FUND", "DVA")
money = st.integers(1, 150).map(lambda n: n * 100)

STEPS = {
    "invoice": st.tuples(
        st.just("invoice"),
        st.sampled_from(("P1", "P2")),
        st.sampled_from((None, None, "FUND", "DVA")),
        st.booleans(),  # a product rather than a service
        st.integers(-20, 25),  # service date, days from today: past (maybe closed) or ahead
        money,
    ),
    "payment": st.tuples(st.just("payment"), st.sampled_from(PARTIES), money, st.booleans()),
    "allocate": st.tuples(st.just("allocate"), st.integers(0, 30), st.integers(0, 30), money),
    "unallocate": st.tuples(st.just("unallocate"), st.integers(0, 30)),
    "refund": st.tuples(st.just("refund"), st.integers(0, 30), money),
    "reverse": st.tuples(st.just("reverse"), st.integers(0, 30)),
    "gap": st.tuples(st.just("gap"), st.integers(0, 30), money),
    "adjust": st.tuples(
        st.just("adjust"), st.integers(0, 30), money, st.sampled_from(list(AdjustmentReason))
    ),
    "delete": st.tuples(st.just("delete"), st.integers(0, 30)),
    "credit": st.tuples(st.just("credit"), st.sampled_from(("P1", "P2"))),
    "retain": st.tuples(st.just("retain"), st.integers(0, 30), st.integers(1, 500)),
    "days": st.tuples(st.just("days"), st.integers(1, 35)),
}
WEIGHTED = ("invoice",) * 4 + ("payment",) * 3 + ("days",) * 4 + tuple(STEPS)
step = st.sampled_from(WEIGHTED).flatmap(lambda kind: STEPS[kind])


class Journal:
    """Plays steps through the services; a step the ledger refuses is skipped (refusals
    are tested elsewhere). Business is done at ten in the morning, practice time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.today = START
        self.lines: list[int] = []
        self.paid: list[int] = []
        self.allocations: list[int] = []
        self.retained: set[int] = set()  # reverse_payment knows nothing of RETAINED yet
        clock.at_date(START, hour=8)
        add_masters(clock)

    def play(self, steps) -> None:
        clock = self.clock
        for s in steps:
            lines, paid = self.lines, self.paid
            try:
                if s[0] == "invoice":
                    _, patient, payer, product, offset, fee = s
                    spec = (
                        LineSpec(kind=LineKind.PRODUCT, product_title="Theraband", fee_cents=fee)
                        if product
                        else consult(self.today + dt.timedelta(days=offset), fee)
                    )
                    lines.append(invoice(clock, self.today, patient, spec, payer))
                elif s[0] == "payment":
                    _, code, cents, apply = s
                    made = pay(clock, self.today, code, cents)
                    paid.append(made)
                    if apply:
                        allocated = payments.allocate(
                            clock.uow(), payments.Allocate(payment_id=made, auto=True)
                        )
                        self.allocations += [a.id for a in allocated]
                elif s[0] == "allocate" and paid and lines:
                    [made] = payments.allocate(
                        clock.uow(),
                        payments.Allocate(
                            payment_id=paid[s[1] % len(paid)],
                            targets=[(lines[s[2] % len(lines)], s[3])],
                        ),
                    )
                    self.allocations.append(made.id)
                elif s[0] == "unallocate" and self.allocations:
                    payments.unallocate(
                        clock.uow(),
                        payments.Unallocate(
                            allocation_id=self.allocations[s[1] % len(self.allocations)],
                            reason="wrong line",
                        ),
                    )
                elif s[0] == "refund" and paid:
                    payments.refund(
                        clock.uow(),
                        payments.Refund(
                            payment_id=paid[s[1] % len(paid)], amount_cents=s[2], reason="asked"
                        ),
                    )
                elif s[0] == "reverse" and paid:
                    if paid[s[1] % len(paid)] not in self.retained:
                        payments.reverse_payment(
                            clock.uow(),
                            payments.ReversePayment(
                                payment_id=paid[s[1] % len(paid)], reason="dishonoured"
                            ),
                        )
                elif s[0] == "gap" and lines:
                    invoicing.transfer(
                        clock.uow(),
                        invoicing.Transfer(
                            line_id=lines[s[1] % len(lines)],
                            amount_cents=s[2],
                            reason="gap",
                            to_patient=True,
                        ),
                    )
                elif s[0] == "adjust" and lines:
                    invoicing.adjust_line(
                        clock.uow(),
                        invoicing.AdjustLine(
                            line_id=lines[s[1] % len(lines)], amount_cents=s[2], reason=s[3]
                        ),
                    )
                elif s[0] == "delete" and lines:
                    invoicing.delete_line(
                        clock.uow(),
                        invoicing.DeleteLine(
                            line_id=lines[s[1] % len(lines)], reason="error", cascade=True
                        ),
                    )
                elif s[0] == "credit":
                    made = payments.apply_credit(
                        clock.uow(), payments.ApplyCredit(patient_code=s[1], auto=True)
                    )
                    self.allocations += [a.id for a in made]
                elif s[0] == "retain" and paid:
                    self.retain(paid[s[1] % len(paid)], s[2])
                elif s[0] == "days":
                    self.today += dt.timedelta(days=s[1])
                    clock.at_date(self.today, hour=8)
            except UserError as refused:
                event(f"refused: {s[0]} ({refused.code})")

    def retain(self, payment_id: int, cents: int) -> None:
        """Keep some of a payment's unapplied money, as the services would refuse it: not
        more than it holds, not a reversed payment, not inside a closed period."""
        with reading(self.clock.engine) as conn:
            row = lookups.payment_record(conn, payment_id)
            unapplied = lookups.payment_unallocated_cents(conn, payment_id)
            closed = ledger.closed_through(conn)
        if row.reversed_at is not None or cents > unapplied:
            return
        if closed is not None and self.today <= closed:
            return
        party = {"patient_id": row.patient_id, "payer_id": row.payer_id}
        retain(self.clock, self.today, payment_id, party, cents)
        self.retained.add(payment_id)


def report_views(today: dt.date, through: dt.date, as_known_at=None) -> list[tuple]:
    """(report, parameters): debtors and unallocated the day before a close's date, at
    it and today; debtors detailed, and as of the latest entry; the aging trend."""
    views: list[tuple] = [
        ("debtors", ReportParams(as_known_at=as_known_at)),
        ("debtors", ReportParams(as_of=today, as_known_at=as_known_at, options=DETAILED)),
        ("aging-trend", ReportParams(from_date=START, to_date=today, as_known_at=as_known_at)),
    ]
    for day in sorted({through - dt.timedelta(days=1), through, today}):
        views += [
            ("debtors", ReportParams(as_of=day, as_known_at=as_known_at)),
            ("unallocated", ReportParams(as_of=day, as_known_at=as_known_at)),
        ]
    return views


DETAILED = {"detail": "detailed", "separate_locations": True}


def outputs(engine, views, today: dt.date) -> list[str]:
    return [to_json(run_report(engine, name, params, today=today)) for name, params in views]


def first_posting_date(engine) -> dt.date | None:
    """The date of the earliest posting to a kept account."""
    accounts = [a.value for a in KEPT]
    with reading(engine) as conn:
        return conn.execute(
            select(func.min(t.postings.c.effective_date)).where(t.postings.c.account.in_(accounts))
        ).scalar_one()


def last_recorded(engine) -> dt.datetime:
    with reading(engine) as conn:
        return conn.execute(select(t.ledger_clock.c.last_recorded_at)).scalar_one()


@PROPERTY
@given(
    phases=st.lists(
        st.tuples(st.lists(step, min_size=4, max_size=16), st.integers(0, 10)),
        min_size=1,
        max_size=2,
    ),
    after=st.lists(step, min_size=0, max_size=10),
    data=st.data(),
)
def test_closings_never_change_a_balance_or_a_report(fresh, phases, after, data) -> None:
    """Steps, a close through a day between the first and today, (steps, a close,) steps
    in the open period.
    A close changes no report; a report as known just before it reads the same after all
    that follows; at any date, as known at any moment, a balance read through the
    closings is the sum over all history."""
    engine, clock = fresh()
    journal = Journal(clock)
    closes: list[dt.date] = []
    wanted: list[dt.date] = []  # the closings each close should make
    moments: list[dt.datetime] = []  # the last entry before each close, and the close
    remembered = []  # reports as known just before a close, to be read again at the end
    for steps, tenths in phases:
        journal.play(steps)
        today = journal.today
        through = START + (today - START) * tenths // 10  # from the first day to today
        views = report_views(today, through)
        before = outputs(engine, views, today)
        known = last_recorded(engine)
        first = closes[-1] + dt.timedelta(days=1) if closes else first_posting_date(engine)
        try:
            close(clock, today, through)
        except UserError as refused:  # not after the last close
            event(f"refused: close ({refused.code})")
            continue
        # From the first posting's month (or the day after the last close), each month
        # end before the close's date, and that date.
        wanted += [d for d in month_ends(first or through, through) if d != through] + [through]
        closes.append(through)
        moments += [known, last_recorded(engine)]
        assert outputs(engine, views, today) == before
        as_known = report_views(today, through, as_known_at=known)
        remembered.append((as_known, today, outputs(engine, as_known, today)))
    journal.play(after)
    assert check.check_ledger(engine).violations == ()

    with reading(engine) as conn:
        made = list(conn.execute(select(t.closings.c.as_of).order_by(t.closings.c.as_of)).scalars())
        counts = conn.execute(
            select(t.closing_balances.c.account, func.count()).group_by(
                t.closing_balances.c.account
            )
        ).all()
    event(f"closes: {len(closes)}, closings: {min(len(made), 4)}{'+' * (len(made) >= 4)}")
    for account, count in counts:
        event(f"{account} balances kept: {'1-4' if count < 5 else '5+'}")
    assert made == wanted

    for views, today, output in remembered:
        assert outputs(engine, views, today) == output

    # Dates at, around and between the closings, before the first and after the last;
    # moments just before and at each close, after everything, and none.
    last = journal.today + dt.timedelta(days=40)
    days = {START - dt.timedelta(days=1), last, *made}
    days |= {d + dt.timedelta(days=n) for d in closes for n in (-1, 1)}
    days |= {d + (e - d) / 2 for d, e in itertools.pairwise(made)}
    as_ofs = data.draw(st.lists(st.sampled_from(sorted(days)), min_size=1, max_size=6, unique=True))
    moments.append(last_recorded(engine))
    known_ats = [None, *moments, *(m - dt.timedelta(microseconds=1) for m in moments[:-1])]
    with reading(engine) as conn:
        for as_of, as_known_at, account in itertools.product([None, *as_ofs], known_ats, KEPT):
            read = ledger.account_balances(conn, account, as_of=as_of, as_known_at=as_known_at)
            plain = ledger.balances_since(None, account, as_of=as_of, as_known_at=as_known_at)
            assert rows_of(conn, read, account) == rows_of(conn, plain, account), (
                as_of,
                as_known_at,
                account,
            )
