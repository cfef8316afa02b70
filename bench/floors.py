"""Floors: the same work as the application's hot paths, done by hand-written ``sqlite3``
on the same file (or ``psycopg`` on the same PostgreSQL database: :func:`connect_pg`), so
that each of the application's figures stands beside the best that the database can do on
this machine in the same run (issue 9).

A floor runs the same statements as the application (read under the write lock, the same
checks, the same rows written, the entries and audit records hash-chained with the same
functions) and nothing else: no SQLAlchemy, no command values, no idempotency wrapper.
The journal it leaves is as sound as the application's (``check`` finds nothing), so the
floor and the application can take turns on one file.

Unchained (``chained=False``, PostgreSQL only): the same statements without the ledger's
one lock, the clock row neither locked nor kept, so that nothing serialises the clerks:
what this machine allows writers at all. It leaves a broken chain, so bench/writers.py runs
it only on a scratch database of its own (``ceiling``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from clinicledger.domain.chain import audit_hash, entries_text, entry_hash
from clinicledger.domain.ids import format_id

ACTOR = "bench-floor"


def sqlite_instant(value: dt.datetime) -> str:
    """A naive UTC instant as SQLAlchemy keeps a DateTime on SQLite."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def read_instant(value: str | dt.datetime | None) -> dt.datetime | None:
    """An instant read back: SQLite gives its text, PostgreSQL a datetime."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def connect(path: str) -> sqlite3.Connection:
    """A connection set up as the application's (store/engine.py)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in (
        "busy_timeout = 30000",
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
        "recursive_triggers = ON",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class PgConnection:
    """A psycopg connection that takes the floor's statements as they are written for
    ``sqlite3``: ``?`` parameters, BEGIN and COMMIT said by hand (autocommit otherwise)."""

    postgresql = True

    def __init__(self, url: str) -> None:
        import psycopg

        self._conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        self._conn.autocommit = True

    def execute(self, sql: str, params: tuple = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)

    def close(self) -> None:
        self._conn.close()


def connect_pg(url: str) -> PgConnection:
    """A connection to the PostgreSQL ledger at ``url``, set up as the application's."""
    conn = PgConnection(url)
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED")
    return conn


def _postgresql(conn: Any) -> bool:
    return getattr(conn, "postgresql", False)


