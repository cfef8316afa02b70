"""Random text in every free-text and code field, through the services, on both backends
(issue 8, acceptance): each call either stores exactly what is shown back (read back
through the store and compared with the field's own rule: a name's spaces collapsed, a
note trimmed) or is refused with a ``UserError`` naming the field; never another
exception (a driver's error on PostgreSQL's NUL, an encoder's on a lone surrogate).

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
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import UserError
from clinicledger.domain.text import not_allowed
from clinicledger.services import imports, invoicing, masters, payments, reporting
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

DAY = dt.date(2018, 1, 1)
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
    big_line: int = 0  # billed to the patient, 1,000,000.00: adjusted and paid cents at a time
    fund_line: int = 0  # billed to FUND1, 1,000,000.00: transferred cents at a time

    def uow(self) -> Any:
        return self.clock.uow()

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
        return payments.record_payment(
            self.uow(),
            payments.RecordPayment(
                from_code="P1",
                amount_cents=cents,
                method=PaymentMethod.CASH,
                received_date=DAY,
                location_code="MAIN",
            ),
        )

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
def ledger(engine: Engine, clock: Any) -> Ledger:
    made = Ledger(engine=engine, clock=clock, numbers=itertools.count(1))
    clock.now = dt.datetime(2018, 1, 1, 9)
    masters.add_location(made.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(made.uow(), code="DR1", name="Dr One")
    masters.add_patient(made.uow(), code="P1", name="Patient One")
    masters.add_payer(made.uow(), code="FUND1", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(made.uow(), code="I1", description="Consultation", fee_cents=10000)
    made.big_line = made.line(100_000_000)
    made.fund_line = made.line(100_000_000, billed_to="FUND1")
    return made


# Each field: (the field a refusal must name, a call that stores ``text`` and returns
# (what was read back, what the field's rule says is kept)).
Field = tuple[str, Callable[[Ledger, str], tuple[Any, Any]]]


def _patient_code(lg: Ledger, text: str) -> tuple[Any, Any]:
    masters.add_patient(lg.uow(), code=text, name="Nina Vale")
    return masters.show_master(lg.engine, "patient", text).code, text


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


def _payment(lg: Ledger, **text: str) -> int:
    return payments.record_payment(
        lg.uow(),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=100,
            method=PaymentMethod.EFTPOS,
            received_date=DAY,
            location_code="MAIN",
            **text,
        ),
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


def _imported_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    out = io.StringIO()
    # the default line end, "\r\n": a cell holding either character is quoted
    csv.writer(out).writerows([("code", "name"), (code, text)])
    content = out.getvalue().encode("utf-8", "surrogatepass")
    imports.import_file(
        lg.uow(),
        imports.ImportFile(kind="patients", file_name=f"{code}.csv", content=content),
    )
    return lg.master("patient", code, "name"), collapsed(text)


def _imported_file_name(lg: Ledger, text: str) -> tuple[Any, Any]:
    code = lg.code()
    content = f"code,name\n{code},Nina Vale\n".encode()
    imports.import_file(
        lg.uow(), imports.ImportFile(kind="patients", file_name=text, content=content)
    )
    return lg.master("patient", code, "name"), "Nina Vale"


FIELDS: dict[str, Field] = {
    "patient-code": ("code", _patient_code),
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
    "imported-patient-name": ("name", _imported_name),
    "imported-file-name": ("file", _imported_file_name),
}


def _refused_as(name: str, field: str, text: str) -> set[str | None]:
    """The fields a refusal of ``text`` may name: the field, or, for a file's cell, the
    file itself where the text cannot even be written as UTF-8 (a lone surrogate)."""
    if name == "imported-patient-name" and any("\ud800" <= c <= "\udfff" for c in text):
        return {field, "(file)"}
    return {field}


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
    @given(text=TEXT)
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
