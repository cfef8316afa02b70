"""A stateful property test over every ledger use case, on SQLite and PostgreSQL.

Hypothesis drives random sequences of the services (masters, invoicing, payments, periods),
valid calls and invalid ones: unknown codes and ids, amounts of zero, below zero or above
what is owing or unallocated, reversed payments, deleted lines, entries dated in a closed
period, a ``--now`` earlier than the latest entry. A pure-Python model, updated only from
the services' return values and its own arithmetic, predicts whether each call must
succeed or be refused with a ``UserError``, and what every line portion owes and every
payment has unallocated. After every step the machine checks that

1. every entry's postings sum to zero;
2. the balances the journal gives (``store/ledger.py``: line portions, payments'
   unallocated and refunded money, live allocations, party balances) equal the model's;
3. ``check_ledger`` finds no violation at all;
4. a refused call wrote nothing (the row count of every table, the ledger clock, the
   practice, line and payment state are unchanged);
5. a balance as known at an earlier time never changes after later entries.

Any other exception than a ``UserError`` fails the test: a failure prints the calls made,
each with what the model expected. Bad input the services must refuse, as DESIGN.md has
them validate for every adapter (the command line's ``cents_from_text`` is not enough, the
web API calls the same services): money of 0.00 or less, including a line's fee and a
target of ``apply_credit``; money past 999999999999.99 (or past what a BIGINT holds); an id
past what an INTEGER column holds; a payment reference longer than its column.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, Engine, func, select

from clinicledger.domain.choices import (
    AdjustmentReason,
    InsuranceStatus,
    LineKind,
    PayerKind,
    PaymentMethod,
)
from clinicledger.domain.errors import UserError
from clinicledger.services import balances, check, invoicing, masters, payments, periods
from clinicledger.store import ledger, lookups
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork, reading
from conftest import Clock, reset_pg

R = TypeVar("R")
T = TypeVar("T")

# Generated people and places only. The machine opens with the first of each kind; the
# others are added (or refused) as it goes.
NAMES: dict[str, dict[str, str]] = {
    "location": {"L1": "Main rooms", "L2": "Second rooms"},
    "provider": {"DR1": "Doctor One", "DR2": "Doctor Two"},
    "patient": {
        "P1": "Patient One",
        "P2": "Patient Two",
        "P3": "Patient Three",
        "P4": "Patient Four",
        "P5": "Patient Five",
    },
    # "P1" is a patient's code too: refused, patients and payers share one set of codes.
    "payer": {"F1": "Fund One", "F2": "Insurer Two", "P1": "Third Party One"},
    "item": {"I1": "Consultation", "I2": "Long consultation", "I3": "Review"},
    "product": {"PR1": "Product One", "PR2": "Product Two"},
}
PAYER_KINDS = {"F1": PayerKind.FUND, "F2": PayerKind.INSURER, "P1": PayerKind.THIRD_PARTY}
TITLES = list(NAMES["product"].values())
UNKNOWN_CODE = "ZZ9"
UNKNOWN_TITLE = "Product Unknown"
BAD_CODES = ("", "P 1", "X" * 41)
BAD_NAMES = ("   ", "x" * 201)
VALID_ABN = "51824753556"
INVALID_ABN = "51824753557"
REASON = "entered in error"
BLANK = "   "
LONG_REFERENCE = "R" * 101  # payments.reference is String(100)
CODE_CHARS = frozenset(string.ascii_letters + string.digits + "._-/")
# Amounts are bounded at twelve digits of dollars, as ``cents_from_text`` reads them; 2**63
# is also past what a BIGINT column holds.
TOO_MANY_CENTS = (10**14, 2**63)
UNKNOWN_ID_GAP = 1000  # an id this far past the largest known one names nothing
ID_BEYOND_INTEGER = 2**31  # "L-2147483648" parses as an id; the id columns are INTEGER

SETTINGS = settings(
    max_examples=35,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def amount_ok(cents: int) -> bool:
    """Money given to a service: more than 0.00, at most 999999999999.99."""
    return 0 < cents < TOO_MANY_CENTS[0]


def code_ok(code: str) -> bool:
    return 0 < len(code) <= 40 and set(code) <= CODE_CHARS


def name_ok(name: str) -> bool:
    return 0 < len(" ".join(name.split())) <= 200


def gst_in(fee_cents: int) -> int:
    """One eleventh of a positive GST-inclusive fee, rounded half up."""
    return (2 * fee_cents + 11) // 22


def oldest_first(available_cents: int, owing: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spread ``available_cents`` over ``(key, owing)`` in the order given."""
    plan = []
    left = available_cents
    for key, owing_cents in owing:
        if left <= 0:
            break
        take = min(left, owing_cents)
        if take > 0:
            plan.append((key, take))
            left -= take
    return plan


@dataclass
class LineModel:
    id: int
    patient: str
    payer: str | None  # the invoice's billed-to payer; None: the patient
    sort_date: dt.date  # the service date, or the invoice date of a product
    insurance_open: bool
    portions: dict[str | None, int]  # billed-to party (None: the patient) -> owing
    deleted: bool = False


@dataclass
class PaymentModel:
    id: int
    patient: str | None
    payer: str | None
    amount_cents: int
    received_date: dt.date
    unallocated_cents: int
    refunded_cents: int = 0
    reversed: bool = False


@dataclass
class AllocationModel:
    id: int
    payment_id: int
    line_id: int
    portion: str | None
    amount_cents: int
    live: bool = True


@dataclass(frozen=True)
class ExpectedLine:
    amount_cents: int
    gst_cents: int
    sort_date: dt.date


@dataclass(frozen=True)
class KnownAt:
    """(charges, unallocated) per party as of a date, as known at ``at`` (naive UTC)."""

    at: dt.datetime
    as_of: dt.date | None
    balances: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


