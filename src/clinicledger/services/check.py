"""``check``: prove money is conserved over the whole journal (``store.integrity``)."""

from __future__ import annotations

from clinicledger.domain.chain import ExpectedHead
from clinicledger.store import lookups
from clinicledger.store.engine import Engine
from clinicledger.store.integrity import CheckResult, Violation, check
from clinicledger.store.uow import reading

__all__ = ["CheckResult", "Violation", "check_ledger"]


def check_ledger(engine: Engine, *, expect: ExpectedHead | None = None) -> CheckResult:
    """Every violation, and the head of the chains; with ``expect`` (a head kept from
    earlier), whether the ledger still extends it."""
    with reading(engine) as conn:
        lookups.require_practice(conn)
        return check(conn, expect=expect)
