"""The ledger's own proof that money is conserved over the whole journal, the closings
agree with it and the audit log is unbroken: the queries of ``check``.

Like a beancount validation, it returns every violation it finds rather than stopping at
the first; an empty result means the ledger is sound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, func, select

from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Account
from clinicledger.domain.money import format_cents
from clinicledger.store import ledger
from clinicledger.store import tables as t
from clinicledger.store.uow import GENESIS_HASH, audit_hash

P = t.postings
E = t.entries


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    entries: int
    postings: int
    violations: tuple[Violation, ...]


def check(conn: Connection) -> CheckResult:
    """Every violation in the ledger, in one reading transaction."""
    found: list[Violation] = []
    found += _unbalanced_entries(conn)
    found += _entries_without_postings(conn)
    found += _posting_times(conn)
    found += _clock_order(conn)
    found += _closings(conn)
    found += _over_applied_payments(conn)
    found += _over_credited_lines(conn)
    found += _audit_chain(conn)
    entries = conn.execute(select(func.count()).select_from(E)).scalar_one()
    postings = conn.execute(select(func.count()).select_from(P)).scalar_one()
    return CheckResult(entries=entries, postings=postings, violations=tuple(found))


def _unbalanced_entries(conn: Connection) -> list[Violation]:
    total = func.sum(P.c.amount_cents)
    rows = conn.execute(
        select(P.c.entry_id, total.label("cents")).group_by(P.c.entry_id).having(total != 0)
    ).all()
    return [
        Violation(
            code="entry_unbalanced",
            message=f"entry {format_id('entry', r.entry_id)} sums to "
            f"{format_cents(int(r.cents))}, not 0.00",
        )
        for r in rows
    ]


def _entries_without_postings(conn: Connection) -> list[Violation]:
    # NOT EXISTS plans as an anti join; NOT IN rescans the postings per entry on PostgreSQL
    has_postings = select(P.c.id).where(P.c.entry_id == E.c.id).exists()
    rows = conn.execute(select(E.c.id).where(~has_postings)).all()
    return [
        Violation(code="entry_empty", message=f"entry {format_id('entry', r.id)} has no postings")
        for r in rows
    ]


def _posting_times(conn: Connection) -> list[Violation]:
    rows = conn.execute(
        select(P.c.id, P.c.entry_id)
        .join(E, E.c.id == P.c.entry_id)
        .where((P.c.recorded_at != E.c.recorded_at) | (P.c.effective_date != E.c.effective_date))
    ).all()
    return [
        Violation(
            code="posting_time_mismatch",
            message=f"posting {r.id} of entry {format_id('entry', r.entry_id)} "
            "does not carry its entry's dates",
        )
        for r in rows
    ]


def _clock_order(conn: Connection) -> list[Violation]:
    """Entries are recorded in id order, and none is dated inside a period that had been
    closed when it was recorded (so every closing's kept balances stay final)."""
    closes = conn.execute(
        select(t.closings.c.recorded_at, func.max(t.closings.c.as_of).label("through"))
        .group_by(t.closings.c.recorded_at)
        .order_by(t.closings.c.recorded_at)
    ).all()
    found: list[Violation] = []
    previous = None
    closed_through = None
    upcoming = iter(closes)
    close = next(upcoming, None)
    query = select(E.c.id, E.c.recorded_at, E.c.effective_date).order_by(E.c.id)
    for row in _stream(conn, query):
        if previous is not None and row.recorded_at < previous:
            found.append(
                Violation(
                    code="clock_out_of_order",
                    message=f"entry {format_id('entry', row.id)} is recorded "
                    "earlier than the entry before it",
                )
            )
        previous = row.recorded_at
        while close is not None and close.recorded_at < row.recorded_at:
            closed_through = close.through
            close = next(upcoming, None)
        if closed_through is not None and row.effective_date <= closed_through:
            found.append(
                Violation(
                    code="entry_in_closed_period",
                    message=f"entry {format_id('entry', row.id)} is dated "
                    f"{row.effective_date.isoformat()}, inside the period closed through "
                    f"{closed_through.isoformat()} before it was recorded",
                )
            )
    return found


def _closings(conn: Connection) -> list[Violation]:
    """Each closing keeps exactly the balances the journal gives at its date, each one
    once: checked against the last closing found right plus the postings in between (the
    first one against all postings up to it), so one wrong closing is reported once."""
    found: list[Violation] = []
    kept = t.closing_balances
    last_right: ledger.Closing | None = None
    for row in conn.execute(select(t.closings).order_by(t.closings.c.as_of)).all():
        closing = ledger.Closing.of(row)
        right = True
        for account, keys in ledger.KEPT_BALANCES.items():
            expected = ledger.balances_since(
                last_right, account, as_of=closing.as_of, as_known_at=closing.recorded_at
            )
            want = Counter(
                tuple(r)
                for r in conn.execute(
                    select(*(expected.c[k] for k in keys), expected.c.amount_cents)
                )
            )
            have = Counter(
                tuple(r)
                for r in conn.execute(
                    select(*(kept.c[k] for k in keys), kept.c.amount_cents).where(
                        kept.c.closing_id == closing.id, kept.c.account == account.value
                    )
                )
            )
            if have != want:
                right = False
                # a balance: its keys (a wrong amount is one balance, not two rows)
                differing = len({r[:-1] for r in (have - want) + (want - have)})
                found.append(
                    Violation(
                        code="closing_mismatch",
                        message=f"the {account.value} balances kept at the closing of "
                        f"{closing.as_of.isoformat()} differ from the journal "
                        f"({differing} balance(s) wrong, missing or kept twice)",
                    )
                )
        if right:
            last_right = closing
    return found


def _over_applied_payments(conn: Connection) -> list[Violation]:
    total = func.sum(P.c.amount_cents)
    rows = conn.execute(
        select(P.c.payment_id, total.label("cents"))
        .where(P.c.account == Account.UNALLOCATED.value)
        .group_by(P.c.payment_id)
        .having(total > 0)
    ).all()
    return [
        Violation(
            code="payment_over_applied",
            message=f"payment {format_id('payment', r.payment_id)} is applied, "
            f"refunded or reversed {format_cents(int(r.cents))} beyond its amount",
        )
        for r in rows
    ]


def _over_credited_lines(conn: Connection) -> list[Violation]:
    total = func.sum(P.c.amount_cents)
    rows = conn.execute(
        select(P.c.line_id, P.c.payer_id, total.label("cents"))
        .where(P.c.account == Account.RECEIVABLE.value)
        .group_by(P.c.line_id, P.c.payer_id)
        .having(total < 0)
    ).all()
    return [
        Violation(
            code="line_over_credited",
            message=f"line {format_id('line', r.line_id)} is credited "
            f"{format_cents(-int(r.cents))} beyond its charge",
        )
        for r in rows
    ]


def _audit_chain(conn: Connection) -> list[Violation]:
    found: list[Violation] = []
    previous = GENESIS_HASH
    for row in _stream(conn, select(t.audit_log).order_by(t.audit_log.c.id)):
        expected = audit_hash(
            previous, row.recorded_at, row.actor, row.action, row.subject, row.detail
        )
        if row.prev_hash != previous or row.hash != expected:
            found.append(
                Violation(
                    code="audit_chain_broken",
                    message=f"audit record {row.id} does not follow from the "
                    "one before it: the log was altered",
                )
            )
        previous = row.hash
    return found


def _stream(conn: Connection, query: Select[Any]) -> Iterator[Row[Any]]:
    """Rows in batches, not the whole table in memory (millions of entries and audit
    records on a large ledger)."""
    yield from conn.execution_options(yield_per=10_000).execute(query)
