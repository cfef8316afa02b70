"""Amounts are plain decimal money: at most two places, no exponent, no NaN, no thousands
separator, no sign where none is allowed, never zero; the message names the field."""

from __future__ import annotations

import pytest

from .commands import TODAY, adjust, allocate, invoice, record, refund, transfer
from .reproduce import assert_refused, case, on_backends


def malformed(field: str, text: str) -> str:
    return f"{field}: '{text}' is not an amount; write it like 30.00 (at most two decimal places)"


CASES = [
    case(
        "negative",
        record("-5.00"),
        "amount_negative",
        "amount",
        "amount: -5.00 is negative; the amount must be positive",
    ),
    *[
        case(
            f"malformed-{name}",
            record(text),
            "amount_malformed",
            "amount",
            malformed("amount", text),
        )
        for name, text in [
            ("three-places", "1.234"),
            ("exponent", "1e3"),
            ("word", "abc"),
            ("nan", "NaN"),
            ("infinity", "inf"),
            ("thousands-separator", "1,000.00"),
            ("trailing-point", "12."),
            ("leading-point", ".50"),
            ("currency-sign", "$30.00"),
            ("unicode-minus", "\u22125.00"),
            ("thirteen-digits", "1234567890123"),
            # \d also matches other scripts' digits: fullwidth 100 must not become 100.00
            ("fullwidth-digits", "\uff11\uff10\uff10"),
            ("arabic-indic-digits", "\u0663\u0660.\u0660\u0660"),
        ]
    ],
    case(
        "empty",
        record(""),
        "amount_malformed",
        "amount",
        "amount: an amount is required, e.g. 30.00",
    ),
    case(
        "blank",
        record("   "),
        "amount_malformed",
        "amount",
        "amount: an amount is required, e.g. 30.00",
    ),
    case("zero", record("0"), "amount_zero", "amount", "amount: the amount must be more than 0.00"),
    case(
        "zero-with-places",
        record("0.00"),
        "amount_zero",
        "amount",
        "amount: the amount must be more than 0.00",
    ),
    # the same rules on every amount a command takes, each naming its own field
    case(
        "processor-fee-negative",
        record("30.00", "--fee", "-0.50"),
        "amount_negative",
        "fee",
        "fee: -0.50 is negative; the amount must be positive",
    ),
    case(
        "processor-fee-malformed",
        record("30.00", "--fee", "0.5%"),
        "amount_malformed",
        "fee",
        malformed("fee", "0.5%"),
    ),
    case(
        "processor-fee-above-amount",
        record("30.00", "--fee", "30.01"),
        "fee_out_of_range",
        "fee",
        "fee: the processor fee must be between 0.00 and the amount",
    ),
    case(
        "item-fee-malformed",
        ("item", "add", "10960", "--description", "Review", "--fee", "80.001"),
        "amount_malformed",
        "fee",
        malformed("fee", "80.001"),
    ),
    case(
        "item-fee-zero",
        ("item", "add", "10960", "--description", "Review", "--fee", "0.00"),
        "amount_zero",
        "fee",
        "fee: the amount must be more than 0.00",
    ),
    case(
        "product-fee-negative",
        ("product", "add", "TAPE", "--title", "Sports tape", "--fee", "-8.00"),
        "amount_negative",
        "fee",
        "fee: -8.00 is negative; the amount must be positive",
    ),
    case(
        "line-fee-malformed",
        invoice(f"item=90801,provider=DR1,date={TODAY},fee=1e2"),
        "amount_malformed",
        "line 1",
        malformed("line 1", "1e2"),
    ),
    case(
        "line-fee-negative",
        invoice(f"cancellation,provider=DR1,date={TODAY},fee=-25.00"),
        "amount_negative",
        "line 1",
        "line 1: -25.00 is negative; the amount must be positive",
    ),
    case(
        "allocation-amount-malformed",
        allocate("PAY-000001", "L-000001=NaN"),
        "amount_malformed",
        "to",
        malformed("to", "NaN"),
    ),
    case(
        "allocation-amount-zero",
        allocate("PAY-000001", "L-000001=0.00"),
        "amount_zero",
        "to",
        "to: the amount must be more than 0.00",
    ),
    case(
        "allocation-amount-negative",
        allocate("PAY-000001", "L-000001=-5.00"),
        "amount_negative",
        "to",
        "to: -5.00 is negative; the amount must be positive",
    ),
    case(
        "allocation-target-without-amount",
        allocate("PAY-000001", "L-000001"),
        "target_malformed",
        "to",
        "to: 'L-000001' is not LINE=AMOUNT",
    ),
    case(
        "refund-amount-malformed",
        refund("PAY-000001", "5,00"),
        "amount_malformed",
        "amount",
        malformed("amount", "5,00"),
    ),
    case(
        "adjustment-negative",
        adjust("L-000001", "-10.00"),
        "amount_negative",
        "amount",
        "amount: -10.00 is negative; the amount must be positive",
    ),
    case(
        "transfer-zero",
        transfer("L-000003", "0"),
        "amount_zero",
        "amount",
        "amount: the amount must be more than 0.00",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_bad_amount_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)
