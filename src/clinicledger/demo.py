"""The demo practice: a deterministic, realistic two years of a three-location allied-health
practice, built through the same services a front desk uses (generated people only).

Harbourside Allied Health: 3 locations, 8 providers in five disciplines, 400 patients, a
health fund, Medicare (bulk billing) and a workers' compensation insurer. Patients pay at
the desk by every method, later by transfer, or in advance (credit); funds pay monthly with
the gap moved to the patient, sometimes overpaying (returned later); Medicare benefits are
accepted as full payment (the rest written off); cheques bounce and are reversed; lines
keyed twice are deleted; a few debts go bad. The financial year 2024-25 is closed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from clinicledger.domain.choices import (
    AdjustmentReason,
    InsuranceStatus,
    LineKind,
    PayerKind,
    PaymentMethod,
)
from clinicledger.domain.errors import Conflict
from clinicledger.domain.money import divide_rounded
from clinicledger.reports.summary import LedgerSummary, ledger_summary
from clinicledger.services import check, invoicing, masters, payments, periods
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import bulk, ledger, lookups, schema
from clinicledger.store.engine import Connection, Engine
from clinicledger.store.uow import SharedTransaction, UnitOfWork, reading

START = dt.date(2024, 11, 1)
END = dt.date(2026, 10, 30)
DEMO_NAME = "Harbourside Allied Health (demo)"
DEMO_ACTOR = "demo"  # who the demo's entries and audit records name
PATIENTS = 400

FIRST_NAMES = (
    "Ava",
    "Noah",
    "Mia",
    "Leo",
    "Isla",
    "Jack",
    "Zoe",
    "Liam",
    "Ruby",
    "Oscar",
    "Chloe",
    "Henry",
    "Grace",
    "Lucas",
    "Ella",
    "Mason",
    "Sienna",
    "Ethan",
    "Harper",
    "Archie",
    "Willow",
    "Hugo",
    "Aria",
    "Finn",
    "Ivy",
    "Theo",
    "Layla",
    "Max",
    "Evie",
    "Arlo",
)
LAST_NAMES = (
    "Ashdown",
    "Bellamy",
    "Carrow",
    "Dunmore",
    "Ellery",
    "Fairley",
    "Garland",
    "Hollis",
    "Ivers",
    "Jessop",
    "Kettering",
    "Lockwood",
    "Marlow",
    "Norcott",
    "Oakley",
    "Pendry",
    "Quill",
    "Ravenhill",
    "Stanway",
    "Thorne",
    "Upwood",
    "Varley",
    "Winslow",
    "Yardley",
)
LOCATIONS = (("HBR", "Harbourside"), ("NTH", "Northside"), ("WST", "Westgate"))
# code, name, discipline, home location, private company (or None)
PROVIDERS = (
    ("PHY1", "Dr Alex Marlow", "physio", "HBR", "Marlow Physio Pty Ltd"),
    ("PHY2", "Sam Ellery", "physio", "NTH", None),
    ("PHY3", "Jordan Quill", "physio", "WST", "Quill Health Pty Ltd"),
    ("PSY1", "Dr Robin Hollis", "psych", "HBR", "Hollis Psychology Pty Ltd"),
    ("PSY2", "Casey Thorne", "psych", "NTH", None),
    ("OT1", "Morgan Fairley", "ot", "WST", None),
    ("DIET1", "Riley Garland", "diet", "HBR", None),
    ("EP1", "Jamie Oakley", "ep", "NTH", "Oakley Exercise Pty Ltd"),
)
# code, description, fee (cents), taxable
ITEMS = (
    ("PHY-INIT", "Physiotherapy initial consultation", 12000, False),
    ("PHY-STD", "Physiotherapy standard consultation", 9500, False),
    ("PSY-50", "Psychology session, 50 minutes", 22000, False),
    ("OT-STD", "Occupational therapy consultation", 18000, False),
    ("DIET", "Dietetics consultation", 11000, False),
    ("EP-STD", "Exercise physiology session", 9000, False),
    ("EP-CLASS", "Exercise physiology group class", 4500, False),
    ("MBS-10960", "Allied health service, chronic disease plan (bulk billed)", 6830, False),
    ("REPORT", "Medico-legal report", 35000, True),
)
ITEMS_BY_DISCIPLINE = {
    "physio": ("PHY-STD", "PHY-STD", "PHY-STD", "PHY-INIT"),
    "psych": ("PSY-50",),
    "ot": ("OT-STD",),
    "diet": ("DIET",),
    "ep": ("EP-STD", "EP-CLASS"),
}
PRODUCTS = (
    ("TB3", "Theraband, 3 m", 1800),
    ("HCP", "Hot/cold pack", 2500),
    ("LR", "Lumbar roll", 3900),
)
FUND, MEDICARE, INSURER = "HHF", "MEDICARE", "CWI"
PAYERS = (
    (FUND, "Harbour Health Fund", PayerKind.FUND),
    (MEDICARE, "Medicare", PayerKind.MEDICARE),
    (INSURER, "Coastal Workers Insurance", PayerKind.INSURER),
)
DESK_METHODS = (
    (PaymentMethod.EFTPOS, 40),
    (PaymentMethod.CREDIT_CARD, 20),
    (PaymentMethod.HICAPS, 12),
    (PaymentMethod.CASH, 10),
    (PaymentMethod.ONLINE_CARD, 8),
    (PaymentMethod.CHEQUE, 5),
    (PaymentMethod.DIRECT_DEPOSIT, 4),
    (PaymentMethod.OTHER, 1),
)
FUND_SHARE_PERCENT = 70
MEDICARE_BENEFIT_PERCENT = 85


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSummary:
    seed: int
    built: bool
    summary: LedgerSummary
    violations: int

    def as_json(self) -> dict[str, object]:
        from clinicledger.domain.money import format_cents as f

        s = self.summary
        return {
            "seed": self.seed,
            "built": self.built,
            "counts": s.counts,
            "charged": f(s.charged_cents),
            "gst": f(s.gst_cents),
            "received": f(s.received_cents),
            "applied": f(s.applied_cents),
            "credit_used": f(s.credit_used_cents),
            "refunded": f(s.refunded_cents),
            "reversed": f(s.reversed_cents),
            "adjusted": f(s.adjusted_cents),
            "patients_owing": f(s.patients_owing_cents),
            "patients_credit": f(s.patients_credit_cents),
            "payers": [
                {
                    "code": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "owing": f(p.owing_cents),
                    "unallocated": f(p.unallocated_cents),
                }
                for p in s.payers
            ],
            "open_insurance_lines": s.open_insurance_lines,
            "check_violations": self.violations,
        }


@dataclass
class Patient:
    code: str
    funding: str  # private | fund | medicare | insurer
    habit: str  # desk | later | prepay | bad
    provider: str
    location: str
    discipline: str


@dataclass
class Demo:
    engine: Engine
    rng: random.Random
    # every unit of work of the build, and every read between them (see build)
    shared: SharedTransaction
    now: dt.datetime = field(default_factory=lambda: dt.datetime.combine(START, dt.time(7)))
    agenda: dict[dt.date, list[Callable[[dt.date], object]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    fund_lines: list[tuple[int, int, str]] = field(default_factory=list)  # line, fee, patient
    medicare_lines: list[tuple[int, int]] = field(default_factory=list)
    insurer_lines: list[tuple[int, int]] = field(default_factory=list)
    # the service date of each line billed to a payer, as it was charged: a batch picks the
    # lines serviced before its cut-off without asking the ledger line by line
    service_dates: dict[int, dt.date] = field(default_factory=dict)

    def uow(self, day: dt.date) -> UnitOfWork:
        """A unit of work stamped during ``day``'s opening hours, after the one before."""
        self.now = max(dt.datetime.combine(day, dt.time(8)), self.now + dt.timedelta(minutes=1))
        return UnitOfWork(
            self.engine, now=self.now, actor=DEMO_ACTOR, strict_clock=True, within=self.shared
        )

    @property
    def conn(self) -> Connection:
        """For reading between units of work: it sees what they wrote."""
        return self.shared.conn

    def later(self, day: dt.date, action: Callable[[dt.date], object]) -> None:
        if day <= END:
            self.agenda[day].append(action)

    def method(self) -> PaymentMethod:
        methods = [method for method, _ in DESK_METHODS]
        weights = [weight for _, weight in DESK_METHODS]
        chosen: PaymentMethod = self.rng.choices(methods, weights)[0]
        return chosen

    # ------------------------------------------------------------------ set-up

    def set_up(self) -> list[Patient]:
        day = START
        masters.set_practice(
            self.uow(day),
            name=DEMO_NAME,
            abn="51824753556",
            gst_registered=True,
            timezone="Australia/Sydney",
            currency="AUD",
        )
        for code, name in LOCATIONS:
            masters.add_location(self.uow(day), code=code, name=name)
        for n, (code, name, _, _, company) in enumerate(PROVIDERS):
            masters.add_provider(
                self.uow(day),
                code=code,
                name=name,
                company_name=company,
                company_abn=_abn(self.rng) if company else None,
                company_gst_registered=company is not None and n % 2 == 0,
            )
        for code, name, kind in PAYERS:
            masters.add_payer(self.uow(day), code=code, name=name, kind=kind)
        for code, description, fee, taxable in ITEMS:
            masters.add_item(
                self.uow(day), code=code, description=description, fee_cents=fee, taxable=taxable
            )
        for code, title, fee in PRODUCTS:
            masters.add_product(self.uow(day), code=code, title=title, fee_cents=fee)
        people = []
        for n in range(1, PATIENTS + 1):
            code = f"PT{n:04d}"
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            masters.add_patient(self.uow(day), code=code, name=name)
            provider = self.rng.choice(PROVIDERS)
            funding = self.rng.choices(
                ("private", "fund", "medicare", "insurer"), (55, 20, 15, 10)
            )[0]
            habit = self.rng.choices(("desk", "later", "prepay", "bad"), (80, 12, 5, 3))[0]
            people.append(
                Patient(
                    code=code,
                    funding=funding,
                    habit=habit,
                    provider=provider[0],
                    location=provider[3],
                    discipline=provider[2],
                )
            )
        return people

    def schedule_sessions(self, people: list[Patient]) -> None:
        span = (END - START).days - 20
        for patient in people:
            first = START + dt.timedelta(days=1 + self.rng.randrange(span))
            count = self.rng.choices((1, 2, 4, 6, 8, 12, 20), (10, 15, 20, 20, 15, 12, 8))[0]
            step = self.rng.choice((7, 7, 14, 21))
            for k in range(count):
                day = first + dt.timedelta(days=k * step)
                if day.weekday() == 6:
                    day += dt.timedelta(days=1)
                self.later(day, partial(self.session, patient, k))
        for month_start in _months(START, END):
            self.later(month_start.replace(day=10), self.fund_batch)
            self.later(month_start.replace(day=20), self.insurer_batch)
            self.later(month_start.replace(day=5), self.medicare_batch)
            self.later(month_start.replace(day=19), self.medicare_batch)
        self.later(
            dt.date(2025, 7, 14),
            lambda d: periods.close_period(
                self.uow(d), periods.ClosePeriod(through=dt.date(2025, 6, 30))
            ),
        )

    def run(self, progress: Callable[[str, int, int], None] | None = None) -> None:
        """Work through the agenda day by day; actions may add to later days. ``progress``
        is told the days done of the demo's span as it goes."""
        days = (END - START).days + 1
        while self.agenda:
            day = min(self.agenda)
            for action in self.agenda.pop(day):
                action(day)
            if progress is not None:
                progress("days", (day - START).days + 1, days)
        if progress is not None:
            progress("days", days, days)  # to the end of the span, busy to its last day or not

    # ------------------------------------------------------------------ front desk

    def session(self, p: Patient, k: int, day: dt.date) -> None:
        rng = self.rng
        if p.funding == "private" and k > 0 and rng.random() < 0.03:
            self.no_show(p, day)
            return
        item = ITEMS_BY_DISCIPLINE[p.discipline][0 if k else -1]
        billed_to = {"private": None, "fund": FUND, "medicare": MEDICARE, "insurer": INSURER}[
            p.funding
        ]
        if p.funding == "medicare":
            item = "MBS-10960"
        spec = LineSpec(
            kind=LineKind.SERVICE,
            item_code=item,
            provider_code=p.provider,
            service_date=day,
            insurance_open=billed_to is not None,
        )
        invoice = invoicing.create_invoice(
            self.uow(day),
            invoicing.CreateInvoice(
                patient_code=p.code,
                location_code=p.location,
                billed_to_code=billed_to,
                lines=(spec,),
            ),
        )
        line = invoice.lines[0]
        self.service_dates[line.id] = day
        if rng.random() < 0.01:  # keyed twice by mistake: the copy is deleted
            copy = invoicing.create_invoice(
                self.uow(day),
                invoicing.CreateInvoice(
                    patient_code=p.code,
                    location_code=p.location,
                    billed_to_code=billed_to,
                    lines=(spec,),
                ),
            )
            invoicing.delete_line(
                self.uow(day),
                invoicing.DeleteLine(line_id=copy.lines[0].id, reason="entered twice"),
            )
        if p.funding == "fund":
            self.fund_lines.append((line.id, line.amount_cents, p.code))
            return
        if p.funding == "medicare":
            self.medicare_lines.append((line.id, line.amount_cents))
            return
        if p.funding == "insurer":
            self.insurer_lines.append((line.id, line.amount_cents))
            return
        if rng.random() < 0.03:
            discount = divide_rounded(line.amount_cents, 10)
            invoicing.adjust_line(
                self.uow(day),
                invoicing.AdjustLine(
                    line_id=line.id,
                    amount_cents=discount,
                    reason=AdjustmentReason.DISCOUNT,
                    note="concession card",
                ),
            )
        lines = [line.id]
        if rng.random() < 0.05:
            _, title, _ = rng.choice(PRODUCTS)
            sale = invoicing.create_invoice(
                self.uow(day),
                invoicing.CreateInvoice(
                    patient_code=p.code,
                    location_code=p.location,
                    billed_to_code=None,
                    lines=(LineSpec(kind=LineKind.PRODUCT, product_title=title),),
                ),
            )
            lines.append(sale.lines[0].id)
        self.settle(p, day, lines)

    def no_show(self, p: Patient, day: dt.date) -> None:
        invoicing.create_invoice(
            self.uow(day),
            invoicing.CreateInvoice(
                patient_code=p.code,
                location_code=p.location,
                billed_to_code=None,
                lines=(
                    LineSpec(
                        kind=LineKind.CANCELLATION,
                        provider_code=p.provider,
                        service_date=day,
                        fee_cents=5000,
                    ),
                ),
            ),
        )
        if self.rng.random() < 0.6:
            self.later(
                day + dt.timedelta(days=self.rng.randrange(1, 10)),
                lambda d: self.pay_owing(p, d, PaymentMethod.ONLINE_CARD),
            )

    def owing(self, p: Patient, line_ids: list[int]) -> int:
        conn = self.conn
        return sum(lookups.line_owing_cents(conn, line_id, None) for line_id in line_ids)

    def credit(self, p: Patient) -> int:
        conn = self.conn
        found = lookups.party_balance(conn, patient_id=lookups.id_for_code(conn, "patient", p.code))
        return found.unallocated_cents

    def settle(self, p: Patient, day: dt.date, lines: list[int]) -> None:
        """The patient at the desk after a session: credit first, then pay by habit."""
        if self.credit(p) > 0:
            payments.apply_credit(
                self.uow(day), payments.ApplyCredit(patient_code=p.code, auto=True)
            )
        if self.owing(p, lines) == 0:
            return
        if p.habit == "bad":
            self.later(day + dt.timedelta(days=120), lambda d: self.write_off(p, d, lines))
        elif p.habit == "later":
            self.later(
                day + dt.timedelta(days=self.rng.randrange(5, 25)),
                lambda d: self.pay_owing(p, d, PaymentMethod.DIRECT_DEPOSIT),
            )
        elif p.habit == "prepay":
            fee = self.owing(p, lines)
            self.pay(p, day, fee * 5, PaymentMethod.EFTPOS, note="block of five sessions")
        else:
            self.pay_owing(p, day, self.method())

    def pay_owing(self, p: Patient, day: dt.date, method: PaymentMethod) -> None:
        conn = self.conn
        owing = lookups.party_balance(
            conn, patient_id=lookups.id_for_code(conn, "patient", p.code)
        ).charges_cents
        if owing <= 0:
            return
        extra = 500 if self.rng.random() < 0.03 else 0  # rounded up; left as credit
        self.pay(p, day, owing + extra, method)

    def pay(
        self, p: Patient, day: dt.date, amount: int, method: PaymentMethod, note: str | None = None
    ) -> None:
        payment_id = payments.record_payment(
            self.uow(day),
            payments.RecordPayment(
                from_code=p.code,
                amount_cents=amount,
                method=method,
                received_date=day,
                location_code=p.location,
                note=note,
                reference=f"R{self.rng.randrange(10**6):06d}"
                if method is not PaymentMethod.CASH
                else None,
                processor_fee_cents=divide_rounded(amount * 15, 1000)
                if method in (PaymentMethod.CREDIT_CARD, PaymentMethod.ONLINE_CARD)
                else None,
            ),
        )
        payments.allocate(self.uow(day), payments.Allocate(payment_id=payment_id, auto=True))
        if method is PaymentMethod.CHEQUE and self.rng.random() < 0.15:
            self.later(day + dt.timedelta(days=5), lambda d: self.bounce(p, d, payment_id))
        elif self.rng.random() < 0.01:
            self.later(day + dt.timedelta(days=3), lambda d: self.refund_credit(p, d))

    def bounce(self, p: Patient, day: dt.date, payment_id: int) -> None:
        payments.reverse_payment(
            self.uow(day),
            payments.ReversePayment(payment_id=payment_id, reason="cheque dishonoured"),
        )
        self.pay_owing(p, day, PaymentMethod.EFTPOS)

    def refund_credit(self, p: Patient, day: dt.date) -> None:
        conn = self.conn
        credit = ledger.credit_payments(conn, lookups.id_for_code(conn, "patient", p.code))
        for payment_id, amount in credit:
            if amount > 0:
                payments.refund(
                    self.uow(day),
                    payments.Refund(
                        payment_id=payment_id,
                        amount_cents=amount,
                        reason="credit returned at patient's request",
                    ),
                )

    def write_off(self, p: Patient, day: dt.date, lines: list[int]) -> None:
        for line_id in lines:
            owing = self.owing(p, [line_id])
            if owing > 0:
                invoicing.adjust_line(
                    self.uow(day),
                    invoicing.AdjustLine(
                        line_id=line_id,
                        amount_cents=owing,
                        reason=AdjustmentReason.BAD_DEBT,
                        note="unpaid after 120 days and three reminders",
                    ),
                )

    # ------------------------------------------------------------------ payers

    def fund_batch(self, day: dt.date) -> None:
        """The fund pays last month's claims: 70% of each fee (nothing on a few rejected
        claims); the gap moves to the patient, who pays it; sometimes the fund overpays."""
        cutoff = day.replace(day=1)
        due = [entry for entry in self.fund_lines if self._service_date(entry[0]) < cutoff]
        if not due:
            return
        self.fund_lines = [entry for entry in self.fund_lines if entry not in due]
        paid = [
            (
                line_id,
                fee,
                code,
                0 if self.rng.random() < 0.03 else divide_rounded(fee * FUND_SHARE_PERCENT, 100),
            )
            for line_id, fee, code in due
        ]
        total = sum(share for *_, share in paid)
        over = self.rng.randrange(1000, 8000) if self.rng.random() < 0.15 else 0
        payment_id = payments.record_payment(
            self.uow(day),
            payments.RecordPayment(
                from_code=FUND,
                amount_cents=total + over,
                method=PaymentMethod.INSURANCE,
                received_date=day,
                location_code="HBR",
                reference=f"EFT{day:%Y%m%d}",
            ),
        )
        payments.allocate(
            self.uow(day),
            payments.Allocate(
                payment_id=payment_id,
                targets=tuple((line_id, share) for line_id, _, _, share in paid if share),
            ),
        )
        if over and self.rng.random() < 0.7:  # the rest stay unallocated, awaiting a decision
            self.later(day + dt.timedelta(days=30), partial(self.return_overpayment, payment_id))
        for line_id, fee, code, share in paid:
            invoicing.set_insurance_status(
                self.uow(day),
                invoicing.SetInsuranceStatus(line_id=line_id, status=InsuranceStatus.CLOSED),
            )
            invoicing.transfer(
                self.uow(day),
                invoicing.Transfer(
                    line_id=line_id,
                    amount_cents=fee - share,
                    reason="gap after fund benefit",
                    to_patient=True,
                ),
            )
            patient = Patient(
                code=code, funding="fund", habit="desk", provider="", location="HBR", discipline=""
            )
            self.later(
                day + dt.timedelta(days=self.rng.randrange(2, 20)), partial(self.pay_gap, patient)
            )

    def return_overpayment(self, payment_id: int, day: dt.date) -> None:
        conn = self.conn
        over = lookups.payment_unallocated_cents(conn, payment_id)
        payments.refund(
            self.uow(day),
            payments.Refund(
                payment_id=payment_id, amount_cents=over, reason="fund overpayment returned"
            ),
        )

    def pay_gap(self, p: Patient, day: dt.date) -> None:
        self.pay_owing(p, day, self.method())

    def medicare_batch(self, day: dt.date) -> None:
        """Bulk billing: the benefit is accepted as full payment; the rest is written off."""
        due = [entry for entry in self.medicare_lines if self._service_date(entry[0]) < day]
        if not due:
            return
        self.medicare_lines = [entry for entry in self.medicare_lines if entry not in due]
        benefits = [
            (line_id, divide_rounded(fee * MEDICARE_BENEFIT_PERCENT, 100), fee)
            for line_id, fee in due
        ]
        payment_id = payments.record_payment(
            self.uow(day),
            payments.RecordPayment(
                from_code=MEDICARE,
                amount_cents=sum(b for _, b, _ in benefits),
                method=PaymentMethod.INSURANCE,
                received_date=day,
                location_code="HBR",
                reference=f"BB{day:%Y%m%d}",
            ),
        )
        payments.allocate(
            self.uow(day),
            payments.Allocate(
                payment_id=payment_id,
                targets=tuple((line_id, benefit) for line_id, benefit, _ in benefits),
            ),
        )
        for line_id, benefit, fee in benefits:
            invoicing.set_insurance_status(
                self.uow(day),
                invoicing.SetInsuranceStatus(line_id=line_id, status=InsuranceStatus.CLOSED),
            )
            invoicing.adjust_line(
                self.uow(day),
                invoicing.AdjustLine(
                    line_id=line_id,
                    amount_cents=fee - benefit,
                    reason=AdjustmentReason.WRITE_OFF,
                    note="bulk billed: benefit accepted as full payment",
                ),
            )

    def insurer_batch(self, day: dt.date) -> None:
        """The insurer pays in full the claims older than 30 days."""
        cutoff = day - dt.timedelta(days=30)
        due = [entry for entry in self.insurer_lines if self._service_date(entry[0]) < cutoff]
        if not due:
            return
        self.insurer_lines = [entry for entry in self.insurer_lines if entry not in due]
        payment_id = payments.record_payment(
            self.uow(day),
            payments.RecordPayment(
                from_code=INSURER,
                amount_cents=sum(fee for _, fee in due),
                method=PaymentMethod.INSURANCE,
                received_date=day,
                location_code="HBR",
                reference=f"CWI{day:%Y%m%d}",
            ),
        )
        payments.allocate(
            self.uow(day), payments.Allocate(payment_id=payment_id, targets=tuple(due))
        )
        for line_id, _ in due:
            invoicing.set_insurance_status(
                self.uow(day),
                invoicing.SetInsuranceStatus(line_id=line_id, status=InsuranceStatus.CLOSED),
            )

    def _service_date(self, line_id: int) -> dt.date:
        return self.service_dates[line_id]


