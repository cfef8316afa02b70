"""The reads that every use case and a plain command make: a code's id, the practice, the
records a payment or an allocation decides on, the sums it checks, a party's balance.

They are SQL text (store/sql.py says why) and need no SQLAlchemy: they run on a
SQLAlchemy connection inside a unit of work or a report, and on a plain SQLite connection
(store/plain.py) for a command that starts faster without the library (``balance``,
issue 9). :mod:`clinicledger.store.ledger` names them too, beside the reads that need
SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from clinicledger.domain.choices import InsuranceStatus, LineKind
from clinicledger.domain.errors import Conflict, NotFound, Unavailable
from clinicledger.domain.ids import format_id, in_id_range
from clinicledger.domain.journal import Account
from clinicledger.domain.records import LineRecord, PaymentRecord, PracticeRecord, Priced
from clinicledger.domain.text import check_plain, close_codes
from clinicledger.store.sql import Db, Sql, as_date, as_instant

# The table of each kind of master data.
MASTER_TABLE_NAMES = {
    "location": "locations",
    "provider": "providers",
    "patient": "patients",
    "payer": "payers",
    "item": "items",
    "product": "products",
}
DEFAULT_TIMEZONE = "Australia/Sydney"

_ID_BY_CODE = {
    kind: Sql(f"SELECT id, active FROM {table} WHERE code = :code")
    for kind, table in MASTER_TABLE_NAMES.items()
}
_CODES = {kind: Sql(f"SELECT code FROM {table}") for kind, table in MASTER_TABLE_NAMES.items()}
_PRICED = {
    "item": Sql("SELECT id, code, fee_cents, taxable, active FROM items WHERE code = :key"),
    "product": Sql("SELECT id, code, fee_cents, taxable, active FROM products WHERE title = :key"),
}
_PARTY_IDS = Sql(
    "SELECT 'patient', id FROM patients WHERE code = :code"
    " UNION ALL SELECT 'payer', id FROM payers WHERE code = :code"
)
# The practice's columns, in the order practice_record takes them.
PRACTICE_COLUMNS = "name, abn, gst_registered, timezone, currency, locale, closed_through"
_PRACTICE = Sql(f"SELECT {PRACTICE_COLUMNS} FROM practice WHERE id = 1")
_ZONE = Sql("SELECT timezone FROM practice WHERE id = 1")
_INVOICE_ID = Sql("SELECT id FROM invoices WHERE number = :number")
_LINE = Sql(
    "SELECT lines.id, lines.invoice_id, lines.kind, invoices.patient_id, invoices.payer_id,"
    " invoices.location_id, lines.provider_id, lines.service_date, invoices.invoice_date,"
    " lines.fee_cents, lines.gst_cents, lines.client_billable, lines.insurance_status,"
    " lines.deleted_at FROM lines JOIN invoices ON invoices.id = lines.invoice_id"
    " WHERE lines.id = :line_id"
)
_PAYMENT = Sql(
    "SELECT payments.id, payments.patient_id, payments.payer_id,"
    " coalesce(patients.code, payers.code), payments.location_id, payments.amount_cents,"
    " payments.received_date, payments.opening, payments.reversed_at FROM payments"
    " LEFT OUTER JOIN patients ON patients.id = payments.patient_id"
    " LEFT OUTER JOIN payers ON payers.id = payments.payer_id"
    " WHERE payments.id = :payment_id"
)
_TOTAL = "SELECT coalesce(sum(amount_cents), 0) FROM postings"
_PAYMENT_IN_ACCOUNT = Sql(f"{_TOTAL} WHERE payment_id = :payment_id AND account = :account")
_LINE_RECEIVABLE = f"{_TOTAL} WHERE line_id = :line_id AND account = 'RECEIVABLE'"
_LINE_OWING = {  # by the patient (payer_id NULL), or by a payer
    True: Sql(f"{_LINE_RECEIVABLE} AND payer_id IS NULL"),
    # "+payer_id": the line's few postings are read by its index (ix_postings_line), never
    # the payer's many by theirs, with planner statistics or without (both index only the
    # postings that have their key, migration 0019, and SQLite had no other reason to
    # prefer one)
    False: Sql(f"{_LINE_RECEIVABLE} AND +payer_id = :payer_id"),
}
_LINE_ALLOCATED = Sql(f"{_LINE_RECEIVABLE} AND payment_id IS NOT NULL")


# ---------------------------------------------------------------- codes and the practice


def id_for_code(
    conn: Db, kind: str, code: str, *, field: str | None = None, active: bool = False
) -> int:
    """The id of the ``kind`` (a key of :data:`MASTER_TABLE_NAMES`) with ``code``; with
    ``active``, refused if it was deactivated (it then takes nothing new)."""
    check_plain(code, field=field or kind)  # a code looked up is echoed if not found
    found = _ID_BY_CODE[kind].one(conn, {"code": code})
    if found is None:
        raise not_found(conn, kind, code, field=field)
    found_id, is_active = found
    if active and not is_active:
        raise inactive(kind, code, field=field or kind)
    return int(found_id)


def not_found(conn: Db, kind: str, code: str, *, field: str | None = None) -> NotFound:
    """The error for a code that names no ``kind``, with the codes it was probably meant
    to be (read only on this path: a typo costs one scan of the codes)."""
    codes = (row[0] for row in _CODES[kind].run(conn))
    return NotFound(kind, f"'{code}'", field=field or kind, suggestions=close_codes(code, codes))


def inactive(kind: str, key: str, *, field: str, code: str | None = None) -> Conflict:
    """The error for a deactivated ``kind`` named by ``key`` (its code, or a product's
    title; ``code`` then says which code it has)."""
    return Conflict(
        f"{kind} '{key}' is deactivated: it is kept for history, and takes no new invoices",
        code="inactive",
        field=field,
        kind=kind,
        key=key,
        master_code=code or key,
    )


def priced(conn: Db, kind: str, key: str, *, field: str) -> Priced:
    """An active item (by code) or product (by title) and its fee."""
    check_plain(key, field=field)
    row = _PRICED[kind].one(conn, {"key": key})
    if row is None:
        if kind == "product":
            raise NotFound("product", f"'{key}'", field=field)
        raise not_found(conn, kind, key, field=field)
    found_id, code, fee_cents, taxable, is_active = row
    if not is_active:
        raise inactive(kind, key, field=field, code=code)
    return Priced(id=found_id, fee_cents=int(fee_cents), taxable=bool(taxable))


def party_ids(conn: Db, code: str) -> tuple[int | None, int | None]:
    """(patient id, payer id) of the party ``code`` names, from the one set of codes that
    patients and payers share: at most one is set."""
    check_plain(code, field="from")
    found = dict(_PARTY_IDS.run(conn, {"code": code}).fetchall())
    return found.get("patient"), found.get("payer")


def practice_zone(conn: Db) -> ZoneInfo:
    """The practice's time zone: business dates are dates there."""
    zone = _ZONE.scalar(conn)
    return ZoneInfo(zone or DEFAULT_TIMEZONE)


