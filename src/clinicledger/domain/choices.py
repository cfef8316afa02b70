"""The closed sets of words the ledger knows (payment methods, payer kinds, line kinds,
adjustment reasons), and the one rule that reads a word as one of a set."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TypeVar

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.text import check_plain


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CHEQUE = "cheque"
    EFTPOS = "eftpos"
    CREDIT_CARD = "credit-card"
    HICAPS = "hicaps"
    DIRECT_DEPOSIT = "direct-deposit"
    ONLINE_CARD = "online-card"
    INSURANCE = "insurance"
    OTHER = "other"


class PayerKind(enum.StrEnum):
    FUND = "fund"
    MEDICARE = "medicare"
    DVA = "dva"
    INSURER = "insurer"
    THIRD_PARTY = "third-party"


class LineKind(enum.StrEnum):
    SERVICE = "service"
    PRODUCT = "product"
    CANCELLATION = "cancellation"
    OPENING = "opening"


class AdjustmentReason(enum.StrEnum):
    WRITE_OFF = "write-off"
    DISCOUNT = "discount"
    FEE_CORRECTION = "fee-correction"
    BAD_DEBT = "bad-debt"
    SMALL_BALANCE = "small-balance"


class InsuranceStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


E = TypeVar("E", bound=enum.StrEnum)


def check_choice(text: str, allowed: Sequence[str], *, field: str, either: bool = False) -> str:
    """``text`` (trimmed, any case) if it is one of ``allowed``; else an error that lists
    them ("is not one of: a, b, c"; for an ``either`` of two, "is not open or closed").
    Every closed set of words the ledger takes is read through here."""
    word = check_plain(text, field=field).strip().lower()
    if word not in allowed:
        listed = " or ".join(allowed) if either else f"one of: {', '.join(allowed)}"
        raise InvalidInput(field, f"'{text}' is not {listed}", code="choice_unknown")
    return word


def parse_choice(choices: type[E], text: str, *, field: str, either: bool = False) -> E:
    """``text`` as one of the enum ``choices``, or an error listing the allowed values."""
    allowed = [c.value for c in choices]
    return choices(check_choice(text, allowed, field=field, either=either))
