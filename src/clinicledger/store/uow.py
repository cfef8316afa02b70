"""Transactions: the unit of work (one writing transaction per use case, under the
ledger's write lock) and :func:`reading` (one consistent read-only view), and the storage's
time format.

Entering a unit of work begins a writing transaction (``BEGIN IMMEDIATE`` on SQLite) and
locks the single ``ledger_clock`` row (``SELECT ... FOR UPDATE`` on PostgreSQL), so every
check a service makes reads data no other clerk can change before it commits. That lock
is also what makes ``recorded_at`` strictly increasing across processes.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from clinicledger.domain.errors import Conflict, InvalidInput, InvariantBroken, Locked
from clinicledger.domain.journal import Entry
from clinicledger.domain.text import check_actor
from clinicledger.store import ledger
from clinicledger.store import tables as t

ONE_MICROSECOND = dt.timedelta(microseconds=1)
GENESIS_HASH = "0" * 64


def to_naive_utc(instant: dt.datetime) -> dt.datetime:
    """The storage's time format: a naive UTC instant (an aware time converted, a naive
    one taken as UTC already)."""
    if instant.tzinfo is None:
        return instant
    return instant.astimezone(dt.UTC).replace(tzinfo=None)


def practice_instant(conn: Connection, value: dt.datetime) -> dt.datetime:
    """A moment as the storage keeps it (naive UTC); a naive ``value`` is the practice's
    local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ledger.practice_zone(conn))
    return to_naive_utc(value)


def practice_date(conn: Connection, instant: dt.datetime) -> dt.date:
    """The practice's business date at ``instant`` (naive UTC, as stored)."""
    return instant.replace(tzinfo=dt.UTC).astimezone(ledger.practice_zone(conn)).date()


