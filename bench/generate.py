"""A large, deterministic practice, bulk-loaded straight into a clinicledger schema.

The schema comes from ``clinicledger.store.schema.upgrade`` (the Alembic migrations); the
money rows are built with the domain's own posting rules (``charge_postings``,
``receipt_postings``, ``allocation_postings``) and wrapped in ``Entry`` (which refuses an
entry that does not sum to zero), so the journal is what the services would have written:

- one unit of work per invoice, payment and allocation call, each stamped once by a
  ledger clock that is strictly increasing from one unit of work to the next; the entries
  and audit records of a unit of work share its ``recorded_at`` (as ``UnitOfWork.stamp``),
  entries in id order;
- postings carry their entry's ``effective_date`` and ``recorded_at``;
- invoices and payments carry their unit of work's stamp; allocations are dated on the
  practice's business date (Australia/Sydney) of their ``recorded_at``;
- every change has its hash-chained audit record, as ``UnitOfWork.audit`` writes it.

At scale 1.0 the practice has 3 locations, 20 providers, 8 payers, 100,000 patients and,
over three years (2023-2025), 1,000,000 service lines, 800,000 payments and 1,200,000
allocations. The episode mix is chosen so those three totals come out exactly:

| episode | share | lines | payments | allocations |
|---|---|---|---|---|
| patient pays one line at the desk | 200k | 1 | 1 | 1 |
| patient pays a two-line invoice | 130k | 2 | 1 | 2 |
| patient pays one line in two instalments | 220k | 1 | 2 | 2 |
| patient pays in advance (credit) | 10k | 0 | 1 | 0 |
| line left unpaid | 20k | 1 | 0 | 0 |
| payer batch: 15 payer-billed lines, one remittance | 20k | 15 | 1 | 15 |

Rows are streamed: a day is generated, its rows buffered, and every ``batch_rows`` postings
the buffers are written (SQLite ``executemany``; PostgreSQL ``COPY``) and committed.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import queue
import random
import resource
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import psycopg

from clinicledger.domain.chain import GENESIS_HASH, Head, audit_hash, entries_text, entry_hash
from clinicledger.domain.choices import LineKind, PayerKind, PaymentMethod
from clinicledger.domain.ids import format_id
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.money import gst_included_cents
from clinicledger.domain.postings import (
    LineRef,
    PaymentRef,
    allocation_postings,
    charge_postings,
    receipt_postings,
)

SEED = 20260101
ZONE = ZoneInfo("Australia/Sydney")
FIRST_DAY = dt.date(2023, 1, 1)
DAYS = 1096  # 2023-01-01 .. 2025-12-31
OPEN_HOUR = 8
BUSINESS_SECONDS = 10 * 3600  # entries of a day are spread over 08:00-18:00 local time
ACTOR = "bench"
PRACTICE_NAME = "Harbourside Allied Health (bench)"
PAYER_BATCH_LINES = 15

# Episode counts at scale 1.0 (see the module docstring).
EPISODES_AT_SCALE_1 = {
    "desk": 200_000,
    "two_lines": 130_000,
    "instalments": 220_000,
    "prepay": 10_000,
    "unpaid": 20_000,
}
PAYER_BATCHES_AT_SCALE_1 = 20_000
PATIENTS_AT_SCALE_1 = 100_000
PROVIDERS = 20

LOCATIONS = (
    ("CBD", "City Rooms"),
    ("NTH", "North Shore Rooms"),
    ("WST", "Parramatta Rooms"),
)
PAYERS = (  # code, name, kind, share of payer batches (percent), payment method
    ("MEDICARE", "Medicare", PayerKind.MEDICARE, 40, PaymentMethod.DIRECT_DEPOSIT),
    ("DVA", "Department of Veterans' Affairs", PayerKind.DVA, 10, PaymentMethod.DIRECT_DEPOSIT),
    ("FUND-HARBOUR", "Harbour Health Fund", PayerKind.FUND, 12, PaymentMethod.INSURANCE),
    ("FUND-MERIDIAN", "Meridian Mutual", PayerKind.FUND, 10, PaymentMethod.INSURANCE),
    ("FUND-BLUEGUM", "Bluegum Health", PayerKind.FUND, 8, PaymentMethod.INSURANCE),
    ("FUND-COASTAL", "Coastal Members Health", PayerKind.FUND, 10, PaymentMethod.INSURANCE),
    ("INS-ATLAS", "Atlas Workers Insurance", PayerKind.INSURER, 5, PaymentMethod.INSURANCE),
    ("TP-CITYCOUNCIL", "City Council (employer)", PayerKind.THIRD_PARTY, 5, PaymentMethod.OTHER),
)
ITEMS = (  # code, description, fee cents, taxable
    ("10960", "Physiotherapy initial consultation", 11_500, False),
    ("10961", "Physiotherapy standard consultation", 9_500, False),
    ("10962", "Physiotherapy long consultation", 14_000, False),
    ("10968", "Psychology session 50 minutes", 22_000, False),
    ("10969", "Psychology session 30 minutes", 15_000, False),
    ("10970", "Exercise physiology session", 8_500, False),
    ("10971", "Dietetics consultation", 10_500, False),
    ("10972", "Podiatry consultation", 8_800, False),
    ("10973", "Occupational therapy session", 16_500, False),
    ("10974", "Speech pathology session", 17_500, False),
    ("23", "GP consultation level B", 7_950, False),
    ("36", "GP consultation level C", 15_400, False),
    ("44", "GP consultation level D", 22_700, False),
    ("104", "Specialist initial attendance", 32_000, False),
    ("105", "Specialist subsequent attendance", 16_000, False),
    ("110", "Consultant physician initial", 38_500, False),
    ("116", "Consultant physician subsequent", 19_200, False),
    ("GRP1", "Group class", 3_500, False),
    ("HYD1", "Hydrotherapy class", 4_000, False),
    ("TELE1", "Telehealth review", 7_000, False),
    ("RPT1", "Medico-legal report", 66_000, True),
    ("RPT2", "Insurance report", 33_000, True),
    ("GYM1", "Supervised gym session", 2_750, True),
    ("MAS1", "Remedial massage", 9_900, True),
)
PATIENT_METHODS = (
    (PaymentMethod.EFTPOS, 50),
    (PaymentMethod.CREDIT_CARD, 20),
    (PaymentMethod.HICAPS, 15),
    (PaymentMethod.CASH, 10),
    (PaymentMethod.DIRECT_DEPOSIT, 5),
)
_GIVEN_NAMES_TEXT = (
    "Ava Olivia Mia Isla Grace Chloe Zoe Ruby Ella Amelia Harper Sophie Lily Evie Willow "
    "Matilda Charlotte Emily Hannah Sienna Aria Luna Ivy Georgia Layla Jack Noah Oliver "
    "William Leo Henry Thomas Lucas James Charlie Max Hudson Archie Ethan Liam Harrison "
    "Oscar Samuel Isaac Jacob Cooper Riley Mason Theo Arlo Wei Priya Arjun Mohammed "
    "Fatima Nguyen Anh Kenji Yuki Sione Aroha Tane Mei Ravi Sofia Mateo Elena Luca Giulia"
)
GIVEN_NAMES = tuple(_GIVEN_NAMES_TEXT.split())
_FAMILY_NAMES_TEXT = (
    "Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson Thompson "
    "Nguyen Thomas Walker Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts "
    "Green Hall Wood Jackson Clarke Patel Khan Singh Chen Wang Li Zhang Tran Pham Kaur "
    "Murphy O'Brien Campbell Stewart Mitchell Young Scott Hughes Edwards Hill Moore Baker "
    "Cooper Ward Morris Turner Russo Romano Papadopoulos Nikolaidis Kowalski Novak Silva "
    "Santos Fernandes Tanaka Sato Kim Park Ali Hassan Ahmed Ibrahim Mahmoud Tupou Ngata"
)
FAMILY_NAMES = tuple(_FAMILY_NAMES_TEXT.split())

# Columns as the schema (migration 0001) has them, in the order rows are built.
COLUMNS: dict[str, tuple[str, ...]] = {
    "practice": ("id", "name", "abn", "gst_registered", "timezone", "currency"),
    "locations": ("id", "code", "name"),
    "providers": ("id", "code", "name", "company_name", "company_abn", "company_gst_registered"),
    "patients": ("id", "code", "name"),
    "payers": ("id", "code", "name", "kind"),
    "items": ("id", "code", "description", "fee_cents", "taxable"),
    "invoices": (
        "id",
        "number",
        "patient_id",
        "payer_id",
        "location_id",
        "invoice_date",
        "recorded_at",
        "opening",
    ),
    "lines": (
        "id",
        "invoice_id",
        "kind",
        "item_id",
        "product_id",
        "provider_id",
        "service_date",
        "fee_cents",
        "gst_cents",
        "inpatient",
        "client_billable",
        "insurance_status",
        "deleted_at",
    ),
    "payments": (
        "id",
        "patient_id",
        "payer_id",
        "location_id",
        "method",
        "amount_cents",
        "received_date",
        "reference",
        "processor_fee_cents",
        "note",
        "recorded_at",
        "opening",
        "reversed_at",
    ),
    "entries": (
        "id",
        "recorded_at",
        "effective_date",
        "actor",
        "kind",
        "reason",
        "note",
        "reverses",
        "hash",
    ),
    "postings": (
        "id",
        "entry_id",
        "account",
        "amount_cents",
        "effective_date",
        "recorded_at",
        "entry_kind",
        "patient_id",
        "payer_id",
        "provider_id",
        "location_id",
        "invoice_id",
        "line_id",
        "payment_id",
        "reason",
    ),
    "audit_log": (
        "id",
        "recorded_at",
        "actor",
        "action",
        "subject",
        "detail",
        "prev_hash",
        "hash",
        "entries",
    ),
}
# Parents before children, so every flush satisfies the foreign keys.
LOAD_ORDER = (
    "practice",
    "locations",
    "providers",
    "patients",
    "payers",
    "items",
    "invoices",
    "lines",
    "payments",
    "entries",
    "postings",
    "audit_log",
)
ID_TABLES = tuple(name for name in LOAD_ORDER if name != "practice")

Row = tuple[Any, ...]
# an audit record's detail as UnitOfWork.audit writes it, the encoder made once
_AUDIT_DETAIL = json.JSONEncoder(sort_keys=True, default=str).encode
EPOCH = dt.datetime(1970, 1, 1)


class Sink(Protocol):
    """Where rows go: one implementation per backend."""

    def write(self, table: str, rows: Sequence[Row]) -> None: ...

    def commit(self) -> None: ...

    def finish(
        self, last_recorded_at: dt.datetime, last_invoice_number: int, head: Head
    ) -> None: ...

    def close(self) -> None: ...


class SqliteSink:
    """``executemany`` into the SQLite file, one transaction per flush.

    The load connection keeps the tables' own keys (primary and unique) and every
    trigger; the secondary indexes (``CREATE INDEX``) are dropped before the load and made
    again, with the very statements of the schema, once every row is in (:meth:`finish`):
    building an index from its sorted rows once is much cheaper than keeping seven
    indexes of postings in order through six million inserts. Foreign keys are checked
    once, over every row, after the load (``PRAGMA foreign_key_check``; a row pointing
    nowhere fails the load), rather than up to eight look-ups per posting as it goes.
    Only the load's own durability is relaxed (``synchronous = OFF``) and its page cache
    enlarged, as any bulk import would do. The application's engine settings are
    untouched, and the file it leaves has the schema's every index.
    """

    def __init__(self, path: Path, *, cache_mib: int = 512, defer_indexes: bool = True) -> None:
        # check_same_thread off: a BackgroundSink writes from a thread of its own (one at a time)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (
            # checked once, after the load (finish), rather than for every row
            "PRAGMA foreign_keys = OFF",
            # a new file nobody else opens: no journal while it is loaded (a WAL would
            # take every page once more, and again at each checkpoint); WAL after (close)
            "PRAGMA locking_mode = EXCLUSIVE",
            "PRAGMA journal_mode = OFF",
            "PRAGMA synchronous = OFF",
            f"PRAGMA cache_size = -{cache_mib * 1024}",
            "PRAGMA temp_store = MEMORY",
            "PRAGMA threads = 2",  # CREATE INDEX may sort with a helper thread (2 cores)
        ):
            self.conn.execute(pragma)
        self.deferred: list[tuple[str, str]] = []  # (name, CREATE INDEX statement)
        self.index_seconds = 0.0
        self.foreign_key_seconds = 0.0
        if defer_indexes:
            self.deferred = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " ORDER BY name"
            ).fetchall()
            for name, _ in self.deferred:
                self.conn.execute(f'DROP INDEX "{name}"')
        self.conn.execute("BEGIN IMMEDIATE")

    def write(self, table: str, rows: Sequence[Row]) -> None:
        columns = COLUMNS[table]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        self.conn.executemany(sql, rows)

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN IMMEDIATE")

    def finish(self, last_recorded_at: dt.datetime, last_invoice_number: int, head: Head) -> None:
        self.conn.execute(
            "UPDATE ledger_clock SET last_recorded_at = ?, last_invoice_number = ?, "
            "entries_count = ?, entries_hash = ?, audit_count = ?, audit_hash = ? WHERE id = 1",
            (
                sqlite_instant(last_recorded_at),
                last_invoice_number,
                head.entries,
                head.entries_hash,
                head.audit_records,
                head.audit_hash,
            ),
        )
        started = time.perf_counter()
        for _, statement in self.deferred:
            self.conn.execute(statement)
        self.index_seconds = time.perf_counter() - started
        started = time.perf_counter()
        broken = self.conn.execute("PRAGMA foreign_key_check").fetchmany(5)
        self.foreign_key_seconds = time.perf_counter() - started
        if broken:  # a bug of the generator: nothing it loaded may point nowhere
            self.conn.execute("ROLLBACK")
            raise AssertionError(f"rows whose foreign keys point nowhere: {broken}")
        self.conn.execute("COMMIT")

    def close(self) -> None:
        # as the application keeps it (its engine asks for WAL on every connection anyway)
        self.conn.execute("PRAGMA locking_mode = NORMAL")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.close()


class PostgresSink:
    """``COPY ... FROM STDIN`` per table per flush, one transaction per flush; foreign keys,
    indexes and triggers all stay in place."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=False)
        self.conn.execute("SET synchronous_commit = off")

    def write(self, table: str, rows: Sequence[Row]) -> None:
        columns = ", ".join(COLUMNS[table])
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.conn.commit()

    def finish(self, last_recorded_at: dt.datetime, last_invoice_number: int, head: Head) -> None:
        self.conn.execute(
            "UPDATE ledger_clock SET last_recorded_at = %s, last_invoice_number = %s, "
            "entries_count = %s, entries_hash = %s, audit_count = %s, audit_hash = %s "
            "WHERE id = 1",
            (
                last_recorded_at,
                last_invoice_number,
                head.entries,
                head.entries_hash,
                head.audit_records,
                head.audit_hash,
            ),
        )
        for table in ID_TABLES:  # the services' inserts must continue after our ids
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class BackgroundSink:
    """Another sink's writes, made by a thread of its own: the database works on one flush
    (``sqlite3`` and psycopg let go of the interpreter while the database runs) while the
    generator makes the next, so that a load takes about the longer of the two, not their
    sum, on a machine with two cores. At most one flush waits to be written (memory stays
    bounded); a write that fails is raised by the next call. Seconds per table are the
    writer's own."""

    def __init__(self, inner: Sink) -> None:
        self.inner = inner
        self.seconds: dict[str, float] = dict.fromkeys(LOAD_ORDER, 0.0)
        self.commit_seconds = 0.0
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue(
            maxsize=len(LOAD_ORDER) + 1
        )
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bench-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (task := self._work.get()) is not None:
            if self._failed is None:
                try:
                    task()
                except BaseException as exc:  # raised again in the generator's thread
                    self._failed = exc

    def _put(self, task: Callable[[], None]) -> None:
        if self._failed is not None:
            raise self._failed
        self._work.put(task)

    def _drain(self) -> None:
        self._work.put(None)
        self._thread.join()
        if self._failed is not None:
            raise self._failed

    def write(self, table: str, rows: Sequence[Row]) -> None:
        def task() -> None:
            started = time.perf_counter()
            self.inner.write(table, rows)
            self.seconds[table] += time.perf_counter() - started

        self._put(task)

    def commit(self) -> None:
        def task() -> None:
            started = time.perf_counter()
            self.inner.commit()
            self.commit_seconds += time.perf_counter() - started

        self._put(task)

    def finish(self, last_recorded_at: dt.datetime, last_invoice_number: int, head: Head) -> None:
        self._drain()
        self.inner.finish(last_recorded_at, last_invoice_number, head)

    def close(self) -> None:
        if self._thread.is_alive():
            self._drain()
        self.inner.close()