@dataclass
class _Work:
    """One transaction's clock: as ``UnitOfWork`` keeps it."""

    conn: Any
    stamp: dt.datetime
    zone: ZoneInfo
    closed_through: str | None
    entries_count: int
    entries_hash: str
    audit_count: int
    audit_hash: str
    next_id: int | None = None
    unaudited: list[tuple[int, str]] | None = None
    chained: bool = True

    @classmethod
    def begin(cls, conn: Any, now: dt.datetime, *, chained: bool = True) -> _Work:
        pg = _postgresql(conn)
        if not (pg or chained):
            raise ValueError("an unchained floor is for PostgreSQL (SQLite has one writer)")
        conn.execute("BEGIN" if pg else "BEGIN IMMEDIATE")
        row = conn.execute(
            "SELECT c.last_recorded_at, c.entries_count, c.entries_hash, c.audit_count, "
            "c.audit_hash, p.name, p.abn, p.gst_registered, p.timezone, p.currency, "
            "p.closed_through FROM ledger_clock AS c LEFT OUTER JOIN practice AS p "
            "ON p.id = 1 WHERE c.id = 1" + (" FOR UPDATE OF c" if pg and chained else "")
        ).fetchone()
        last = read_instant(row[0])
        stamp = now if last is None or now > last else last + dt.timedelta(microseconds=1)
        return cls(
            conn=conn,
            stamp=stamp,
            zone=ZoneInfo(row[8]),
            closed_through=None if row[10] is None else str(row[10]),
            entries_count=row[1],
            entries_hash=row[2],
            audit_count=row[3],
            audit_hash=row[4],
            unaudited=[],
            chained=chained,
        )

    def append(self, kind: str, effective_date: dt.date, postings: list[tuple]) -> int:
        if _postgresql(self.conn):
            entry_id = self.conn.execute(
                "SELECT nextval(pg_get_serial_sequence('entries', 'id'))"
            ).fetchone()[0]
        else:
            if self.next_id is None:
                highest = self.conn.execute("SELECT max(entries.id) FROM entries").fetchone()[0]
                self.next_id = int(highest or 0) + 1
            entry_id = self.next_id
            self.next_id += 1
        digest = entry_hash(
            self.entries_hash,
            entry_id=entry_id,
            recorded_at=self.stamp,
            effective_date=effective_date,
            actor=ACTOR,
            kind=kind,
            reason=None,
            note=None,
            reverses=None,
            postings=postings,
        )
        stamp, day = sqlite_instant(self.stamp), effective_date.isoformat()
        self.conn.execute(
            "INSERT INTO entries (id, recorded_at, effective_date, actor, kind, reason, note, "
            "reverses, hash) VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?)",
            (entry_id, stamp, day, ACTOR, kind, digest),
        )
        self.conn.executemany(
            "INSERT INTO postings (entry_id, effective_date, recorded_at, entry_kind, account, "
            "amount_cents, patient_id, payer_id, provider_id, location_id, invoice_id, "
            "line_id, payment_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(entry_id, day, stamp, kind, *p) for p in postings],
        )
        self.entries_count += 1
        self.entries_hash = digest
        assert self.unaudited is not None
        self.unaudited.append((entry_id, digest))
        return entry_id

    def audit(self, action: str, subject: str, detail: dict[str, object]) -> None:
        body = json.dumps(detail, sort_keys=True, default=str)
        entries = entries_text(self.unaudited or [])
        digest = audit_hash(self.audit_hash, self.stamp, ACTOR, action, subject, body, entries)
        self.conn.execute(
            "INSERT INTO audit_log (recorded_at, actor, action, subject, detail, prev_hash, "
            "hash, entries) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sqlite_instant(self.stamp), ACTOR, action, subject, body, self.audit_hash, digest,
             entries),
        )  # fmt: skip
        self.audit_count += 1
        self.audit_hash = digest
        self.unaudited = []

    def commit(self) -> None:
        if not self.chained:
            self._commit_pg()
            return
        self.conn.execute(
            "UPDATE ledger_clock SET last_recorded_at=?, entries_count=?, entries_hash=?, "
            "audit_count=?, audit_hash=? WHERE ledger_clock.id = 1",
            (
                sqlite_instant(self.stamp),
                self.entries_count,
                self.entries_hash,
                self.audit_count,
                self.audit_hash,
            ),
        )
        if not _postgresql(self.conn):
            self.conn.execute("COMMIT")
            return
        self._commit_pg()

    def _commit_pg(self) -> None:
        # as the application commits on PostgreSQL (store/uow.py, _wait_for_disk): the lock
        # goes with the commit, and the wait for the disk comes after it
        self.conn.execute("SET LOCAL synchronous_commit = off")
        self.conn.execute("COMMIT")
        self.conn.execute("SELECT pg_logical_emit_message(true, 'clinicledger', 'on disk')")

    def today(self) -> dt.date:
        return self.stamp.replace(tzinfo=dt.UTC).astimezone(self.zone).date()