def practice(conn: Db) -> PracticeRecord | None:
    row = _PRACTICE.one(conn)
    return None if row is None else practice_record(tuple(row))


def practice_record(row: tuple[Any, ...]) -> PracticeRecord:
    """The practice from its columns as :data:`PRACTICE_COLUMNS` lists them."""
    name, abn, gst_registered, timezone, currency, locale, closed_through = row
    return PracticeRecord(
        name=name,
        abn=abn,
        gst_registered=bool(gst_registered),
        timezone=timezone,
        currency=currency,
        locale=locale,
        closed_through=as_date(closed_through),
    )


def require_practice(conn: Db) -> PracticeRecord:
    """The practice; a ledger without one was never initialised."""
    return practice_required(practice(conn))


def practice_required(found: PracticeRecord | None) -> PracticeRecord:
    """``found``, the practice read; refused if there was none (never initialised)."""
    if found is None:
        raise Unavailable("the ledger has no practice yet", code="not_initialised")
    return found


def to_naive_utc(instant: dt.datetime) -> dt.datetime:
    """The storage's time format: a naive UTC instant (an aware time converted, a naive
    one taken as UTC already)."""
    if instant.tzinfo is None:
        return instant
    return instant.astimezone(dt.UTC).replace(tzinfo=None)


def practice_instant(conn: Db, value: dt.datetime) -> dt.datetime:
    """A moment as the storage keeps it (naive UTC); a naive ``value`` is the practice's
    local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=practice_zone(conn))
    return to_naive_utc(value)


def practice_date(conn: Db, instant: dt.datetime) -> dt.date:
    """The practice's business date at ``instant`` (naive UTC, as stored)."""
    return instant.replace(tzinfo=dt.UTC).astimezone(practice_zone(conn)).date()


