"""Each use case on both backends, with hand-computed numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from clinicledger.domain.choices import (
    AdjustmentReason,
    InsuranceStatus,
    LineKind,
    PayerKind,
    PaymentMethod,
)
from clinicledger.domain.errors import Conflict, OverAllocation, PeriodClosed
from clinicledger.domain.journal import Account, Entry, EntryKind
from clinicledger.services import balances, check, invoicing, masters, payments, periods
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

D = dt.date


@pytest.fixture
def practice(clock):
    """A GST-registered practice with two patients, a fund, two providers and items; its
    clock starts on 2018-06-01, after the services and payments the tests date."""
    clock.now = dt.datetime(2018, 6, 1, 9)
    masters.set_practice(clock.uow(), name="Test Practice", gst_registered=True)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient Two")
    masters.add_payer(clock.uow(), code="FUND", name="Test Fund", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="CONS", description="Consultation", fee_cents=10000)
    masters.add_item(clock.uow(), code="RPT", description="Report", fee_cents=22000, taxable=True)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)
    return clock


def service(day: D, item: str = "CONS", provider: str = "DR1", **extra) -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE, item_code=item, provider_code=provider, service_date=day, **extra
    )


def invoice(clock, *specs: LineSpec, patient: str = "P1", billed_to: str | None = None):
    return invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code=patient, location_code="MAIN", billed_to_code=billed_to, lines=list(specs)
        ),
    )


def pay(
    clock,
    amount: int,
    party: str = "P1",
    day: D = D(2018, 3, 1),
    method: PaymentMethod = PaymentMethod.EFTPOS,
) -> int:
    return payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code=party,
            amount_cents=amount,
            method=method,
            received_date=day,
            location_code="MAIN",
        ),
    )


def patient_balance(engine, code: str = "P1", **when) -> int:
    return balances.balance(engine, patient_code=code, **when).balance_cents


def line_balance(engine, line_id: int) -> int:
    return balances.balance(engine, line_id=line_id).balance_cents


def account_total(engine, account: Account) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(t.postings.c.amount_cents), 0)).where(
                    t.postings.c.account == account.value
                )
            ).scalar_one()
        )


def assert_sound(engine) -> None:
    assert check.check_ledger(engine).violations == ()


def test_invoice_lines_of_three_kinds_with_gst(practice, engine) -> None:
    made = invoice(
        practice,
        service(D(2018, 2, 1)),
        service(D(2018, 2, 1), item="RPT"),
        LineSpec(kind=LineKind.PRODUCT, product_title="Theraband"),
        LineSpec(
            kind=LineKind.CANCELLATION,
            provider_code="DR2",
            service_date=D(2018, 2, 2),
            fee_cents=5000,
        ),
    )
    assert made.number == 1
    assert [line.amount_cents for line in made.lines] == [10000, 22000, 1800, 5000]
    assert [line.gst_cents for line in made.lines] == [0, 2000, 164, 0]
    assert made.total_cents == 38800
    assert account_total(engine, Account.GST_PAYABLE) == -2164
    assert account_total(engine, Account.REVENUE_BILLED) == -(38800 - 2164)
    assert balances.balance(engine, invoice_number=1).balance_cents == 38800
    assert patient_balance(engine) == 38800
    assert_sound(engine)


def test_invoice_numbers_are_sequential_and_never_reused(practice, engine) -> None:
    first = invoice(practice, service(D(2018, 2, 1)))
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the number must not be used
        invoice(practice, service(D(2018, 2, 1), item="NOPE"))
    second = invoice(practice, service(D(2018, 2, 2)))
    assert (first.number, second.number) == (1, 2)


def test_payment_allocation_and_auto_allocation_oldest_first(practice, engine) -> None:
    older = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    newer = invoice(practice, service(D(2018, 2, 8))).lines[0].id
    payment_id = pay(practice, 15000)
    made = payments.allocate(practice.uow(), payments.Allocate(payment_id=payment_id, auto=True))
    assert [(a.line_id, a.amount_cents) for a in made] == [(older, 10000), (newer, 5000)]
    assert line_balance(engine, older) == 0
    assert line_balance(engine, newer) == 5000
    assert patient_balance(engine) == 5000
    with pytest.raises(OverAllocation) as caught:
        payments.allocate(
            practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(newer, 100)])
        )
    assert caught.value.code == "allocation_exceeds_payment"
    assert_sound(engine)


def test_unallocate_returns_the_money_to_the_payment(practice, engine) -> None:
    line_id = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    payment_id = pay(practice, 10000)
    [allocation] = payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 6000)])
    )
    payments.unallocate(
        practice.uow(), payments.Unallocate(allocation_id=allocation.id, reason="wrong line")
    )
    with engine.connect() as conn:
        assert lookups.payment_unallocated_cents(conn, payment_id) == 10000
    assert line_balance(engine, line_id) == 10000
    assert patient_balance(engine) == 0  # 100 owing less 100 credit
    with pytest.raises(Conflict) as caught:
        payments.unallocate(
            practice.uow(), payments.Unallocate(allocation_id=allocation.id, reason="again")
        )
    assert caught.value.code == "allocation_undone"


def test_payer_payment_covers_lines_of_several_patients(practice, engine) -> None:
    one = invoice(practice, service(D(2018, 2, 1)), billed_to="FUND").lines[0].id
    two = invoice(practice, service(D(2018, 2, 2)), patient="P2", billed_to="FUND").lines[0].id
    payment_id = pay(practice, 14000, party="FUND", method=PaymentMethod.INSURANCE)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(one, 7000), (two, 7000)])
    )
    assert balances.balance(engine, payer_code="FUND").balance_cents == 6000
    assert patient_balance(engine, "P1") == 0  # fund-billed: nothing owed by the patient yet
    # the gap moves to each patient
    invoicing.transfer(
        practice.uow(),
        invoicing.Transfer(line_id=one, amount_cents=3000, reason="gap", to_patient=True),
    )
    assert patient_balance(engine, "P1") == 3000
    assert balances.balance(engine, payer_code="FUND").balance_cents == 3000
    with pytest.raises(OverAllocation):
        invoicing.transfer(
            practice.uow(),
            invoicing.Transfer(
                line_id=one, amount_cents=1, reason="more gap than owing", to_patient=True
            ),
        )
    assert_sound(engine)


def test_patient_credit_applied_later_is_credit_used(practice, engine) -> None:
    prepaid = pay(practice, 25000, day=D(2018, 1, 20))
    assert patient_balance(engine) == -25000
    first = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    second = invoice(practice, service(D(2018, 2, 8))).lines[0].id
    made = payments.apply_credit(practice.uow(), payments.ApplyCredit(patient_code="P1", auto=True))
    assert [(a.line_id, a.payment_id, a.amount_cents) for a in made] == [
        (first, prepaid, 10000),
        (second, prepaid, 10000),
    ]
    assert patient_balance(engine) == -5000
    with engine.connect() as conn:
        kinds = (
            conn.execute(select(t.entries.c.kind).where(t.entries.c.id.in_([a.id for a in made])))
            .scalars()
            .all()
        )
    assert set(kinds) == {"credit_applied"}
    with pytest.raises(OverAllocation) as caught:
        payments.apply_credit(
            practice.uow(), payments.ApplyCredit(patient_code="P1", targets=[(first, 1)])
        )
    assert caught.value.code == "allocation_exceeds_line"


def test_refund_only_from_unallocated_money(practice, engine) -> None:
    line_id = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    payment_id = pay(practice, 12000)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 10000)])
    )
    with pytest.raises(OverAllocation) as caught:
        payments.refund(
            practice.uow(),
            payments.Refund(payment_id=payment_id, amount_cents=2001, reason="overpaid"),
        )
    assert caught.value.message == ("payment PAY-000001 has 20.00 unallocated; cannot refund 20.01")
    payments.refund(
        practice.uow(), payments.Refund(payment_id=payment_id, amount_cents=2000, reason="overpaid")
    )
    assert patient_balance(engine) == 0
    assert account_total(engine, Account.REFUNDED) == -2000
    with pytest.raises(Conflict) as caught:
        payments.reverse_payment(
            practice.uow(), payments.ReversePayment(payment_id=payment_id, reason="bounced")
        )
    assert caught.value.code == "payment_refunded"
    assert_sound(engine)


def test_reversing_a_payment_undoes_its_allocations(practice, engine) -> None:
    line_id = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    payment_id = pay(practice, 10000, method=PaymentMethod.CHEQUE)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 10000)])
    )
    payments.reverse_payment(
        practice.uow(), payments.ReversePayment(payment_id=payment_id, reason="cheque dishonoured")
    )
    assert line_balance(engine, line_id) == 10000
    assert patient_balance(engine) == 10000
    assert account_total(engine, Account.UNBANKED) == 0
    with pytest.raises(Conflict) as caught:
        payments.allocate(
            practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 100)])
        )
    assert caught.value.code == "payment_reversed"
    assert_sound(engine)


def test_adjustments_reduce_a_line_with_a_reason(practice, engine) -> None:
    line_id = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    invoicing.adjust_line(
        practice.uow(),
        invoicing.AdjustLine(
            line_id=line_id, amount_cents=1000, reason=AdjustmentReason.DISCOUNT, note="concession"
        ),
    )
    assert line_balance(engine, line_id) == 9000
    with pytest.raises(OverAllocation):
        invoicing.adjust_line(
            practice.uow(),
            invoicing.AdjustLine(
                line_id=line_id, amount_cents=9001, reason=AdjustmentReason.WRITE_OFF
            ),
        )
    with engine.connect() as conn:
        reasons = (
            conn.execute(
                select(t.postings.c.reason).where(t.postings.c.account == Account.WRITE_OFF.value)
            )
            .scalars()
            .all()
        )
    assert reasons == ["discount"]


def test_delete_line_refused_while_paid_unless_cascade(practice, engine) -> None:
    line_id = invoice(practice, service(D(2018, 2, 1), item="RPT")).lines[0].id
    payment_id = pay(practice, 5000)
    [allocation] = payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 5000)])
    )
    with pytest.raises(Conflict) as caught:
        invoicing.delete_line(
            practice.uow(), invoicing.DeleteLine(line_id=line_id, reason="keyed twice")
        )
    assert caught.value.message == (
        f"line L-{line_id:06d} has 50.00 of payments applied (AL-{allocation.id:06d}); "
        # issue 7: a service names no flag; the command line says "delete with --cascade"
        "un-allocate them first, or delete the line with them"
    )
    invoicing.delete_line(
        practice.uow(), invoicing.DeleteLine(line_id=line_id, reason="keyed twice", cascade=True)
    )
    assert line_balance(engine, line_id) == 0
    assert account_total(engine, Account.GST_PAYABLE) == 0
    assert account_total(engine, Account.REVENUE_BILLED) == 0
    assert patient_balance(engine) == -5000  # the money is credit again
    with pytest.raises(Conflict) as caught:
        payments.allocate(
            practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 1)])
        )
    assert caught.value.code == "line_deleted"
    assert_sound(engine)


def test_closed_period_refuses_entries_dated_inside_it(practice, engine) -> None:
    invoice(practice, service(D(2018, 2, 1)))
    periods.close_period(practice.uow(), periods.ClosePeriod(through=D(2018, 3, 31)))
    with pytest.raises(PeriodClosed):
        invoice(practice, service(D(2018, 3, 31)))
    with pytest.raises(PeriodClosed):
        pay(practice, 100, day=D(2018, 3, 15))
    invoice(practice, service(D(2018, 4, 1)))
    with pytest.raises(Conflict) as caught:
        periods.close_period(practice.uow(), periods.ClosePeriod(through=D(2018, 3, 1)))
    assert caught.value.code == "period_already_closed"


def test_as_known_at_reproduces_what_was_known(practice, engine) -> None:
    line_id = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    known_then = practice.now
    payment_id = pay(practice, 3000, day=D(2018, 2, 15))
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 3000)])
    )
    then = dt.datetime.combine(known_then.date(), known_then.time())
    # the practice clock is Australia/Sydney local; the ledger stores UTC
    from zoneinfo import ZoneInfo

    aware = then.replace(tzinfo=ZoneInfo("Australia/Sydney"))
    assert patient_balance(engine, as_known_at=aware) == 10000
    assert patient_balance(engine) == 7000
    assert patient_balance(engine, as_of=D(2018, 2, 10)) == 10000


def test_an_entry_can_be_undone_only_once_even_past_the_checks(practice, engine) -> None:
    """The unique ``reverses`` column is the backstop behind the service's own check."""
    line_id = invoice(practice, service(D(2018, 2, 1))).lines[0].id
    payment_id = pay(practice, 1000)
    [allocation] = payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment_id, targets=[(line_id, 1000)])
    )
    payments.unallocate(
        practice.uow(), payments.Unallocate(allocation_id=allocation.id, reason="wrong line")
    )
    with engine.connect() as conn:
        original = ledger.entry_postings(conn, allocation.id)
    undo = Entry(
        kind=EntryKind.UNALLOCATION,
        effective_date=D(2018, 6, 1),
        reason="twice",
        reverses=allocation.id,
        postings=tuple(p.negated() for p in original),
    )
    with pytest.raises(Conflict) as caught, practice.uow() as uow:
        uow.append(undo)
    assert caught.value.code == "allocation_undone"
    assert_sound(engine)


