"""Transactions: the unit of work (one writing transaction per use case, under the
ledger's write lock) and :func:`reading` (one consistent read-only view), and the storage's
time format.

Entering a unit of work begins a writing transaction (``BEGIN IMMEDIATE`` on SQLite) and
locks the single ``ledger_clock`` row (``SELECT ... FOR UPDATE`` on PostgreSQL), so every
check a service makes reads data no other clerk can change before it commits. That lock
is also what makes ``recorded_at`` strictly increasing across processes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from clinicledger.domain.chain import Head, audit_hash, entries_text, entry_hash
from clinicledger.domain.dates import check_clock_not_ahead, check_in_range
from clinicledger.domain.errors import Conflict, InvalidInput, InvariantBroken, Locked
from clinicledger.domain.journal import POSTING_FACTS, Entry
from clinicledger.domain.records import PracticeRecord
from clinicledger.domain.text import check_actor
from clinicledger.store import bulk, lookups
from clinicledger.store import engine as store_engine
from clinicledger.store.lookups import to_naive_utc
from clinicledger.store.sql import Sql, as_instant, storing
from clinicledger.store.writers import WriterQueue, writer_queue

ONE_MICROSECOND = dt.timedelta(microseconds=1)

# The statements every unit of work runs (store/sql.py says why they are SQL text). The
# clock row is read with the practice's settings, so that a use case reads neither again.
_OPEN_SQL = (
    "SELECT c.last_recorded_at, c.entries_count, c.entries_hash, c.audit_count, c.audit_hash, "
    + ", ".join(f"p.{column}" for column in lookups.PRACTICE_COLUMNS.split(", "))
    + " FROM ledger_clock AS c LEFT OUTER JOIN practice AS p ON p.id = 1 WHERE c.id = 1"
)
_OPEN = Sql(_OPEN_SQL, postgresql=_OPEN_SQL + " FOR UPDATE OF c")
_KEEP_HEAD = Sql(
    "UPDATE ledger_clock SET last_recorded_at = :last_recorded_at,"
    " entries_count = :entries_count, entries_hash = :entries_hash,"
    " audit_count = :audit_count, audit_hash = :audit_hash WHERE id = 1"
)
_NEXT_INVOICE_NUMBER = Sql(
    "UPDATE ledger_clock SET last_invoice_number = last_invoice_number + 1"
    " WHERE id = 1 RETURNING last_invoice_number"
)
_NEXT_INVOICE_NUMBERS = Sql(
    "UPDATE ledger_clock SET last_invoice_number = last_invoice_number + :count"
    " WHERE id = 1 RETURNING last_invoice_number"
)
# PostgreSQL: the commit lets the ledger's lock go without waiting for the disk, and the
# unit of work then waits for the disk outside the lock (see UnitOfWork.commit).
_COMMIT_WITHOUT_WAITING = Sql("", postgresql="SET LOCAL synchronous_commit = off")
# A transaction that commits only once the WAL up to it is on disk: it writes a WAL record
# of its own (a transaction that wrote none commits without flushing).
_WAIT_FOR_DISK = "SELECT pg_logical_emit_message(true, 'clinicledger', 'on disk')"
_HIGHEST_ENTRY_ID = Sql("SELECT max(id) FROM entries")
_RESERVE_ENTRY_ID = Sql("", postgresql="SELECT nextval(pg_get_serial_sequence('entries', 'id'))")
_INSERT_ENTRY = Sql(
    "INSERT INTO entries (id, recorded_at, effective_date, actor, kind, reason, note,"
    " reverses, hash) VALUES (:id, :recorded_at, :effective_date, :actor, :kind, :reason,"
    " :note, :reverses, :hash)"
)
_INSERT_POSTINGS = Sql(
    "INSERT INTO postings (entry_id, effective_date, recorded_at, entry_kind, "
    + ", ".join(POSTING_FACTS)
    + ") VALUES (:entry_id, :effective_date, :recorded_at, :entry_kind, "
    + ", ".join(f":{name}" for name in POSTING_FACTS)
    + ")"
)
_INSERT_AUDIT = Sql(
    "INSERT INTO audit_log (recorded_at, actor, action, subject, detail, prev_hash, hash,"
    " entries) VALUES (:recorded_at, :actor, :action, :subject, :detail, :prev_hash, :hash,"
    " :entries)"
)

# The same rows by position, for append_many and audit_many (Sql.many_as_stored).
_INSERT_ENTRIES = bulk.insert_statement(
    "entries",
    ("id", "recorded_at", "effective_date", "actor", "kind", "reason", "note", "reverses", "hash"),
)
_INSERT_POSTING_ROWS = bulk.insert_statement(
    "postings", ("entry_id", "effective_date", "recorded_at", "entry_kind", *POSTING_FACTS)
)
_INSERT_AUDITS = bulk.insert_statement(
    "audit_log",
    ("recorded_at", "actor", "action", "subject", "detail", "prev_hash", "hash", "entries"),
)

# An audit record's detail as audit() writes it, json.dumps(detail, sort_keys=True,
# default=str), with its encoder made once for the many records of audit_many.
_audit_detail = json.JSONEncoder(sort_keys=True, default=str).encode


def _cause(exc: BaseException) -> str:
    """The name of the database's own error behind ``exc`` (never its text: it may quote
    values)."""
    return type(getattr(exc, "orig", None) or exc).__name__


def _held(instant: dt.datetime) -> dt.datetime:
    """``instant`` (naive UTC, as stored) if its date is one the ledger holds: the clock is
    checked as given (before a time zone could overflow it) and again as it is stored, so
    that every moment stored can be asked about as known at it."""
    check_in_range(instant.replace(tzinfo=dt.UTC), field="now")
    return instant


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


def real_clock() -> dt.datetime:
    """The machine's clock (aware UTC): what a clock the caller chose is bounded by."""
    return dt.datetime.now(dt.UTC)


