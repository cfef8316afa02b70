"""A balance, as ``clinicledger --json balance`` prints it and ``/api/v1/balances``
returns it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinicledger.domain.money import format_cents

if TYPE_CHECKING:
    import datetime as dt

    from clinicledger.services.balances import AskedBalance, BalanceView


def balance(asked: AskedBalance) -> dict[str, Any]:
    """A balance and what was asked for (``services.balances.asked_balance``)."""
    return view_of(asked.view, subject=asked.subject, key=asked.key, as_of=asked.as_of)


def view_of(view: BalanceView, *, subject: str, key: str, as_of: dt.date | None) -> dict[str, Any]:
    """A balance of ``subject`` (patient, payer, invoice, line) with ``key``."""
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
