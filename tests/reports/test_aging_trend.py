"""Aging trend: receivables by age bracket at each month end, and its PNG chart;
hand-computed rows."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.dates import month_ends
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.charts import aging_chart
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.aging_trend import aging_trend
from clinicledger.reports.base import ReportParams
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

D = dt.date
JAN_TO_APRIL = {"from_date": D(2024, 1, 1), "to_date": D(2024, 4, 30)}


def consult(provider: str, day: dt.date, fee: int | None = None) -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE, item_code="500", provider_code=provider, service_date=day,
        fee_cents=fee,
    )  # fmt: skip


def pay(uow, party, cents, day, location="MAIN"):
    return payments.record_payment(
        uow,
        payments.RecordPayment(
            from_code=party,
            amount_cents=cents,
            method=PaymentMethod.INSURANCE if party == "FUND" else PaymentMethod.EFTPOS,
            received_date=day,
            location_code=location,
        ),
    )


@pytest.fixture
def journal(clock):
    """January to April 2024: Alex's consult, part paid in February and written off in
    April; Blair's fund-billed consult, its 25.00 gap moved to Blair and the fund's 75.00
    paid in March; Blair's consult at the branch in March."""
    clock.now = dt.datetime(2024, 1, 2, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="BR", name="Branch rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="P1", name="Alex Example")
    masters.add_patient(clock.uow(), code="P2", name="Blair Sample")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    day = D(2024, 1, 10)
    [l1] = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[consult("DR1", day)],
        ),
    ).lines
    day = D(2024, 1, 20)
    [l2] = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="MAIN",
            billed_to_code="FUND",
            lines=[consult("DR2", day)],
        ),
    ).lines
    alex = pay(clock.at_date(D(2024, 2, 15)), "P1", 4000, D(2024, 2, 15))
    payments.allocate(clock.uow(), payments.Allocate(payment_id=alex, targets=[(l1.id, 4000)]))
    invoicing.transfer(
        clock.at_date(D(2024, 2, 20)),
        invoicing.Transfer(line_id=l2.id, amount_cents=2500, reason="gap", to_patient=True),
    )
    [l3] = invoicing.create_invoice(
        clock.at_date(D(2024, 3, 5)),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="BR",
            billed_to_code=None,
            lines=[consult("DR1", D(2024, 3, 1))],
        ),
    ).lines
    fund = pay(clock.at_date(D(2024, 3, 10)), "FUND", 7500, D(2024, 3, 10))
    payments.allocate(clock.uow(), payments.Allocate(payment_id=fund, targets=[(l2.id, 7500)]))
    invoicing.adjust_line(
        clock.at_date(D(2024, 4, 2)),
        invoicing.AdjustLine(line_id=l1.id, amount_cents=6000, reason=AdjustmentReason.BAD_DEBT),
    )
    return {"l3": l3.id}


def run(engine, **filters):
    with reading(engine) as conn:
        return to_json_data(aging_trend(conn, ReportParams(**filters)))


def values(data):
    return [tuple(row.values()) for row in data["rows"]]


def test_month_ends_of_a_range() -> None:
    assert month_ends(D(2024, 1, 15), D(2024, 3, 30)) == (D(2024, 1, 31), D(2024, 2, 29))
    assert month_ends(D(2023, 12, 31), D(2024, 1, 31)) == (D(2023, 12, 31), D(2024, 1, 31))
    assert month_ends(D(2024, 5, 1), D(2024, 5, 30)) == ()


def test_brackets_at_each_month_end(journal, engine) -> None:
    data = run(engine, **JAN_TO_APRIL)
    assert data["columns"] == [
        "month_end", "days_0_29", "days_30_59", "days_60_89", "days_90_plus",
        "patients", "payers", "total",
    ]  # fmt: skip
    # l1 = Alex 10 Jan, l2 = Blair 20 Jan (fund), l3 = Blair 1 Mar (branch)
    # 31 Jan: l1 100.00 (21 days), l2 fund 100.00 (11 days)
    # 29 Feb: l1 60.00 (50 days), l2 fund 75.00 + Blair's gap 25.00 (40 days)
    # 31 Mar: l1 60.00 (81 days), gap 25.00 (71 days), l3 100.00 (30 days); fund paid
    # 30 Apr: l1 written off; gap 25.00 (101 days), l3 100.00 (60 days)
    assert values(data) == [
        ("2024-01-31", "200.00", "0.00", "0.00", "0.00", "100.00", "100.00", "200.00"),
        ("2024-02-29", "0.00", "160.00", "0.00", "0.00", "85.00", "75.00", "160.00"),
        ("2024-03-31", "0.00", "100.00", "85.00", "0.00", "185.00", "0.00", "185.00"),
        ("2024-04-30", "0.00", "0.00", "100.00", "25.00", "125.00", "0.00", "125.00"),
    ]
    assert data["totals"] == {}


