"""The ledger's own proof that money is conserved over the whole journal, the closings
agree with it, both hash chains are unbroken and agree with each other (domain/chain.py),
and the money master rows carry is the journal's: the queries of ``check``.

Like a beancount validation, it returns every violation it finds rather than stopping at
the first; an empty result means the ledger is sound.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, case, func, select

from clinicledger.domain.chain import (
    GENESIS_HASH,
    ExpectedHead,
    Head,
    PostingFacts,
    audit_hash,
    entries_of,
    entry_hash,
)
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import POSTING_FACTS, Account, EntryKind
from clinicledger.domain.money import format_cents
from clinicledger.store import ledger
from clinicledger.store import tables as t

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
    head: Head  # where the chains end, recomputed from the journal and the audit log


def check(conn: Connection, *, expect: ExpectedHead | None = None) -> CheckResult:
    """Every violation in the ledger, in one reading transaction; with ``expect`` (a head
    kept from earlier), also whether the ledger still extends it."""
    found: list[Violation] = []
    found += _unbalanced_entries(conn)
    found += _entries_without_postings(conn)
    found += _posting_copies(conn)
    found += _clock_order(conn)
    found += _closings(conn)
    found += _over_applied_payments(conn)
    found += _over_credited_lines(conn)
    found += _money_of_payments(conn)
    found += _money_of_lines(conn)
    chain, entries_at = _entry_chain(conn)
    found += chain
    audit, audits_at = _audit_chain(conn)
    found += audit
    found += _audit_against_journal(conn)
    head = Head(
        entries=len(entries_at),
        audit_records=len(audits_at),
        entries_hash=entries_at[-1] if entries_at else GENESIS_HASH,
        audit_hash=audits_at[-1] if audits_at else GENESIS_HASH,
    )
    found += _kept_head(conn, head)
    if expect is not None:
        found += _extends(expect, entries_at, audits_at)
    postings = conn.execute(select(func.count()).select_from(P)).scalar_one()
    return CheckResult(
        entries=len(entries_at), postings=postings, violations=tuple(found), head=head
    )


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


def _posting_copies(conn: Connection) -> list[Violation]:
    """Every posting carries its entry's dates and kind, copied when it was written."""
    times_differ = (P.c.recorded_at != E.c.recorded_at) | (P.c.effective_date != E.c.effective_date)
    rows = conn.execute(
        select(P.c.id, P.c.entry_id, times_differ.label("times_differ"))
        .join(E, E.c.id == P.c.entry_id)
        .where(times_differ | (P.c.entry_kind != E.c.kind))
    ).all()
    return [
        Violation(
            code=f"posting_{'time' if r.times_differ else 'kind'}_mismatch",
            message=f"posting {r.id} of entry {format_id('entry', r.entry_id)} does not carry "
            f"its entry's {'dates' if r.times_differ else 'kind'}",
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


POSTING_COLUMNS = tuple(P.c[name] for name in POSTING_FACTS)


def _entry_chain(conn: Connection) -> tuple[list[Violation], list[str]]:
    """Each entry's hash recomputed from its fields, its postings and the stored hash of
    the entry before it: an entry that differs was altered, or follows one that was
    removed, moved or slipped in. Returns the violations and the hashes in chain order."""
    found: list[Violation] = []
    hashes: list[str] = []
    previous = GENESIS_HASH
    entries = _stream(conn, select(E).order_by(E.c.id))
    postings = _stream(conn, select(P.c.entry_id, *POSTING_COLUMNS).order_by(P.c.entry_id, P.c.id))
    pending = next(postings, None)
    orphans: set[int] = set()
    for e in entries:
        while pending is not None and pending.entry_id < e.id:  # of no entry
            orphans.add(pending.entry_id)
            pending = next(postings, None)
        own: list[PostingFacts] = []
        while pending is not None and pending.entry_id == e.id:
            own.append(tuple(pending)[1:])
            pending = next(postings, None)
        expected = entry_hash(
            previous,
            entry_id=e.id,
            recorded_at=e.recorded_at,
            effective_date=e.effective_date,
            actor=e.actor,
            kind=e.kind,
            reason=e.reason,
            note=e.note,
            reverses=e.reverses,
            postings=own,
        )
        if e.hash != expected:
            found.append(
                Violation(
                    code="entry_chain_broken",
                    message=f"entry {format_id('entry', e.id)} does not follow from the one "
                    "before it: it, its postings or what came before it was altered",
                )
            )
        previous = e.hash or expected
        hashes.append(previous)
    while pending is not None:
        orphans.add(pending.entry_id)
        pending = next(postings, None)
    found += [
        Violation(
            code="posting_orphaned",
            message=f"postings name entry {format_id('entry', entry_id)}, which the journal "
            "does not hold: the entry was removed without them",
        )
        for entry_id in sorted(orphans)
    ]
    return found, hashes


def _audit_chain(conn: Connection) -> tuple[list[Violation], list[str]]:
    found: list[Violation] = []
    hashes: list[str] = []
    previous = GENESIS_HASH
    for row in _stream(conn, select(t.audit_log).order_by(t.audit_log.c.id)):
        expected = audit_hash(
            previous, row.recorded_at, row.actor, row.action, row.subject, row.detail, row.entries
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
        hashes.append(previous)
    return found, hashes


def _audit_against_journal(conn: Connection) -> list[Violation]:
    """Every entry is named by exactly one audit record, with the hash it has; every
    entry an audit record names is in the journal with that hash. Entries written before
    audit records named them (ledger_clock.linked_from_entry) need an audit record of
    their moment. Both sides are walked in order (entries by id, audit records by id:
    the order they were written in), in constant memory however long the ledger."""
    # entries before this one were written before audit records named them (NULL: none)
    linked_from = conn.execute(select(t.ledger_clock.c.linked_from_entry)).scalar_one_or_none()
    first_linked = linked_from or 0
    found: list[Violation] = []
    A = t.audit_log
    with contextlib.ExitStack() as streams:
        moments = streams.enter_context(_rows(conn, select(A.c.recorded_at).order_by(A.c.id)))
        named = streams.enter_context(
            _rows(
                conn,
                select(A.c.id, A.c.action, A.c.subject, A.c.entries)
                .where(A.c.entries.is_not(None), A.c.entries != "")
                .order_by(A.c.id),
            )
        )
        entries = streams.enter_context(
            _rows(conn, select(E.c.id, E.c.hash, E.c.recorded_at).order_by(E.c.id))
        )
        _walk(found, first_linked, moments, named, entries)
    return found


def _walk(
    found: list[Violation],
    first_linked: int,
    moments: Iterator[Row[Any]],
    named: Iterator[Row[Any]],
    entries: Iterator[Row[Any]],
) -> None:
    moment = next(moments, None)
    claims = (
        (entry_id, r.id, f"{r.action} {r.subject}", digest)
        for r in named
        for entry_id, digest in entries_of(r.entries)
    )
    claim = next(claims, None)
    for e in entries:
        label = format_id("entry", e.id)
        if e.id < first_linked:  # an audit record of the same moment
            while moment is not None and moment.recorded_at < e.recorded_at:
                moment = next(moments, None)
            if moment is None or moment.recorded_at != e.recorded_at:
                found.append(_unaudited(label))
            continue
        while claim is not None and claim[0] < e.id:  # named, but not in the journal
            found.append(_claim_missing(claim))
            claim = next(claims, None)
        made = []
        while claim is not None and claim[0] == e.id:
            made.append(claim)
            claim = next(claims, None)
        if not made:
            found.append(_unaudited(label))
        elif len(made) > 1:
            found.append(
                Violation(
                    code="entry_audited_twice",
                    message=f"entry {label} is named by {len(made)} audit records "
                    f"({', '.join(str(record) for _, record, _, _ in made)})",
                )
            )
        elif made[0][3] != e.hash:
            _, record, what, _ = made[0]
            found.append(
                Violation(
                    code="audit_entry_differs",
                    message=f"audit record {record} ({what}) names entry {label} with "
                    "other content than the journal holds",
                )
            )
    while claim is not None:
        found.append(_claim_missing(claim))
        claim = next(claims, None)


def _claim_missing(claim: tuple[int, int, str, str]) -> Violation:
    entry_id, record, what, _ = claim
    return Violation(
        code="audit_entry_missing",
        message=f"audit record {record} ({what}) names entry "
        f"{format_id('entry', entry_id)}, which the journal does not hold",
    )


def _unaudited(label: str) -> Violation:
    return Violation(
        code="entry_unaudited",
        message=f"entry {label} has no audit record: it was written around the ledger",
    )


def _kept_head(conn: Connection, head: Head) -> list[Violation]:
    """The head every unit of work keeps (ledger_clock) is where the chains end: rows cut
    from the end of either are missed unless it was rewritten too (--expect-head then
    tells, from a head kept outside)."""
    kept = conn.execute(
        select(
            t.ledger_clock.c.entries_count,
            t.ledger_clock.c.entries_hash,
            t.ledger_clock.c.audit_count,
            t.ledger_clock.c.audit_hash,
        )
    ).one_or_none()
    if kept is None:
        return []
    found = []
    if (kept.entries_count, kept.entries_hash) != (head.entries, head.entries_hash):
        found.append(
            Violation(
                code="chain_head_mismatch",
                message=f"the ledger's head says {kept.entries_count} entries; the journal "
                f"holds {head.entries} ending otherwise: entries were cut from its end or "
                "written around the ledger",
            )
        )
    if (kept.audit_count, kept.audit_hash) != (head.audit_records, head.audit_hash):
        found.append(
            Violation(
                code="chain_head_mismatch",
                message=f"the ledger's head says {kept.audit_count} audit records; the log "
                f"holds {head.audit_records} ending otherwise: records were cut from its end "
                "or written around the ledger",
            )
        )
    return found


def _extends(expect: ExpectedHead, entries_at: list[str], audits_at: list[str]) -> list[Violation]:
    """Does the ledger still extend a head kept from earlier: do both chains reach that
    far, with those hashes?"""
    found = []
    if len(entries_at) < expect.entries:
        found.append(
            Violation(
                code="head_not_extended",
                message=f"the head kept names {expect.entries} entries; the journal holds "
                f"{len(entries_at)}: entries {len(entries_at) + 1} to {expect.entries} "
                "are missing",
            )
        )
    if len(audits_at) < expect.audit_records:
        found.append(
            Violation(
                code="head_not_extended",
                message=f"the head kept names {expect.audit_records} audit records; the log "
                f"holds {len(audits_at)}: records {len(audits_at) + 1} to "
                f"{expect.audit_records} are missing",
            )
        )
    if found:
        return found
    then = Head(
        entries=expect.entries,
        audit_records=expect.audit_records,
        entries_hash=entries_at[expect.entries - 1] if expect.entries else GENESIS_HASH,
        audit_hash=audits_at[expect.audit_records - 1] if expect.audit_records else GENESIS_HASH,
    )
    if then.digest != expect.digest:
        found.append(
            Violation(
                code="head_not_extended",
                message=f"the journal's first {expect.entries} entries and {expect.audit_records} "
                "audit records no longer end as the head kept says: something before it was "
                "altered, removed or slipped in",
            )
        )
    return found


def _money_of_payments(conn: Connection) -> list[Violation]:
    """A payment's amount is what its receipt entry put in the drawer (or brought in as
    an opening credit)."""
    receipt = (
        select(P.c.payment_id, func.sum(P.c.amount_cents).label("cents"))
        .join(E, E.c.id == P.c.entry_id)
        .where(
            E.c.kind.in_([EntryKind.PAYMENT.value, EntryKind.OPENING_BALANCE.value]),
            P.c.account.in_([Account.UNBANKED.value, Account.OPENING_BALANCE.value]),
            P.c.payment_id.is_not(None),
        )
        .group_by(P.c.payment_id)
        .subquery()
    )
    pay = t.payments
    rows = conn.execute(
        select(pay.c.id, pay.c.amount_cents, receipt.c.cents)
        .outerjoin(receipt, receipt.c.payment_id == pay.c.id)
        .where((receipt.c.cents.is_(None)) | (receipt.c.cents != pay.c.amount_cents))
        .order_by(pay.c.id)
    ).all()
    return [
        Violation(
            code="payment_amount_differs",
            message=f"payment {format_id('payment', r.id)} says {format_cents(r.amount_cents)}; "
            f"its receipt in the journal says {format_cents(int(r.cents or 0))}",
        )
        for r in rows
    ]


def _money_of_lines(conn: Connection) -> list[Violation]:
    """A line's fee and GST are what its charge entry posted."""
    kinds = [EntryKind.CHARGE.value, EntryKind.OPENING_BALANCE.value]
    receivable = func.sum(
        case((P.c.account == Account.RECEIVABLE.value, P.c.amount_cents), else_=0)
    ).label("fee")
    gst = func.sum(case((P.c.account == Account.GST_PAYABLE.value, -P.c.amount_cents), else_=0))
    charged = (
        select(P.c.line_id, receivable, gst.label("gst"))
        .join(E, E.c.id == P.c.entry_id)
        .where(E.c.kind.in_(kinds), P.c.line_id.is_not(None))
        .group_by(P.c.line_id)
        .subquery()
    )
    lines = t.lines
    rows = conn.execute(
        select(lines.c.id, lines.c.fee_cents, lines.c.gst_cents, charged.c.fee, charged.c.gst)
        .outerjoin(charged, charged.c.line_id == lines.c.id)
        .where(
            (charged.c.fee.is_(None))
            | (charged.c.fee != lines.c.fee_cents)
            | (charged.c.gst != lines.c.gst_cents)
        )
        .order_by(lines.c.id)
    ).all()
    return [
        Violation(
            code="line_amount_differs",
            message=f"line {format_id('line', r.id)} says {format_cents(r.fee_cents)} "
            f"(GST {format_cents(r.gst_cents)}); its charge in the journal says "
            f"{format_cents(int(r.fee or 0))} (GST {format_cents(int(r.gst or 0))})",
        )
        for r in rows
    ]


def _stream(conn: Connection, query: Select[Any]) -> Iterator[Row[Any]]:
    """Rows in batches, not the whole table in memory (millions of entries and audit
    records on a large ledger)."""
    with _rows(conn, query) as rows:
        yield from rows


@contextlib.contextmanager
def _rows(conn: Connection, query: Select[Any]) -> Iterator[Iterator[Row[Any]]]:
    """:func:`_stream`'s rows, closed when the block ends even if not all were read (a
    PostgreSQL server-side cursor must be)."""
    result = conn.execute(query.execution_options(yield_per=10_000))
    try:
        yield iter(result)
    finally:
        result.close()
