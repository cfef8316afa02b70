"""Income by provider (reference 002): cash-basis income per provider, snapshot and restated,
with hand-computed rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicledger.domain.choices import LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.postings import allocation_postings
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.income_by_provider import income_by_provider
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import ledger, lookups
from clinicledger.store.uow import reading

D = dt.date
OCTOBER = {"from_date": D(2024, 10, 1), "to_date": D(2024, 10, 31)}
SYDNEY = ZoneInfo("Australia/Sydney")  # the practice's zone; daylight time from 6 Oct 2024


def utc(moment: dt.datetime) -> dt.datetime:
    """A Sydney wall-clock time as naive UTC, like recorded_at."""
    return moment.replace(tzinfo=SYDNEY).astimezone(dt.UTC).replace(tzinfo=None)


def run(engine, **filters):
    options = filters.pop("options", {})
    with reading(engine) as conn:
        return income_by_provider(conn, ReportParams(**filters, options=options))


def rows_of(report):
    return rows_of_data(to_json_data(report))


def rows_of_data(data):
    """(provider code, allocations, un-allocations, income) of each JSON row."""
    return [
        (r["provider_code"], r["allocation_count"], r["unallocation_count"], r["income"])
        for r in data["rows"]
    ]


def service(provider: str, day: dt.date, *, kind: LineKind = LineKind.SERVICE) -> LineSpec:
    if kind is LineKind.CANCELLATION:
        return LineSpec(kind=kind, provider_code=provider, service_date=day, fee_cents=5000)
    return LineSpec(kind=kind, item_code="90837", provider_code=provider, service_date=day)


def late_allocation(clock, at: dt.datetime, *, payment_id: int, line_id: int, cents: int, day):
    """An allocation recorded at ``at`` but dated ``day`` in a closed period, as an import
    that posts at the remittance date would write it. The services date allocations when
    they are made, so the test writes the entry itself."""
    with clock.uow(at=at) as uow:
        payment = lookups.payment_record(uow.conn, payment_id).ref()
        line = lookups.line_record(uow.conn, line_id)
        entry_id = uow.append(
            Entry(
                kind=EntryKind.ALLOCATION,
                effective_date=day,
                postings=allocation_postings(payment, line.ref(payer_id=payment.payer_id), cents),
            )
        )
        uow.audit("test.late_allocation", f"AL-{entry_id:06d}", {})  # every entry is audited
        uow.commit()
    return entry_id


def late_unallocation(clock, at: dt.datetime, *, allocation_id: int, day, reason: str) -> int:
    with clock.uow(at=at) as uow:
        postings = tuple(p.negated() for p in ledger.entry_postings(uow.conn, allocation_id))
        entry_id = uow.append(
            Entry(
                kind=EntryKind.UNALLOCATION,
                effective_date=day,
                reason=reason,
                reverses=allocation_id,
                postings=postings,
            )
        )
        uow.audit("test.late_unallocation", f"AL-{allocation_id:06d}", {})
        uow.commit()
    return entry_id


@pytest.fixture
def journal(clock):
    """September and October 2024 at two locations; prepayments, overpayments and refunds
    that are never income; an un-allocation of a September allocation in October; then,
    after October closed, entries that change October (back-dated) and one that does not."""
    clock.now = dt.datetime(2024, 9, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="EAST", name="East rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_provider(clock.uow(), code="DR3", name="Dr Three")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient Two")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="90837", description="Therapy", fee_cents=15000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)

    sep30 = D(2024, 9, 30)
    first = invoicing.create_invoice(
        clock.at_date(sep30),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[service("DR1", sep30), service("DR2", sep30, kind=LineKind.CANCELLATION)],
        ),
    )
    dr1_line, dr2_cancel = (line.id for line in first.lines)
    card = payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=10000,
            method=PaymentMethod.EFTPOS,
            received_date=sep30,
            location_code="MAIN",
        ),
    )
    [september] = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=card, targets=[(dr1_line, 10000)])
    )

    cash = payments.record_payment(
        clock.at_date(D(2024, 10, 2)),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=20000,
            method=PaymentMethod.CASH,
            received_date=D(2024, 10, 2),
            location_code="MAIN",
        ),
    )
    _, oct2_dr2 = payments.allocate(
        clock.uow(),
        payments.Allocate(payment_id=cash, targets=[(dr1_line, 5000), (dr2_cancel, 3000)]),
    )
    payments.refund(
        clock.at_date(D(2024, 10, 3)),
        payments.Refund(payment_id=cash, amount_cents=2000, reason="change"),
    )
    payments.unallocate(
        clock.at_date(D(2024, 10, 5)),
        payments.Unallocate(allocation_id=september.id, reason="applied twice"),
    )
    east = invoicing.create_invoice(
        clock.at_date(D(2024, 10, 6)),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="EAST",
            billed_to_code="FUND",
            lines=[service("DR2", D(2024, 10, 6))],
        ),
    )
    [fund_line] = (line.id for line in east.lines)
    fund = payments.record_payment(
        clock.at_date(D(2024, 10, 10)),
        payments.RecordPayment(
            from_code="FUND",
            amount_cents=50000,
            method=PaymentMethod.INSURANCE,
            received_date=D(2024, 10, 10),
            location_code="EAST",
        ),
    )
    payments.allocate(clock.uow(), payments.Allocate(payment_id=fund, targets=[(fund_line, 12000)]))
    payments.refund(
        clock.at_date(D(2024, 10, 11)),
        payments.Refund(payment_id=fund, amount_cents=8000, reason="overpaid"),
    )
    [credit_used] = payments.apply_credit(
        clock.at_date(D(2024, 10, 12)),
        payments.ApplyCredit(patient_code="P1", targets=[(dr1_line, 10000)]),
    )
    product = invoicing.create_invoice(
        clock.at_date(D(2024, 10, 15)),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[LineSpec(kind=LineKind.PRODUCT, product_title="Theraband")],
        ),
    )
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=cash, targets=[(product.lines[0].id, 1800)])
    )
    # A payment of P2 never applied (a prepayment): never income.
    payments.record_payment(
        clock.at_date(D(2024, 10, 20)),
        payments.RecordPayment(
            from_code="P2",
            amount_cents=9900,
            method=PaymentMethod.CASH,
            received_date=D(2024, 10, 20),
            location_code="EAST",
        ),
    )
    # October closes at 2024-11-01 00:00 Sydney daylight time = 2024-10-31 13:00 UTC.
    # Stamped 30 seconds past midnight but dated 31 October (a clerk's clock read before
    # the lock): the credit used on 12 October is undone.
    late_unallocation(
        clock,
        dt.datetime(2024, 11, 1, 0, 0, 30),
        allocation_id=credit_used.id,
        day=D(2024, 10, 31),
        reason="credit was a deposit",
    )
    # An un-allocation made in November of an October allocation: dated when made, so
    # November's income, not October's.
    payments.unallocate(
        clock.at_date(D(2024, 11, 3)),
        payments.Unallocate(allocation_id=oct2_dr2.id, reason="cancellation waived"),
    )
    # A remittance imported on 4 November that applies money on 20 October.
    late_allocation(
        clock,
        dt.datetime(2024, 11, 4, 10),
        payment_id=fund,
        line_id=fund_line,
        cents=2500,
        day=D(2024, 10, 20),
    )
    return {"card": card, "cash": cash, "fund": fund, "dr1_line": dr1_line}


def test_restated_income_and_adjustments_recorded_later(journal, engine) -> None:
    data = to_json_data(run(engine, **OCTOBER))
    assert data["columns"] == [
        "provider_code",
        "provider_name",
        "allocation_count",
        "unallocation_count",
        "income",
    ]
    # As known at the close of 31 October:
    # DR1: +50.00 (2 Oct) - 100.00 (5 Oct, September's allocation undone) + 100.00 (credit
    #      used 12 Oct) = 50.00, two allocations and one un-allocation;
    # DR2: +30.00 (2 Oct, cancellation) + 120.00 (10 Oct, fund) = 150.00;
    # no provider: +18.00 (the product, 15 Oct).
    # The refunds (20.00, 80.00), the fund's overpayment and P2's prepayment are not income.
    assert rows_of_data(data) == [
        ("DR1", 2, 1, "50.00"),
        ("DR2", 2, 0, "150.00"),
        (None, 1, 0, "18.00"),
    ]
    assert data["rows"][2]["provider_name"] == "(no provider)"
    # Recorded after the close, dated in October: the credit used undone (-100.00) and the
    # imported allocation (+25.00): -75.00. Snapshot = 218.00 - 75.00 = 143.00.
    assert data["totals"] == {
        "allocation_count": 5,
        "unallocation_count": 1,
        "income": "218.00",
        "adjustments": "-75.00",
        "snapshot_income": "143.00",
    }
    assert data["parameters"]["basis"] == "restated"
    assert data["parameters"]["known_at"] == "2024-11-01T00:00:00+11:00"
    assert data["warnings"] == []
    [section] = data["sections"]
    assert section["report"] == "adjustments recorded later"
    assert section["columns"] == [
        "recorded_time",
        "effective_date",
        "provider_code",
        "provider_name",
        "amount",
        "kind",
        "reason",
        "line",
        "payment",
    ]
    line = f"L-{journal['dr1_line']:06d}"
    assert [tuple(r.values()) for r in section["rows"]] == [
        (
            "2024-11-01 00:00:30+11:00",
            "2024-10-31",
            "DR1",
            "Dr One",
            "-100.00",
            "un-allocation",
            "credit was a deposit",
            line,
            f"PAY-{journal['card']:06d}",
        ),
        (
            "2024-11-04 10:00:00+11:00",
            "2024-10-20",
            "DR2",
            "Dr Two",
            "25.00",
            "allocation",
            None,
            f"L-{journal['dr1_line'] + 2:06d}",
            f"PAY-{journal['fund']:06d}",
        ),
    ]
    assert section["totals"] == {"amount": "-75.00"}


def test_snapshot_equals_restated_plus_adjustments(journal, engine) -> None:
    snapshot = run(engine, **OCTOBER, options={"basis": "snapshot"})
    # DR1: 50.00 - 100.00 (credit used undone, dated 31 Oct) = -50.00, and now two
    # un-allocations; DR2: 150.00 + 25.00 (imported, dated 20 Oct) = 175.00. The November
    # un-allocation of the cancellation stays in November.
    assert rows_of(snapshot) == [
        ("DR1", 2, 2, "-50.00"),
        ("DR2", 3, 0, "175.00"),
        (None, 1, 0, "18.00"),
    ]
    assert snapshot.sections == ()
    restated = run(engine, **OCTOBER)
    [later] = restated.sections
    snapshot_cents = snapshot.totals["income_cents"]
    restated_cents = restated.totals["income_cents"]
    adjustments_cents = sum(r.amount_cents for r in later.rows)
    assert snapshot_cents == restated_cents + adjustments_cents == 14300
    assert restated.totals["snapshot_income_cents"] == snapshot_cents
    # November: the cancellation's 30.00 un-allocated on 3 November.
    november = run(
        engine, from_date=D(2024, 11, 1), to_date=D(2024, 11, 30), options={"basis": "snapshot"}
    )
    assert rows_of(november) == [("DR2", 0, 1, "-30.00")]


def test_as_known_at_before_the_close_has_no_adjustments(journal, engine, clock) -> None:
    moment = utc(dt.datetime(2024, 10, 12, 23))  # after the credit used, before the product
    restated = run(engine, **OCTOBER, as_known_at=moment)
    snapshot = run(engine, **OCTOBER, as_known_at=moment, options={"basis": "snapshot"})
    assert (
        rows_of(restated) == rows_of(snapshot) == [("DR1", 2, 1, "50.00"), ("DR2", 2, 0, "150.00")]
    )
    assert restated.sections[0].rows == ()
    assert to_json_data(restated)["parameters"]["known_at"] == "2024-10-12T23:00:00+11:00"
    # Known just after the close's stamp-past-midnight entry, before the import.
    between = run(engine, **OCTOBER, as_known_at=utc(dt.datetime(2024, 11, 2, 12)))
    assert [r.amount_cents for r in between.sections[0].rows] == [-10000]
    assert between.totals["snapshot_income_cents"] == 21800 - 10000


@pytest.mark.parametrize("basis", ["restated", "snapshot"])
def test_as_known_at_reproduces_the_report_byte_for_byte(journal, engine, clock, basis) -> None:
    moment = utc(dt.datetime(2024, 11, 4, 12))  # after every entry of the journal
    params = {**OCTOBER, "as_known_at": moment, "options": {"basis": basis}}
    before = to_csv(run(engine, **params))
    # More history: another back-dated allocation, an un-allocation, a new allocation.
    late_allocation(
        clock,
        dt.datetime(2024, 11, 5, 10),
        payment_id=journal["fund"],
        line_id=journal["dr1_line"] + 2,
        cents=500,
        day=D(2024, 10, 21),
    )
    payments.allocate(
        clock.uow(),
        payments.Allocate(payment_id=journal["card"], targets=[(journal["dr1_line"], 1000)]),
    )
    after = to_csv(run(engine, **params))
    assert before == after
    assert to_csv(run(engine, **{**params, "as_known_at": None})) != before
    if basis == "restated":
        assert before.splitlines()[-2:] == [
            "2024-11-01 00:00:30+11:00,2024-10-31,DR1,Dr One,-100.00,un-allocation,"
            f"credit was a deposit,L-{journal['dr1_line']:06d},PAY-{journal['card']:06d}",
            f"2024-11-04 10:00:00+11:00,2024-10-20,DR2,Dr Two,25.00,allocation,,"
            f"L-{journal['dr1_line'] + 2:06d},PAY-{journal['fund']:06d}",
        ]


def test_provider_and_location_filters(journal, engine) -> None:
    assert rows_of(run(engine, **OCTOBER, provider="DR2")) == [("DR2", 2, 0, "150.00")]
    # DR3 earned nothing: no rows, a zero total.
    empty = run(engine, **OCTOBER, provider="DR3")
    assert empty.rows == () and empty.totals["income_cents"] == 0
    # EAST: only the fund's 120.00 was known at the close; the import adds 25.00 later.
    east = run(engine, **OCTOBER, location="EAST")
    assert rows_of(east) == [("DR2", 1, 0, "120.00")]
    assert east.totals["snapshot_income_cents"] == 14500
    assert rows_of(run(engine, **OCTOBER, location="MAIN", options={"basis": "snapshot"})) == [
        ("DR1", 2, 2, "-50.00"),
        ("DR2", 1, 0, "30.00"),
        (None, 1, 0, "18.00"),
    ]
    # September: the 100.00 applied on 30 September stays September's income.
    september = run(engine, from_date=D(2024, 9, 1), to_date=D(2024, 9, 30))
    assert rows_of(september) == [("DR1", 1, 0, "100.00")]
    assert september.sections[0].rows == ()


def test_refuses_a_missing_period_or_unknown_basis(journal, engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine, from_date=D(2024, 10, 1))
    assert caught.value.field == "to"
    assert caught.value.code == "period_missing"
    with pytest.raises(InvalidInput) as caught:
        run(engine, **OCTOBER, options={"basis": "accrual"})
    assert caught.value.message == "basis: 'accrual' is not one of: restated, snapshot"


# --- property: income over a period is the allocations in it -----------------------------

PATIENT = st.sampled_from(["PA", "PB"])
INVOICE = st.one_of(
    st.tuples(st.just("invoice"), PATIENT, st.sampled_from(["X1", "X2"])),
    st.tuples(st.just("product"), PATIENT),
)
PAY = st.tuples(st.just("pay"), PATIENT, st.integers(1, 20000))
ALLOCATE = st.tuples(
    st.just("allocate"), st.integers(0, 9), st.integers(0, 9), st.integers(1, 20000)
)
UNALLOCATE = st.tuples(st.just("unallocate"), st.integers(0, 19))
ACTION = st.one_of(
    ALLOCATE,
    ALLOCATE,
    ALLOCATE,
    ALLOCATE,
    UNALLOCATE,
    UNALLOCATE,
    st.tuples(st.just("credit"), PATIENT, st.integers(0, 9)),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 20000)),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    st.tuples(st.just("next day")),
    INVOICE,
    PAY,
)
OPERATIONS = st.builds(
    lambda invoices, pays, actions: [*invoices, *pays, *actions],
    st.lists(INVOICE, min_size=1, max_size=3),
    st.lists(PAY, min_size=1, max_size=3),
    st.lists(ACTION, min_size=2, max_size=10),
)


@pytest.fixture
def practice(clock):
    clock.now = dt.datetime(2025, 1, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    for code, name in (("X1", "Dr Ex One"), ("X2", "Dr Ex Two")):
        masters.add_provider(clock.uow(), code=code, name=name)
    for code, name in (("PA", "Patient Ay"), ("PB", "Patient Bee")):
        masters.add_patient(clock.uow(), code=code, name=name)
    masters.add_item(clock.uow(), code="I1", description="Consultation", fee_cents=12000)
    masters.add_product(clock.uow(), code="PR", title="Product One", fee_cents=2500)
    return clock


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    operations=OPERATIONS,
    period=st.tuples(st.integers(-1, 1), st.integers(0, 3)),  # days from the first day
)
def test_income_is_the_allocations_of_the_period(practice, engine, operations, period) -> None:
    """Each example starts on a day after every earlier example, so the period sees only its
    own entries. The model keeps income from the services' return values only."""
    clock = practice
    day = clock.now.date() + dt.timedelta(days=2)
    first_day = day
    clock.now = dt.datetime.combine(day, dt.time(8))
    lines: list[tuple[int, str, str | None]] = []  # (line id, patient, provider)
    paid: list[tuple[int, str]] = []  # (payment id, patient)
    applied: list[tuple[int, int, str | None, int]] = []  # (entry, payment, provider, cents)
    undone: set[int] = set()
    income: dict[tuple[dt.date, str | None], int] = defaultdict(int)

    def owing(line_id: int) -> int:
        with reading(engine) as conn:
            return lookups.line_owing_cents(conn, line_id, None)

    def free(payment_id: int) -> int:
        with reading(engine) as conn:
            if lookups.payment_record(conn, payment_id).reversed_at is not None:
                return 0
            return lookups.payment_unallocated_cents(conn, payment_id)

    def provider_of(line_id: int) -> str | None:
        return next(p for i, _, p in lines if i == line_id)

    def record(made, today: dt.date) -> None:
        for a in made:
            applied.append((a.id, a.payment_id, provider_of(a.line_id), a.amount_cents))
            income[today, provider_of(a.line_id)] += a.amount_cents

    def undo(entry: int, today: dt.date) -> None:
        undone.add(entry)
        _, _, provider, cents = next(a for a in applied if a[0] == entry)
        income[today, provider] -= cents

    for op in operations:
        if op[0] == "next day":
            day += dt.timedelta(days=1)
            clock.now = max(clock.now, dt.datetime.combine(day, dt.time(8)))
        elif op[0] == "invoice":
            made = invoicing.create_invoice(
                clock.uow(),
                invoicing.CreateInvoice(
                    patient_code=op[1],
                    location_code="MAIN",
                    billed_to_code=None,
                    lines=[
                        LineSpec(
                            kind=LineKind.SERVICE,
                            item_code="I1",
                            provider_code=op[2],
                            service_date=day,
                        )
                    ],
                ),
            )
            lines.append((made.lines[0].id, op[1], op[2]))
        elif op[0] == "product":
            made = invoicing.create_invoice(
                clock.uow(),
                invoicing.CreateInvoice(
                    patient_code=op[1],
                    location_code="MAIN",
                    billed_to_code=None,
                    lines=[LineSpec(kind=LineKind.PRODUCT, product_title="Product One")],
                ),
            )
            lines.append((made.lines[0].id, op[1], None))
        elif op[0] == "pay":
            payment = payments.record_payment(
                clock.uow(),
                payments.RecordPayment(
                    from_code=op[1],
                    amount_cents=op[2],
                    method=PaymentMethod.CASH,
                    received_date=day,
                    location_code="MAIN",
                ),
            )
            paid.append((payment, op[1]))
        elif op[0] == "allocate" and paid:
            payment, patient = paid[op[1] % len(paid)]
            mine = [(i, owing(i)) for i, p, _ in lines if p == patient]
            mine = [(i, cents) for i, cents in mine if cents > 0]
            if not mine:
                continue
            line_id, most = mine[op[2] % len(mine)]
            cents = min(op[3], free(payment), most)
            if cents > 0:
                record(
                    payments.allocate(
                        clock.uow(),
                        payments.Allocate(payment_id=payment, targets=[(line_id, cents)]),
                    ),
                    day,
                )
        elif op[0] == "credit":
            mine = [i for i, p, _ in lines if p == op[1]]
            credit = sum(free(p) for p, who in paid if who == op[1])
            if not mine or credit == 0:
                continue
            line_id = mine[op[2] % len(mine)]
            cents = min(credit, owing(line_id))
            if cents > 0:
                made = payments.apply_credit(
                    clock.uow(),
                    payments.ApplyCredit(patient_code=op[1], targets=[(line_id, cents)]),
                )
                record(made, day)
        elif op[0] == "unallocate" and applied:
            entry = applied[op[1] % len(applied)][0]
            if entry not in undone:
                payments.unallocate(
                    clock.uow(), payments.Unallocate(allocation_id=entry, reason="wrong line")
                )
                undo(entry, day)
        elif op[0] == "refund" and paid:
            payment, _ = paid[op[1] % len(paid)]
            cents = min(op[2], free(payment))
            if cents > 0:
                payments.refund(
                    clock.uow(),
                    payments.Refund(payment_id=payment, amount_cents=cents, reason="back"),
                )
        elif op[0] == "reverse" and paid:
            payment, _ = paid[op[1] % len(paid)]
            with reading(engine) as conn:
                row = lookups.payment_record(conn, payment)
                refunded = lookups.payment_refunded_cents(conn, payment)
            if row.reversed_at is None and refunded == 0:
                payments.reverse_payment(
                    clock.uow(), payments.ReversePayment(payment_id=payment, reason="dishonoured")
                )
                for entry, source, _, _ in applied:
                    if source == payment and entry not in undone:
                        undo(entry, day)

    start = first_day + dt.timedelta(days=min(period))
    end = first_day + dt.timedelta(days=max(period))
    expected: dict[str | None, int] = defaultdict(int)
    for (when, provider), cents in income.items():
        if start <= when <= end:
            expected[provider] += cents
    window = {"from_date": start, "to_date": end}
    snapshot = run(engine, **window, options={"basis": "snapshot"})
    got = {r.provider_code: r.income_cents for r in snapshot.rows}
    assert got == dict(expected)  # a provider with activity but net 0.00 still has a row
    assert snapshot.totals["income_cents"] == sum(expected.values())

    # Nothing was recorded after the period's close with a date in it: restated = snapshot.
    restated = run(engine, **window)
    assert restated.rows == snapshot.rows and restated.sections[0].rows == ()

    # A payment in the period left unapplied, and another refunded: the report is unchanged.
    before = to_csv(snapshot)
    clock.now = max(clock.now, dt.datetime.combine(end, dt.time(20)))
    for cents, refunded in ((4321, False), (1234, True)):
        payment = payments.record_payment(
            clock.uow(),
            payments.RecordPayment(
                from_code="PA",
                amount_cents=cents,
                method=PaymentMethod.EFTPOS,
                received_date=start,
                location_code="MAIN",
            ),
        )
        if refunded:
            payments.refund(
                clock.uow(), payments.Refund(payment_id=payment, amount_cents=cents, reason="back")
            )
    assert to_csv(run(engine, **window, options={"basis": "snapshot"})) == before

    # After the close, an allocation dated in the period: restated income keeps what was
    # known at the close, and snapshot = restated + adjustments, to the cent.
    payable = [
        (payment, line_id, min(free(payment), owing(line_id)))
        for payment, patient in paid
        for line_id, owner, _ in lines
        if owner == patient
    ]
    payable = [p for p in payable if p[2] > 0]
    if payable:
        payment, line_id, cents = payable[0]
        after_close = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(9))
        moment = max(after_close, clock.now + dt.timedelta(minutes=1))
        late_allocation(clock, moment, payment_id=payment, line_id=line_id, cents=cents, day=start)
        restated = run(engine, **window)
        snapshot = run(engine, **window, options={"basis": "snapshot"})
        assert restated.rows == run(engine, **window, as_known_at=utc(moment)).rows
        [later] = restated.sections
        assert [r.amount_cents for r in later.rows] == [cents]
        assert snapshot.totals["income_cents"] == restated.totals["income_cents"] + cents
        assert restated.totals["snapshot_income_cents"] == snapshot.totals["income_cents"]
