"""Money: parsing, formatting, rounding and splitting, in integer cents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.money import (
    cents_from_text,
    divide_rounded,
    format_cents,
    gst_included_cents,
    split_largest_remainder,
)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("30.00", 3000),
        ("30", 3000),
        ("30.5", 3050),
        ("1258.47", 125847),
        (" 0.01 ", 1),
        ("+12.30", 1230),
    ],
)
def test_cents_from_text_reads_plain_decimals(text: str, cents: int) -> None:
    assert cents_from_text(text, field="amount") == cents


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "amount_malformed"),
        ("1.234", "amount_malformed"),
        ("1e3", "amount_malformed"),
        ("NaN", "amount_malformed"),
        ("1,000.00", "amount_malformed"),
        ("abc", "amount_malformed"),
        ("-5.00", "amount_negative"),
        ("0.00", "amount_zero"),
        ("$5", "amount_malformed"),
    ],
)
def test_cents_from_text_refuses_what_is_not_money(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        cents_from_text(text, field="amount")
    assert caught.value.code == code
    assert caught.value.field == "amount"


def test_negative_and_zero_only_where_allowed() -> None:
    assert cents_from_text("-5.10", field="amount", allow_negative=True) == -510
    assert cents_from_text("0", field="fee", allow_zero=True) == 0


@given(st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1))
def test_format_then_parse_is_identity(cents: int) -> None:
    assert (
        cents_from_text(format_cents(cents), field="x", allow_negative=True, allow_zero=True)
        == cents
    )


def test_format_cents() -> None:
    assert format_cents(-125847) == "-1258.47"
    assert format_cents(5) == "0.05"
    assert format_cents(0) == "0.00"


def test_divide_rounded_half_away_from_zero() -> None:
    assert divide_rounded(5, 10) == 1
    assert divide_rounded(-5, 10) == -1
    assert divide_rounded(4, 10) == 0
    assert divide_rounded(15, 10) == 2


def test_gst_is_one_eleventh_of_a_gst_inclusive_fee() -> None:
    assert gst_included_cents(11000) == 1000
    assert gst_included_cents(1800) == 164  # 163.6 -> 164
    assert gst_included_cents(35000) == 3182  # 3181.8 -> 3182


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
        lambda w: sum(w) > 0
    ),
)
def test_split_parts_always_add_back_to_the_whole(total: int, weights: list[int]) -> None:
    parts = split_largest_remainder(total, tuple(weights))
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / sum(weights)
        assert abs(part - exact) < 1