# ---------------------------------------------------------------- invoices, lines, payments


def invoice_id(conn: Db, number: int) -> int | None:
    """The id of invoice ``number`` (its INV- number), if there is one."""
    if not in_id_range(number):
        return None
    found = _INVOICE_ID.scalar(conn, {"number": number})
    return None if found is None else int(found)


def line_record(conn: Db, line_id: int, *, field: str = "line") -> LineRecord:
    if not in_id_range(line_id):
        raise NotFound("line", format_id("line", line_id), field=field)
    row = _LINE.one(conn, {"line_id": line_id})
    if row is None:
        raise NotFound("line", format_id("line", line_id), field=field)
    (found_id, invoice, kind, patient, payer, location, provider, service_date, invoice_date,
     fee_cents, gst_cents, client_billable, insurance_status, deleted_at) = row  # fmt: skip
    invoice_day = as_date(invoice_date)
    assert invoice_day is not None
    return LineRecord(
        id=found_id,
        invoice_id=invoice,
        kind=LineKind(kind),
        patient_id=patient,
        payer_id=payer,
        location_id=location,
        provider_id=provider,
        service_date=as_date(service_date),
        invoice_date=invoice_day,
        fee_cents=int(fee_cents),
        gst_cents=int(gst_cents),
        client_billable=bool(client_billable),
        insurance_status=InsuranceStatus(insurance_status),
        deleted_at=as_instant(deleted_at),
    )


def payment_record(conn: Db, payment_id: int, *, field: str = "payment") -> PaymentRecord:
    if not in_id_range(payment_id):
        raise NotFound("payment", format_id("payment", payment_id), field=field)
    row = _PAYMENT.one(conn, {"payment_id": payment_id})
    if row is None:
        raise NotFound("payment", format_id("payment", payment_id), field=field)
    (found_id, patient, payer, party_code, location, amount_cents, received_date, opening,
     reversed_at) = row  # fmt: skip
    received = as_date(received_date)
    assert received is not None
    return PaymentRecord(
        id=found_id,
        patient_id=patient,
        payer_id=payer,
        party_code=party_code,
        location_id=location,
        amount_cents=int(amount_cents),
        received_date=received,
        opening=bool(opening),
        reversed_at=as_instant(reversed_at),
    )


def _payment_in(conn: Db, payment_id: int, account: Account) -> int:
    return int(
        _PAYMENT_IN_ACCOUNT.scalar(conn, {"payment_id": payment_id, "account": account.value})
    )


def payment_unallocated_cents(conn: Db, payment_id: int) -> int:
    """Money of a payment not yet applied, refunded or reversed."""
    return -_payment_in(conn, payment_id, Account.UNALLOCATED)


def payment_refunded_cents(conn: Db, payment_id: int) -> int:
    return -_payment_in(conn, payment_id, Account.REFUNDED)