READING_WORK_MEM = "64MB"  # per sort or hash of a reading transaction (PostgreSQL)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction with one consistent view for all its statements, so that a
    report's parts and totals agree: SQLite's deferred BEGIN (no write lock) reads one
    snapshot; on PostgreSQL, REPEATABLE READ (a read-only transaction never fails to
    serialise), with memory to sort and group a large report without spilling to disk and
    no JIT compiling (bench, 1M lines: the debtors aggregate spilled in 5 batches, and JIT
    took 90 ms of a 0.4 s statement)."""
    postgresql = engine.dialect.name == "postgresql"
    options = {"isolation_level": "REPEATABLE READ"} if postgresql else {}
    with (
        engine.connect().execution_options(sqlite_begin="DEFERRED", **options) as conn,
        conn.begin(),
    ):
        if postgresql:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{READING_WORK_MEM}'")
            conn.exec_driver_sql("SET LOCAL jit = off")
        yield conn


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """A large report builds tens of thousands of small objects that all live until it is
    rendered, and Python's cycle collector would walk them over and over (a third of the
    debtors listing's time on the bench practice). They hold no cycles: reference counting
    frees them. Only the report that turned the collector off turns it on again, so it is
    never left off; with reports in several threads it may come back on before the last
    one ends, which costs time, not correctness."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class UnitOfWork:
    """``with UnitOfWork(engine, now=..., actor=...) as uow: ...; uow.commit()``.

    ``now`` is the clock for this use case; a naive time is the practice's local time.
    ``actor`` is who is doing it (a login, an operating-system user): every entry and audit
    record of the unit of work carries it.

    Entries are stamped at ``now``, or a microsecond after the latest recorded one if that
    is not earlier. With ``strict_clock`` (a clock the caller chose, for back-entry of
    history) a ``now`` earlier than the latest recorded entry is refused, at the precision
    it was given in (see :meth:`_check_clock`): history cannot be recorded out of order, but
    commands given the same clock (a script that sets it once) follow one another a
    microsecond apart.
    """

    def __init__(
        self, engine: Engine, *, now: dt.datetime, actor: str, strict_clock: bool = False
    ) -> None:
        self.engine = engine
        self._now_given = now
        self.now = now  # as stored (naive UTC) once the unit of work has begun
        self.actor = check_actor(actor)
        self.strict_clock = strict_clock
        self._conn: Connection | None = None
        self._last_recorded_at: dt.datetime | None = None
        self._stamp: dt.datetime | None = None
        self._committed = False
        self._clock_deferred = False

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise InvariantBroken("unit of work used outside its 'with' block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        try:
            self._conn = self.engine.connect()
            self._conn.begin()
            clock = self._conn.execute(
                select(t.ledger_clock.c.last_recorded_at)
                .where(t.ledger_clock.c.id == 1)
                .with_for_update()
            ).one_or_none()
        except OperationalError as exc:
            self._close()
            if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                raise
            raise Locked(
                "the ledger is busy with another clerk's work; try again", code="ledger_busy"
            ) from exc
        if clock is None:
            self._close()
            raise InvariantBroken("the ledger_clock row is missing: the schema is incomplete")
        self.now = practice_instant(self._conn, self._now_given)
        self._last_recorded_at = clock.last_recorded_at
        if not self._clock_deferred:
            try:
                self.check_clock()
            except InvalidInput:
                self._close()  # __exit__ is not called when __enter__ raises
                raise
        return self

    def defer_clock_check(self) -> UnitOfWork:
        """Enter without checking the clock yet: the caller calls :meth:`check_clock`
        before it records anything (a retry answered from its idempotency key records
        nothing, and needs no clock)."""
        self._clock_deferred = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed and self._conn is not None:
            self._conn.rollback()
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        try:
            self.conn.execute(
                update(t.ledger_clock)
                .where(t.ledger_clock.c.id == 1)
                .values(last_recorded_at=self._last_recorded_at)
            )
            self.conn.commit()
        except DBAPIError as exc:
            raise InvariantBroken(f"commit failed: {type(exc.orig).__name__}") from exc
        self._committed = True

    def stamp(self) -> dt.datetime:
        """This unit of work's ``recorded_at``: ``now``, or just after the latest one. Every
        entry and audit record of one use case shares it, so "as known at" that moment
        shows the whole of what the use case did."""
        if self._stamp is None:
            last = self._last_recorded_at
            self._stamp = self.now if last is None or self.now > last else last + ONE_MICROSECOND
            self._last_recorded_at = self._stamp
        return self._stamp

    def check_clock(self) -> None:
        """A clock the caller chose may not go back before the latest entry, compared at
        the precision it was given in: a clock given to the second (or minute) is in step
        with an entry within that second."""
        last = self._last_recorded_at
        if not self.strict_clock or last is None:
            return
        latest = last.replace(microsecond=0) if self.now.microsecond == 0 else last
        if self.now < latest:
            raise InvalidInput(
                "now",
                f"{self.now.isoformat()} UTC is earlier than the latest recorded entry "
                f"({last.isoformat()} UTC); history cannot be recorded out of order",
                code="now_in_past",
                earlier_by_days=(last - self.now).days,
            )

    def next_invoice_number(self) -> int:
        number: int = self.conn.execute(
            update(t.ledger_clock)
            .where(t.ledger_clock.c.id == 1)
            .values(last_invoice_number=t.ledger_clock.c.last_invoice_number + 1)
            .returning(t.ledger_clock.c.last_invoice_number)
        ).scalar_one()
        return number

    def append(self, entry: Entry) -> int:
        """Write an entry and its postings; return the entry's id."""
        recorded_at = self.stamp()
        try:
            entry_id: int = self.conn.execute(
                insert(t.entries)
                .values(
                    recorded_at=recorded_at,
                    effective_date=entry.effective_date,
                    actor=self.actor,
                    kind=entry.kind.value,
                    reason=entry.reason,
                    note=entry.note,
                    reverses=entry.reverses,
                )
                .returning(t.entries.c.id)
            ).scalar_one()
        except IntegrityError as exc:
            # The unique ``reverses`` column: another clerk undid this entry first. The
            # ledger lock makes this unreachable; it stays a clean refusal if that changes.
            if entry.reverses is not None and "reverses" in str(exc.orig):
                raise Conflict(
                    f"entry {entry.reverses} was already undone",
                    code="allocation_undone",
                    field="allocation",
                ) from exc
            raise
        self.conn.execute(
            insert(t.postings),
            [
                {
                    "entry_id": entry_id,
                    "account": p.account.value,
                    "amount_cents": p.amount_cents,
                    "effective_date": entry.effective_date,
                    "recorded_at": recorded_at,
                    "patient_id": p.patient_id,
                    "payer_id": p.payer_id,
                    "provider_id": p.provider_id,
                    "location_id": p.location_id,
                    "invoice_id": p.invoice_id,
                    "line_id": p.line_id,
                    "payment_id": p.payment_id,
                    "reason": p.reason,
                }
                for p in entry.postings
            ],
        )
        return entry_id

    def audit(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        """Append a hash-chained audit record of a change, in this transaction."""
        recorded_at = self.stamp()
        prev = (
            self.conn.execute(
                select(t.audit_log.c.hash).order_by(t.audit_log.c.id.desc()).limit(1)
            ).scalar_one_or_none()
            or GENESIS_HASH
        )
        body = json.dumps(detail, sort_keys=True, default=str)
        digest = audit_hash(prev, recorded_at, self.actor, action, subject, body)
        self.conn.execute(
            insert(t.audit_log).values(
                recorded_at=recorded_at,
                actor=self.actor,
                action=action,
                subject=subject,
                detail=body,
                prev_hash=prev,
                hash=digest,
            )
        )


def audit_hash(
    prev: str, recorded_at: dt.datetime, actor: str, action: str, subject: str, body: str
) -> str:
    text = "\x1f".join((prev, recorded_at.isoformat(), actor, action, subject, body))
    return hashlib.sha256(text.encode()).hexdigest()