def test_free_text_longer_than_is_kept_is_refused(practice, engine) -> None:
    from clinicledger.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        payments.record_payment(
            practice.uow(),
            payments.RecordPayment(
                from_code="P1",
                amount_cents=100,
                method=PaymentMethod.CASH,
                received_date=D(2018, 3, 1),
                location_code="MAIN",
                reference="R" * 101,
            ),
        )
    assert caught.value.message == "reference: is 101 characters long; at most 100 are kept"
    with pytest.raises(InvalidInput) as caught:
        payments.refund(
            practice.uow(),
            payments.Refund(payment_id=pay(practice, 100), amount_cents=50, reason="x" * 501),
        )
    assert caught.value.code == "text_too_long"


def test_an_id_past_the_integer_range_is_not_found_on_every_backend(practice, engine) -> None:
    from clinicledger.domain.errors import NotFound

    for call in (
        lambda: payments.allocate(
            practice.uow(), payments.Allocate(payment_id=2**31, targets=[(1, 100)])
        ),
        lambda: payments.unallocate(
            practice.uow(), payments.Unallocate(allocation_id=2**31, reason="x")
        ),
        lambda: invoicing.set_insurance_status(
            practice.uow(), invoicing.SetInsuranceStatus(line_id=2**31, status=InsuranceStatus.OPEN)
        ),
        lambda: balances.balance(engine, invoice_number=2**31),
    ):
        with pytest.raises(NotFound):
            call()


def test_a_reading_transaction_sees_one_moment_while_others_write(practice, engine) -> None:
    """A report's statements all read the same moment: a payment committed meanwhile by
    another clerk shows in neither the first nor the second read."""
    pay(practice, 5000)

    def received() -> int:
        return int(conn.execute(select(func.count()).select_from(t.payments)).scalar_one())

    with reading(engine) as conn:
        assert received() == 1
        pay(practice, 7000)  # another connection, committed
        assert received() == 1
        total = conn.execute(
            select(func.sum(t.postings.c.amount_cents)).where(
                t.postings.c.account == Account.UNALLOCATED.value
            )
        ).scalar_one()
        assert int(total) == -5000
    with reading(engine) as conn:
        assert received() == 2


def test_a_reading_transaction_cannot_write(practice, engine) -> None:
    with reading(engine) as conn:
        if engine.dialect.name == "sqlite":
            pytest.skip("SQLite's reading transaction is read-only by use, not by setting")
        with pytest.raises(DBAPIError, match="read-only transaction"):
            conn.execute(t.ledger_clock.update().values(last_invoice_number=99))
