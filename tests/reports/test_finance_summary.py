"""Finance summary (reference 004): services provided, invoiced and receipted, by created
date or service date, grouped by item or by patient, with hand-computed rows."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.finance_summary import finance_summary
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import lookups
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

D = dt.date
MARCH = {"from_date": D(2024, 3, 1), "to_date": D(2024, 3, 31)}


def service(item: str, provider: str, day: dt.date) -> LineSpec:
    return LineSpec(kind=LineKind.SERVICE, item_code=item, provider_code=provider, service_date=day)


def pay(clock, day, party, cents, location="MAIN", method=PaymentMethod.EFTPOS):
    return payments.record_payment(
        clock.at_date(day),
        payments.RecordPayment(
            from_code=party,
            amount_cents=cents,
            method=method,
            received_date=day,
            location_code=location,
        ),
    )


@pytest.fixture
def journal(clock):
    """March 2024 at two locations: a consult, a product and a cancellation fee for Alex;
    a fund-billed consult (serviced in February) and a review (deleted) for Blair; an April
    invoice for a review serviced in March."""
    clock.now = dt.datetime(2024, 3, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="BR", name="Branch rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="P1", name="Alex Example")
    masters.add_patient(clock.uow(), code="P2", name="Blair Sample")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    masters.add_item(clock.uow(), code="501", description="Review", fee_cents=6000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)

    a = invoicing.create_invoice(
        clock.at_date(D(2024, 3, 4)),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[
                service("500", "DR1", D(2024, 3, 4)),
                LineSpec(kind=LineKind.PRODUCT, product_title="Theraband"),
                LineSpec(
                    kind=LineKind.CANCELLATION,
                    provider_code="DR2",
                    service_date=D(2024, 3, 1),
                    fee_cents=5000,
                ),
            ],
        ),
    )
    a1, a2, a3 = (line.id for line in a.lines)
    [b1] = invoicing.create_invoice(
        clock.at_date(D(2024, 3, 5)),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="MAIN",
            billed_to_code="FUND",
            lines=[service("500", "DR1", D(2024, 2, 28))],
        ),
    ).lines
    [c1] = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="BR",
            billed_to_code=None,
            lines=[service("501", "DR2", D(2024, 3, 5))],
        ),
    ).lines
    alex = pay(clock, D(2024, 3, 6), "P1", 12000)
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=alex, targets=[(a1, 10000), (a2, 1800)])
    )
    fund = pay(clock, D(2024, 3, 7), "FUND", 7000, method=PaymentMethod.INSURANCE)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=fund, targets=[(b1.id, 7000)]))
    invoicing.transfer(
        clock.uow(),
        invoicing.Transfer(line_id=b1.id, amount_cents=3000, reason="gap", to_patient=True),
    )
    blair = pay(clock, D(2024, 3, 7), "P2", 2000, method=PaymentMethod.CASH)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=blair, targets=[(b1.id, 2000)]))
    invoicing.adjust_line(
        clock.at_date(D(2024, 3, 8)),
        invoicing.AdjustLine(line_id=a3, amount_cents=1500, reason=AdjustmentReason.DISCOUNT),
    )
    [wrong] = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=alex, targets=[(a3, 200)])
    )
    payments.unallocate(
        clock.at_date(D(2024, 3, 9)),
        payments.Unallocate(allocation_id=wrong.id, reason="wrong line"),
    )
    invoicing.delete_line(clock.uow(), invoicing.DeleteLine(line_id=c1.id, reason="keyed in error"))
    invoicing.create_invoice(
        clock.at_date(D(2024, 4, 2)),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[service("501", "DR1", D(2024, 3, 29))],
        ),
    )
    return {"b1": b1.id}


def run(engine, **filters):
    with reading(engine) as conn:
        return to_json_data(finance_summary(conn, ReportParams(**filters)))


def cells(data, *keys):
    return [tuple(row[k] for k in keys) for row in data["rows"]]


NUMBERS = (
    "services_provided",
    "invoiced",
    "services_deleted",
    "deleted",
    "adjusted",
    "services_receipted",
    "receipted",
    "owing",
)


def test_by_created_date_grouped_by_item(journal, engine) -> None:
    data = run(engine, **MARCH)
    assert data["report"] == "finance-summary"
    assert data["columns"] == ["item", "description", *NUMBERS]
    # Recorded in March: a1 a2 a3 (4 Mar), b1 c1 (5 Mar); d1 was recorded in April.
    # 500: a1 100.00 paid in full; b1 100.00: fund 70.00 + Blair 20.00 of the 30.00 gap
    #      -> receipted 190.00, owing 10.00; 200.00 = 190.00 + 10.00
    # 501: c1 60.00 deleted with nothing paid -> deleted 60.00
    # Cancellation: 50.00 - 15.00 discount; 2.00 applied then un-allocated -> owing 35.00
    # TB: 18.00 paid in full
    assert cells(data, "item", "description", *NUMBERS) == [
        ("500", "Consultation", 2, "200.00", 0, "0.00", "0.00", 2, "190.00", "10.00"),
        ("501", "Review", 1, "60.00", 1, "60.00", "0.00", 0, "0.00", "0.00"),
        ("Cancellation", "Cancellation fee", 1, "50.00", 0, "0.00", "15.00", 0, "0.00", "35.00"),
        ("TB", "Theraband", 1, "18.00", 0, "0.00", "0.00", 1, "18.00", "0.00"),
    ]
    # 328.00 invoiced = 60.00 deleted + 15.00 adjusted + 208.00 receipted + 45.00 owing
    assert data["totals"] == {
        "services_provided": 5,
        "invoiced": "328.00",
        "services_deleted": 1,
        "deleted": "60.00",
        "adjusted": "15.00",
        "services_receipted": 3,
        "receipted": "208.00",
        "owing": "45.00",
    }


def test_by_service_date(journal, engine) -> None:
    data = run(engine, **MARCH, options={"by": "service"})
    # Service dates in March: a1 (4th), a2 (a product: its invoice date, 4th), a3 (1st),
    # c1 (5th), d1 (29th, invoiced in April); b1 was serviced on 28 Feb.
    assert cells(data, "item", "services_provided", "invoiced", "receipted", "owing") == [
        ("500", 1, "100.00", "100.00", "0.00"),
        ("501", 2, "120.00", "0.00", "60.00"),  # c1 deleted, d1 owing
        ("Cancellation", 1, "50.00", "0.00", "35.00"),
        ("TB", 1, "18.00", "18.00", "0.00"),
    ]
    assert data["parameters"]["by"] == "service"


def test_grouped_by_patient(journal, engine) -> None:
    data = run(engine, **MARCH, options={"group": "patient"})
    assert data["columns"][:2] == ["patient_code", "patient"]
    # Alex: a1 100.00 + a2 18.00 + a3 50.00 = 168.00; 15.00 off, 118.00 paid, 35.00 owing
    # Blair: b1 100.00 + c1 60.00 = 160.00; 60.00 deleted, 90.00 paid, 10.00 owing
    assert cells(data, "patient_code", "patient", *NUMBERS) == [
        ("P1", "Alex Example", 3, "168.00", 0, "0.00", "15.00", 2, "118.00", "35.00"),
        ("P2", "Blair Sample", 2, "160.00", 1, "60.00", "0.00", 1, "90.00", "10.00"),
    ]


def test_filtered_by_provider_and_location(journal, engine) -> None:
    by_provider = run(engine, **MARCH, provider="DR2")
    assert cells(by_provider, "item", "services_provided", "owing") == [
        ("501", 1, "0.00"),
        ("Cancellation", 1, "35.00"),
    ]
    by_location = run(engine, **MARCH, location="BR")
    assert cells(by_location, "item", "services_provided", "deleted") == [("501", 1, "60.00")]
    assert run(engine, from_date=D(2024, 5, 1), to_date=D(2024, 5, 31))["rows"] == []


def test_as_known_at_is_byte_identical_after_more_entries(journal, engine, clock) -> None:
    # End of 7 March, Sydney (UTC+11): before the discount, the un-allocation, the deletion.
    known = dt.datetime(2024, 3, 7, 13)  # 2024-03-08 00:00 AEDT
    params = ReportParams(**MARCH, as_known_at=known)
    with reading(engine) as conn:
        before = to_csv(finance_summary(conn, params))
    invoicing.adjust_line(
        clock.uow(),
        invoicing.AdjustLine(
            line_id=journal["b1"],
            amount_cents=1000,
            reason=AdjustmentReason.SMALL_BALANCE,
            patient_portion=True,
        ),
    )
    with reading(engine) as conn:
        after = to_csv(finance_summary(conn, params))
    assert before == after
    assert before.splitlines() == [
        "item,description," + ",".join(NUMBERS),
        "500,Consultation,2,200.00,0,0.00,0.00,2,190.00,10.00",
        "501,Review,1,60.00,0,0.00,0.00,0,0.00,60.00",
        "Cancellation,Cancellation fee,1,50.00,0,0.00,0.00,0,0.00,50.00",
        "TB,Theraband,1,18.00,0,0.00,0.00,1,18.00,0.00",
    ]


def test_a_line_written_off_whole_then_deleted_is_a_service_deleted(engine, clock) -> None:
    """Its deletion takes nothing off the debt (none is left), yet the line is deleted:
    counted once its deletion is known, not before."""
    clock.now = dt.datetime(2024, 5, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Alex Example")
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    [line] = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[service("500", "DR1", D(2024, 5, 1))],
        ),
    ).lines
    invoicing.adjust_line(
        clock.uow(),
        invoicing.AdjustLine(
            line_id=line.id, amount_cents=10000, reason=AdjustmentReason.WRITE_OFF
        ),
    )
    clock.now = dt.datetime(2024, 5, 1, 10)  # Sydney (UTC+10)
    invoicing.delete_line(clock.uow(), invoicing.DeleteLine(line_id=line.id, reason="error"))
    may = {"from_date": D(2024, 5, 1), "to_date": D(2024, 5, 31)}
    known_before = run(engine, **may, as_known_at=dt.datetime(2024, 4, 30, 23, 30))  # 09:30
    known_after = run(engine, **may)
    assert cells(known_before, "item", *NUMBERS) == [
        ("500", 1, "100.00", 0, "0.00", "100.00", 0, "0.00", "0.00")
    ]
    assert cells(known_after, "item", *NUMBERS) == [
        ("500", 1, "100.00", 1, "0.00", "100.00", 0, "0.00", "0.00")
    ]


def test_an_unknown_option_value_is_refused(journal, engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine, options={"group": "provider"})
    assert caught.value.message == "group: 'provider' is not one of: item, patient"


# ---------------------------------------------------------------- property

SEQUENCE = itertools.count(1)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fees=st.lists(st.integers(min_value=1, max_value=30000), min_size=1, max_size=4),
    paid=st.integers(min_value=0, max_value=40000),
    adjust=st.integers(min_value=0, max_value=5000),
    delete_first=st.booleans(),
)
def test_invoiced_always_adds_up(engine, clock, fees, paid, adjust, delete_first) -> None:
    """For random journals at a fresh location: every row and the totals satisfy
    invoiced = deleted + adjusted + receipted + owing, and owing is the location's
    receivable on its lines."""
    n = next(SEQUENCE)
    location, patient = f"L{n}", f"P{n}"
    with reading(engine) as conn:
        fresh = conn.execute(select(t.providers.c.id)).first() is None
    if fresh:
        clock.now = max(clock.now, dt.datetime(2024, 6, 1, 9))
        masters.add_provider(clock.uow(), code="DR", name="Dr Any")
        masters.add_item(clock.uow(), code="I1", description="Consultation", fee_cents=100)
    masters.add_location(clock.uow(), code=location, name=f"Rooms {n}")
    masters.add_patient(clock.uow(), code=patient, name=f"Patient {n}")
    today = (clock.now + dt.timedelta(minutes=1)).date()
    made = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code=patient,
            location_code=location,
            billed_to_code=None,
            lines=[
                LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="I1",
                    provider_code="DR",
                    service_date=today,
                    fee_cents=fee,
                )
                for fee in fees
            ],
        ),
    )
    if paid:
        payment = pay(clock, today, patient, paid, location=location)
        payments.allocate(clock.uow(), payments.Allocate(payment_id=payment, auto=True))
    first = made.lines[0]
    with reading(engine) as conn:
        owing_first = lookups.line_owing_cents(conn, first.id, None)
    if adjust and owing_first >= adjust:
        invoicing.adjust_line(
            clock.uow(),
            invoicing.AdjustLine(
                line_id=first.id, amount_cents=adjust, reason=AdjustmentReason.WRITE_OFF
            ),
        )
    if delete_first:
        invoicing.delete_line(
            clock.uow(), invoicing.DeleteLine(line_id=first.id, reason="error", cascade=True)
        )

    data = run(engine, location=location)
    [row] = data["rows"]
    cents = {k: int(row[k].replace(".", "")) for k in ("invoiced", "deleted", "adjusted")}
    rest = {k: int(row[k].replace(".", "")) for k in ("receipted", "owing")}
    assert cents["invoiced"] == sum(fees)
    assert cents["invoiced"] == cents["deleted"] + cents["adjusted"] + sum(rest.values())
    assert row["services_provided"] == len(fees)
    assert row["services_deleted"] == int(delete_first)
    with reading(engine) as conn:
        receivable = sum(
            r.amount_cents
            for r in conn.execute(
                t.postings.select().where(
                    t.postings.c.account == "RECEIVABLE",
                    t.postings.c.line_id.in_([line.id for line in made.lines]),
                )
            )
        )
    assert rest["owing"] == receivable