class ProcessSink:
    """A :class:`SqliteSink` made and run by a process of its own, given each flush through
    a queue (at most two flushes wait, so memory stays bounded), as :class:`BackgroundSink`
    runs one in a thread. Seconds per table are the writer's own.

    Why a process: ``sqlite3`` takes the interpreter back after each row it writes, and a
    generating thread holding it made the writer thread wait for it row by row; the two
    threads took turns on one core (scale 1: 249 s wall for 249 s CPU on two cores)."""

    def __init__(self, path: Path, **options: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._work: Any = context.Queue(maxsize=2 * len(LOAD_ORDER))
        self._done: Any = context.Queue()
        self._process = context.Process(
            target=_write_in_process,
            args=(self._work, self._done, path, options),
            name="bench-writer",
            daemon=True,
        )
        self._process.start()
        self.seconds: dict[str, float] = dict.fromkeys(LOAD_ORDER, 0.0)
        self.commit_seconds = 0.0
        self.index_seconds = 0.0
        self.foreign_key_seconds = 0.0
        self.deferred: list[tuple[str, str]] = []

    def _put(self, task: tuple[Any, ...]) -> None:
        while True:
            try:
                self._work.put(task, timeout=1)
                return
            except queue.Full:
                if not self._process.is_alive():
                    self._answer()  # raises what failed

    def _answer(self) -> dict[str, Any]:
        while True:
            try:
                kind, value = self._done.get(timeout=1)
            except queue.Empty:
                if not self._process.is_alive():
                    raise RuntimeError("the writer process ended without an answer") from None
                continue
            if kind == "failed":
                raise RuntimeError(f"the writer process failed: {value}")
            answer: dict[str, Any] = value
            return answer

    def write(self, table: str, rows: Sequence[Row]) -> None:
        self._put(("write", table, rows))

    def commit(self) -> None:
        self._put(("commit",))

    def finish(self, last_recorded_at: dt.datetime, last_invoice_number: int, head: Head) -> None:
        self._put(("finish", last_recorded_at, last_invoice_number, head))
        for name, value in self._answer().items():
            setattr(self, name, value)

    def close(self) -> None:
        if self._process.is_alive():
            self._put(("close",))
            self._answer()
        self._process.join()


def _write_in_process(work: Any, done: Any, path: Path, options: dict[str, Any]) -> None:
    """The writer process of :class:`ProcessSink`."""
    try:
        sink = SqliteSink(path, **options)
        seconds = dict.fromkeys(LOAD_ORDER, 0.0)
        commit_seconds = 0.0
        while True:
            task = work.get()
            started = time.perf_counter()
            if task[0] == "write":
                sink.write(task[1], task[2])
                seconds[task[1]] += time.perf_counter() - started
            elif task[0] == "commit":
                sink.commit()
                commit_seconds += time.perf_counter() - started
            elif task[0] == "finish":
                sink.finish(*task[1:])
                done.put(
                    (
                        "finished",
                        {
                            "seconds": seconds,
                            "commit_seconds": commit_seconds,
                            "index_seconds": sink.index_seconds,
                            "foreign_key_seconds": sink.foreign_key_seconds,
                            "deferred": sink.deferred,
                        },
                    )
                )
            else:
                sink.close()
                done.put(("closed", {}))
                return
    except BaseException as exc:  # told to the generating process, which raises it
        done.put(("failed", f"{type(exc).__name__}: {exc}"))
        raise


def sqlite_instant(value: dt.datetime) -> str:
    """A naive instant as SQLAlchemy's SQLite ``DateTime`` stores it."""
    return value.isoformat(" ", "microseconds")


@dataclass(frozen=True, slots=True)
class Plan:
    """How many of everything, for one scale."""

    scale: float
    patients: int
    episodes: dict[str, int]
    payer_batches: int

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        if not 0 < scale <= 1.0:
            raise ValueError("scale must be in (0, 1]")
        return cls(
            scale=scale,
            patients=max(200, round(PATIENTS_AT_SCALE_1 * scale)),
            episodes={k: round(v * scale) for k, v in EPISODES_AT_SCALE_1.items()},
            payer_batches=max(1, round(PAYER_BATCHES_AT_SCALE_1 * scale)),
        )

    @property
    def lines(self) -> int:
        e = self.episodes
        patient_lines = e["desk"] + 2 * e["two_lines"] + e["instalments"] + e["unpaid"]
        return patient_lines + PAYER_BATCH_LINES * self.payer_batches

    @property
    def payments(self) -> int:
        e = self.episodes
        return e["desk"] + e["two_lines"] + 2 * e["instalments"] + e["prepay"] + self.payer_batches

    @property
    def allocations(self) -> int:
        e = self.episodes
        return (
            e["desk"]
            + 2 * e["two_lines"]
            + 2 * e["instalments"]
            + PAYER_BATCH_LINES * self.payer_batches
        )


@dataclass
class LoadStats:
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOAD_ORDER, 0))
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LOAD_ORDER, 0.0))
    flushes: int = 0
    commit_seconds: float = 0.0
    finish_seconds: float = 0.0
    wall_seconds: float = 0.0
    allocations: int = 0
    last_recorded_at: dt.datetime | None = None

    @property
    def db_seconds(self) -> float:
        return sum(self.seconds.values()) + self.commit_seconds + self.finish_seconds


