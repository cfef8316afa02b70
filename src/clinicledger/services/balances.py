"""Balances per line, invoice, patient and payer, as of a date and as known at a time.

Everything here is read through ``store.lookups``, which needs no SQLAlchemy: given a
:class:`~clinicledger.store.plain.PlainSqlite`, a balance is read without loading it (a
command that starts in a tenth of the time, issue 9); given an engine, as every service.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import InvalidInput, NotFound
from clinicledger.domain.ids import format_id, parse_id
from clinicledger.domain.text import parse_date, parse_instant
from clinicledger.store import lookups
from clinicledger.store.plain import PlainSqlite
from clinicledger.store.sql import Db

if TYPE_CHECKING:
    from clinicledger.store.engine import Engine
from clinicledger.store.lookups import practice_instant


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceView:
    balance_cents: int
    charges_cents: int  # owing on lines
    unallocated_cents: int  # the party's unapplied money (credit); 0 for a line or invoice
    as_known_at: dt.datetime | None  # the moment asked for, in the practice's time zone


def _reading(source: Engine | PlainSqlite) -> AbstractContextManager[Db]:
    if isinstance(source, PlainSqlite):
        return source.reading()
    from clinicledger.store.uow import reading  # loads SQLAlchemy

    found: AbstractContextManager[Db] = reading(source)
    return found


def balance(
    source: Engine | PlainSqlite,
    *,
    patient_code: str | None = None,
    payer_code: str | None = None,
    invoice_number: int | None = None,
    line_id: int | None = None,
    as_of: dt.date | None = None,
    as_known_at: dt.datetime | None = None,
) -> BalanceView:
    """The balance of exactly one subject. A patient's or payer's is its ledger balance:
    what is owed on its lines less its unapplied money, payments counted at their post
    date (reference 003's ledger view). A naive ``as_known_at`` is the practice's local
    time."""
    if as_of is not None:
        check_in_range(as_of, field="as_of")
    if as_known_at is not None:
        check_in_range(as_known_at, field="as_known_at")
    given = [x for x in (patient_code, payer_code, invoice_number, line_id) if x is not None]
    if len(given) != 1:
        raise InvalidInput(
            "subject", "give exactly one of patient, payer, invoice, line", code="subject_missing"
        )
    with _reading(source) as conn:
        lookups.require_practice(conn)
        known = practice_instant(conn, as_known_at) if as_known_at is not None else None
        shown = (
            known.replace(tzinfo=dt.UTC).astimezone(lookups.practice_zone(conn))
            if known is not None
            else None
        )
        if patient_code is not None or payer_code is not None:
            found = lookups.party_balance(
                conn,
                patient_id=lookups.id_for_code(conn, "patient", patient_code)
                if patient_code is not None
                else None,
                payer_id=lookups.id_for_code(conn, "payer", payer_code)
                if payer_code is not None
                else None,
                as_of=as_of,
                as_known_at=known,
            )
            return BalanceView(
                balance_cents=found.balance_cents,
                charges_cents=found.charges_cents,
                unallocated_cents=found.unallocated_cents,
                as_known_at=shown,
            )
        if invoice_number is not None:
            invoice_id = lookups.invoice_id(conn, invoice_number)
            if invoice_id is None:
                raise NotFound("invoice", format_id("invoice", invoice_number), field="invoice")
            owing = lookups.receivable_balance(
                conn, invoice_id=invoice_id, as_of=as_of, as_known_at=known
            )
        else:
            assert line_id is not None
            lookups.line_record(conn, line_id)
            owing = lookups.receivable_balance(
                conn, line_id=line_id, as_of=as_of, as_known_at=known
            )
    return BalanceView(
        balance_cents=owing, charges_cents=owing, unallocated_cents=0, as_known_at=shown
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AskedBalance:
    """A balance and what was asked for: ``subject`` is patient, payer, invoice or line
    (the first given), ``key`` its code or id as it was given."""

    subject: str
    key: str
    as_of: dt.date | None
    view: BalanceView


def asked_balance(
    source: Engine | PlainSqlite,
    *,
    patient: str | None = None,
    payer: str | None = None,
    invoice: str | None = None,
    line: str | None = None,
    as_of: str | None = None,
    as_known_at: str | None = None,
) -> AskedBalance:
    """:func:`balance` as every door is asked for it, in text: an invoice or a line by its
    id (``INV-000001`` or ``1``), dates as ``YYYY-MM-DD``, a moment as a timestamp."""
    given = {"patient": patient, "payer": payer, "invoice": invoice, "line": line}
    subject, key = next(((k, v) for k, v in given.items() if v is not None), ("subject", ""))
    when = parse_date(as_of, field="as_of") if as_of else None
    view = balance(
        source,
        patient_code=patient,
        payer_code=payer,
        invoice_number=parse_id("invoice", invoice) if invoice else None,
        line_id=parse_id("line", line) if line else None,
        as_of=when,
        as_known_at=parse_instant(as_known_at, field="as_known_at") if as_known_at else None,
    )
    return AskedBalance(subject=subject, key=key, as_of=when, view=view)