class LedgerMachine(RuleBasedStateMachine):
    """The services against a fresh ledger; ``fresh_engine`` is set per backend."""

    fresh_engine: ClassVar[Callable[[], tuple[Engine, Callable[[], None]]]]

    def __init__(self) -> None:
        super().__init__()
        self.engine, self.cleanup = type(self).fresh_engine()
        self.clock = Clock(self.engine)
        masters.init_ledger(self.engine, self.clock.uow)
        self.ids: dict[str, dict[str, int]] = {kind: {} for kind in NAMES}
        self.items: dict[str, tuple[int, bool]] = {}  # code -> (fee, taxable)
        self.products: dict[str, tuple[int, bool]] = {}  # title -> (fee, taxable)
        self.gst_registered = False
        self.closed_through: dt.date | None = None
        self.invoice_count = 0
        self.lines: dict[int, LineModel] = {}
        self.payments: dict[int, PaymentModel] = {}
        self.allocations: dict[int, AllocationModel] = {}
        self.other_entries: list[int] = []  # ids of entries that are not allocations
        self.known: list[KnownAt] = []

    def teardown(self) -> None:
        self.cleanup()

    # ------------------------------------------------------------------ drawing inputs

    def pick(self, data: st.DataObject, good: Sequence[T], bad: Sequence[T], label: str) -> T:
        """Mostly one of ``good``; one time in ten one of ``bad``."""
        if bad and data.draw(st.integers(0, 9), label=f"{label}: bad") == 9:
            return data.draw(st.sampled_from(bad), label=label)
        return data.draw(st.sampled_from(good), label=label)

    def draw_past_date(self, data: st.DataObject, today: dt.date, label: str) -> dt.date:
        """A day of the last month: mostly one still open, now and then any."""
        open_days = 30 if self.closed_through is None else (today - self.closed_through).days - 1
        if open_days >= 0 and data.draw(st.integers(0, 9), label=f"{label}: any") < 9:
            days_ago = data.draw(st.integers(0, min(open_days, 30)), label=f"{label}: days ago")
        else:
            days_ago = data.draw(st.integers(0, 30), label=f"{label}: days ago")
        return today - dt.timedelta(days=days_ago)

    def draw_code(self, data: st.DataObject, master: str, label: str) -> str:
        """Mostly the code of an existing row; else any of the machine's codes for the
        kind (it may not exist yet), or one that names nothing."""
        existing = sorted(self.ids[master])
        if existing and data.draw(st.integers(0, 9), label=f"{label}: existing") < 9:
            return data.draw(st.sampled_from(existing), label=label)
        return self.pick(data, list(NAMES[master]), [UNKNOWN_CODE], label)

    def draw_amount(self, data: st.DataObject, limit: int | None, label: str = "amount") -> int:
        """Mostly a fitting amount (1..limit, often all of it); now and then more than
        ``limit``, zero, less than zero, or more than any amount may be."""
        how = self.pick(
            data, ["within", "within", "all"], ["over", "over", "zero", "negative", "huge"], label
        )
        if how == "zero":
            return 0
        if how == "huge":
            return data.draw(st.sampled_from(TOO_MANY_CENTS), label=label)
        if how == "negative":
            return -data.draw(st.integers(1, 10_000), label=label)
        if limit is None or limit < 1:
            return data.draw(st.integers(1, 60_000), label=label)
        if how == "within":
            return data.draw(st.integers(1, limit), label=label)
        if how == "all":
            return limit
        return limit + data.draw(st.integers(1, 10_000), label=label)

    def draw_id(
        self, data: st.DataObject, known: Sequence[int], preferred: Sequence[int], label: str
    ) -> int:
        """Mostly a preferred id, else any known one; one time in ten one naming nothing
        (just past the known ones, 0, or past what a 32-bit id column holds)."""
        if not known or data.draw(st.integers(0, 9), label=f"{label}: unknown") == 9:
            unknowns = [max(known, default=0) + UNKNOWN_ID_GAP, 0, ID_BEYOND_INTEGER]
            return data.draw(st.sampled_from(unknowns), label=label)
        if preferred and data.draw(st.integers(0, 4), label=f"{label}: any") < 4:
            return data.draw(st.sampled_from(sorted(preferred)), label=label)
        return data.draw(st.sampled_from(sorted(known)), label=label)

    def draw_line(
        self, data: st.DataObject, prefer: Callable[[LineModel], bool] = lambda line: True
    ) -> int:
        preferred = [i for i, line in self.lines.items() if not line.deleted and prefer(line)]
        return self.draw_id(data, list(self.lines), preferred, "line")

    def draw_payment(
        self, data: st.DataObject, prefer: Callable[[PaymentModel], bool] = lambda p: True
    ) -> int:
        preferred = [i for i, p in self.payments.items() if not p.reversed and prefer(p)]
        return self.draw_id(data, list(self.payments), preferred, "payment")

    def draw_reason(self, data: st.DataObject) -> str:
        return self.pick(data, [REASON], [BLANK], "reason")

    # ------------------------------------------------------------------ calling services

    @property
    def today(self) -> dt.date:
        return self.clock.now.date()

    def is_open(self, day: dt.date) -> bool:
        return self.closed_through is None or day > self.closed_through

    def unit_of_work(self, data: st.DataObject) -> tuple[UnitOfWork, bool]:
        """The next minute; or, now and then, an explicit ``--now`` before the latest entry:
        (unit of work, stale)."""
        if data.draw(st.integers(0, 14), label="now: before the latest entry") < 14:
            return self.clock.uow(), False
        with reading(self.engine) as conn:
            last = conn.execute(select(t.ledger_clock.c.last_recorded_at)).scalar_one()
        earlier = (last - dt.timedelta(seconds=1)).replace(tzinfo=dt.UTC)
        note(f"--now {earlier.isoformat()}, before the latest entry")
        return UnitOfWork(self.engine, now=earlier, actor="system", strict_clock=True), True

    def footprint(self) -> dict[str, Any]:
        """What a refused call must leave exactly as it was."""
        counts = [  # every table: entries, postings, audit_log, invoices, masters, ...
            select(func.count()).select_from(table).scalar_subquery().label(table.name)
            for table in t.metadata.sorted_tables
        ]
        with reading(self.engine) as conn:
            found: dict[str, Any] = dict(conn.execute(select(*counts)).one()._mapping)
            found["ledger_clock"] = tuple(conn.execute(select(t.ledger_clock)).one())
            found["practice"] = tuple(conn.execute(select(t.practice)).one())
            found["line_state"] = [
                tuple(row)
                for row in conn.execute(
                    select(t.lines.c.id, t.lines.c.insurance_status, t.lines.c.deleted_at).order_by(
                        t.lines.c.id
                    )
                )
            ]
            found["payment_state"] = [
                tuple(row)
                for row in conn.execute(
                    select(t.payments.c.id, t.payments.c.reversed_at).order_by(t.payments.c.id)
                )
            ]
        return found

    def attempt(self, call: str, valid: bool, action: Callable[[], R]) -> tuple[bool, R | None]:
        """Run a service call the model says is ``valid`` (it must succeed) or not (it must
        be refused with a UserError and write nothing): (succeeded, result). Any other
        exception propagates and fails the test."""
        before = self.footprint()
        name = call.split("(")[0]
        note(f"{call}  # the model expects {'success' if valid else 'a UserError'}")
        try:
            result = action()
        except UserError as exc:
            note(f"    -> refused {type(exc).__name__}({exc.code}): {exc}")
            event(f"{name}: refused")
            after = self.footprint()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, f"{call} was refused ({exc.code}) but wrote: {changed}"
            assert valid is False, f"{call} is valid but was refused: {exc.code}: {exc}"
            return False, None
        note(f"    -> {result!r}")
        event(f"{name}: done")
        assert valid, f"{call} is invalid but was accepted, returning {result!r}"
        return True, result

    # ------------------------------------------------------------------ the model

    def owing(self, line_id: int, portion: str | None) -> int | None:
        line = self.lines.get(line_id)
        return None if line is None else line.portions.get(portion, 0)

    def party(self, code: str) -> tuple[str | None, str | None] | None:
        """(patient, payer) of a payment "from" ``code``; None unless exactly one."""
        is_patient = code in self.ids["patient"]
        is_payer = code in self.ids["payer"]
        if is_patient == is_payer:
            return None
        return (code, None) if is_patient else (None, code)

    def payer_id(self, code: str | None) -> int | None:
        return None if code is None else self.ids["payer"][code]

    def model_balances(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(charges, unallocated) of every patient and payer."""
        found = {("patient", code): (0, 0) for code in self.ids["patient"]}
        found |= {("payer", code): (0, 0) for code in self.ids["payer"]}
        for line in self.lines.values():
            for portion, cents in line.portions.items():
                key = ("patient", line.patient) if portion is None else ("payer", portion)
                charges, unallocated = found[key]
                found[key] = (charges + cents, unallocated)
        for p in self.payments.values():
            key = ("patient", p.patient) if p.patient is not None else ("payer", p.payer or "")
            charges, unallocated = found[key]
            found[key] = (charges, unallocated + p.unallocated_cents)
        return found

    def party_balance(
        self,
        conn: Connection,
        party: tuple[str, str],
        as_of: dt.date | None = None,
        as_known_at: dt.datetime | None = None,
    ) -> tuple[int, int]:
        kind, code = party
        found = lookups.party_balance(
            conn,
            patient_id=self.ids["patient"][code] if kind == "patient" else None,
            payer_id=self.ids["payer"][code] if kind == "payer" else None,
            as_of=as_of,
            as_known_at=as_known_at,
        )
        return found.charges_cents, found.unallocated_cents

    def undo(self, allocation: AllocationModel) -> None:
        allocation.live = False
        self.payments[allocation.payment_id].unallocated_cents += allocation.amount_cents
        line = self.lines[allocation.line_id]
        line.portions[allocation.portion] = (
            line.portions.get(allocation.portion, 0) + allocation.amount_cents
        )

    def record_allocations(
        self, made: tuple[payments.Allocation, ...], portions: dict[int, str | None]
    ) -> None:
        for a in made:
            assert a.id not in self.allocations and a.id not in self.other_entries
            portion = portions[a.payment_id]
            self.allocations[a.id] = AllocationModel(
                id=a.id,
                payment_id=a.payment_id,
                line_id=a.line_id,
                portion=portion,
                amount_cents=a.amount_cents,
            )
            self.payments[a.payment_id].unallocated_cents -= a.amount_cents
            line = self.lines[a.line_id]
            line.portions[portion] = line.portions.get(portion, 0) - a.amount_cents

    def record_entry(self, entry_id: int | None) -> None:
        assert isinstance(entry_id, int)
        assert entry_id not in self.allocations and entry_id not in self.other_entries
        self.other_entries.append(entry_id)

    # ------------------------------------------------------------------ masters

    def add(
        self,
        uow: UnitOfWork,
        stale: bool,
        master: str,
        code: str,
        name: str,
        valid: bool = True,
        **values: Any,
    ) -> None:
        """``masters.add_<master>``; ``valid`` says whether the other values are."""
        name_field = {"item": "description", "product": "title"}.get(master, "name")
        # Patients and payers share one set of codes ("payment record --from CODE").
        other_party = {"patient": "payer", "payer": "patient"}.get(master)
        valid = (
            valid
            and not stale
            and code_ok(code)
            and name_ok(name)
            and code not in self.ids[master]
            and (other_party is None or code not in self.ids[other_party])
            and (master != "product" or name not in self.products)
            and amount_ok(values.get("fee_cents", 1))
        )
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        add = getattr(masters, f"add_{master}")
        ok, new_id = self.attempt(
            f"masters.add_{master}(code={code!r}, {name_field}={name!r}, {shown})",
            valid,
            lambda: add(uow, code=code, **{name_field: name}, **values),
        )
        if not ok:
            return
        assert isinstance(new_id, int) and new_id not in self.ids[master].values()
        self.ids[master][code] = new_id
        if master == "item":
            self.items[code] = (values["fee_cents"], values["taxable"])
        if master == "product":
            self.products[name] = (values["fee_cents"], values["taxable"])

    def master_values(
        self, data: st.DataObject, master: str, code: str
    ) -> tuple[bool, dict[str, Any]]:
        """The other values of a new master row: (valid, values)."""
        if master == "payer":
            return True, {"kind": PAYER_KINDS.get(code, PayerKind.FUND)}
        if master in ("item", "product"):
            fee = self.draw_amount(data, 30_000, label="fee")
            return True, {"fee_cents": fee, "taxable": data.draw(st.booleans(), label="taxable")}
        if master == "provider":
            company = data.draw(st.sampled_from([None, "Doctor One Pty Ltd"]), label="company")
            abn = self.pick(data, [None, VALID_ABN], [INVALID_ABN], "company_abn")
            gst = data.draw(st.booleans(), label="company_gst_registered")
            valid = abn != INVALID_ABN and (company is not None or (abn is None and not gst))
            values = {"company_name": company, "company_abn": abn, "company_gst_registered": gst}
            return valid, values
        return True, {}

    @initialize(data=st.data())
    def open_the_practice(self, data: st.DataObject) -> None:
        """The first location, provider, two patients, a fund, an item and a product; an
        invoice to a patient and one to the fund, each part paid."""
        for master, code in (
            ("location", "L1"), ("provider", "DR1"), ("patient", "P1"), ("patient", "P2"),
            ("payer", "F1"), ("item", "I1"), ("product", "PR1"),
        ):  # fmt: skip
            values: dict[str, Any] = {}
            if master == "payer":
                values["kind"] = PAYER_KINDS[code]
            if master in ("item", "product"):
                values["fee_cents"] = data.draw(st.integers(1, 30_000), label="fee")
                values["taxable"] = data.draw(st.booleans(), label="taxable")
            self.add(self.clock.uow(), False, master, code, NAMES[master][code], **values)
        # Work already under way: a patient's invoice and a fund's, part paid.
        today = self.today
        for patient, billed_to in (("P1", None), ("P2", "F1")):
            specs = [
                invoicing.LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="I1",
                    provider_code="DR1",
                    service_date=today - dt.timedelta(days=days_ago),
                )
                for days_ago in data.draw(
                    st.lists(st.integers(0, 20), min_size=1, max_size=2), label="service days ago"
                )
            ]
            self.charge(self.clock.uow(), False, today, patient, "L1", billed_to, specs)
        for payer in ("P1", "F1"):
            amount = data.draw(st.integers(1, 30_000), label=f"payment from {payer}")
            payment_id = self.receive(
                self.clock.uow(), False, today, payer, amount, PaymentMethod.EFTPOS, today, "L1"
            )
            assert payment_id is not None
            self.apply_oldest_first(self.clock.uow(), False, today, payment_id)

    @rule(data=st.data())
    def add_master_data(self, data: st.DataObject) -> None:
        """One of ``masters.add_*``, or the practice's GST registration."""
        master = data.draw(st.sampled_from([*NAMES, "practice"]), label="master")
        uow, stale = self.unit_of_work(data)
        if master == "practice":
            registered = data.draw(st.booleans(), label="gst_registered")
            ok, _ = self.attempt(
                f"masters.set_practice(gst_registered={registered})",
                not stale,
                lambda: masters.set_practice(uow, gst_registered=registered),
            )
            if ok:
                self.gst_registered = registered
            return
        code = self.pick(data, list(NAMES[master]), BAD_CODES, "code")
        default = NAMES[master].get(code, "Other")
        if master == "product":
            name = self.pick(data, [default, default, *TITLES], BAD_NAMES, "title")
        else:
            name = self.pick(data, [default], BAD_NAMES, "name")
        valid, values = self.master_values(data, master, code)
        self.add(uow, stale, master, code, name, valid, **values)

    # ------------------------------------------------------------------ invoicing

    def draw_line_spec(self, data: st.DataObject, today: dt.date) -> invoicing.LineSpec:
        kind = data.draw(
            st.sampled_from(
                [LineKind.SERVICE, LineKind.SERVICE, LineKind.CANCELLATION, LineKind.PRODUCT]
            ),
            label="kind",
        )
        fee_how = self.pick(
            data, ["default", "default", "given"], ["zero", "negative", "huge"], "fee"
        )
        if kind is LineKind.CANCELLATION and fee_how == "default":
            fee_how = self.pick(data, ["given"], ["default"], "fee")  # a cancellation needs one
        fee: int | None = None
        if fee_how == "given":
            fee = data.draw(st.integers(1, 50_000), label="fee")
        elif fee_how == "zero":
            fee = 0
        elif fee_how == "negative":
            fee = -data.draw(st.integers(1, 5_000), label="fee")
        elif fee_how == "huge":
            fee = data.draw(st.sampled_from(TOO_MANY_CENTS), label="fee")
        flags = {
            "client_billable": data.draw(st.booleans(), label="client_billable"),
            "insurance_open": data.draw(st.booleans(), label="insurance_open"),
            "inpatient": data.draw(st.booleans(), label="inpatient"),
        }
        if kind is LineKind.PRODUCT:
            title = self.pick(
                data, sorted(self.products) or TITLES, [UNKNOWN_TITLE, None], "product"
            )
            return invoicing.LineSpec(kind=kind, product_title=title, fee_cents=fee, **flags)
        provider = self.pick(
            data, [self.draw_code(data, "provider", "provider")], [None], "provider"
        )
        service_date = self.pick(
            data, [self.draw_past_date(data, today, "service date")], [None], "service date"
        )
        item = (
            self.pick(data, [self.draw_code(data, "item", "item")], [None], "item")
            if kind is LineKind.SERVICE
            else None
        )
        return invoicing.LineSpec(
            kind=kind,
            item_code=item,
            provider_code=provider,
            service_date=service_date,
            fee_cents=fee,
            **flags,
        )

    def expect_line(self, spec: invoicing.LineSpec, today: dt.date) -> ExpectedLine | None:
        """What a line will be charged, or None if the spec must be refused."""
        fee = spec.fee_cents
        if fee is not None and not amount_ok(fee):
            return None
        if spec.kind is LineKind.PRODUCT:
            if spec.product_title not in self.products:
                return None
            default, taxable = self.products[spec.product_title]
            effective = today
        else:
            if spec.provider_code not in self.ids["provider"] or spec.service_date is None:
                return None
            effective = spec.service_date
            if spec.kind is LineKind.CANCELLATION:
                if fee is None:
                    return None
                default, taxable = fee, False
            else:
                if spec.item_code not in self.items:
                    return None
                default, taxable = self.items[spec.item_code]
        if not self.is_open(effective):
            return None
        amount = default if fee is None else fee
        gst = gst_in(amount) if taxable and self.gst_registered else 0
        return ExpectedLine(amount_cents=amount, gst_cents=gst, sort_date=effective)

    @rule(data=st.data())
    def create_invoice(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        patient = self.draw_code(data, "patient", "patient")
        location = self.draw_code(data, "location", "location")
        billed_to = (
            self.draw_code(data, "payer", "billed_to")
            if data.draw(st.booleans(), label="billed to a payer")
            else None
        )
        count = self.pick(data, [1, 1, 2, 3], [0], "lines")
        specs = [self.draw_line_spec(data, today) for _ in range(count)]
        self.charge(uow, stale, today, patient, location, billed_to, specs)

    def charge(
        self,
        uow: UnitOfWork,
        stale: bool,
        today: dt.date,
        patient: str,
        location: str,
        billed_to: str | None,
        specs: list[invoicing.LineSpec],
    ) -> None:
        """``invoicing.create_invoice``, predicted and checked."""
        expected = [self.expect_line(spec, today) for spec in specs]
        valid = (
            not stale
            and len(specs) > 0
            and patient in self.ids["patient"]
            and location in self.ids["location"]
            and (billed_to is None or billed_to in self.ids["payer"])
            and all(e is not None for e in expected)
        )
        ok, created = self.attempt(
            f"invoicing.create_invoice(patient_code={patient!r}, location_code={location!r}, "
            f"billed_to_code={billed_to!r}, lines={specs!r})",
            valid,
            lambda: invoicing.create_invoice(
                uow,
                invoicing.CreateInvoice(
                    patient_code=patient,
                    location_code=location,
                    billed_to_code=billed_to,
                    lines=specs,
                ),
            ),
        )
        if not ok:
            return
        assert created is not None
        self.invoice_count += 1
        assert created.number == self.invoice_count, "invoice numbers must have no gaps"
        assert len(created.lines) == len(specs)
        for spec, want, line in zip(specs, expected, created.lines, strict=True):
            assert want is not None
            assert line.id not in self.lines
            assert line.kind is spec.kind
            assert (line.amount_cents, line.gst_cents) == (want.amount_cents, want.gst_cents)
            if spec.kind is not LineKind.PRODUCT:
                assert line.service_date == spec.service_date
            self.lines[line.id] = LineModel(
                id=line.id,
                patient=patient,
                payer=billed_to,
                sort_date=want.sort_date,
                insurance_open=spec.insurance_open,
                portions={billed_to: want.amount_cents},
            )
        assert created.total_cents == sum(e.amount_cents for e in expected if e is not None)

    @rule(data=st.data())
    def create_another_invoice(self, data: st.DataObject) -> None:
        """Invoices and payments are what every other use case works on: twice as often."""
        self.create_invoice(data)

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def set_insurance_status(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        line_id = self.draw_line(data)
        open_ = data.draw(st.booleans(), label="open")
        line = self.lines.get(line_id)
        valid = not stale and line is not None and not line.deleted
        ok, _ = self.attempt(
            f"invoicing.set_insurance_status(line_id={line_id}, open_={open_})",
            valid,
            lambda: invoicing.set_insurance_status(
                uow,
                invoicing.SetInsuranceStatus(
                    line_id=line_id,
                    status=InsuranceStatus.OPEN if open_ else InsuranceStatus.CLOSED,
                ),
            ),
        )
        if ok:
            assert line is not None
            line.insurance_open = open_

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def adjust_line(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        line_id = self.draw_line(data, lambda line: sum(line.portions.values()) > 0)
        line = self.lines.get(line_id)
        patient_portion = data.draw(st.booleans(), label="patient_portion")
        reason = data.draw(st.sampled_from(AdjustmentReason), label="reason")
        portion = None if line is None or patient_portion else line.payer
        owing = self.owing(line_id, portion)
        amount = self.draw_amount(data, owing)
        valid = (
            not stale
            and line is not None
            and not line.deleted
            and owing is not None
            and 0 < amount <= owing
            and self.is_open(today)
        )
        ok, entry_id = self.attempt(
            f"invoicing.adjust_line(line_id={line_id}, amount_cents={amount}, "
            f"reason={reason.value!r}, patient_portion={patient_portion})",
            valid,
            lambda: invoicing.adjust_line(
                uow,
                invoicing.AdjustLine(
                    line_id=line_id,
                    amount_cents=amount,
                    reason=reason,
                    note="generated",
                    patient_portion=patient_portion,
                ),
            ),
        )
        if ok:
            assert line is not None
            self.record_entry(entry_id)
            line.portions[portion] = line.portions.get(portion, 0) - amount

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def transfer_to_patient(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        line_id = self.draw_line(data, lambda line: line.portions.get(line.payer, 0) > 0)
        line = self.lines.get(line_id)
        reason = self.pick(data, ["gap"], [BLANK], "reason")
        owing = None if line is None or line.payer is None else self.owing(line_id, line.payer)
        amount = self.draw_amount(data, owing)
        valid = (
            not stale
            and line is not None
            and not line.deleted
            and owing is not None
            and 0 < amount <= owing
            and self.is_open(today)
            and bool(reason.strip())
        )
        ok, entry_id = self.attempt(
            f"invoicing.transfer_to_patient(line_id={line_id}, amount_cents={amount}, "
            f"reason={reason!r})",
            valid,
            lambda: invoicing.transfer(
                uow,
                invoicing.Transfer(
                    line_id=line_id, amount_cents=amount, reason=reason, to_patient=True
                ),
            ),
        )
        if ok:
            assert line is not None
            self.record_entry(entry_id)
            line.portions[line.payer] -= amount
            line.portions[None] = line.portions.get(None, 0) + amount

    @precondition(lambda self: bool(self.lines))
    @rule(data=st.data())
    def delete_line(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        paid = {a.line_id for a in self.allocations.values() if a.live}
        if paid and data.draw(st.booleans(), label="line: one with payments applied"):
            line_id = self.draw_line(data, lambda line: line.id in paid)
        else:
            line_id = self.draw_line(data)
        line = self.lines.get(line_id)
        reason = self.draw_reason(data)
        cascade = data.draw(st.booleans(), label="cascade")
        applied = sorted(
            (a for a in self.allocations.values() if a.line_id == line_id and a.live),
            key=lambda a: a.id,
        )
        valid = (
            bool(reason.strip())
            and not stale
            and line is not None
            and not line.deleted
            and self.is_open(today)
            and (cascade or not applied)
        )
        ok, entry_id = self.attempt(
            f"invoicing.delete_line(line_id={line_id}, reason={reason!r}, cascade={cascade})",
            valid,
            lambda: invoicing.delete_line(
                uow, invoicing.DeleteLine(line_id=line_id, reason=reason, cascade=cascade)
            ),
        )
        if ok:
            assert line is not None
            for allocation in applied:
                self.undo(allocation)
            self.record_entry(entry_id)
            line.portions = {portion: 0 for portion in line.portions}
            line.deleted = True

    # ------------------------------------------------------------------ payments

    @rule(data=st.data())
    def record_payment(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        debtors = sorted(
            {
                line.patient if portion is None else portion
                for line in self.lines.values()
                for portion, cents in line.portions.items()
                if cents > 0
            }
        )
        if debtors and data.draw(st.integers(0, 3), label="from: a debtor") < 3:
            code = data.draw(st.sampled_from(debtors), label="from")
        else:
            master = data.draw(st.sampled_from(["patient", "payer"]), label="from a")
            code = self.draw_code(data, master, "from")
        amount = self.draw_amount(data, None)
        method = data.draw(st.sampled_from(PaymentMethod), label="method")
        received = self.pick(
            data,
            [self.draw_past_date(data, today, "received")],
            [today + dt.timedelta(days=1), today + dt.timedelta(days=2)],
            "received",
        )
        location = self.draw_code(data, "location", "location")
        fee_how = self.pick(data, ["none", "none", "within"], ["over", "negative"], "fee")
        fee: int | None = None
        if fee_how == "within":
            fee = data.draw(st.integers(0, max(amount, 0)), label="fee")
        elif fee_how == "over":
            fee = max(amount, 0) + 1
        elif fee_how == "negative":
            fee = -1
        reference = self.pick(data, [None, "REF-1"], [LONG_REFERENCE], "reference")
        self.receive(uow, stale, today, code, amount, method, received, location, fee, reference)

    def receive(
        self,
        uow: UnitOfWork,
        stale: bool,
        today: dt.date,
        code: str,
        amount: int,
        method: PaymentMethod,
        received: dt.date,
        location: str,
        fee: int | None = None,
        reference: str | None = None,
    ) -> int | None:
        """``payments.record_payment``, predicted and checked: the new payment's id."""
        party = self.party(code)
        valid = (
            not stale
            and (fee is None or 0 <= fee <= amount)
            and party is not None
            and location in self.ids["location"]
            and received <= today
            and self.is_open(received)
            and amount_ok(amount)
            and (reference is None or len(reference) <= 100)
        )
        ok, payment_id = self.attempt(
            f"payments.record_payment(from_code={code!r}, amount_cents={amount}, "
            f"method={method.value!r}, received_date={received}, location_code={location!r}, "
            f"reference={reference!r}, processor_fee_cents={fee})",
            valid,
            lambda: payments.record_payment(
                uow,
                payments.RecordPayment(
                    from_code=code,
                    amount_cents=amount,
                    method=method,
                    received_date=received,
                    location_code=location,
                    reference=reference,
                    processor_fee_cents=fee,
                    note="generated",
                ),
            ),
        )
        if ok:
            assert isinstance(payment_id, int) and payment_id not in self.payments
            assert party is not None
            self.payments[payment_id] = PaymentModel(
                id=payment_id,
                patient=party[0],
                payer=party[1],
                amount_cents=amount,
                received_date=received,
                unallocated_cents=amount,
            )
            return payment_id
        return None

    @rule(data=st.data())
    def record_another_payment(self, data: st.DataObject) -> None:
        self.record_payment(data)

    def fits(self, payment: PaymentModel | None) -> Callable[[LineModel], bool]:
        """Lines a payment may be applied to (deleted or not)."""
        if payment is None:
            return lambda line: True
        return lambda line: (
            line.portions.get(payment.payer, 0) > 0
            and (payment.payer is not None or line.patient == payment.patient)
        )

    def can_apply(self, payment: PaymentModel) -> bool:
        fits = self.fits(payment)
        return payment.unallocated_cents > 0 and any(
            fits(line) for line in self.lines.values() if not line.deleted
        )

    @precondition(lambda self: bool(self.payments) and bool(self.lines))
    @rule(data=st.data())
    def allocate(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        payment_id = self.draw_payment(data, self.can_apply)
        payment = self.payments.get(payment_id)
        count = self.pick(data, [1, 1, 1, 2, 3], [0], "targets")
        targets = []
        for _ in range(count):
            line_id = self.draw_line(data, self.fits(payment))
            owing = None if payment is None else self.owing(line_id, payment.payer)
            limit = (
                None if payment is None or owing is None else min(owing, payment.unallocated_cents)
            )
            targets.append((line_id, self.draw_amount(data, limit)))
        valid = (
            not stale
            and count > 0
            and payment is not None
            and not payment.reversed
            and self.is_open(today)
        )
        if valid:
            assert payment is not None
            unallocated = payment.unallocated_cents
            owing_now = {i: dict(line.portions) for i, line in self.lines.items()}
            for line_id, amount in targets:
                line = self.lines.get(line_id)
                if (
                    line is None
                    or line.deleted
                    or (payment.payer is None and line.patient != payment.patient)
                    or not 0 < amount <= unallocated
                    or amount > owing_now[line_id].get(payment.payer, 0)
                ):
                    valid = False
                    break
                unallocated -= amount
                owing_now[line_id][payment.payer] = (
                    owing_now[line_id].get(payment.payer, 0) - amount
                )
        ok, made = self.attempt(
            f"payments.allocate(payment_id={payment_id}, targets={targets})",
            valid,
            lambda: payments.allocate(
                uow, payments.Allocate(payment_id=payment_id, targets=targets)
            ),
        )
        if ok:
            assert made is not None and payment is not None
            assert [(a.line_id, a.amount_cents) for a in made] == targets
            assert all(a.payment_id == payment_id for a in made)
            self.record_allocations(made, {payment_id: payment.payer})

    @precondition(lambda self: bool(self.payments))
    @rule(data=st.data())
    def auto_allocate(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        payment_id = self.draw_payment(data, self.can_apply)
        self.apply_oldest_first(uow, stale, today, payment_id)

    def apply_oldest_first(
        self, uow: UnitOfWork, stale: bool, today: dt.date, payment_id: int
    ) -> None:
        """``payments.auto_allocate``, predicted and checked."""
        payment = self.payments.get(payment_id)
        valid = not stale and payment is not None and not payment.reversed and self.is_open(today)
        plan = []
        if payment is not None:
            fits = self.fits(payment)
            owing = sorted(
                (line for line in self.lines.values() if not line.deleted and fits(line)),
                key=lambda line: (line.sort_date, line.id),
            )
            plan = oldest_first(
                payment.unallocated_cents,
                [(line.id, line.portions[payment.payer]) for line in owing],
            )
        ok, made = self.attempt(
            f"payments.auto_allocate(payment_id={payment_id})",
            valid,
            lambda: payments.allocate(uow, payments.Allocate(payment_id=payment_id, auto=True)),
        )
        if ok:
            assert made is not None and payment is not None
            assert [(a.line_id, a.amount_cents) for a in made] == plan
            assert all(a.payment_id == payment_id for a in made)
            self.record_allocations(made, {payment_id: payment.payer})

    @precondition(lambda self: bool(self.allocations))
    @rule(data=st.data())
    def unallocate(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        live = [a.id for a in self.allocations.values() if a.live]
        known = [*self.allocations, *self.other_entries]
        allocation_id = self.draw_id(data, known, live, "allocation")
        allocation = self.allocations.get(allocation_id)
        reason = self.draw_reason(data)
        valid = (
            bool(reason.strip())
            and not stale
            and self.is_open(today)
            and allocation is not None
            and allocation.live
        )
        ok, entry_id = self.attempt(
            f"payments.unallocate(allocation_id={allocation_id}, reason={reason!r})",
            valid,
            lambda: payments.unallocate(
                uow, payments.Unallocate(allocation_id=allocation_id, reason=reason)
            ),
        )
        if ok:
            assert allocation is not None
            self.record_entry(entry_id)
            self.undo(allocation)

    @precondition(lambda self: bool(self.allocations))
    @rule(data=st.data())
    def unallocate_another(self, data: st.DataObject) -> None:
        """Corrections are the heart of the journal: un-allocations twice as often."""
        self.unallocate(data)

    @precondition(lambda self: bool(self.payments))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        payment_id = self.draw_payment(data, lambda p: p.unallocated_cents > 0)
        payment = self.payments.get(payment_id)
        amount = self.draw_amount(data, None if payment is None else payment.unallocated_cents)
        reason = self.draw_reason(data)
        valid = (
            bool(reason.strip())
            and not stale
            and payment is not None
            and not payment.reversed
            and 0 < amount <= payment.unallocated_cents
            and self.is_open(today)
        )
        ok, entry_id = self.attempt(
            f"payments.refund(payment_id={payment_id}, amount_cents={amount}, reason={reason!r})",
            valid,
            lambda: payments.refund(
                uow, payments.Refund(payment_id=payment_id, amount_cents=amount, reason=reason)
            ),
        )
        if ok:
            assert payment is not None
            self.record_entry(entry_id)
            payment.unallocated_cents -= amount
            payment.refunded_cents += amount

    @precondition(lambda self: bool(self.payments))
    @rule(data=st.data())
    def reverse_payment(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        applied = {a.payment_id for a in self.allocations.values() if a.live}
        if applied and data.draw(st.booleans(), label="payment: one applied to lines"):
            payment_id = self.draw_payment(data, lambda p: p.id in applied)
        else:
            payment_id = self.draw_payment(data)
        payment = self.payments.get(payment_id)
        reason = self.draw_reason(data)
        valid = (
            bool(reason.strip())
            and not stale
            and payment is not None
            and not payment.reversed
            and payment.refunded_cents == 0
            and self.is_open(today)
        )
        ok, entry_id = self.attempt(
            f"payments.reverse_payment(payment_id={payment_id}, reason={reason!r})",
            valid,
            lambda: payments.reverse_payment(
                uow, payments.ReversePayment(payment_id=payment_id, reason=reason)
            ),
        )
        if ok:
            assert payment is not None
            for allocation in sorted(self.allocations.values(), key=lambda a: a.id):
                if allocation.payment_id == payment_id and allocation.live:
                    self.undo(allocation)
            self.record_entry(entry_id)
            payment.unallocated_cents -= payment.amount_cents
            payment.reversed = True

    @precondition(lambda self: bool(self.payments))
    @rule(data=st.data())
    def apply_credit(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        patient = self.draw_code(data, "patient", "patient")
        sources = sorted(
            (
                p
                for p in self.payments.values()
                if p.patient == patient and not p.reversed and p.unallocated_cents > 0
            ),
            key=lambda p: (p.received_date, p.id),
        )
        credit = sum(p.unallocated_cents for p in sources)
        how = self.pick(data, ["auto", "targets"], ["no targets"], "to")
        targets: list[tuple[int, int]] | None = None
        if how == "auto":
            own = sorted(
                (
                    line
                    for line in self.lines.values()
                    if line.patient == patient
                    and not line.deleted
                    and line.portions.get(None, 0) > 0
                ),
                key=lambda line: (line.sort_date, line.id),
            )
            wanted = oldest_first(credit, [(line.id, line.portions[None]) for line in own])
        else:
            count = 0 if how == "no targets" else data.draw(st.integers(1, 2), label="targets")
            targets = []
            for _ in range(count):
                line_id = self.draw_line(
                    data, lambda line: line.patient == patient and line.portions.get(None, 0) > 0
                )
                owing = self.owing(line_id, None)
                limit = None if owing is None else min(owing, credit)
                targets.append((line_id, self.draw_amount(data, limit, "credit amount")))
            wanted = targets
        valid = (
            not stale
            and patient in self.ids["patient"]
            and self.is_open(today)
            and (targets is None or len(targets) > 0)
            and all(amount > 0 for _, amount in wanted)
            and sum(amount for _, amount in wanted) <= credit
        )
        expected: list[tuple[int, int, int]] = []  # (line, payment, amount), in order
        if valid:
            remaining = {p.id: p.unallocated_cents for p in sources}
            owing_now = {i: line.portions.get(None, 0) for i, line in self.lines.items()}
            for line_id, amount in wanted:
                line = self.lines.get(line_id)
                for payment_id, part in oldest_first(amount, list(remaining.items())):
                    if (
                        line is None
                        or line.deleted
                        or line.patient != patient
                        or part > owing_now[line_id]
                    ):
                        valid = False
                        break
                    expected.append((line_id, payment_id, part))
                    remaining[payment_id] -= part
                    owing_now[line_id] -= part
        ok, made = self.attempt(
            f"payments.apply_credit(patient_code={patient!r}, targets={targets})",
            valid,
            lambda: payments.apply_credit(
                uow,
                payments.ApplyCredit(
                    patient_code=patient,
                    targets=() if targets is None else tuple(targets),
                    auto=targets is None,
                ),
            ),
        )
        if ok:
            assert made is not None
            assert [(a.line_id, a.payment_id, a.amount_cents) for a in made] == expected
            self.record_allocations(made, {a.payment_id: None for a in made})

    # ------------------------------------------------------------------ periods and time

    @rule(data=st.data())
    def close_period(self, data: st.DataObject) -> None:
        uow, stale = self.unit_of_work(data)
        today = self.today
        through = self.pick(
            data,
            [self.draw_past_date(data, today, "through")],
            [today + dt.timedelta(days=1)],
            "through",
        )
        valid = (
            not stale
            and through <= today
            and (self.closed_through is None or through > self.closed_through)
        )
        ok, _ = self.attempt(
            f"periods.close_period(through={through})",
            valid,
            lambda: periods.close_period(uow, periods.ClosePeriod(through=through)),
        )
        if ok:
            self.closed_through = through

    @rule(days=st.integers(1, 10))
    def next_days(self, days: int) -> None:
        """Business goes on some days later, at ten in the morning."""
        self.clock.now = dt.datetime.combine(self.today + dt.timedelta(days=days), dt.time(10))
        note(f"the clock moves to {self.clock.now} (practice time)")

    @rule(data=st.data())
    def remember_balances(self, data: st.DataObject) -> None:
        """Take note of every party's balance as known now, to check that it never changes."""
        days_ago = data.draw(st.one_of(st.none(), st.integers(0, 20)), label="as_of: days ago")
        as_of = None if days_ago is None else self.today - dt.timedelta(days=days_ago)
        with reading(self.engine) as conn:
            at = conn.execute(select(t.ledger_clock.c.last_recorded_at)).scalar_one()
            if as_of is None:
                found = self.model_balances()
            else:
                found = {
                    party: self.party_balance(conn, party, as_of=as_of)
                    for party in self.model_balances()
                }
        self.known = [*self.known[-7:], KnownAt(at=at, as_of=as_of, balances=found)]
        note(f"remember balances as of {as_of} as known at {at} UTC: {found}")

    # ------------------------------------------------------------------ invariants

    @invariant()
    def ledger_is_sound(self) -> None:
        with reading(self.engine) as conn:
            self.check_entries_balance(conn)
            self.check_balances(conn)
            self.check_known_at(conn)
        violations = check.check_ledger(self.engine).violations
        assert violations == (), f"check_ledger found {violations}"

    def check_entries_balance(self, conn: Connection) -> None:
        total = func.sum(t.postings.c.amount_cents)
        unbalanced = conn.execute(
            select(t.postings.c.entry_id, total).group_by(t.postings.c.entry_id).having(total != 0)
        ).all()
        assert unbalanced == [], f"entries whose postings do not sum to zero: {unbalanced}"

    def check_balances(self, conn: Connection) -> None:
        for line in self.lines.values():
            want = {self.payer_id(k): cents for k, cents in line.portions.items() if cents}
            got = {k: cents for k, cents in ledger.line_portions(conn, line.id).items() if cents}
            assert got == want, f"line {line.id} portions {got}, model {want}"
            for portion in {None, line.payer}:
                owing = lookups.line_owing_cents(conn, line.id, self.payer_id(portion))
                assert owing == line.portions.get(portion, 0), (line.id, portion, owing)
            applied = sum(
                a.amount_cents for a in self.allocations.values() if a.line_id == line.id and a.live
            )
            allocated = lookups.line_allocated_cents(conn, line.id)
            assert allocated == applied, (
                f"line_allocated_cents(line {line.id}) = {allocated}; payments applied: {applied}"
            )
            receivable = lookups.receivable_balance(conn, line_id=line.id)
            assert receivable == sum(line.portions.values()), (line.id, receivable)
        for p in self.payments.values():
            unallocated = lookups.payment_unallocated_cents(conn, p.id)
            assert unallocated == p.unallocated_cents, (p.id, unallocated, p.unallocated_cents)
            refunded = lookups.payment_refunded_cents(conn, p.id)
            assert refunded == p.refunded_cents, (p.id, refunded, p.refunded_cents)
        live = {
            (a.id, a.line_id, a.payment_id, a.amount_cents) for a in ledger.live_allocations(conn)
        }
        want_live = {
            (a.id, a.line_id, a.payment_id, a.amount_cents)
            for a in self.allocations.values()
            if a.live
        }
        assert live == want_live, f"live allocations {live}, model {want_live}"
        for party, want in self.model_balances().items():
            got = self.party_balance(conn, party)
            assert got == want, f"{party} (charges, unallocated) = {got}, model {want}"
        line_state = {
            row.id: (row.insurance_status == "open", row.deleted_at is not None)
            for row in conn.execute(
                select(t.lines.c.id, t.lines.c.insurance_status, t.lines.c.deleted_at)
            )
        }
        assert line_state == {
            line.id: (line.insurance_open, line.deleted) for line in self.lines.values()
        }
        reversed_ = {
            row.id: row.reversed_at is not None
            for row in conn.execute(select(t.payments.c.id, t.payments.c.reversed_at))
        }
        assert reversed_ == {p.id: p.reversed for p in self.payments.values()}
        numbers = conn.execute(select(func.count(), func.max(t.invoices.c.number))).one()
        assert tuple(numbers) == (self.invoice_count, self.invoice_count or None)
        closed = ledger.closed_through(conn)
        assert closed == self.closed_through

    def check_known_at(self, conn: Connection) -> None:
        for known in self.known:
            for party, want in known.balances.items():
                got = self.party_balance(conn, party, as_of=known.as_of, as_known_at=known.at)
                assert got == want, (
                    f"{party} as of {known.as_of} as known at {known.at} was {want}, now {got}"
                )
        if self.known:
            # The service's view, given an aware instant, agrees with the store's.
            latest = self.known[-1]
            for (kind, code), (charges, unallocated) in latest.balances.items():
                view = balances.balance(
                    self.engine,
                    patient_code=code if kind == "patient" else None,
                    payer_code=code if kind == "payer" else None,
                    as_of=latest.as_of,
                    as_known_at=latest.at.replace(tzinfo=dt.UTC),
                )
                assert (view.charges_cents, view.unallocated_cents) == (charges, unallocated)
                assert view.balance_cents == charges - unallocated


Cleanup = Callable[[], None]


def backend_engines(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], tuple[Engine, Cleanup]]:
    """A fresh, empty ledger database per run of the machine, and how to let it go."""
    if engine.dialect.name == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        numbers = itertools.count()

        def fresh_sqlite() -> tuple[Engine, Cleanup]:
            path = tmp_path / f"ledger-{next(numbers)}.db"
            shutil.copy(template, path)
            made = make_engine(str(path))

            def cleanup() -> None:  # shrinking runs the machine hundreds of times
                made.dispose()
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)

            return made, cleanup

        return fresh_sqlite

    def fresh_postgresql() -> tuple[Engine, Cleanup]:
        reset_pg(engine)
        return engine, lambda: None

    return fresh_postgresql


@pytest.mark.slow
def test_every_use_case_keeps_the_ledger_sound(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    class Machine(LedgerMachine):
        fresh_engine = staticmethod(backend_engines(engine, request, tmp_path))

    run_state_machine_as_test(Machine, settings=SETTINGS)
