"""Period closes and ``check``, as ``clinicledger --json period close|list`` and ``check``
print them and ``/api/v1/periods`` and ``/api/v1/check`` return them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clinicledger.services.check import CheckResult
    from clinicledger.services.periods import Closed
    from clinicledger.store.closings import CloseRecord


def closed(through: dt.date, done: Closed) -> dict[str, Any]:
    """A close: the day it closed through, the days whose balances it kept, and the head
    of the chains it recorded (to keep outside the ledger)."""
    return {
        "closed_through": through.isoformat(),
        "balances_kept_at": [day.isoformat() for day in done.kept],
        "head": done.head,
    }


def close_list(found: tuple[CloseRecord, ...]) -> dict[str, Any]:
    """Every close, the latest first."""
    return {
        "periods": [
            {
                "closed_through": close.through.isoformat(),
                "head": close.head,
                "actor": close.actor,
                "recorded_at": close.recorded_at.replace(tzinfo=dt.UTC).isoformat(),
            }
            for close in found
        ]
    }


def checked(result: CheckResult, *, head: bool = False) -> dict[str, Any]:
    """A check: ok or every violation, with how much it read; ``head`` adds the chains'
    head."""
    data: dict[str, Any] = {
        "ok": not result.violations,
        "entries": result.entries,
        "postings": result.postings,
        "violations": [{"code": v.code, "message": v.message} for v in result.violations],
    }
    if head:
        data["head"] = str(result.head)
    return data