def _busy() -> Locked:
    return Locked("the ledger is busy with another clerk's work; try again", code="ledger_busy")


def _take_turn(engine: Engine) -> WriterQueue | None:
    """On SQLite, wait for this writer's turn in the ledger's queue (store/writers.py)
    before asking for the database's own lock; the turn taken (None: no queue)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    queue = writer_queue(database)
    if not queue.acquire(timeout=store_engine.SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise _busy()
    return queue


_BEGIN_UNIT = Sql("SAVEPOINT unit_of_work")
_END_UNIT = Sql("RELEASE SAVEPOINT unit_of_work")
_UNDO_UNIT = Sql("ROLLBACK TO SAVEPOINT unit_of_work")


class SharedTransaction:
    """Many units of work, one after another, in one database transaction: ``with
    SharedTransaction(engine) as shared: ... UnitOfWork(engine, ..., within=shared) ...``.
    Each unit of work is still whole or nothing (a savepoint: its commit releases it, a
    failure rolls back to it) and writes exactly what it would alone (it reads the clock
    row and keeps the chains' head as ever); what they share is the write lock, taken
    once, and the commit: :meth:`commit` makes durable what is done so far, leaving the
    block commits the rest, and an error out of the block rolls back everything not yet
    committed. Reads between them go through :attr:`conn`, which sees what they wrote.

    Why: building the demo practice is some 8,000 units of work; a transaction each (a
    connection, ``BEGIN IMMEDIATE``, a commit writing its pages to the WAL) was a third
    of its time (bench/bulk.py). Only for work that no clerk waits on meanwhile: the
    ledger is locked for writing until :meth:`commit`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._turn: WriterQueue | None = None
        self._in_unit = False

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise InvariantBroken("shared transaction used outside its 'with' block")
        return self._conn

    def __enter__(self) -> SharedTransaction:
        self._turn = _take_turn(self.engine)
        try:
            self._conn = self.engine.connect()
            self._conn.begin()
        except BaseException as exc:
            self._close()
            if isinstance(exc, OperationalError) and (
                "locked" in str(exc.orig) or "busy" in str(exc.orig)
            ):
                raise _busy() from exc
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self._close()

    def commit(self) -> None:
        """Commit the units of work done so far, and go on in a new transaction."""
        if self._in_unit:
            raise InvariantBroken("a shared transaction committed inside a unit of work")
        self.conn.commit()
        self.conn.begin()

    def begin_unit(self) -> Connection:
        """A unit of work begins (its savepoint): the connection it works on."""
        if self._in_unit:
            raise InvariantBroken("units of work of one shared transaction overlap")
        conn = self.conn
        _BEGIN_UNIT.run(conn)
        self._in_unit = True
        return conn

    def end_unit(self) -> None:
        """The unit of work commits: what it wrote joins the shared transaction."""
        _END_UNIT.run(self.conn)
        self._in_unit = False

    def roll_back_unit(self) -> None:
        """The unit of work failed or did not commit: nothing it wrote is kept."""
        _UNDO_UNIT.run(self.conn)
        _END_UNIT.run(self.conn)
        self._in_unit = False

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._turn is not None:
            self._turn.release()
            self._turn = None


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
        self,
        engine: Engine,
        *,
        now: dt.datetime,
        actor: str,
        strict_clock: bool = False,
        allow_future_clock: bool = False,
        within: SharedTransaction | None = None,
    ) -> None:
        self.engine = engine
        self._within = within  # the transaction it is part of, or None: one of its own
        self._now_given = check_in_range(now, field="now")  # before a zone could overflow it
        self.now = now  # as stored (naive UTC) once the unit of work has begun
        self.actor = check_actor(actor)
        self.strict_clock = strict_clock
        self.allow_future_clock = allow_future_clock
        self._conn: Connection | None = None
        self._last_recorded_at: dt.datetime | None = None
        self._stamp: dt.datetime | None = None
        self._committed = False
        self._clock_deferred = False
        self._head: Head | None = None
        self._unaudited: list[tuple[int, str]] = []  # (entry id, hash) not yet audited
        self._next_id: int | None = None  # SQLite: the next entry's id (the lock is held)
        self._turn: WriterQueue | None = None  # SQLite: this writer's turn, while it works
        self.practice: PracticeRecord | None = None  # as it was when the work began
        # Told how far long work has got (a step's name, rows done, rows in all): a door's
        # progress bar; None, nobody.
        self.progress: Callable[[str, int, int], None] | None = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise InvariantBroken("unit of work used outside its 'with' block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        if self._within is None:
            self._turn = _take_turn(self.engine)
        try:
            if self._within is not None:
                self._conn = self._within.begin_unit()
            else:
                self._conn = self.engine.connect()
                self._conn.begin()
            clock = _OPEN.one(self._conn)
        except BaseException as exc:
            if self._within is not None and self._conn is not None:
                self._within.roll_back_unit()
            self._close()
            if isinstance(exc, OperationalError) and (
                "locked" in str(exc.orig) or "busy" in str(exc.orig)
            ):
                raise _busy() from exc
            raise
        try:  # __exit__ is not called when __enter__ raises: the lock must not outlive it
            if clock is None:
                raise InvariantBroken("the ledger_clock row is missing: the schema is incomplete")
            (last, entries, entries_hash, audits, audits_hash, *practice) = clock
            if practice[0] is not None:  # its name: the practice exists
                self.practice = lookups.practice_record(tuple(practice))
            given = self._now_given
            if given.tzinfo is None:
                given = given.replace(tzinfo=self.zone)
            self.now = _held(to_naive_utc(given))
            self._last_recorded_at = as_instant(last)
            self._head = Head(
                entries=entries,
                audit_records=audits,
                entries_hash=entries_hash,
                audit_hash=audits_hash,
            )
            if not self._clock_deferred:
                self.check_clock()
        except BaseException:
            self._rollback()
            self._close()
            raise
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The practice's time zone, as it was when the work began."""
        return ZoneInfo(
            lookups.DEFAULT_TIMEZONE if self.practice is None else self.practice.timezone
        )

    def require_practice(self) -> PracticeRecord:
        """The practice, as it was when the work began; refused if there is none yet."""
        return lookups.practice_required(self.practice)

    @property
    def closed_through(self) -> dt.date | None:
        """The last day of the closed periods, as it was when the work began."""
        return None if self.practice is None else self.practice.closed_through

    def today(self) -> dt.date:
        """The practice's business date at this unit of work's clock."""
        return self.now.replace(tzinfo=dt.UTC).astimezone(self.zone).date()

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
            self._rollback()
        self._close()

    def _rollback(self) -> None:
        if self._within is not None:
            self._within.roll_back_unit()
        else:
            self.conn.rollback()

    def _close(self) -> None:
        # The turn is given back before the connection goes back to its pool (which takes
        # a few hundredths of a millisecond the next writer need not wait for), unless a
        # transaction is still open on it: its rollback lets SQLite's own lock go first. A
        # unit of work within a shared transaction leaves the connection to it.
        conn, self._conn = self._conn, None
        if self._within is not None:
            conn = None
        elif conn is not None and conn.in_transaction():
            conn.close()
            conn = None
        if self._turn is not None:
            self._turn.release()
            self._turn = None
        if conn is not None:
            conn.close()

    def commit(self) -> None:
        if self._unaudited:
            raise InvariantBroken(
                f"{len(self._unaudited)} entries would be committed without their audit record"
            )
        head = self.head
        kept = {
            "last_recorded_at": self._last_recorded_at,
            "entries_count": head.entries,
            "entries_hash": head.entries_hash,
            "audit_count": head.audit_records,
            "audit_hash": head.audit_hash,
        }
        failed = (DBAPIError, self.conn.dialect.loaded_dbapi.Error)
        postgresql = self.conn.dialect.name == "postgresql"
        try:
            if self._within is not None:
                _KEEP_HEAD.run(self.conn, kept)
                self._within.end_unit()
            elif postgresql:
                self._commit_without_waiting(kept)
                self.conn.commit()
            else:
                _KEEP_HEAD.run(self.conn, kept)
                self.conn.commit()
        except failed as exc:
            raise InvariantBroken(f"commit failed: {_cause(exc)}") from exc
        self._committed = True
        if postgresql and self._within is None:  # a shared transaction's own commit waits
            try:
                self._wait_for_disk()
            except failed as exc:
                raise InvariantBroken(
                    "committed, but the database did not confirm that the commit reached its "
                    f"disk: {_cause(exc)}"
                ) from exc

    def _commit_without_waiting(self, kept: dict[str, Any]) -> None:
        """PostgreSQL: keep the head and commit, sent at once (one round trip while the
        ledger's lock is held), without waiting for the disk (:meth:`_wait_for_disk`)."""
        driver = self.conn.connection.driver_connection
        assert driver is not None
        with driver.pipeline():
            _KEEP_HEAD.run(self.conn, kept)
            _COMMIT_WITHOUT_WAITING.run(self.conn)
            driver.commit()

    def _wait_for_disk(self) -> None:
        """PostgreSQL: return once this unit of work's commit is on disk, having let the
        ledger's lock go before it got there.

        Why: the lock (the ``ledger_clock`` row) is held until the commit, and a commit
        that waits for its WAL to reach the disk (about 2 ms here) holds it all that
        while, so clerks committed one flush at a time and eight wrote no faster than one
        (bench, issue 9). So the unit of work commits without waiting
        (``synchronous_commit = off`` for its own transaction: the lock goes as soon as the
        commit is in the WAL), then runs a transaction of its own that does wait: WAL
        reaches the disk in order, so that flush carries this commit and every one before
        it, and the clerks waiting at once share one flush. Nothing is reported done
        before it is on disk; a crash before the flush loses it and whatever was chained
        on it after, together (the WAL is replayed in order), so the chain stays whole.
        The server's own ``synchronous_commit`` (a standby to wait for, say) applies to
        that second transaction as it would have to the first."""
        driver = self.conn.connection.driver_connection
        assert driver is not None
        driver.autocommit = True  # the statement is a transaction of its own
        try:
            driver.execute(_WAIT_FOR_DISK)
        finally:
            driver.autocommit = False

    def stamp(self) -> dt.datetime:
        """This unit of work's ``recorded_at``: ``now``, or just after the latest one. Every
        entry and audit record of one use case shares it, so "as known at" that moment
        shows the whole of what the use case did."""
        if self._stamp is None:
            last = self._last_recorded_at
            later = self.now if last is None or self.now > last else last + ONE_MICROSECOND
            self._stamp = _held(later)
            self._last_recorded_at = self._stamp
        return self._stamp

    def check_clock(self) -> None:
        """A clock the caller chose may not go back before the latest entry, compared at
        the precision it was given in: a clock given to the second (or minute) is in step
        with an entry within that second. Nor may any clock be ahead of the real one by
        more than ``domain.dates.CLOCK_AHEAD_MAX`` without ``allow_future_clock`` (tests,
        reproducing history): one entry stamped in the future would stamp every later one
        after it. Whatever the allowance, ``now`` is within the ledger's dates
        (``domain.dates.check_in_range``, checked when the unit of work is made)."""
        if not self.allow_future_clock:
            check_clock_not_ahead(self.now, to_naive_utc(real_clock()))
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
        number: int = _NEXT_INVOICE_NUMBER.scalar(self.conn)
        return number

    def next_invoice_numbers(self, count: int) -> range:
        """The next ``count`` invoice numbers at once: those ``count`` calls of
        :meth:`next_invoice_number` would give."""
        if count <= 0:
            return range(0)
        last: int = _NEXT_INVOICE_NUMBERS.scalar(self.conn, {"count": count})
        return range(last - count + 1, last + 1)

    def progressed(self, step: str, done: int, total: int) -> None:
        """Tell :attr:`progress`, if anyone listens, that ``done`` of ``total`` rows of
        ``step`` are done."""
        if self.progress is not None:
            self.progress(step, done, total)

    @property
    def head(self) -> Head:
        """Where both chains end, with what this unit of work has written so far."""
        if self._head is None:
            raise InvariantBroken("unit of work used outside its 'with' block")
        return self._head

    def append(self, entry: Entry) -> int:
        """Write an entry, chained to the one before it, and its postings; return the
        entry's id. Its audit record (:meth:`audit`, before :meth:`commit`) names it."""
        recorded_at = self.stamp()
        head = self.head
        entry_id = self._next_entry_id()
        kind = entry.kind.value
        digest = entry_hash(
            head.entries_hash,
            entry_id=entry_id,
            recorded_at=recorded_at,
            effective_date=entry.effective_date,
            actor=self.actor,
            kind=kind,
            reason=entry.reason,
            note=entry.note,
            reverses=entry.reverses,
            postings=(p.facts() for p in entry.postings),
        )
        try:
            _INSERT_ENTRY.run(
                self.conn,
                {
                    "id": entry_id,
                    "recorded_at": recorded_at,
                    "effective_date": entry.effective_date,
                    "actor": self.actor,
                    "kind": kind,
                    "reason": entry.reason,
                    "note": entry.note,
                    "reverses": entry.reverses,
                    "hash": digest,
                },
            )
        except self.conn.dialect.loaded_dbapi.IntegrityError as exc:
            # The unique ``reverses`` column: another clerk undid this entry first. The
            # ledger lock makes this unreachable; it stays a clean refusal if that changes.
            if entry.reverses is not None and "reverses" in str(exc):
                raise Conflict(
                    f"entry {entry.reverses} was already undone",
                    code="allocation_undone",
                    field="allocation",
                ) from exc
            raise
        _INSERT_POSTINGS.many(
            self.conn,
            [
                {
                    "entry_id": entry_id,
                    "effective_date": entry.effective_date,
                    "recorded_at": recorded_at,
                    "entry_kind": kind,
                    **dict(zip(POSTING_FACTS, p.facts(), strict=True)),
                }
                for p in entry.postings
            ],
        )
        self._head = dataclasses.replace(head, entries=head.entries + 1, entries_hash=digest)
        self._unaudited.append((entry_id, digest))
        return entry_id

    def _next_entry_id(self) -> int:
        """The id the next entry takes, known before it is written (its hash covers it):
        PostgreSQL's sequence, or on SQLite one past the highest (the write lock is held:
        read once, then counted on)."""
        if self.conn.dialect.name == "postgresql":
            reserved: int = _RESERVE_ENTRY_ID.scalar(self.conn)
            return reserved
        if self._next_id is None:
            self._next_id = int(_HIGHEST_ENTRY_ID.scalar(self.conn) or 0) + 1
        entry_id = self._next_id
        self._next_id += 1
        return entry_id

    def audit(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        """Append a hash-chained audit record of a change, in this transaction; it names
        the entries written since the last one."""
        recorded_at = self.stamp()
        head = self.head
        body = json.dumps(detail, sort_keys=True, default=str)
        entries = entries_text(self._unaudited)
        digest = audit_hash(
            head.audit_hash, recorded_at, self.actor, action, subject, body, entries
        )
        _INSERT_AUDIT.run(
            self.conn,
            {
                "recorded_at": recorded_at,
                "actor": self.actor,
                "action": action,
                "subject": subject,
                "detail": body,
                "prev_hash": head.audit_hash,
                "hash": digest,
                "entries": entries,
            },
        )
        self._head = dataclasses.replace(
            head, audit_records=head.audit_records + 1, audit_hash=digest
        )
        self._unaudited = []

    def append_many(self, entries: Sequence[Entry]) -> list[int]:
        """:meth:`append` of each of ``entries`` in order, written with one ``executemany``
        for the entries and one for their postings: the same ids, rows and chain of hashes
        as appending them one by one (``tests/db/test_bulk.py``); their ids."""
        if not entries:
            return []
        recorded_at = self.stamp()
        head = self.head
        actor = self.actor
        if self.conn.dialect.name == "postgresql":
            ids = bulk.reserve_ids(self.conn, "entries", len(entries))
        else:
            ids = [self._next_entry_id() for _ in entries]
        store = storing(self.conn)
        stamp = store(recorded_at)
        digest = head.entries_hash
        entry_rows: list[tuple[Any, ...]] = []
        posting_rows: list[tuple[Any, ...]] = []
        for entry_id, entry in zip(ids, entries, strict=True):
            facts = [p.facts() for p in entry.postings]
            kind = entry.kind.value
            digest = entry_hash(
                digest,
                entry_id=entry_id,
                recorded_at=recorded_at,
                effective_date=entry.effective_date,
                actor=actor,
                kind=kind,
                reason=entry.reason,
                note=entry.note,
                reverses=entry.reverses,
                postings=facts,
            )
            effective = store(entry.effective_date)
            entry_rows.append(
                (entry_id, stamp, effective, actor, kind, entry.reason, entry.note,
                 entry.reverses, digest)
            )  # fmt: skip
            posting_rows.extend((entry_id, effective, stamp, kind, *fact) for fact in facts)
            self._unaudited.append((entry_id, digest))
        _INSERT_ENTRIES.many_as_stored(self.conn, entry_rows)
        _INSERT_POSTING_ROWS.many_as_stored(self.conn, posting_rows)
        self._head = dataclasses.replace(
            head, entries=head.entries + len(entries), entries_hash=digest
        )
        return ids

    def audit_many(self, records: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
        """:meth:`audit` of each (action, subject, detail) of ``records`` in order, with one
        ``executemany``: the same rows and chain as auditing them one by one (the first
        names the entries written since the last record, the others none)."""
        if not records:
            return
        recorded_at = self.stamp()
        head = self.head
        actor = self.actor
        stamp = storing(self.conn)(recorded_at)
        prev = head.audit_hash
        rows: list[tuple[Any, ...]] = []
        for action, subject, detail in records:
            body = _audit_detail(detail)
            entries = entries_text(self._unaudited)
            self._unaudited = []
            digest = audit_hash(prev, recorded_at, actor, action, subject, body, entries)
            rows.append((stamp, actor, action, subject, body, prev, digest, entries))
            prev = digest
        _INSERT_AUDITS.many_as_stored(self.conn, rows)
        self._head = dataclasses.replace(
            head, audit_records=head.audit_records + len(records), audit_hash=prev
        )
