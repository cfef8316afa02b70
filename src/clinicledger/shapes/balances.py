"""A balance, as ``clinicledger --json balance`` prints it and ``/api/v1/balances``
returns it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from clinicledger.domain.money import format_cents

if TYPE_CHECKING:
    from clinicledger.services.balances import BalanceView


def subject_of(
    *, patient: str | None, payer: str | None, invoice: str | None, line: str | None
) -> tuple[str, str]:
    """(subject, key): which of the four a balance was asked for, and as what; the first
    given (the service refuses more than one, or none: ``subject`` then)."""
    given = {"patient": patient, "payer": payer, "invoice": invoice, "line": line}
    return next(((k, v) for k, v in given.items() if v is not None), ("subject", ""))


def balance(view: BalanceView, *, subject: str, key: str, as_of: dt.date | None) -> dict[str, Any]:
    """``subject`` is what was asked for (patient, payer, invoice, line) and ``key`` the
    code or id as it was given."""
    known = view.as_known_at
    return {
        "subject": subject,
        "key": key,
        "balance": format_cents(view.balance_cents),
        "charges": format_cents(view.charges_cents),
        "unallocated": format_cents(view.unallocated_cents),
        "as_of": as_of.isoformat() if as_of else None,
        "as_known_at": known.isoformat() if known else None,
    }
