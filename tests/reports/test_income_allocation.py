"""Income allocation (reference 000), by entry time, with hand-computed rows."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicledger.domain.choices import LineKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams, preset_range
from clinicledger.services import invoicing, masters, payments, reporting
from clinicledger.services.invoicing import LineSpec

D = dt.date


@pytest.fixture
def journal(clock):
    """Two providers; a service, a product and a cancellation; payments applied, a credit
    used, an un-allocation and a refund, each entered on its own day (Sydney time)."""
    clock.now = dt.datetime(2024, 10, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_item(clock.uow(), code="90837", description="Therapy", fee_cents=15000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)
    made = invoicing.create_invoice(
        clock.at_date(D(2024, 10, 2)),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[
                LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="90837",
                    provider_code="DR1",
                    service_date=D(2024, 10, 2),
                ),
                LineSpec(kind=LineKind.PRODUCT, product_title="Theraband"),
                LineSpec(
                    kind=LineKind.CANCELLATION,
                    provider_code="DR2",
                    service_date=D(2024, 9, 30),
                    fee_cents=5000,
                ),
            ],
        ),
    )
    service, product, cancellation = (line.id for line in made.lines)
    card = payments.record_payment(
        clock.at_date(D(2024, 10, 2), hour=11),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=20000,
            method=PaymentMethod.EFTPOS,
            received_date=D(2024, 10, 2),
            location_code="MAIN",
            note="paid at desk",
        ),
    )
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=card, targets=[(service, 15000), (product, 1800)])
    )
    [wrong] = payments.allocate(
        clock.at_date(D(2024, 10, 3)),
        payments.Allocate(payment_id=card, targets=[(cancellation, 3200)]),
    )
    payments.unallocate(
        clock.at_date(D(2024, 10, 4)),
        payments.Unallocate(allocation_id=wrong.id, reason="cancellation waived"),
    )
    payments.refund(
        clock.at_date(D(2024, 10, 5)),
        payments.Refund(payment_id=card, amount_cents=1000, reason="returned part"),
    )
    cash = payments.record_payment(
        clock.at_date(D(2024, 10, 6)),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=5000,
            method=PaymentMethod.CASH,
            received_date=D(2024, 10, 6),
            location_code="MAIN",
        ),
    )
    payments.apply_credit(
        clock.uow(), payments.ApplyCredit(patient_code="P1", targets=[(cancellation, 2200)])
    )
    return {"card": card, "cash": cash, "invoice": made.number}


def run(engine, **filters):
    return to_json_data(reporting.run_report(engine, "income-allocation", ReportParams(**filters)))


def test_rows_by_entry_date(journal, engine) -> None:
    data = run(engine, from_date=D(2024, 10, 1), to_date=D(2024, 10, 31))
    bill = f"INV-{journal['invoice']:06d}"
    assert data["columns"] == [
        "time",
        "practitioner",
        "client",
        "bill",
        "claim",
        "payment_type",
        "payment_amount",
        "services",
        "service_dates",
        "notes",
    ]
    assert [
        (
            r["practitioner"],
            r["bill"],
            r["payment_type"],
            r["payment_amount"],
            r["services"],
            r["service_dates"],
            r["notes"],
        )
        for r in data["rows"]
    ] == [
        ("Dr One", bill, "Card Payment", "150.00", "90837", "2024-10-02", "paid at desk"),
        (None, bill, "Card Payment", "18.00", "Theraband", None, "paid at desk"),
        ("Dr Two", bill, "Card Payment", "32.00", "Cancellation", "2024-09-30", "paid at desk"),
        (
            "Dr Two",
            bill,
            "Card Payment",
            "-32.00",
            "Cancellation",
            "2024-09-30",
            "cancellation waived",
        ),
        (None, None, "Refund", "-10.00", None, None, "returned part"),
        ("Dr Two", bill, "Card Payment", "22.00", "Cancellation", "2024-09-30", None),
    ]
    assert data["rows"][0]["time"] == "2024-10-02 11:01:00+10:00"
    assert data["rows"][0]["client"] == "Patient One"
    assert data["totals"] == {"payment_amount": "180.00"}


def test_filtered_by_practitioner_and_date(journal, engine) -> None:
    data = run(engine, from_date=D(2024, 10, 3), to_date=D(2024, 10, 4), provider="DR2")
    assert [r["payment_amount"] for r in data["rows"]] == ["32.00", "-32.00"]
    assert run(engine, from_date=D(2024, 10, 7), to_date=D(2024, 10, 31))["rows"] == []


def test_as_known_at_reproduces_the_report_byte_for_byte(journal, engine, clock) -> None:
    moment = dt.datetime(2024, 10, 4, 12)  # Sydney time, before the refund was entered
    params = ReportParams(
        from_date=D(2024, 10, 1),
        to_date=D(2024, 10, 31),
        as_known_at=moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=10)))
        .astimezone(dt.UTC)
        .replace(tzinfo=None),
    )
    before = to_csv(reporting.run_report(engine, "income-allocation", params))
    payments.refund(
        clock.uow(), payments.Refund(payment_id=journal["cash"], amount_cents=500, reason="more")
    )
    after = to_csv(reporting.run_report(engine, "income-allocation", params))
    assert before == after
    assert before.count("\n") == 1 + 4  # header + the rows entered by then


def test_a_filter_the_report_does_not_take_is_refused(journal, engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine, payer="FUND")
    # issue 7: a service names no flag; the command line says "--payer does not apply"
    assert caught.value.message == "payer: does not apply to income-allocation"


def test_date_presets() -> None:
    today = D(2026, 11, 26)
    assert preset_range("today", today) == (today, today)
    assert preset_range("this-week", today) == (D(2026, 11, 23), D(2026, 11, 29))
    assert preset_range("this-month", today) == (D(2026, 11, 1), D(2026, 11, 30))
    assert preset_range("last-month", today) == (D(2026, 10, 1), D(2026, 10, 31))
    assert preset_range("this-quarter", today) == (D(2026, 10, 1), D(2026, 12, 31))
    assert preset_range("this-financial-year", today) == (D(2026, 7, 1), D(2027, 6, 30))
    assert preset_range("last-financial-year", today) == (D(2025, 7, 1), D(2026, 6, 30))
    assert preset_range("this-financial-year", D(2026, 3, 1)) == (D(2025, 7, 1), D(2026, 6, 30))