def test_another_interval_and_filters(journal, engine) -> None:
    data = run(engine, from_date=D(2024, 1, 15), to_date=D(2024, 3, 31),
               options={"interval_days": 45})  # fmt: skip
    assert data["columns"][1:5] == ["days_0_44", "days_45_89", "days_90_134", "days_135_plus"]
    # 29 Feb: l1 50 days -> 45-89; l2 40 days -> 0-44. 31 Mar: l1 81, gap 71 -> 45-89; l3 30
    assert [row[:5] for row in values(data)] == [
        ("2024-01-31", "200.00", "0.00", "0.00", "0.00"),
        ("2024-02-29", "100.00", "60.00", "0.00", "0.00"),
        ("2024-03-31", "100.00", "85.00", "0.00", "0.00"),
    ]
    branch = run(engine, **JAN_TO_APRIL, location="BR")
    assert [(row[0], row[-1]) for row in values(branch)] == [
        ("2024-01-31", "0.00"),
        ("2024-02-29", "0.00"),
        ("2024-03-31", "100.00"),
        ("2024-04-30", "100.00"),
    ]
    dr2 = run(engine, **JAN_TO_APRIL, provider="DR2")
    assert [row[-1] for row in values(dr2)] == ["100.00", "100.00", "25.00", "25.00"]
    with pytest.raises(InvalidInput) as caught:
        run(engine, **JAN_TO_APRIL, options={"interval_days": "0"})
    assert caught.value.field == "interval_days"
    with pytest.raises(InvalidInput) as caught:
        run(engine, from_date=D(2024, 1, 1))
    assert caught.value.code == "range_missing"


def test_as_known_at_is_byte_identical_after_more_entries(journal, engine, clock) -> None:
    # Known at the end of 5 March (UTC+11): before the fund paid and the write-off.
    params = ReportParams(**JAN_TO_APRIL, as_known_at=dt.datetime(2024, 3, 5, 13))
    with reading(engine) as conn:
        before = to_csv(aging_trend(conn, params))
    invoicing.adjust_line(
        clock.uow(),
        invoicing.AdjustLine(
            line_id=journal["l3"], amount_cents=1000, reason=AdjustmentReason.DISCOUNT
        ),
    )
    with reading(engine) as conn:
        after = to_csv(aging_trend(conn, params))
    assert before == after
    assert before.splitlines()[3:] == [
        "2024-03-31,0.00,100.00,160.00,0.00,185.00,75.00,260.00",
        "2024-04-30,0.00,0.00,100.00,160.00,185.00,75.00,260.00",
    ]


def test_chart_is_a_png(journal, engine) -> None:
    with reading(engine) as conn:
        report = aging_trend(conn, ReportParams(**JAN_TO_APRIL))
    data = aging_chart(report)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


# ---------------------------------------------------------------- property

SEQUENCE = itertools.count(1)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fees=st.lists(st.integers(min_value=1, max_value=20000), min_size=1, max_size=3),
    days_between=st.lists(st.integers(min_value=0, max_value=45), min_size=2, max_size=2),
    paid=st.integers(min_value=0, max_value=30000),
    adjust=st.integers(min_value=0, max_value=3000),
)
def test_brackets_add_up_to_the_receivable(engine, clock, fees, days_between, paid, adjust) -> None:
    """For random journals at a fresh location: at every month end the brackets, and the
    patients' and payers' parts, add up to the location's receivable dated by then."""
    n = next(SEQUENCE)
    location, patient = f"L{n}", f"P{n}"
    with reading(engine) as conn:
        fresh = conn.execute(select(t.providers.c.id)).first() is None
    if fresh:
        clock.now = max(clock.now, dt.datetime(2024, 1, 2, 9))
        masters.add_provider(clock.uow(), code="DR1", name="Dr One")
        masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=100)
        masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_location(clock.uow(), code=location, name=f"Rooms {n}")
    masters.add_patient(clock.uow(), code=patient, name=f"Patient {n}")
    start = clock.now.date() + dt.timedelta(days=1)
    made = invoicing.create_invoice(
        clock.at_date(start),
        invoicing.CreateInvoice(
            patient_code=patient,
            location_code=location,
            billed_to_code="FUND" if n % 2 else None,
            lines=[consult("DR1", start, fee) for fee in fees],
        ),
    )
    later = start + dt.timedelta(days=days_between[0])
    if paid:
        payment = pay(clock.at_date(later), "FUND" if n % 2 else patient, paid, later, location)
        payments.allocate(clock.uow(), payments.Allocate(payment_id=payment, auto=True))
    last = later + dt.timedelta(days=days_between[1])
    if adjust and adjust <= fees[-1]:
        owing = run_owing(engine, made.lines[-1].id)
        if owing >= adjust:
            invoicing.adjust_line(
                clock.at_date(last),
                invoicing.AdjustLine(
                    line_id=made.lines[-1].id,
                    amount_cents=adjust,
                    reason=AdjustmentReason.WRITE_OFF,
                ),
            )
    data = run(engine, from_date=start, to_date=last + dt.timedelta(days=62), location=location)
    assert data["rows"]
    for row in data["rows"]:
        cents = {k: int(v.replace(".", "")) for k, v in row.items() if k != "month_end"}
        brackets = sum(v for k, v in cents.items() if k.startswith("days_"))
        assert brackets == cents["total"] == cents["patients"] + cents["payers"]
        with reading(engine) as conn:
            receivable = conn.execute(
                select(func.coalesce(func.sum(t.postings.c.amount_cents), 0)).where(
                    t.postings.c.account == "RECEIVABLE",
                    t.postings.c.line_id.in_([line.id for line in made.lines]),
                    t.postings.c.effective_date <= D.fromisoformat(row["month_end"]),
                )
            ).scalar_one()
        assert cents["total"] == receivable


def run_owing(engine, line_id: int) -> int:
    with reading(engine) as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(t.postings.c.amount_cents), 0)).where(
                    t.postings.c.account == "RECEIVABLE", t.postings.c.line_id == line_id
                )
            ).scalar_one()
        )


def test_month_ends_reach_the_end_of_the_calendar() -> None:
    assert month_ends(D(9999, 11, 15), D(9999, 12, 31)) == (D(9999, 11, 30), D(9999, 12, 31))
    assert month_ends(D(2024, 12, 1), D(2025, 2, 28)) == (
        D(2024, 12, 31),
        D(2025, 1, 31),
        D(2025, 2, 28),
    )
