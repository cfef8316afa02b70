"""Money: integer cents inside, decimal text at the edges.

One rounding rule for the whole project: half away from zero, in integer arithmetic.
Splits use the largest remainder so the parts always add back to the whole.
"""

from __future__ import annotations

import re

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.text import check_plain

# ASCII digits only ([0-9], not \d, which also takes Arabic-Indic and fullwidth digits).
_AMOUNT = re.compile(r"(?P<sign>[+-]?)(?P<whole>[0-9]{1,12})(?:\.(?P<frac>[0-9]{1,2}))?")


def cents_from_text(
    text: str, *, field: str, allow_negative: bool = False, allow_zero: bool = False
) -> int:
    """Parse ``"1258.47"`` into ``125847``; refuse anything that is not plain decimal money.

    Refused, naming ``field``: empty text, more than two decimal places, exponents, NaN,
    thousands separators, a minus sign where none is allowed, and zero unless allowed.
    """
    raw = check_plain(text, field=field).strip()
    if not raw:
        raise InvalidInput(field, "an amount is required, e.g. 30.00", code="amount_malformed")
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        raise InvalidInput(
            field,
            f"'{raw}' is not an amount; write it like 30.00 (at most two decimal places)",
            code="amount_malformed",
        )
    frac = (match["frac"] or "").ljust(2, "0")
    cents = int(match["whole"]) * 100 + int(frac)
    if match["sign"] == "-":
        cents = -cents
    if cents < 0 and not allow_negative:
        raise InvalidInput(
            field, f"{raw} is negative; the amount must be positive", code="amount_negative"
        )
    if cents == 0 and not allow_zero:
        raise InvalidInput(field, "the amount must be more than 0.00", code="amount_zero")
    return cents


# Twelve digits of dollars, as cents_from_text reads them: sums of millions of such amounts
# still fit the database's 64-bit integers.
MAX_AMOUNT_CENTS = 10**14 - 1


def check_positive(cents: int, *, field: str) -> int:
    """Refuse a zero, negative or impossibly large amount that reached a service without
    being parsed here."""
    if cents > MAX_AMOUNT_CENTS:
        raise InvalidInput(
            field,
            f"{format_cents(cents)} is more than {format_cents(MAX_AMOUNT_CENTS)}",
            code="amount_too_large",
        )
    if cents < 0:
        raise InvalidInput(
            field,
            f"{format_cents(cents)} is negative; the amount must be positive",
            code="amount_negative",
        )
    if cents == 0:
        raise InvalidInput(field, "the amount must be more than 0.00", code="amount_zero")
    return cents


def format_cents(cents: int) -> str:
    """``-125847`` -> ``"-1258.47"``: plain decimal text with two places."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def divide_rounded(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def gst_included_cents(fee_cents: int) -> int:
    """The GST inside a GST-inclusive fee: one eleventh (10% on the ex-GST price)."""
    return divide_rounded(fee_cents, 11)


def split_largest_remainder(total_cents: int, weights: tuple[int, ...]) -> tuple[int, ...]:
    """Split ``total_cents`` in proportion to ``weights``; the parts always sum to the total."""
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    weight_sum = sum(weights)
    sign = -1 if total_cents < 0 else 1
    magnitude = abs(total_cents)
    floors = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    short = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return tuple(sign * part for part in floors)
