"""Ledger statement, balance statement and balance differences (reference 003), with
hand-computed rows, the page's worked example in both scenarios, one case per reason, and
a property: for random journals the whole difference is always explained."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clinicledger.domain.choices import (
    AdjustmentReason,
    InsuranceStatus,
    LineKind,
    PayerKind,
    PaymentMethod,
)
from clinicledger.domain.errors import InvalidInput, UserError
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.statements import (
    balance_differences,
    balance_statement,
    ledger_statement,
)
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import lookups
from clinicledger.store.uow import reading

D = dt.date
SYDNEY = ZoneInfo("Australia/Sydney")
REASONS = (
    "not_client_billable_payments",
    "deleted_line_payments",
    "open_to_insurance",
    "posted_after_ending_date",
    "unapplied_credit",
    "not_client_billable_charges",
    "deleted_line_charges",
    "services_after_ending_date",
)


@pytest.fixture
def practice(clock):
    clock.now = dt.datetime(2018, 1, 2, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_payer(clock.uow(), code="FUND", name="Test Fund", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="90837", description="Therapy", fee_cents=10000)
    return clock


def charge(
    clock,
    day: dt.date,
    *fees: int,
    service_date: dt.date | None = None,
    billable: bool = True,
    open_: bool = False,
    billed_to: str | None = None,
    patient: str = "P1",
) -> list[int]:
    """An invoice entered on ``day`` with one service line per fee; the line ids."""
    made = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code=patient,
            location_code="MAIN",
            billed_to_code=billed_to,
            lines=[
                LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="90837",
                    provider_code="DR1",
                    service_date=service_date or day,
                    fee_cents=fee,
                    client_billable=billable,
                    insurance_open=open_,
                )
                for fee in fees
            ],
        ),
    )
    return [line.id for line in made.lines]


def pay(clock, day: dt.date, amount_cents: int, *, patient: str = "P1") -> int:
    return payments.record_payment(
        clock.at_date(day),
        payments.RecordPayment(
            from_code=patient,
            amount_cents=amount_cents,
            method=PaymentMethod.CASH,
            received_date=day,
            location_code="MAIN",
        ),
    )


def run(engine, report, **filters):
    with reading(engine) as conn:
        return to_json_data(report(conn, ReportParams(**filters)))


def rows(data, *keys):
    return [tuple(r[k] for k in keys) for r in data["rows"]]


def explained(data) -> dict[str, str]:
    """The non-zero reasons of the only row."""
    [row] = data["rows"]
    return {k: row[k] for k in REASONS if row[k] != "0.00"}


def difference(engine, ending: dt.date, **filters):
    data = run(engine, balance_differences, patient="P1", as_of=ending, **filters)
    [row] = data["rows"]
    assert row["unexplained"] == "0.00"
    assert data["warnings"] == []
    return row["ledger_balance"], row["statement_balance"], row["difference"], explained(data)


# --------------------------------------------------------------- the worked example


@pytest.fixture
def worked_example(practice):
    """Reference 003: a $100.00 service on 2018-02-01; a $30.00 payment posted (received)
    2018-02-15 and applied to it that day."""
    [line] = charge(practice, D(2018, 2, 1), 10000)
    payment = pay(practice, D(2018, 2, 15), 3000)
    payments.allocate(practice.uow(), payments.Allocate(payment_id=payment, targets=[(line, 3000)]))
    return {"line": line, "payment": payment}


def test_scenario_1_ending_on_the_payment_date(worked_example, engine) -> None:
    line, payment = f"L-{worked_example['line']:06d}", f"PAY-{worked_example['payment']:06d}"
    ending = D(2018, 2, 15)
    statement = run(engine, balance_statement, patient="P1", as_of=ending)
    assert statement["columns"] == ["date", "description", "charge", "payments", "balance"]
    # 100.00 charged, 30.00 paid, 100.00 - 30.00 = 70.00 owing
    assert rows(statement, "date", "description", "charge", "payments", "balance") == [
        ("2018-02-01", f"90837 Therapy ({line})", "100.00", "30.00", "70.00")
    ]
    assert statement["totals"] == {"charge": "100.00", "payments": "30.00", "balance": "70.00"}
    checkbook = run(engine, ledger_statement, patient="P1", as_of=ending)
    assert checkbook["columns"] == ["date", "description", "charge", "payment", "balance"]
    # 0 + 100.00 = 100.00; 100.00 - 30.00 = 70.00
    assert rows(checkbook, "date", "description", "charge", "payment", "balance") == [
        ("2018-02-01", f"90837 Therapy ({line})", "100.00", None, "100.00"),
        ("2018-02-15", f"payment {payment} (cash)", None, "30.00", "70.00"),
    ]
    assert checkbook["totals"] == {"charge": "100.00", "payment": "30.00", "balance": "70.00"}
    assert checkbook["parameters"] == {"as_of": "2018-02-15", "patient": "P1"}
    assert difference(engine, ending) == ("70.00", "70.00", "0.00", {})


def test_scenario_2_ending_between_service_and_payment(worked_example, engine) -> None:
    ending = D(2018, 2, 10)
    # The statement counts the payment at the date of service: 100.00 - 30.00 = 70.00.
    statement = run(engine, balance_statement, patient="P1", as_of=ending)
    assert rows(statement, "date", "charge", "payments", "balance") == [
        ("2018-02-01", "100.00", "30.00", "70.00")
    ]
    # The ledger has not seen the payment (posted 2018-02-15) yet: 100.00.
    checkbook = run(engine, ledger_statement, patient="P1", as_of=ending)
    assert rows(checkbook, "date", "charge", "payment", "balance") == [
        ("2018-02-01", "100.00", None, "100.00")
    ]
    # 100.00 - 70.00 = 30.00, all of it the payment posted after the ending date (reason 4)
    assert difference(engine, ending) == (
        "100.00",
        "70.00",
        "30.00",
        {"posted_after_ending_date": "30.00"},
    )


def test_the_json_keys_the_issue_names(worked_example, engine) -> None:
    data = run(engine, balance_differences, as_of=D(2018, 2, 10))
    assert data["report"] == "balance-differences"
    assert data["columns"] == [
        "patient",
        "patient_name",
        "ledger_balance",
        "statement_balance",
        "difference",
        *REASONS[:5],
        *REASONS[5:],
        "unexplained",
    ]
    [row] = data["rows"]
    assert (row["patient"], row["patient_name"]) == ("P1", "Patient One")
    assert {"ledger_balance", "statement_balance", "difference"} <= set(data["totals"])
    assert data["totals"]["difference"] == "30.00"
    # without --as-of the ending date is the latest effective date: 2018-02-15
    assert run(engine, balance_differences)["parameters"] == {"as_of": "2018-02-15"}
    assert run(engine, balance_differences)["rows"][0]["difference"] == "0.00"
    assert run(engine, balance_differences, options={"differences_only": True})["rows"] == []


def test_a_statement_needs_a_patient(practice, engine) -> None:
    for report, name in (
        (ledger_statement, "ledger-statement"),
        (balance_statement, "balance-statement"),
    ):
        with pytest.raises(InvalidInput) as caught:
            run(engine, report, as_of=D(2018, 2, 1))
        assert caught.value.field == "patient"
        assert caught.value.code == "patient_missing"
        # issue 7: a report names no flag; the command line says "--patient is required"
        assert caught.value.message == f"patient: {name} needs a patient"


# ---------------------------------------------------------- one case per reason


def test_reason_1_payments_applied_to_lines_not_client_billable(practice, engine) -> None:
    [billable] = charge(practice, D(2018, 2, 1), 10000)
    [not_billable] = charge(practice, D(2018, 2, 1), 4000, billable=False)
    payment = pay(practice, D(2018, 2, 5), 3000)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment, targets=[(not_billable, 3000)])
    )
    ending = D(2018, 2, 28)
    # ledger 100.00 + 40.00 - 30.00 = 110.00; statement: the billable line, 100.00;
    # 110.00 - 100.00 = 10.00 = the line's own 40.00 charge less the 30.00 paid on it
    assert difference(engine, ending) == (
        "110.00",
        "100.00",
        "10.00",
        {"not_client_billable_payments": "-30.00", "not_client_billable_charges": "40.00"},
    )
    checkbook = run(engine, ledger_statement, patient="P1", as_of=ending)
    assert rows(checkbook, "description", "charge", "payment", "balance") == [
        (f"90837 Therapy (L-{billable:06d})", "100.00", None, "100.00"),
        (f"90837 Therapy (L-{not_billable:06d}); not client billable", "40.00", None, "140.00"),
        (
            f"payment PAY-{payment:06d} (cash); 30.00 applied to L-{not_billable:06d}: "
            "charge not client billable",
            None,
            "30.00",
            "110.00",
        ),
    ]
    statement = run(engine, balance_statement, patient="P1", as_of=ending)
    assert rows(statement, "description", "balance") == [
        (f"90837 Therapy (L-{billable:06d})", "100.00")
    ]


def test_reason_2_payments_applied_to_a_line_later_deleted(practice, engine) -> None:
    deleted, kept = charge(practice, D(2018, 2, 1), 10000, 5000)
    payment = pay(practice, D(2018, 2, 2), 3000)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment, targets=[(deleted, 3000)])
    )
    invoicing.delete_line(
        practice.at_date(D(2018, 2, 5)),
        invoicing.DeleteLine(line_id=deleted, reason="keyed twice", cascade=True),
    )
    # ledger 100.00 + 50.00 - 30.00 - 100.00 (deleted 02-05) = 20.00; statement 50.00;
    # the 30.00 applied to the deleted line is the patient's credit again
    assert difference(engine, D(2018, 2, 28)) == (
        "20.00",
        "50.00",
        "-30.00",
        {"deleted_line_payments": "-30.00"},
    )
    # before the deletion the ledger still had the charge: 150.00 - 30.00 = 120.00;
    # 120.00 - 50.00 = 70.00 = the deleted charge 100.00 less its 30.00 payment
    assert difference(engine, D(2018, 2, 3)) == (
        "120.00",
        "50.00",
        "70.00",
        {"deleted_line_payments": "-30.00", "deleted_line_charges": "100.00"},
    )
    checkbook = run(engine, ledger_statement, patient="P1", as_of=D(2018, 2, 28))
    label = f"L-{deleted:06d}"
    assert rows(checkbook, "description", "charge", "payment", "balance") == [
        (f"90837 Therapy ({label}); deleted", "100.00", None, "100.00"),
        (f"90837 Therapy (L-{kept:06d})", "50.00", None, "150.00"),
        (
            f"payment PAY-{payment:06d} (cash); 30.00 was applied to {label}: charge deleted",
            None,
            "30.00",
            "120.00",
        ),
        (f"charge deleted: 90837 Therapy ({label}): keyed twice", "-100.00", None, "20.00"),
    ]
    # the credit applied to the other line: nothing left to explain (20.00 both)
    payments.apply_credit(
        practice.at_date(D(2018, 2, 6)), payments.ApplyCredit(patient_code="P1", auto=True)
    )
    assert difference(engine, D(2018, 2, 28)) == ("20.00", "20.00", "0.00", {})


def test_reason_3_lines_open_to_insurance(practice, engine) -> None:
    [open_line] = charge(practice, D(2018, 2, 1), 10000, open_=True)
    charge(practice, D(2018, 2, 1), 5000)
    payment = pay(practice, D(2018, 2, 3), 2000)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=payment, targets=[(open_line, 2000)])
    )
    # ledger 100.00 + 50.00 - 20.00 = 130.00; statement 50.00; the open line: 100 - 20 = 80
    assert difference(engine, D(2018, 2, 28)) == (
        "130.00",
        "50.00",
        "80.00",
        {"open_to_insurance": "80.00"},
    )
    invoicing.set_insurance_status(
        practice.uow(),
        invoicing.SetInsuranceStatus(line_id=open_line, status=InsuranceStatus.CLOSED),
    )
    assert difference(engine, D(2018, 2, 28)) == ("130.00", "130.00", "0.00", {})


def test_reason_4_adjustments_and_transfers_dated_after_the_ending_date(practice, engine) -> None:
    [line] = charge(practice, D(2018, 2, 1), 10000)
    [gap] = charge(practice, D(2018, 2, 1), 8000, billed_to="FUND")
    invoicing.adjust_line(
        practice.at_date(D(2018, 2, 12)),
        invoicing.AdjustLine(line_id=line, amount_cents=1000, reason=AdjustmentReason.DISCOUNT),
    )
    invoicing.transfer(
        practice.uow(),
        invoicing.Transfer(line_id=gap, amount_cents=2500, reason="gap", to_patient=True),
    )
    # at 02-10 the ledger has the 100.00 charge only; the statement counts the 10.00
    # discount and the 25.00 gap at the date of service: 100 - 10 + 25 = 115.00;
    # 100.00 - 115.00 = -15.00 = +10.00 (discount) - 25.00 (gap)
    assert difference(engine, D(2018, 2, 10)) == (
        "100.00",
        "115.00",
        "-15.00",
        {"posted_after_ending_date": "-15.00"},
    )
    assert difference(engine, D(2018, 2, 12)) == ("115.00", "115.00", "0.00", {})
    statement = run(engine, balance_statement, patient="P1", as_of=D(2018, 2, 10))
    assert rows(statement, "description", "charge", "payments", "balance") == [
        (f"90837 Therapy (L-{line:06d})", "100.00", "10.00", "90.00"),
        (f"90837 Therapy (L-{gap:06d})", "25.00", "0.00", "25.00"),
    ]
    checkbook = run(engine, ledger_statement, patient="P1", as_of=D(2018, 2, 12))
    assert rows(checkbook, "date", "description", "charge", "payment", "balance")[1:] == [
        (
            "2018-02-12",
            f"adjustment (discount): 90837 Therapy (L-{line:06d})",
            None,
            "10.00",
            "90.00",
        ),
        (
            "2018-02-12",
            f"gap transferred to the patient: 90837 Therapy (L-{gap:06d}): gap",
            "25.00",
            None,
            "115.00",
        ),
    ]


def test_reason_4_the_other_way_round_a_prepaid_service_after_the_ending_date(
    practice, engine
) -> None:
    [line] = charge(practice, D(2018, 2, 5), 10000, service_date=D(2018, 2, 20))
    payment = pay(practice, D(2018, 2, 5), 3000)
    payments.allocate(practice.uow(), payments.Allocate(payment_id=payment, targets=[(line, 3000)]))
    # at 02-10 the ledger has the 30.00 payment, not the 02-20 charge: -30.00; the
    # statement has no line serviced by then: 0.00
    assert difference(engine, D(2018, 2, 10)) == (
        "-30.00",
        "0.00",
        "-30.00",
        {"services_after_ending_date": "-30.00"},
    )
    assert difference(engine, D(2018, 2, 20)) == ("70.00", "70.00", "0.00", {})


def test_reason_5_unapplied_credit_and_a_refund_after_the_ending_date(practice, engine) -> None:
    charge(practice, D(2018, 2, 1), 10000)
    payment = pay(practice, D(2018, 2, 3), 4000)
    payments.refund(
        practice.at_date(D(2018, 2, 20)),
        payments.Refund(payment_id=payment, amount_cents=1500, reason="asked"),
    )
    # at 02-10: ledger 100.00 - 40.00 = 60.00; statement 100.00; all 40.00 received by then
    # is applied nowhere now (25.00 unapplied, 15.00 refunded after 02-10)
    assert difference(engine, D(2018, 2, 10)) == (
        "60.00",
        "100.00",
        "-40.00",
        {"unapplied_credit": "-40.00"},
    )
    # at 02-28: ledger 60.00 + 15.00 (refund) = 75.00; the 25.00 still unapplied
    assert difference(engine, D(2018, 2, 28)) == (
        "75.00",
        "100.00",
        "-25.00",
        {"unapplied_credit": "-25.00"},
    )
    checkbook = run(engine, ledger_statement, patient="P1", as_of=D(2018, 2, 28))
    assert rows(checkbook, "date", "description", "payment", "balance")[1:] == [
        ("2018-02-03", f"payment PAY-{payment:06d} (cash)", "40.00", "60.00"),
        ("2018-02-20", f"refund of payment PAY-{payment:06d}: asked", "-15.00", "75.00"),
    ]


# ---------------------------------------------------------------- as known at


def to_utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=SYDNEY).astimezone(dt.UTC).replace(tzinfo=None)


@pytest.fixture
def history(worked_example, practice):
    [open_line] = charge(practice, D(2018, 2, 16), 5000, open_=True)
    [spare] = charge(practice, D(2018, 2, 16), 2000)
    credit = pay(practice, D(2018, 2, 16), 1000)
    payments.allocate(practice.uow(), payments.Allocate(payment_id=credit, targets=[(spare, 1000)]))
    return {"open": open_line, "spare": spare, "credit": credit, **worked_example}


def test_as_known_at_is_byte_identical_after_more_entries(history, practice, engine) -> None:
    known = to_utc(dt.datetime(2018, 2, 16, 12))
    reports = (ledger_statement, balance_statement, balance_differences)

    def outputs(as_of: dt.date | None) -> list[str]:
        with reading(engine) as conn:
            return [
                to_csv(report(conn, ReportParams(patient="P1", as_of=as_of, as_known_at=known)))
                for report in reports
            ]

    before = outputs(None), outputs(D(2018, 2, 16))
    # afterwards: the open line closed, the paid line deleted, a refund, a new charge and a
    # payment applied, some of it dated before the ending date
    invoicing.set_insurance_status(
        practice.at_date(D(2018, 2, 17)),
        invoicing.SetInsuranceStatus(line_id=history["open"], status=InsuranceStatus.CLOSED),
    )
    invoicing.delete_line(
        practice.uow(), invoicing.DeleteLine(line_id=history["spare"], reason="wrong", cascade=True)
    )
    payments.refund(
        practice.uow(), payments.Refund(payment_id=history["credit"], amount_cents=400, reason="x")
    )
    charge(practice, D(2018, 2, 17), 7000, service_date=D(2018, 2, 10))
    late = pay(practice, D(2018, 2, 17), 500)
    payments.allocate(
        practice.uow(), payments.Allocate(payment_id=late, targets=[(history["line"], 500)])
    )
    after = outputs(None), outputs(D(2018, 2, 16))
    assert before == after
    # and it is what was known: the open line open, the spare line live and paid
    ledger_csv, statement_csv, differences_csv = before[1]
    assert statement_csv.splitlines()[1:] == [
        f"2018-02-01,90837 Therapy (L-{history['line']:06d}),100.00,30.00,70.00",
        f"2018-02-16,90837 Therapy (L-{history['spare']:06d}),20.00,10.00,10.00",
    ]
    # ledger 100 - 30 + 50 + 20 - 10 = 130.00; statement 80.00; the open line 50.00
    assert differences_csv.splitlines()[1] == (
        "P1,Patient One,130.00,80.00,50.00,0.00,0.00,50.00,0.00,0.00,0.00,0.00,0.00,0.00"
    )
    assert ledger_csv.splitlines()[-1].endswith(",130.00")


# ---------------------------------------------------------------- the property

CHARGE = st.tuples(
    st.just("charge"),
    st.integers(1, 30),  # fee in dollars
    st.booleans(),  # client billable
    st.booleans(),  # open to insurance
    st.booleans(),  # billed to the fund
    st.integers(-3, 3),  # service date, days from today
)
PAY = st.tuples(st.just("pay"), st.integers(1, 30), st.integers(0, 3))  # received days ago
OPS = st.one_of(
    CHARGE,
    PAY,
    st.tuples(st.just("allocate"), st.integers(0, 9), st.integers(0, 9), st.integers(1, 100)),
    st.tuples(st.just("credit")),
    st.tuples(st.just("unallocate"), st.integers(0, 9)),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("transfer"), st.integers(0, 9), st.integers(1, 100)),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 100)),
    st.tuples(st.just("adjust"), st.integers(0, 9), st.integers(1, 100)),
    st.tuples(st.just("status"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    *[st.tuples(st.just("day"), st.integers(1, 4))] * 3,  # time passes between events
)


NEEDS_LINE = {"allocate", "delete", "transfer", "adjust", "status"}
NEEDS_PAYMENT = {"allocate", "refund", "reverse"}


def _play(clock, engine, code: str, ops, day: dt.date) -> tuple[dt.date, list[dt.datetime]]:
    """Post ``ops`` for patient ``code`` through the services; the last day and the
    instant after each operation."""
    lines: list[tuple[int, bool]] = []  # (line id, billed to the fund)
    paid: list[int] = []
    allocations: list[int] = []
    moments: list[dt.datetime] = []
    for op in ops:
        name = op[0]
        if (
            (name in NEEDS_LINE and not lines)
            or (name in NEEDS_PAYMENT and not paid)
            or (name == "unallocate" and not allocations)
        ):
            continue
        try:
            if name == "day":
                day += dt.timedelta(days=op[1])
            elif name == "charge":
                _, dollars, billable, open_, fund, offset = op
                [line] = charge(
                    clock,
                    day,
                    dollars * 100,
                    service_date=day + dt.timedelta(days=offset),
                    billable=billable,
                    open_=open_,
                    billed_to="FUND" if fund else None,
                    patient=code,
                )
                lines.append((line, fund))
            elif name == "pay":
                paid.append(
                    payments.record_payment(
                        clock.at_date(day),
                        payments.RecordPayment(
                            from_code=code,
                            amount_cents=op[1] * 100,
                            method=PaymentMethod.EFTPOS,
                            received_date=day - dt.timedelta(days=op[2]),
                            location_code="MAIN",
                        ),
                    )
                )
            elif name == "credit":
                allocations += [
                    a.id
                    for a in payments.apply_credit(
                        clock.at_date(day), payments.ApplyCredit(patient_code=code, auto=True)
                    )
                ]
            elif name == "allocate":
                payment, (line, _) = paid[op[1] % len(paid)], lines[op[2] % len(lines)]
                with reading(engine) as conn:
                    room = min(
                        lookups.payment_unallocated_cents(conn, payment),
                        lookups.line_owing_cents(conn, line, None),
                    )
                if room > 0:
                    [made] = payments.allocate(
                        clock.at_date(day),
                        payments.Allocate(
                            payment_id=payment, targets=[(line, max(1, room * op[3] // 100))]
                        ),
                    )
                    allocations.append(made.id)
            elif name == "unallocate":
                payments.unallocate(
                    clock.at_date(day),
                    payments.Unallocate(
                        allocation_id=allocations[op[1] % len(allocations)], reason="r"
                    ),
                )
            elif name == "delete":
                invoicing.delete_line(
                    clock.at_date(day),
                    invoicing.DeleteLine(
                        line_id=lines[op[1] % len(lines)][0], reason="d", cascade=True
                    ),
                )
            elif name == "transfer":
                line, fund = lines[op[1] % len(lines)]
                with reading(engine) as conn:
                    owing = lookups.line_owing_cents(
                        conn, line, lookups.id_for_code(conn, "payer", "FUND")
                    )
                if fund and owing > 0:
                    invoicing.transfer(
                        clock.at_date(day),
                        invoicing.Transfer(
                            line_id=line,
                            amount_cents=max(1, owing * op[2] // 100),
                            reason="gap",
                            to_patient=True,
                        ),
                    )
            elif name == "adjust":
                line, fund = lines[op[1] % len(lines)]
                with reading(engine) as conn:
                    owing = lookups.line_owing_cents(conn, line, None)
                if owing > 0:
                    invoicing.adjust_line(
                        clock.at_date(day),
                        invoicing.AdjustLine(
                            line_id=line,
                            amount_cents=max(1, owing * op[2] // 100),
                            reason=AdjustmentReason.WRITE_OFF,
                            patient_portion=fund,
                        ),
                    )
            elif name == "status":
                invoicing.set_insurance_status(
                    clock.at_date(day),
                    invoicing.SetInsuranceStatus(
                        line_id=lines[op[1] % len(lines)][0],
                        status=InsuranceStatus.OPEN if op[2] else InsuranceStatus.CLOSED,
                    ),
                )
            elif name == "refund":
                payment = paid[op[1] % len(paid)]
                with reading(engine) as conn:
                    free = lookups.payment_unallocated_cents(conn, payment)
                if free > 0:
                    payments.refund(
                        clock.at_date(day),
                        payments.Refund(
                            payment_id=payment, amount_cents=max(1, free * op[2] // 100), reason="r"
                        ),
                    )
            elif name == "reverse":
                payments.reverse_payment(
                    clock.at_date(day),
                    payments.ReversePayment(payment_id=paid[op[1] % len(paid)], reason="bounced"),
                )
        except UserError as exc:
            event(f"{name} refused: {type(exc).__name__} {getattr(exc, 'code', '')}")
        moments.append(to_utc(clock.now))
    return day, moments


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.tuples(
        st.lists(CHARGE, min_size=1, max_size=3), st.lists(PAY, min_size=1, max_size=2)
    ),
    ops=st.lists(OPS, min_size=2, max_size=14),
    endings=st.lists(st.integers(-6, 14), min_size=1, max_size=3),
    known_pick=st.integers(0, 100),
)
def test_balance_differences_always_explain_the_whole_difference(
    practice, engine, start, ops, endings, known_pick
) -> None:
    ops = [*start[0], *start[1], *ops]  # a few lines and payments, then anything
    number = next(COUNTER)
    code = f"R{number}"
    masters.add_patient(practice.uow(), code=code, name=f"Random Patient {number}")
    first = practice.now.date() + dt.timedelta(days=1)
    _, moments = _play(practice, engine, code, ops, first)
    known_at = [None, moments[known_pick % len(moments)]] if moments else [None]
    with reading(engine) as conn:
        for offset, known in itertools.product(endings, known_at):
            params = ReportParams(
                patient=code, as_of=first + dt.timedelta(days=offset), as_known_at=known
            )
            [row] = balance_differences(conn, params).rows
            assert row.unexplained_cents == 0, (ops, offset, known)
            for reason in REASONS:
                if getattr(row, f"{reason}_cents"):
                    event(f"explained by {reason}")
            assert row.difference_cents == row.ledger_balance_cents - row.statement_balance_cents
            checkbook = ledger_statement(conn, params)
            assert checkbook.totals["balance_cents"] == row.ledger_balance_cents
            assert balance_statement(conn, params).totals["balance_cents"] == (
                row.statement_balance_cents
            )
        # every patient at once: the same rows, still all explained
        everyone = balance_differences(conn, ReportParams(as_of=first + dt.timedelta(days=3)))
        assert everyone.warnings == ()
        assert all(r.unexplained_cents == 0 for r in everyone.rows)


COUNTER = itertools.count(1)