# --- the generator ------------------------------------------------------------------------

# A unit is one thing happening on a day: ("episode", kind) for a new episode, or a
# follow-up scheduled by an earlier one: ("instalment", ...) or ("remittance", ...).
Unit = tuple[Any, ...]


class Generator:
    def __init__(self, plan: Plan, sink: Sink, *, batch_rows: int, seed: int = SEED) -> None:
        self.plan = plan
        self.sink = sink
        self.batch_rows = batch_rows
        self.rng = random.Random(seed)
        self.stats = LoadStats()
        self.buffers: dict[str, list[Row]] = {name: [] for name in LOAD_ORDER}
        self.next_id = dict.fromkeys(ID_TABLES, 1)
        self.prev_hash = GENESIS_HASH  # the audit chain's end
        self.entry_hash = GENESIS_HASH  # the journal's
        self.unaudited: list[tuple[int, str]] = []  # entries the next audit record names
        self.item_rows: list[tuple[int, int, bool]] = []  # (id, fee, taxable)
        self.provider_location: list[int] = []
        self.payer_ids: list[int] = []
        self.payer_weights: list[int] = []
        self.payer_methods: dict[int, PaymentMethod] = {}
        self.patient_count = plan.patients
        self.regulars = max(1, plan.patients // 20)
        self._due: dict[int, list[Unit]] = {}  # follow-ups by day index
        # the ledger clock of the day being generated
        self._stamp_us = 0
        self._step_us = 0
        self._stamp_dt: dt.datetime = EPOCH
        self._stamp_text = ""

    # -- the clock --

    def _start_day(self, day: dt.date, stamps: int) -> None:
        opening = dt.datetime(day.year, day.month, day.day, OPEN_HOUR, tzinfo=ZONE)
        start = opening.astimezone(dt.UTC).replace(tzinfo=None)
        self._stamp_us = (start - EPOCH) // dt.timedelta(microseconds=1)
        self._step_us = max(1, BUSINESS_SECONDS * 1_000_000 // max(1, stamps))

    def _begin(self) -> str:
        """A new unit of work: the next ``recorded_at`` (strictly increasing from one unit
        of work to the next, shared by all its entries and audit records, as
        ``UnitOfWork.stamp``); returned as stored."""
        self._stamp_us += self._step_us
        value = EPOCH + dt.timedelta(microseconds=self._stamp_us)
        self._stamp_dt = value
        self._stamp_text = sqlite_instant(value)
        return self._stamp_text

    # -- rows --

    def _take_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _audit(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        """As ``UnitOfWork.audit``: the unit of work's stamp, chained to the previous record."""
        recorded_at, text = self._stamp_dt, self._stamp_text
        body = _AUDIT_DETAIL(detail)  # json.dumps(detail, sort_keys=True, default=str)
        entries = entries_text(self.unaudited)
        digest = audit_hash(self.prev_hash, recorded_at, ACTOR, action, subject, body, entries)
        self.buffers["audit_log"].append(
            (
                self._take_id("audit_log"),
                text,
                ACTOR,
                action,
                subject,
                body,
                self.prev_hash,
                digest,
                entries,
            )
        )
        self.unaudited = []
        self.prev_hash = digest

    def _append(self, entry: Entry) -> int:
        """As ``UnitOfWork.append``: the entry and its postings, under the unit of work's
        stamp."""
        text = self._stamp_text
        entry_id = self._take_id("entries")
        effective = entry.effective_date.isoformat()
        kind = entry.kind.value
        self.entry_hash = entry_hash(
            self.entry_hash,
            entry_id=entry_id,
            recorded_at=self._stamp_dt,
            effective_date=entry.effective_date,
            actor=ACTOR,
            kind=kind,
            reason=None,
            note=None,
            reverses=None,
            postings=(p.facts() for p in entry.postings),
        )
        self.unaudited.append((entry_id, self.entry_hash))
        self.buffers["entries"].append(
            (entry_id, text, effective, ACTOR, kind, None, None, None, self.entry_hash)
        )
        postings = self.buffers["postings"]
        next_posting = self.next_id["postings"]
        for p in entry.postings:
            postings.append(
                (
                    next_posting,
                    entry_id,
                    p.account.value,
                    p.amount_cents,
                    effective,
                    text,
                    kind,
                    p.patient_id,
                    p.payer_id,
                    p.provider_id,
                    p.location_id,
                    p.invoice_id,
                    p.line_id,
                    p.payment_id,
                    p.reason,
                )
            )
            next_posting += 1
        self.next_id["postings"] = next_posting
        return entry_id

    def _flush(self) -> None:
        for table in LOAD_ORDER:
            rows = self.buffers[table]
            if not rows:
                continue
            started = time.perf_counter()
            self.sink.write(table, rows)
            self.stats.seconds[table] += time.perf_counter() - started
            self.stats.rows[table] += len(rows)
            self.buffers[table] = []  # the sink may still be writing the list it was given
        started = time.perf_counter()
        self.sink.commit()
        self.stats.commit_seconds += time.perf_counter() - started
        self.stats.flushes += 1

    # -- the services' use cases, as rows --

    def _create_invoice(
        self,
        *,
        patient_id: int,
        payer_id: int | None,
        location_id: int,
        day: dt.date,
        lines: Sequence[tuple[int, int, int, bool]],  # provider, item, fee, taxable
    ) -> list[LineRef]:
        """``invoicing.create_invoice``: invoice, lines, a charge entry per line, audit."""
        now_text = self._begin()
        invoice_id = self._take_id("invoices")
        self.buffers["invoices"].append(
            (
                invoice_id,
                invoice_id,
                patient_id,
                payer_id,
                location_id,
                day.isoformat(),
                now_text,
                False,
            )
        )
        refs: list[LineRef] = []
        for provider_id, item_id, fee_cents, taxable in lines:
            line_id = self._take_id("lines")
            gst_cents = gst_included_cents(fee_cents) if taxable else 0
            self.buffers["lines"].append(
                (
                    line_id,
                    invoice_id,
                    LineKind.SERVICE.value,
                    item_id,
                    None,
                    provider_id,
                    day.isoformat(),
                    fee_cents,
                    gst_cents,
                    False,
                    True,
                    "closed",
                    None,
                )
            )
            ref = LineRef(
                line_id=line_id,
                invoice_id=invoice_id,
                patient_id=patient_id,
                provider_id=provider_id,
                location_id=location_id,
                payer_id=payer_id,
            )
            self._append(
                Entry(
                    kind=EntryKind.CHARGE,
                    effective_date=day,
                    postings=charge_postings(
                        ref, fee_cents=fee_cents, taxable=taxable, gst_registered=True
                    ),
                )
            )
            refs.append(ref)
        self._audit(
            "invoice.create",
            format_id("invoice", invoice_id),
            {"lines": [r.line_id for r in refs]},
        )
        return refs

    def _record_payment(
        self,
        *,
        patient_id: int | None,
        payer_id: int | None,
        location_id: int,
        method: PaymentMethod,
        amount_cents: int,
        day: dt.date,
        reference: str | None = None,
    ) -> PaymentRef:
        """``payments.record_payment``: payment row, receipt entry, audit."""
        now_text = self._begin()
        payment_id = self._take_id("payments")
        self.buffers["payments"].append(
            (
                payment_id,
                patient_id,
                payer_id,
                location_id,
                method.value,
                amount_cents,
                day.isoformat(),
                reference,
                None,
                None,
                now_text,
                False,
                None,
            )
        )
        ref = PaymentRef(
            payment_id=payment_id, patient_id=patient_id, payer_id=payer_id, location_id=location_id
        )
        self._append(
            Entry(
                kind=EntryKind.PAYMENT,
                effective_date=day,
                postings=receipt_postings(ref, amount_cents),
            )
        )
        self._audit(
            "payment.record",
            format_id("payment", payment_id),
            {"amount_cents": amount_cents, "method": method.value},
        )
        return ref

    def _allocate(
        self, payment: PaymentRef, targets: Sequence[tuple[LineRef, int]], day: dt.date
    ) -> None:
        """``payments.allocate``: one unit of work; an allocation entry and an audit record
        per target, dated on the business day (every stamp of ``day`` is within its opening
        hours)."""
        self._begin()
        for line, amount_cents in targets:
            # the allocation posts to the portion of the paying party, as the service does
            portion = LineRef(
                line_id=line.line_id,
                invoice_id=line.invoice_id,
                patient_id=line.patient_id,
                provider_id=line.provider_id,
                location_id=line.location_id,
                payer_id=payment.payer_id,
            )
            entry_id = self._append(
                Entry(
                    kind=EntryKind.ALLOCATION,
                    effective_date=day,
                    postings=allocation_postings(payment, portion, amount_cents),
                )
            )
            self.stats.allocations += 1
            self._audit(
                "payment.allocation",
                format_id("allocation", entry_id),
                {"payment": payment.payment_id, "line": line.line_id, "amount_cents": amount_cents},
            )

    # -- master data --

    def _masters(self) -> None:
        rng = self.rng
        units = 1 + len(LOCATIONS) + PROVIDERS + self.patient_count + len(PAYERS) + len(ITEMS)
        self._start_day(FIRST_DAY - dt.timedelta(days=1), units)
        self._begin()
        self.buffers["practice"].append((1, PRACTICE_NAME, None, True, "Australia/Sydney", "AUD"))
        self._audit("practice.create", "practice", {"name": PRACTICE_NAME})

        def master(kind: str, table: str, row: Row) -> int:
            self._begin()
            new_id = self._take_id(table)
            self.buffers[table].append((new_id, *row))
            self._audit(f"{kind}.create", f"{kind}:{row[0]}", {"id": new_id})
            return new_id

        location_ids = [master("location", "locations", loc) for loc in LOCATIONS]
        for n in range(1, PROVIDERS + 1):
            name = f"Dr {rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
            master("provider", "providers", (f"PR{n:02d}", name, None, None, False))
            self.provider_location.append(location_ids[(n - 1) % len(location_ids)])
        for n in range(1, self.patient_count + 1):
            name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
            master("patient", "patients", (f"P{n:06d}", name))
        for code, name, kind, weight, method in PAYERS:
            payer_id = master("payer", "payers", (code, name, kind.value))
            self.payer_ids.append(payer_id)
            self.payer_weights.append(weight)
            self.payer_methods[payer_id] = method
        for code, description, fee, taxable in ITEMS:
            item_id = master("item", "items", (code, description, fee, taxable))
            self.item_rows.append((item_id, fee, taxable))
        self._flush()

    # -- episodes --

    def _patient(self) -> int:
        rng = self.rng
        if rng.random() < 0.2:
            return rng.randrange(self.regulars) + 1
        return rng.randrange(self.patient_count) + 1

    def _service(self) -> tuple[int, int, int, bool]:
        """(provider, item, fee, taxable) of one service line."""
        rng = self.rng
        provider = rng.randrange(PROVIDERS) + 1
        item_id, fee, taxable = self.item_rows[rng.randrange(len(self.item_rows))]
        return provider, item_id, fee, taxable

    def _patient_method(self) -> PaymentMethod:
        methods = [m for m, _ in PATIENT_METHODS]
        weights = [w for _, w in PATIENT_METHODS]
        return self.rng.choices(methods, weights)[0]

    def _later(self, day_index: int, unit: Unit) -> None:
        """Schedule a follow-up; one falling after the last day happens on the last day."""
        self._due.setdefault(min(day_index, DAYS - 1), []).append(unit)

    @staticmethod
    def stamps_of(unit: Unit) -> int:
        """How many clock stamps (units of work) a unit of the day takes."""
        kind = unit[0]
        if kind == "episode":
            return {"desk": 3, "two_lines": 3, "instalments": 3, "prepay": 1, "unpaid": 1}[unit[1]]
        if kind == "payer_batch":
            return int(unit[1])  # an invoice each
        if kind in ("instalment", "remittance"):
            return 2  # record the payment, allocate it
        raise ValueError(kind)

    @staticmethod
    def followup_stamps(unit: Unit) -> int:
        """Stamps of the follow-up a unit schedules (an instalment, a remittance)."""
        if unit[0] == "episode" and unit[1] == "instalments":
            return 2
        if unit[0] == "payer_batch":
            return 2
        return 0

    def _run_unit(self, unit: Unit, day: dt.date, day_index: int) -> None:
        rng = self.rng
        kind = unit[0]
        if kind == "episode":
            self._episode(unit[1], day, day_index)
        elif kind == "payer_batch":
            payer_id = rng.choices(self.payer_ids, self.payer_weights)[0]
            provider = rng.randrange(PROVIDERS) + 1
            location = self.provider_location[provider - 1]
            owed: list[tuple[LineRef, int]] = []
            for _ in range(unit[1]):
                _, item_id, fee, taxable = self._service()
                (ref,) = self._create_invoice(
                    patient_id=self._patient(),
                    payer_id=payer_id,
                    location_id=location,
                    day=day,
                    lines=[(provider, item_id, fee, taxable)],
                )
                # most claims are paid in full; one in ten at a reduced benefit
                paid = fee if rng.random() < 0.9 else max(1, fee * 3 // 4)
                owed.append((ref, paid))
            self._later(day_index + rng.randint(10, 35), ("remittance", payer_id, owed, location))
        elif kind == "instalment":
            _, ref, amount, method = unit
            payment = self._record_payment(
                patient_id=ref.patient_id,
                payer_id=None,
                location_id=ref.location_id,
                method=method,
                amount_cents=amount,
                day=day,
            )
            self._allocate(payment, [(ref, amount)], day)
        elif kind == "remittance":
            _, payer_id, owed, location = unit
            payment = self._record_payment(
                patient_id=None,
                payer_id=payer_id,
                location_id=location,
                method=self.payer_methods[payer_id],
                amount_cents=sum(amount for _, amount in owed),
                day=day,
                reference=f"EFT{rng.randrange(10**9):09d}",
            )
            self._allocate(payment, owed, day)
        else:
            raise ValueError(kind)

    def _episode(self, kind: str, day: dt.date, day_index: int) -> None:
        rng = self.rng
        patient = self._patient()
        if kind == "prepay":
            location = self.provider_location[rng.randrange(PROVIDERS)]
            self._record_payment(
                patient_id=patient,
                payer_id=None,
                location_id=location,
                method=self._patient_method(),
                amount_cents=rng.randrange(20, 200) * 100,
                day=day,
            )
            return
        count = 2 if kind == "two_lines" else 1
        services = [self._service() for _ in range(count)]
        location = self.provider_location[services[0][0] - 1]
        refs = self._create_invoice(
            patient_id=patient, payer_id=None, location_id=location, day=day, lines=services
        )
        fees = [s[2] for s in services]
        method = self._patient_method()
        if kind == "unpaid":
            return
        if kind == "instalments":
            first = fees[0] // 2
            payment = self._record_payment(
                patient_id=patient,
                payer_id=None,
                location_id=location,
                method=method,
                amount_cents=first,
                day=day,
            )
            self._allocate(payment, [(refs[0], first)], day)
            self._later(
                day_index + rng.randint(7, 42), ("instalment", refs[0], fees[0] - first, method)
            )
            return
        # at the desk: most pay the fee, some round up (credit), some pay part
        total = sum(fees)
        roll = rng.random()
        if roll < 0.80:
            amount = total
        elif roll < 0.85:
            amount = total + rng.randrange(1, 2000)
        else:
            amount = total - rng.randrange(1, fees[-1] // 2 + 1)
        payment = self._record_payment(
            patient_id=patient,
            payer_id=None,
            location_id=location,
            method=method,
            amount_cents=amount,
            day=day,
        )
        targets: list[tuple[LineRef, int]] = []
        left = amount
        for ref, fee in zip(refs, fees, strict=True):
            take = min(left, fee)
            targets.append((ref, take))
            left -= take
        self._allocate(payment, targets, day)

    # -- the whole run --

    def run(self, progress: Callable[[str], None] | None = None) -> LoadStats:
        started = time.perf_counter()
        rng = self.rng
        self._masters()
        plan = self.plan
        episodes = bytearray()
        kinds = list(plan.episodes)
        for code, kind in enumerate(kinds):
            episodes.extend(bytes([code]) * plan.episodes[kind])
        units: list[int] = list(episodes) + [255] * plan.payer_batches
        rng.shuffle(units)
        total = len(units)
        for day_index in range(DAYS):
            day = FIRST_DAY + dt.timedelta(days=day_index)
            todays: list[Unit] = self._due.pop(day_index, [])
            for code in units[day_index * total // DAYS : (day_index + 1) * total // DAYS]:
                if code == 255:
                    todays.append(("payer_batch", PAYER_BATCH_LINES))
                else:
                    todays.append(("episode", kinds[code]))
            rng.shuffle(todays)
            stamps = sum(self.stamps_of(u) for u in todays)
            if day_index == DAYS - 1:  # follow-ups of the last day's episodes run today too
                stamps += sum(self.followup_stamps(u) for u in todays)
            self._start_day(day, stamps)
            for unit in todays:
                self._run_unit(unit, day, day_index)
            for unit in self._due.pop(day_index, []):  # follow-ups clamped to today
                self._run_unit(unit, day, day_index)
            if len(self.buffers["postings"]) >= self.batch_rows:
                self._flush()
                if progress is not None and self.stats.flushes % 20 == 0:
                    progress(f"{day.isoformat()}: {self.stats.rows['postings']:,} postings")
        if self._due:
            raise AssertionError(f"follow-ups left unscheduled: {sorted(self._due)}")
        self._flush()
        started_finish = time.perf_counter()
        head = Head(
            entries=self.next_id["entries"] - 1,
            audit_records=self.next_id["audit_log"] - 1,
            entries_hash=self.entry_hash,
            audit_hash=self.prev_hash,
        )
        self.sink.finish(self._stamp_dt, self.next_id["invoices"] - 1, head)
        self.stats.finish_seconds = time.perf_counter() - started_finish
        if isinstance(self.sink, BackgroundSink | ProcessSink):  # the database's own time
            self.stats.seconds = dict(self.sink.seconds)
            self.stats.commit_seconds = self.sink.commit_seconds
        self.stats.last_recorded_at = self._stamp_dt
        self.stats.wall_seconds = time.perf_counter() - started
        return self.stats


def generate(
    plan: Plan,
    sink: Sink,
    *,
    batch_rows: int = 100_000,
    progress: Callable[[str], None] | None = None,
    background: bool = True,
) -> LoadStats:
    """Generate the practice into ``sink``; with ``background``, the rows of one flush
    are written by a thread of their own while the next flush is generated."""
    writer: Sink = BackgroundSink(sink) if background else sink
    return Generator(plan, writer, batch_rows=batch_rows).run(progress)


def check_plan_totals(plan: Plan, stats: LoadStats) -> list[str]:
    """Differences between what the plan promised and what was loaded (empty: none)."""
    wanted = {
        "lines": plan.lines,
        "payments": plan.payments,
        "patients": plan.patients,
        "providers": PROVIDERS,
    }
    problems = [
        f"{table}: planned {count:,}, loaded {stats.rows[table]:,}"
        for table, count in wanted.items()
        if stats.rows[table] != count
    ]
    if stats.allocations != plan.allocations:
        problems.append(f"allocations: planned {plan.allocations:,}, made {stats.allocations:,}")
    return problems


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main(argv: list[str] | None = None) -> int:
    """``python bench/generate.py --scale 1 --sqlite PATH``: load the practice into a new
    SQLite ledger in a process of its own (the schema by ``store.schema.upgrade``), and
    say how long it took."""
    import argparse

    from clinicledger.store import schema
    from clinicledger.store.engine import make_engine

    parser = argparse.ArgumentParser(description="Load the bench practice into SQLite.")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sqlite", type=Path, required=True, help="the file (replaced)")
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--keep-indexes", action="store_true", help="load with every index")
    parser.add_argument(
        "--cache-mib", type=int, default=2048, help="the load connection's page cache (MiB)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    started, cpu = time.perf_counter(), time.process_time()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
    engine = make_engine(str(args.sqlite))
    schema.upgrade(engine)
    engine.dispose()
    plan = Plan.for_scale(args.scale)
    sink = ProcessSink(args.sqlite, cache_mib=args.cache_mib, defer_indexes=not args.keep_indexes)
    try:
        stats = generate(plan, sink, batch_rows=args.batch_rows, progress=print, background=False)
    finally:
        sink.close()
    wall = time.perf_counter() - started
    problems = check_plan_totals(plan, stats)
    rows = sum(stats.rows.values())
    figures = {
        "scale": args.scale,
        "lines": plan.lines,
        "rows": rows,
        "wall_s": wall,
        "cpu_s": time.process_time() - cpu + _children_cpu_s(),  # with the writer's
        "cache_mib": args.cache_mib,
        "generate_and_write_s": stats.wall_seconds,
        "db_s": stats.db_seconds,
        "index_s": sink.index_seconds,
        "deferred_indexes": len(sink.deferred),
        "problems": problems,
    }
    print(
        f"scale {args.scale}: {plan.lines:,} lines, {rows:,} rows in {wall:.1f} s "
        f"({rows / wall:,.0f} rows/s; database {stats.db_seconds:.1f} s, of which "
        f"{len(sink.deferred)} indexes made after the load {sink.index_seconds:.1f} s)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