def record_payment(
    conn: Any,
    now: dt.datetime,
    *,
    party_code: str,
    amount_cents: int,
    received_date: dt.date,
    location_code: str,
    chained: bool = True,
) -> int:
    """``services.payments.record_payment`` for a patient's EFTPOS payment, by hand."""
    work = _Work.begin(conn, now, chained=chained)
    try:
        party = dict(
            conn.execute(
                "SELECT 'patient', id FROM patients WHERE code = ? "
                "UNION ALL SELECT 'payer', id FROM payers WHERE code = ?",
                (party_code, party_code),
            ).fetchall()
        )
        patient_id, payer_id = party.get("patient"), party.get("payer")
        location = conn.execute(
            "SELECT id, active FROM locations WHERE code = ?", (location_code,)
        ).fetchone()
        if (patient_id is None) == (payer_id is None) or location is None or not location[1]:
            raise ValueError("party or location")
        if work.closed_through is not None and received_date.isoformat() <= work.closed_through:
            raise ValueError("closed")
        payment_id = conn.execute(
            "INSERT INTO payments (patient_id, payer_id, location_id, method, amount_cents, "
            "received_date, reference, processor_fee_cents, note, recorded_at, opening) "
            "VALUES (?, ?, ?, 'eftpos', ?, ?, NULL, NULL, NULL, ?, FALSE) RETURNING id",
            (
                patient_id,
                payer_id,
                location[0],
                amount_cents,
                received_date.isoformat(),
                sqlite_instant(work.stamp),
            ),
        ).fetchone()[0]
        work.append(
            "payment",
            received_date,
            [
                ("UNBANKED", amount_cents, None, None, None, location[0], None, None,
                 payment_id, None),
                ("UNALLOCATED", -amount_cents, patient_id, payer_id, None, location[0], None,
                 None, payment_id, None),
            ],
        )  # fmt: skip
        work.audit(
            "payment.record",
            format_id("payment", payment_id),
            {"amount_cents": amount_cents, "method": "eftpos"},
        )
        work.commit()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(payment_id)


def allocate(
    conn: Any,
    now: dt.datetime,
    *,
    payment_id: int,
    line_id: int,
    amount_cents: int,
    chained: bool = True,
) -> int:
    """``services.payments.allocate`` of one amount to one line, by hand."""
    work = _Work.begin(conn, now, chained=chained)
    try:
        payment = conn.execute(
            "SELECT payments.id, payments.patient_id, payments.payer_id, payments.location_id, "
            "payments.method, payments.amount_cents, payments.received_date, "
            "payments.reference, payments.processor_fee_cents, payments.note, "
            "payments.recorded_at, payments.opening, payments.reversed_at, "
            "coalesce(patients.code, payers.code) AS party_code FROM payments "
            "LEFT OUTER JOIN patients ON patients.id = payments.patient_id "
            "LEFT OUTER JOIN payers ON payers.id = payments.payer_id WHERE payments.id = ?",
            (payment_id,),
        ).fetchone()
        line = conn.execute(
            "SELECT lines.id, lines.invoice_id, lines.kind, lines.item_id, lines.product_id, "
            "lines.provider_id, lines.service_date, lines.fee_cents, lines.gst_cents, "
            "lines.client_billable, lines.insurance_status, lines.inpatient, "
            "lines.deleted_at, invoices.patient_id, invoices.payer_id, invoices.location_id, "
            "invoices.invoice_date FROM lines JOIN invoices ON invoices.id = lines.invoice_id "
            "WHERE lines.id = ?",
            (line_id,),
        ).fetchone()
        today = work.today()
        if payment is None or line is None or payment[12] is not None or line[12] is not None:
            raise ValueError("payment or line")
        if line[13] != payment[1] or line[14] != payment[2]:
            raise ValueError("not this party's line")
        unallocated = -conn.execute(
            "SELECT coalesce(sum(postings.amount_cents), 0) FROM postings "
            "WHERE postings.payment_id = ? AND postings.account = ?",
            (payment_id, "UNALLOCATED"),
        ).fetchone()[0]
        owing = conn.execute(
            "SELECT coalesce(sum(postings.amount_cents), 0) FROM postings "
            "WHERE postings.line_id = ? AND postings.account = 'RECEIVABLE' "
            "AND postings.payer_id IS NULL",  # a patient's payment: the patient's own portion
            (line_id,),
        ).fetchone()[0]
        if amount_cents > unallocated or amount_cents > owing:
            raise ValueError("over-allocation")
        entry_id = work.append(
            "allocation",
            today,
            [
                ("UNALLOCATED", amount_cents, payment[1], payment[2], None, payment[3], None,
                 None, payment_id, None),
                ("RECEIVABLE", -amount_cents, line[13], payment[2], line[5], line[15], line[1],
                 line_id, payment_id, None),
            ],
        )  # fmt: skip
        work.audit(
            "payment.allocation",
            format_id("allocation", entry_id),
            {"payment": payment_id, "line": line_id, "amount_cents": amount_cents},
        )
        work.commit()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return entry_id
