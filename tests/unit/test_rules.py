"""The ledger's rules, without a database: postings sum to zero, checks refuse."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicledger.domain.allocation import check_allocation, plan_oldest_first
from clinicledger.domain.choices import AdjustmentReason, PaymentMethod, parse_choice
from clinicledger.domain.errors import InvalidInput, InvariantBroken, OverAllocation, PeriodClosed
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.journal import Account, Entry, EntryKind, Posting
from clinicledger.domain.periods import check_period_open
from clinicledger.domain.postings import (
    LineRef,
    PaymentRef,
    adjustment_postings,
    allocation_postings,
    charge_postings,
    receipt_postings,
    refund_postings,
    reversal_postings,
    transfer_postings,
)
from clinicledger.domain.text import check_abn, check_code

LINE = LineRef(line_id=7, invoice_id=3, patient_id=1, provider_id=2, location_id=1, payer_id=None)
FUND_LINE = LineRef(line_id=8, invoice_id=4, patient_id=1, provider_id=2, location_id=1, payer_id=9)
PAYMENT = PaymentRef(payment_id=5, patient_id=1, payer_id=None, location_id=1)

amounts = st.integers(min_value=1, max_value=10**9)


def total(postings: tuple[Posting, ...]) -> int:
    return sum(p.amount_cents for p in postings)


def by_account(postings: tuple[Posting, ...]) -> dict[Account, int]:
    found: dict[Account, int] = {}
    for p in postings:
        found[p.account] = found.get(p.account, 0) + p.amount_cents
    return found


def test_a_taxable_charge_of_a_gst_registered_practice_carries_gst() -> None:
    postings = charge_postings(LINE, fee_cents=11000, taxable=True, gst_registered=True)
    assert by_account(postings) == {
        Account.RECEIVABLE: 11000,
        Account.REVENUE_BILLED: -10000,
        Account.GST_PAYABLE: -1000,
    }


def test_no_gst_when_gst_free_or_not_registered() -> None:
    for taxable, registered in ((False, True), (True, False)):
        postings = charge_postings(
            LINE, fee_cents=11000, taxable=taxable, gst_registered=registered
        )
        assert by_account(postings) == {Account.RECEIVABLE: 11000, Account.REVENUE_BILLED: -11000}


@given(amounts, st.booleans(), st.booleans())
def test_every_rule_makes_postings_that_sum_to_zero(
    amount: int, taxable: bool, registered: bool
) -> None:
    for postings in (
        charge_postings(LINE, fee_cents=amount, taxable=taxable, gst_registered=registered),
        receipt_postings(PAYMENT, amount),
        allocation_postings(PAYMENT, LINE, amount),
        refund_postings(PAYMENT, amount),
        reversal_postings(PAYMENT, amount),
        adjustment_postings(LINE, amount, AdjustmentReason.WRITE_OFF),
        transfer_postings(FUND_LINE, amount),
    ):
        assert total(postings) == 0
        Entry(kind=EntryKind.CHARGE, effective_date=dt.date(2024, 1, 1), postings=postings)


def test_an_allocation_names_its_payment_on_the_line() -> None:
    unallocated, receivable = allocation_postings(PAYMENT, LINE, 3000)
    assert (unallocated.account, unallocated.amount_cents) == (Account.UNALLOCATED, 3000)
    assert (receivable.account, receivable.amount_cents) == (Account.RECEIVABLE, -3000)
    assert receivable.payment_id == 5 and receivable.line_id == 7


def test_a_transfer_moves_the_gap_from_the_payer_to_the_patient() -> None:
    payer_side, patient_side = transfer_postings(FUND_LINE, 2500)
    assert (payer_side.payer_id, payer_side.amount_cents) == (9, -2500)
    assert (patient_side.payer_id, patient_side.amount_cents) == (None, 2500)


def test_an_entry_that_does_not_balance_is_a_bug() -> None:
    with pytest.raises(InvariantBroken):
        Entry(
            kind=EntryKind.CHARGE,
            effective_date=dt.date(2024, 1, 1),
            postings=(Posting(account=Account.RECEIVABLE, amount_cents=1),),
        )


def test_check_allocation_names_the_payment_and_the_line() -> None:
    with pytest.raises(OverAllocation) as caught:
        check_allocation(
            payment_id=42,
            unallocated_cents=3000,
            line_id=107,
            owing_cents=10000,
            amount_cents=4000,
        )
    assert caught.value.message == (
        "payment PAY-000042 has 30.00 unallocated; cannot allocate 40.00 to line L-000107"
    )
    assert caught.value.code == "allocation_exceeds_payment"
    with pytest.raises(OverAllocation) as caught:
        check_allocation(
            payment_id=42,
            unallocated_cents=30000,
            line_id=107,
            owing_cents=2000,
            amount_cents=4000,
        )
    assert caught.value.code == "allocation_exceeds_line"


@given(
    st.integers(min_value=0, max_value=10**6),
    st.lists(st.integers(min_value=0, max_value=10**5), max_size=20),
)
def test_oldest_first_never_over_allocates(available: int, owing: list[int]) -> None:
    lines = tuple(enumerate(owing, 1))
    plan = plan_oldest_first(available, lines)
    assert sum(amount for _, amount in plan) == min(available, sum(owing))
    owed = dict(lines)
    assert all(0 < amount <= owed[line_id] for line_id, amount in plan)
    # oldest first: every line before the last one paid is paid in full
    if plan:
        last = plan[-1][0]
        assert all(dict(plan).get(i, 0) == owed[i] for i in owed if i < last)


def test_period_close_refuses_dates_inside_it() -> None:
    check_period_open(dt.date(2025, 7, 1), dt.date(2025, 6, 30))
    with pytest.raises(PeriodClosed) as caught:
        check_period_open(dt.date(2025, 6, 30), dt.date(2025, 6, 30))
    assert caught.value.message == (
        "the period up to 2025-06-30 is closed; an entry dated 2025-06-30 cannot be recorded"
    )


def test_abn_check_digits() -> None:
    assert check_abn("51 824 753 556") == "51824753556"
    with pytest.raises(InvalidInput) as caught:
        check_abn("51824753557")
    assert caught.value.code == "abn_invalid"
    with pytest.raises(InvalidInput):
        check_abn("1234")


def test_codes_and_choices() -> None:
    assert check_code("PT-0001") == "PT-0001"
    with pytest.raises(InvalidInput):
        check_code("has space")
    assert parse_choice(PaymentMethod, "EFTPOS", field="method") is PaymentMethod.EFTPOS
    with pytest.raises(InvalidInput) as caught:
        parse_choice(PaymentMethod, "bitcoin", field="method")
    assert "cash, cheque, eftpos" in caught.value.message


def test_ids_round_trip_and_refuse_other_kinds() -> None:
    assert format_id("payment", 42) == "PAY-000042"
    assert parse_id("payment", "PAY-000042") == 42
    assert parse_id("payment", "42") == 42
    with pytest.raises(InvalidInput):
        parse_id("payment", "L-000042")
    with pytest.raises(InvalidInput):
        parse_id("line", "L-0")


def test_ids_past_the_database_integer_range_name_nothing() -> None:
    assert parse_id("line", "L-2147483647") == 2**31 - 1
    with pytest.raises(InvalidInput) as caught:
        parse_id("line", "L-2147483648")
    assert caught.value.message == "line: 'L-2147483648' is not a line id"
