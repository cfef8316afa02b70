"""Random text in every free-text and code field, through the services, on both backends
(issue 8, acceptance): each call either stores exactly what is shown back (read back
through the store and compared with the field's own rule: a name's spaces collapsed, a
note trimmed) or is refused with a ``UserError`` naming the field; never another
exception (a driver's error on PostgreSQL's NUL, an encoder's on a lone surrogate).

The fields: the codes of every master on add, and its names; the practice's name, ABN,
currency and time zone; notes, references and reasons; every code (and a product's
title) a command looks up, mixed with codes that name something (:data:`KNOWN`), and
which the row then names; the filters of a report, which it then shows; an idempotency
key; every column of every kind of file to import, kept as its column's reader reads it;
every cell of a file to compare, shown by the report as read.

The text is Hypothesis ``text()`` over every Unicode category, surrogates included (the
services take any ``str``), mixed with the characters the rule of ``domain/text.py``
refuses and those that make a cell or a spreadsheet misbehave, so that refusals are as
common as acceptances. 50 examples per field on SQLite, 15 on PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import UserError
from clinicledger.domain.text import not_allowed
from clinicledger.formats import compare_csv, csv_masters
from clinicledger.services import imports, invoicing, masters, payments, reporting
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import imports as imports_store
from clinicledger.store import lookups
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

DAY = dt.date(2018, 1, 1)
NOW = dt.datetime(2018, 6, 1, tzinfo=dt.UTC)  # the clock of a report
HOSTILE = (
    "\x00\t\n\r\x1b\x7f\x85\x9b\u2028\u2029\u061c\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\ud800\udfff\ufeff\u200b\u200d\xa0\u3000 ,\"'=+-@;%_"
)
CHARACTERS = st.characters(exclude_categories=()) | st.sampled_from(HOSTILE)
TEXT = st.text(CHARACTERS, max_size=40) | st.text(CHARACTERS, min_size=190, max_size=210)
EXAMPLES = {"sqlite": 50, "postgresql": 15}


def collapsed(text: str) -> str:
    """A name, description, title or reason as kept: runs of spaces as one."""
    return " ".join(text.split())


def trimmed(text: str) -> str | None:
    """A reference, a note as kept: trimmed, and nothing if blank."""
    return text.strip() or None


@dataclass
class Ledger:
    """A practice to aim text at, with one of everything the fields need."""

    engine: Engine
    clock: Any
    numbers: itertools.count[int]
    fresh: Callable[[], tuple[Engine, Any]]
    folder: Path  # for files to read
    big_line: int = 0  # billed to the patient, 1,000,000.00: adjusted and paid cents at a time
    fund_line: int = 0  # billed to FUND1, 1,000,000.00: transferred cents at a time
    _bare: tuple[Engine, Any] | None = None

    def uow(self) -> Any:
        return self.clock.uow()

    def bare(self) -> tuple[Engine, Any]:
        """A ledger that holds no entry yet (its time zone may still change), made on
        first use: on PostgreSQL in place of this one (``conftest.fresh``)."""
        if self._bare is None:
            self._bare = self.fresh()
        return self._bare

    def code(self) -> str:
        return f"H{next(self.numbers)}"

    def select(self, column: Any, key: Any, value: Any) -> Any:
        with reading(self.engine) as conn:
            return conn.execute(select(column).where(key == value)).scalar_one()

    def master(self, kind: str, code: str, column: str) -> Any:
        return masters.show_master(self.engine, kind, code).values[column]

    def entry(self, entry_id: int, column: str) -> Any:
        return self.select(t.entries.c[column], t.entries.c.id, entry_id)

    def pay(self, cents: int = 1) -> int:
        return _payment(self, amount_cents=cents, method=PaymentMethod.CASH)

    def line(self, fee_cents: int, billed_to: str | None = None) -> int:
        made = invoicing.create_invoice(
            self.uow(),
            invoicing.CreateInvoice(
                patient_code="P1",
                location_code="MAIN",
                billed_to_code=billed_to,
                lines=(
                    LineSpec(
                        kind=LineKind.SERVICE,
                        item_code="I1",
                        provider_code="DR1",
                        service_date=DAY,
                        fee_cents=fee_cents,
                    ),
                ),
            ),
        )
        return made.lines[0].id


@pytest.fixture
def ledger(engine: Engine, clock: Any, fresh: Any, tmp_path: Path) -> Ledger:
    made = Ledger(
        engine=engine, clock=clock, numbers=itertools.count(1), fresh=fresh, folder=tmp_path
    )
    clock.now = dt.datetime(2018, 1, 1, 9)
    masters.add_location(made.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(made.uow(), code="DR1", name="Dr One")
    masters.add_patient(made.uow(), code="P1", name="Patient One")
    masters.add_payer(made.uow(), code="FUND1", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(made.uow(), code="I1", description="Consultation", fee_cents=10000)
    masters.add_product(made.uow(), code="GEL", title="Cold pack", fee_cents=1500)
    made.big_line = made.line(100_000_000)
    made.fund_line = made.line(100_000_000, billed_to="FUND1")
    return made


# Each field: (the field a refusal must name, a call that stores ``text`` and returns
# (what was read back, what the field's rule says is kept)).
Field = tuple[str, Callable[[Ledger, str], tuple[Any, Any]]]


def _patient_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_patient(lg.uow(), code=code, name=text)
    return lg.master("patient", code, "name"), collapsed(text)


def _patient_edit(lg: Ledger, text: str) -> tuple[Any, Any]:
    changed = masters.edit_patient(lg.uow(), code="P1", name=text)
    kept = lg.master("patient", "P1", "name")
    if "name" in changed.changes:
        assert changed.changes["name"][1] == kept
    return kept, collapsed(text)


def _location_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_location(lg.uow(), code=code, name=text)
    return lg.master("location", code, "name"), collapsed(text)


def _payer_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_payer(lg.uow(), code=code, name=text, kind=PayerKind.INSURER)
    return lg.master("payer", code, "name"), collapsed(text)


def _provider_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    masters.edit_provider(lg.uow(), code="DR1", name=text)
    return lg.master("provider", "DR1", "name"), collapsed(text)


def _company_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_provider(lg.uow(), code=code, name="Dr Two", company_name=text)
    return lg.master("provider", code, "company_name"), collapsed(text) or None


def _item_description(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_item(lg.uow(), code=code, description=text, fee_cents=100)
    return lg.master("item", code, "description"), collapsed(text)


def _item_edit(lg: Ledger, text: str) -> tuple[Any, Any]:
    masters.edit_item(lg.uow(), code="I1", description=text)
    return lg.master("item", "I1", "description"), collapsed(text)


def _product_title(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_product(lg.uow(), code=code, title=text, fee_cents=100)
    return lg.master("product", code, "title"), collapsed(text)


def _payment(lg: Ledger, *, idempotency_key: str | None = None, **given: Any) -> int:
    """A payment of 1.00 from P1 at MAIN, but for what is ``given``."""
    command = {
        "from_code": "P1",
        "amount_cents": 100,
        "method": PaymentMethod.EFTPOS,
        "received_date": DAY,
        "location_code": "MAIN",
        **given,
    }
    return payments.record_payment(
        lg.uow(), payments.RecordPayment(**command), idempotency_key=idempotency_key
    )


def _reference(lg: Ledger, text: str) -> tuple[Any, Any]:
    paid = _payment(lg, reference=text)
    return lg.select(t.payments.c.reference, t.payments.c.id, paid), trimmed(text)


def _payment_note(lg: Ledger, text: str) -> tuple[Any, Any]:
    """Kept twice: on the payment, and on its entry in the journal."""
    paid = _payment(lg, note=text)
    with reading(lg.engine) as conn:
        journal = conn.execute(
            select(t.entries.c.note)
            .join(t.postings, t.postings.c.entry_id == t.entries.c.id)
            .where(t.postings.c.payment_id == paid, t.entries.c.kind == "payment")
            .limit(1)
        ).scalar_one()
    kept = lg.select(t.payments.c.note, t.payments.c.id, paid)
    return (kept, journal), (trimmed(text), trimmed(text))


def _refund(lg: Ledger, text: str) -> tuple[Any, Any]:
    paid = lg.pay()
    entry = payments.refund(lg.uow(), payments.Refund(payment_id=paid, amount_cents=1, reason=text))
    return lg.entry(entry, "reason"), collapsed(text)


def _reverse(lg: Ledger, text: str) -> tuple[Any, Any]:
    paid = lg.pay()
    entry = payments.reverse_payment(
        lg.uow(), payments.ReversePayment(payment_id=paid, reason=text)
    )
    return lg.entry(entry, "reason"), collapsed(text)


def _unallocate(lg: Ledger, text: str) -> tuple[Any, Any]:
    paid = lg.pay()
    [made] = payments.allocate(
        lg.uow(), payments.Allocate(payment_id=paid, targets=((lg.big_line, 1),))
    )
    entry = payments.unallocate(lg.uow(), payments.Unallocate(allocation_id=made.id, reason=text))
    return lg.entry(entry, "reason"), collapsed(text)


def _adjust(lg: Ledger, text: str) -> tuple[Any, Any]:
    entry = invoicing.adjust_line(
        lg.uow(),
        invoicing.AdjustLine(
            line_id=lg.big_line, amount_cents=1, reason=AdjustmentReason.DISCOUNT, note=text
        ),
    )
    return lg.entry(entry, "note"), trimmed(text)


def _delete(lg: Ledger, text: str) -> tuple[Any, Any]:
    line = lg.line(100)
    entry = invoicing.delete_line(lg.uow(), invoicing.DeleteLine(line_id=line, reason=text))
    return lg.entry(entry, "reason"), collapsed(text)


def _transfer(lg: Ledger, text: str) -> tuple[Any, Any]:
    entry = invoicing.transfer(
        lg.uow(),
        invoicing.Transfer(line_id=lg.fund_line, amount_cents=1, reason=text, to_patient=True),
    )
    return lg.entry(entry, "reason"), collapsed(text)


def _favourite(lg: Ledger, text: str) -> tuple[Any, Any]:
    reporting.save_favourite(
        lg.uow(),
        reporting.SaveFavourite(name=text, request=reporting.ReportRequest(report="debtors")),
    )
    names = [f.name for f in reporting.list_favourites(lg.engine)]
    return (text in names), True


def _search(lg: Ledger, text: str) -> tuple[Any, Any]:
    """Nothing is kept: the search is run, or refused."""
    found = masters.list_masters(lg.engine, "patient", search=text)
    return {r.code for r in found.rows} <= {"P1"}, True


def _imported_file_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    content = f"code,name\n{code},Nina Vale\n".encode()
    imports.import_file(
        lg.uow(), imports.ImportFile(kind="patients", file_name=text, content=content)
    )
    return lg.master("patient", code, "name"), "Nina Vale"


# ---- codes of new masters (a patient's is above)


def _code_on_add(master: str, **values: Any) -> Callable[[Ledger, str], tuple[Any, Any]]:
    """A new ``master`` with the text as its code, and ``values`` (a callable one is made
    afresh for each example: a product's title is unique too)."""
    add = getattr(masters, f"add_{master}")

    def call(lg: Ledger, text: str) -> tuple[Any, Any]:
        add(lg.uow(), code=text, **{k: v(lg) if callable(v) else v for k, v in values.items()})
        return masters.show_master(lg.engine, master, text).code, text

    return call


def _provider_name_on_add(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_provider(lg.uow(), code=code, name=text)
    return lg.master("provider", code, "name"), collapsed(text)


def _company_abn(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    masters.add_provider(
        lg.uow(), code=code, name="Dr Two", company_name="Two Pty Ltd", company_abn=text
    )
    return lg.master("provider", code, "company_abn"), text.replace(" ", "") or None


# ---- the practice


def _practice(engine: Engine, column: str) -> Any:
    with reading(engine) as conn:
        return conn.execute(select(t.practice.c[column])).scalar_one()


def _practice_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    masters.set_practice(lg.uow(), name=text)
    return _practice(lg.engine, "name"), collapsed(text)


def _practice_abn(lg: Ledger, text: str) -> tuple[Any, Any]:
    masters.set_practice(lg.uow(), abn=text)
    return _practice(lg.engine, "abn"), text.replace(" ", "")


def _practice_currency(lg: Ledger, text: str) -> tuple[Any, Any]:
    masters.set_practice(lg.uow(), currency=text)
    return _practice(lg.engine, "currency"), text.upper()


def _practice_timezone(lg: Ledger, text: str) -> tuple[Any, Any]:
    """On a ledger without entries: once it holds one, the zone is fixed."""
    engine, clock = lg.bare()
    masters.set_practice(clock.uow(), timezone=text)
    return _practice(engine, "timezone"), text


# ---- codes (and a product's title) looked up: each names what it found, or nothing


def _code_of(lg: Ledger, table: Any, row_id: int | None) -> Any:
    return None if row_id is None else lg.select(table.c.code, table.c.id, row_id)


def _paid_from(lg: Ledger, text: str) -> tuple[Any, Any]:
    paid = _payment(lg, from_code=text)
    with reading(lg.engine) as conn:
        payment = conn.execute(select(t.payments).where(t.payments.c.id == paid)).one()
    party = _code_of(lg, t.patients, payment.patient_id) or _code_of(lg, t.payers, payment.payer_id)
    return party, text


def _paid_at(lg: Ledger, text: str) -> tuple[Any, Any]:
    paid = _payment(lg, location_code=text)
    location = lg.select(t.payments.c.location_id, t.payments.c.id, paid)
    return _code_of(lg, t.locations, location), text


def _invoiced(lg: Ledger, line: LineSpec | None = None, **codes: Any) -> tuple[Any, Any]:
    """An invoice of one line (a service of I1 by DR1 unless ``line``), with ``codes``
    given; its row and its line's row as stored."""
    given = {"patient_code": "P1", "location_code": "MAIN", "billed_to_code": None, **codes}
    spec = line or LineSpec(
        kind=LineKind.SERVICE, item_code="I1", provider_code="DR1", service_date=DAY
    )
    made = invoicing.create_invoice(lg.uow(), invoicing.CreateInvoice(lines=(spec,), **given))
    with reading(lg.engine) as conn:
        invoice = conn.execute(select(t.invoices).where(t.invoices.c.id == made.id)).one()
        row = conn.execute(select(t.lines).where(t.lines.c.id == made.lines[0].id)).one()
    return invoice, row


def _invoice_patient(lg: Ledger, text: str) -> tuple[Any, Any]:
    invoice, _ = _invoiced(lg, patient_code=text)
    return _code_of(lg, t.patients, invoice.patient_id), text


def _invoice_location(lg: Ledger, text: str) -> tuple[Any, Any]:
    invoice, _ = _invoiced(lg, location_code=text)
    return _code_of(lg, t.locations, invoice.location_id), text


def _invoice_billed_to(lg: Ledger, text: str) -> tuple[Any, Any]:
    invoice, _ = _invoiced(lg, billed_to_code=text)
    return _code_of(lg, t.payers, invoice.payer_id) or _code_of(
        lg, t.patients, invoice.patient_id
    ), text


def _line_item(lg: Ledger, text: str) -> tuple[Any, Any]:
    spec = LineSpec(kind=LineKind.SERVICE, item_code=text, provider_code="DR1", service_date=DAY)
    _, line = _invoiced(lg, spec)
    return _code_of(lg, t.items, line.item_id), text


def _line_provider(lg: Ledger, text: str) -> tuple[Any, Any]:
    spec = LineSpec(kind=LineKind.SERVICE, item_code="I1", provider_code=text, service_date=DAY)
    _, line = _invoiced(lg, spec)
    return _code_of(lg, t.providers, line.provider_id), text


def _line_product(lg: Ledger, text: str) -> tuple[Any, Any]:
    _, line = _invoiced(lg, LineSpec(kind=LineKind.PRODUCT, product_title=text))
    return lg.select(t.products.c.title, t.products.c.id, line.product_id), text


def _report_filter(report: str, **dates: dt.date) -> Callable[[Ledger, str], tuple[Any, Any]]:
    """A report run with a filter: its parameters show the code it was given."""

    def call(lg: Ledger, text: str, *, kind: str) -> tuple[Any, Any]:
        request = reporting.ReportRequest(report=report, **dates, **{kind: text})
        shown = reporting.run_request(lg.engine, request, now=NOW)
        return shown.parameters.get(kind), text

    return call


def _report_patient(lg: Ledger, text: str) -> tuple[Any, Any]:
    return _report_filter("ledger-statement", as_of=DAY)(lg, text, kind="patient")


def _report_provider(lg: Ledger, text: str) -> tuple[Any, Any]:
    return _report_filter("debtors")(lg, text, kind="provider")


def _report_location(lg: Ledger, text: str) -> tuple[Any, Any]:
    return _report_filter("debtors")(lg, text, kind="location")


def _report_payer(lg: Ledger, text: str) -> tuple[Any, Any]:
    """No report takes a payer yet: refused by name, whatever the text."""
    return _report_filter("debtors")(lg, text, kind="payer")


def _idempotency_key(lg: Ledger, text: str) -> tuple[Any, Any]:
    _payment(lg, idempotency_key=text)
    return lg.select(t.idempotency_keys.c.key, t.idempotency_keys.c.key, text), text


# ---- every column of every kind of file to import


def _csv(*rows: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)  # a cell holding a line end or a quote is quoted
    return out.getvalue().encode("utf-8", "surrogatepass")


# kind: a row of the file, its code (None) made afresh for each example
IMPORT_ROWS: dict[str, dict[str, str | None]] = {
    "patients": {"code": None, "name": "Nina Vale"},
    "providers": {
        "code": None,
        "name": "Dr Two",
        "company_name": "Two Pty Ltd",
        "company_abn": "51 824 753 556",
        "company_gst_registered": "yes",
    },
    "payers": {"code": None, "name": "Fund Two", "kind": "fund"},
    "items": {"code": None, "description": "Review", "fee": "100.00", "taxable": "no"},
    "opening-balances": {
        "party": "patient",
        "code": None,
        "date": "2018-01-01",
        "location": "MAIN",
        "amount": "1.00",
        "note": "brought forward",
    },
}


def _imported_cell(kind: str, column: str) -> Callable[[Ledger, str], tuple[Any, Any]]:
    """A file of ``kind`` whose ``column`` holds the text: the value kept is the one the
    column's reader makes of it (a code stripped, a name's spaces collapsed, a fee in
    cents, a note trimmed)."""
    reader = next(c for c in csv_masters.SCHEMAS[kind] if c.name == column)

    def call(lg: Ledger, text: str) -> tuple[Any, Any]:
        code = lg.code()
        if kind == "opening-balances":
            masters.add_patient(lg.uow(), code=code, name="Nina Vale")
        row = {k: code if v is None else v for k, v in IMPORT_ROWS[kind].items()}
        row[column] = text
        content = _csv(tuple(row), tuple(row.values()))
        imports.import_file(
            lg.uow(), imports.ImportFile(kind=kind, file_name=f"{code}.csv", content=content)
        )
        expected = reader.parse(text)
        kept_code = reader.parse(text) if column == "code" else code
        if kind == "opening-balances":
            return _opening(lg, kept_code)[column], expected
        stored = masters.show_master(lg.engine, kind.removesuffix("s"), kept_code)
        if column == "code":
            return stored.code, expected
        return stored.values[csv_masters.STORED_AS.get(column, column)], expected

    return call


def _opening(lg: Ledger, code: str) -> dict[str, Any]:
    """A patient's opening balance as kept, by the file's columns."""
    with reading(lg.engine) as conn:
        patient = lookups.id_for_code(conn, "patient", code)
        kept = imports_store.existing_opening(conn, "patient", patient)
    assert kept is not None
    return {
        "party": "patient",
        "code": code,
        "date": kept.date,
        "location": _code_of(lg, t.locations, kept.location_id),
        "amount": kept.amount_cents,
        "note": kept.note,
    }


# ---- a file another program exported, compared with a patient's lines


COMPARED = {"date": "2018-01-01", "amount": "100.00", "description": "Consult", "memo": "x"}


def _compared_cell(column: str) -> Callable[[Ledger, str], tuple[Any, Any]]:
    """A file to compare whose ``column`` holds the text (``memo``: a column not read):
    the report shows the row as the file's reader reads it."""

    def call(lg: Ledger, text: str) -> tuple[Any, Any]:
        row = {**COMPARED, column: text}
        path = lg.folder / f"{lg.code()}.csv"
        path.write_bytes(_csv(tuple(row), tuple(row.values())))
        request = reporting.ReportRequest(
            report="client-reconciliation", patient="P1", options={"compare": str(path)}
        )
        shown = reporting.run_request(lg.engine, request, now=NOW)
        [other] = [
            r
            for part in shown.sections
            for r in part.rows
            if getattr(r, "other_file_line", None) == 2
        ]
        read = {
            "date": compare_csv.parse_date(row["date"]),
            "amount": compare_csv.parse_amount(row["amount"], field="amount"),
            "description": " ".join(row["description"].split()),
        }
        return (other.other_date, other.other_amount_cents, other.other_description), (
            read["date"],
            read["amount"],
            read["description"],
        )

    return call


FIELDS: dict[str, Field] = {
    "patient-code": ("code", _code_on_add("patient", name="Nina Vale")),
    "patient-name": ("name", _patient_name),
    "patient-edited-name": ("name", _patient_edit),
    "location-name": ("name", _location_name),
    "payer-name": ("name", _payer_name),
    "provider-edited-name": ("name", _provider_name),
    "provider-company-name": ("company_name", _company_name),
    "item-description": ("description", _item_description),
    "item-edited-description": ("description", _item_edit),
    "product-title": ("title", _product_title),
    "payment-reference": ("reference", _reference),
    "payment-note": ("note", _payment_note),
    "refund-reason": ("reason", _refund),
    "reversal-reason": ("reason", _reverse),
    "unallocation-reason": ("reason", _unallocate),
    "adjustment-note": ("note", _adjust),
    "deletion-reason": ("reason", _delete),
    "transfer-reason": ("reason", _transfer),
    "favourite-name": ("name", _favourite),
    "search": ("search", _search),
    "imported-file-name": ("file", _imported_file_name),
    # issue 8, G5: every other code and text the services take
    "location-code": ("code", _code_on_add("location", name="Annex")),
    "provider-code": ("code", _code_on_add("provider", name="Dr Two")),
    "payer-code": ("code", _code_on_add("payer", name="Fund Two", kind=PayerKind.FUND)),
    "item-code": ("code", _code_on_add("item", description="Review", fee_cents=100)),
    "product-code": (
        "code",
        _code_on_add("product", title=lambda lg: f"Strap {lg.code()}", fee_cents=100),
    ),
    "provider-name": ("name", _provider_name_on_add),
    "provider-company-abn": ("company_abn", _company_abn),
    "practice-name": ("name", _practice_name),
    "practice-abn": ("abn", _practice_abn),
    "practice-currency": ("currency", _practice_currency),
    "practice-timezone": ("timezone", _practice_timezone),
    "payment-from": ("from", _paid_from),
    "payment-location": ("location", _paid_at),
    "invoice-patient": ("patient", _invoice_patient),
    "invoice-location": ("location", _invoice_location),
    "invoice-billed-to": ("billed_to", _invoice_billed_to),
    "line-item": ("line 1", _line_item),
    "line-provider": ("line 1", _line_provider),
    "line-product-title": ("line 1", _line_product),
    "report-patient": ("patient", _report_patient),
    "report-provider": ("provider", _report_provider),
    "report-location": ("location", _report_location),
    "report-payer": ("payer", _report_payer),
    "idempotency-key": ("idempotency_key", _idempotency_key),
    **{
        f"imported-{kind}-{column}": (column, _imported_cell(kind, column))
        for kind, row in IMPORT_ROWS.items()
        for column in row
    },
    **{f"compared-{column}": (column, _compared_cell(column)) for column in COMPARED},
}

# What a call may be refused by, where that is not its field: a code or a party the row
# does not name (an opening balance of a payer for a patient's code), a file's cell that
# cannot be written as UTF-8 (a lone surrogate)
ALSO_REFUSED_AS = {"imported-opening-balances-party": {"code"}}

# Codes and titles that name something, mixed into the text of a lookup (random text
# almost never does): each is found, or refused by name as written otherwise
KNOWN = ("P1", "FUND1", "MAIN", "DR1", "I1", "Cold pack", "p1", " P1", "MAIN\x00", "DR1\u202e")
LOOKUPS = {
    name
    for name in FIELDS
    if name.startswith(("payment-from", "payment-location", "invoice-", "line-", "report-"))
    or name in ("imported-opening-balances-code", "imported-opening-balances-location")
}


def _refused_as(name: str, field: str, text: str) -> set[str | None]:
    """The fields a refusal of ``text`` may name: the field, or, for a file's cell, the
    file itself where the text cannot even be written as UTF-8 (a lone surrogate)."""
    also = ALSO_REFUSED_AS.get(name, set())
    if name.startswith(("imported-", "compared-")) and any("\ud800" <= c <= "\udfff" for c in text):
        return {field, "(file)", *also}
    return {field, *also}


@pytest.mark.parametrize("name", list(FIELDS))
def test_random_text_is_kept_as_shown_or_refused_by_name(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    field, call = FIELDS[name]
    outcomes = {"kept": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES[engine.dialect.name],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(text=TEXT | st.sampled_from(KNOWN) if name in LOOKUPS else TEXT)
    def check(text: str) -> None:
        try:
            kept, expected = call(ledger, text)
        except UserError as exc:
            assert exc.field in _refused_as(name, field, text), (exc.code, exc.field, exc.message)
            assert not_allowed(exc.message) is None, repr(exc.message)  # never echoed
            outcomes["refused"] += 1
            return
        assert kept == expected
        for value in kept if isinstance(kept, tuple) else (kept,):
            assert not isinstance(value, str) or not_allowed(value) is None, repr(value)
        outcomes["kept"] += 1

    check()
    assert outcomes["kept"] + outcomes["refused"] >= 1