def line_owing_cents(conn: Db, line_id: int, payer_id: int | None) -> int:
    """What is owed on a line by one billed-to party (``None``: the patient)."""
    given = {"line_id": line_id} if payer_id is None else {"line_id": line_id, "payer_id": payer_id}
    return int(_LINE_OWING[payer_id is None].scalar(conn, given))


def line_allocated_cents(conn: Db, line_id: int) -> int:
    """Payments currently applied to a line (allocations less un-allocations)."""
    return -int(_LINE_ALLOCATED.scalar(conn, {"line_id": line_id}))


# ---------------------------------------------------------------- balances


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """A party's ledger balance: charges less payments, by post date (003's ledger view)."""

    charges_cents: int  # what is owed on lines (after allocations and adjustments)
    unallocated_cents: int  # money received and not applied (credit), as a positive number

    @property
    def balance_cents(self) -> int:
        return self.charges_cents - self.unallocated_cents


def _when(as_of: bool, as_known_at: bool) -> str:
    """The time conditions of a balance: posted by ``:as_of``, known by ``:as_known_at``."""
    return (" AND effective_date <= :as_of" if as_of else "") + (
        " AND recorded_at <= :as_known_at" if as_known_at else ""
    )


@functools.cache
def _party_sums(payer: bool, as_of: bool, as_known_at: bool) -> Sql:
    # A patient's own portion is payer_id IS NULL. Kept inside the sum, not the WHERE, so
    # the planner walks the patient's index rather than every patient's own portions.
    amount = "amount_cents" if payer else "CASE WHEN payer_id IS NULL THEN amount_cents ELSE 0 END"
    party = "payer_id" if payer else "patient_id"
    return Sql(
        f"SELECT account, sum({amount}) FROM postings WHERE {party} = :party"
        f" AND account IN ('RECEIVABLE', 'UNALLOCATED'){_when(as_of, as_known_at)}"
        " GROUP BY account"
    )


def _times(as_of: dt.date | None, as_known_at: dt.datetime | None) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if as_of is not None:
        given["as_of"] = as_of
    if as_known_at is not None:
        given["as_known_at"] = as_known_at
    return given


def party_balance(
    conn: Db,
    *,
    patient_id: int | None = None,
    payer_id: int | None = None,
    as_of: dt.date | None = None,
    as_known_at: dt.datetime | None = None,
) -> Balance:
    """A patient's own balance (lines billed to the patient, the patient's unapplied money),
    or a payer's (its portions of lines of any patient, its unapplied money)."""
    statement = _party_sums(payer_id is not None, as_of is not None, as_known_at is not None)
    party = payer_id if payer_id is not None else patient_id
    sums = dict(statement.run(conn, {"party": party, **_times(as_of, as_known_at)}).fetchall())
    return Balance(
        charges_cents=int(sums.get(Account.RECEIVABLE.value) or 0),
        unallocated_cents=-int(sums.get(Account.UNALLOCATED.value) or 0),
    )


@functools.cache
def _receivable_sum(by_line: bool, as_of: bool, as_known_at: bool) -> Sql:
    subject = "line_id" if by_line else "invoice_id"
    return Sql(
        f"{_TOTAL} WHERE {subject} = :subject AND account = 'RECEIVABLE'{_when(as_of, as_known_at)}"
    )


def receivable_balance(
    conn: Db,
    *,
    line_id: int | None = None,
    invoice_id: int | None = None,
    as_of: dt.date | None = None,
    as_known_at: dt.datetime | None = None,
) -> int:
    """What is owed on a line, or on all the lines of an invoice."""
    statement = _receivable_sum(line_id is not None, as_of is not None, as_known_at is not None)
    subject = line_id if line_id is not None else invoice_id
    return int(statement.scalar(conn, {"subject": subject, **_times(as_of, as_known_at)}))