def _abn(rng: random.Random) -> str:
    """A made-up ABN that passes the ATO's check digits."""
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(10)]
        values = [digits[0] - 1, *digits[1:]]
        if sum(w * v for w, v in zip(weights, values, strict=True)) % 89 == 0:
            return "".join(map(str, digits))


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def build(
    engine: Engine,
    *,
    seed: int,
    on_building: Callable[[], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoSummary:
    """Build the demo practice in an empty ledger, or show the one already built;
    ``on_building`` is called once it is clear that it will be built, and ``progress``
    (a step, done, of how many) as it is built."""
    brand_new = schema.state(engine) == "empty"  # no tables yet: nobody holds this file
    masters.init_ledger(
        engine,
        lambda: UnitOfWork(engine, now=dt.datetime.combine(START, dt.time(7)), actor=DEMO_ACTOR),
    )
    with reading(engine) as conn:
        practice = lookups.practice(conn)
        empty = ledger.is_empty(conn)
    built = False
    if practice is not None and practice.name == DEMO_NAME:
        pass  # already built: show it again
    elif not empty:
        raise Conflict(
            "this database already holds a practice; the demo needs an empty one",
            code="demo_needs_empty_ledger",
            field="db",
        )
    else:
        if on_building is not None:
            on_building()
        # A file made just now for the demo commits without waiting for the disk while
        # it is built, and is synced whole after (store/bulk.py); a ledger that already
        # existed keeps its own durability throughout. Its units of work share one
        # transaction (each still whole or nothing): the demo is built whole or not at all.
        with (
            bulk.unsynced_while_new(engine) if brand_new else contextlib.nullcontext(),
            SharedTransaction(engine) as shared,
            bulk.roomy_cache(shared.conn),
        ):
            demo = Demo(engine=engine, rng=random.Random(seed), shared=shared)
            people = demo.set_up()
            demo.schedule_sessions(people)
            demo.run(progress)
        built = True
    with reading(engine) as conn:
        summary = ledger_summary(conn)
    result = check.check_ledger(engine)
    return DemoSummary(seed=seed, built=built, summary=summary, violations=len(result.violations))
