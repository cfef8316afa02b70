"""A practice at a glance: what was charged, received, applied, refunded and adjusted, and
who owes what, all from the postings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, select

from clinicledger.domain.journal import Account, EntryKind
from clinicledger.store import tables as t

P = t.postings


@dataclass(frozen=True, slots=True, kw_only=True)
class PayerOwing:
    code: str
    name: str
    kind: str
    owing_cents: int
    unallocated_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerSummary:
    counts: dict[str, int]
    charged_cents: int
    gst_cents: int
    received_cents: int
    applied_cents: int
    credit_used_cents: int
    refunded_cents: int
    reversed_cents: int
    adjusted_cents: int
    patients_owing_cents: int
    patients_credit_cents: int
    payers: tuple[PayerOwing, ...]
    open_insurance_lines: int


def _kind_total(conn: Connection, account: Account, *kinds: EntryKind) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(P.c.amount_cents), 0))
        .join(t.entries, t.entries.c.id == P.c.entry_id)
        .where(P.c.account == account.value, t.entries.c.kind.in_([k.value for k in kinds]))
    ).scalar_one()
    return int(total)


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def ledger_summary(conn: Connection) -> LedgerSummary:
    counts = {
        name: _count(conn, table)
        for name, table in (
            ("locations", t.locations),
            ("providers", t.providers),
            ("patients", t.patients),
            ("payers", t.payers),
            ("invoices", t.invoices),
            ("lines", t.lines),
            ("payments", t.payments),
            ("entries", t.entries),
        )
    }
    counts["allocations"] = int(
        conn.execute(
            select(func.count())
            .select_from(t.entries)
            .where(
                t.entries.c.kind.in_([EntryKind.ALLOCATION.value, EntryKind.CREDIT_APPLIED.value])
            )
        ).scalar_one()
    )
    owing = func.sum(P.c.amount_cents)
    patient_receivable = int(
        conn.execute(
            select(func.coalesce(owing, 0)).where(
                P.c.account == Account.RECEIVABLE.value, P.c.payer_id.is_(None)
            )
        ).scalar_one()
    )
    patient_credit = -int(
        conn.execute(
            select(func.coalesce(owing, 0)).where(
                P.c.account == Account.UNALLOCATED.value, P.c.payer_id.is_(None)
            )
        ).scalar_one()
    )
    payer_rows = conn.execute(
        select(t.payers.c.id, t.payers.c.code, t.payers.c.name, t.payers.c.kind).order_by(
            t.payers.c.code
        )
    ).all()
    payers = []
    for row in payer_rows:
        rows = conn.execute(
            select(P.c.account, func.sum(P.c.amount_cents))
            .where(
                P.c.payer_id == row.id,
                P.c.account.in_([Account.RECEIVABLE.value, Account.UNALLOCATED.value]),
            )
            .group_by(P.c.account)
        ).all()
        sums = {account: int(cents) for account, cents in rows}
        payers.append(
            PayerOwing(
                code=row.code,
                name=row.name,
                kind=row.kind,
                owing_cents=int(sums.get(Account.RECEIVABLE.value, 0)),
                unallocated_cents=-int(sums.get(Account.UNALLOCATED.value, 0)),
            )
        )
    return LedgerSummary(
        counts=counts,
        charged_cents=_kind_total(conn, Account.RECEIVABLE, EntryKind.CHARGE),
        gst_cents=-_kind_total(conn, Account.GST_PAYABLE, EntryKind.CHARGE),
        received_cents=_kind_total(conn, Account.UNBANKED, EntryKind.PAYMENT),
        applied_cents=-_kind_total(
            conn,
            Account.RECEIVABLE,
            EntryKind.ALLOCATION,
            EntryKind.CREDIT_APPLIED,
            EntryKind.UNALLOCATION,
        ),
        credit_used_cents=-_kind_total(conn, Account.RECEIVABLE, EntryKind.CREDIT_APPLIED),
        refunded_cents=-_kind_total(conn, Account.REFUNDED, EntryKind.REFUND),
        reversed_cents=-_kind_total(conn, Account.UNBANKED, EntryKind.PAYMENT_REVERSAL),
        adjusted_cents=_kind_total(conn, Account.WRITE_OFF, EntryKind.ADJUSTMENT),
        patients_owing_cents=patient_receivable,
        patients_credit_cents=patient_credit,
        payers=tuple(payers),
        open_insurance_lines=int(
            conn.execute(
                select(func.count())
                .select_from(t.lines)
                .where(t.lines.c.insurance_status == "open", t.lines.c.deleted_at.is_(None))
            ).scalar_one()
        ),
    )
