"""Unearned income (reference 004): invoiced lines whose service date is still to come,
per location and in detail; hand-computed rows."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicledger.domain.choices import AdjustmentReason, LineKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.unearned import unearned
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store.uow import reading

D = dt.date


def sessions(*days: int) -> list[LineSpec]:
    return [
        LineSpec(
            kind=LineKind.SERVICE,
            item_code="600",
            provider_code="DR1",
            service_date=D(2024, 7, day),
        )
        for day in days
    ]


def invoice(uow, patient, location, lines):
    return invoicing.create_invoice(
        uow,
        invoicing.CreateInvoice(
            patient_code=patient, location_code=location, billed_to_code=None, lines=lines
        ),
    )


@pytest.fixture
def journal(clock):
    """July 2024 (Sydney, UTC+10): Alex's four-session program at the main rooms, prepaid;
    Blair's two sessions at the branch (one discounted), a third invoiced then deleted;
    another session for Alex invoiced on the 10th."""
    clock.now = dt.datetime(2024, 6, 30, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="BR", name="Branch rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Alex Example")
    masters.add_patient(clock.uow(), code="P2", name="Blair Sample")
    masters.add_item(clock.uow(), code="600", description="Program session", fee_cents=5000)
    program = invoice(clock.at_date(D(2024, 7, 1)), "P1", "MAIN", sessions(1, 8, 15, 22))
    prepaid = payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=20000,
            method=PaymentMethod.EFTPOS,
            received_date=D(2024, 7, 1),
            location_code="MAIN",
        ),
    )
    payments.allocate(
        clock.uow(),
        payments.Allocate(payment_id=prepaid, targets=[(line.id, 5000) for line in program.lines]),
    )
    blair = invoice(clock.at_date(D(2024, 7, 2)), "P2", "BR", sessions(9, 16))
    invoicing.adjust_line(
        clock.at_date(D(2024, 7, 3)),
        invoicing.AdjustLine(
            line_id=blair.lines[1].id, amount_cents=1000, reason=AdjustmentReason.DISCOUNT
        ),
    )
    [wrong] = invoice(clock.at_date(D(2024, 7, 4)), "P2", "BR", sessions(30)).lines
    invoicing.delete_line(
        clock.at_date(D(2024, 7, 5)), invoicing.DeleteLine(line_id=wrong.id, reason="not booked")
    )
    invoice(clock.at_date(D(2024, 7, 10)), "P1", "MAIN", sessions(20))
    return {"blair": [line.id for line in blair.lines]}


def run(engine, **filters):
    with reading(engine) as conn:
        return to_json_data(unearned(conn, ReportParams(**filters)))


def totals_by_location(data):
    return [tuple(row.values()) for row in data["rows"]]


def test_at_a_date_per_location_and_in_detail(journal, engine) -> None:
    data = run(engine, as_of=D(2024, 7, 7))
    assert data["columns"] == ["location", "lines", "billed", "paid"]
    # BR: 9 July 50.00 + 16 July 50.00 - 10.00 discount; the 30 July line deleted on the 5th
    # MAIN: 8, 15, 22 July at 50.00, each prepaid; 1 July is done; the 20 July line is not
    # yet invoiced on the 7th
    assert totals_by_location(data) == [
        ("BR", 2, "90.00", "0.00"),
        ("MAIN", 3, "150.00", "150.00"),
    ]
    assert data["totals"] == {"lines": 5, "billed": "240.00", "paid": "150.00"}
    [lines] = data["sections"]
    assert lines["report"] == "lines"
    assert [tuple(row.values()) for row in lines["rows"]] == [
        ("BR", "INV-000002", "L-000005", "Blair Sample", "Dr One", "600",
         "2024-07-02", "2024-07-09", "50.00", "0.00"),
        ("BR", "INV-000002", "L-000006", "Blair Sample", "Dr One", "600",
         "2024-07-02", "2024-07-16", "40.00", "0.00"),
        ("MAIN", "INV-000001", "L-000002", "Alex Example", "Dr One", "600",
         "2024-07-01", "2024-07-08", "50.00", "50.00"),
        ("MAIN", "INV-000001", "L-000003", "Alex Example", "Dr One", "600",
         "2024-07-01", "2024-07-15", "50.00", "50.00"),
        ("MAIN", "INV-000001", "L-000004", "Alex Example", "Dr One", "600",
         "2024-07-01", "2024-07-22", "50.00", "50.00"),
    ]  # fmt: skip


def test_other_dates_and_one_location(journal, engine) -> None:
    # 2 July: the discount (3rd) is still to come
    assert totals_by_location(run(engine, as_of=D(2024, 7, 2))) == [
        ("BR", 2, "100.00", "0.00"),
        ("MAIN", 3, "150.00", "150.00"),
    ]
    # 4 July: the 30 July line is invoiced and not yet deleted
    assert totals_by_location(run(engine, as_of=D(2024, 7, 4))) == [
        ("BR", 3, "140.00", "0.00"),
        ("MAIN", 3, "150.00", "150.00"),
    ]
    # 12 July, main rooms: 15 and 22 July prepaid, 20 July (invoiced on the 10th) not
    assert totals_by_location(run(engine, as_of=D(2024, 7, 12), location="MAIN")) == [
        ("MAIN", 3, "150.00", "100.00"),
    ]
    assert run(engine, as_of=D(2024, 7, 31))["rows"] == []


def test_as_known_at_is_byte_identical_after_more_entries(journal, engine, clock) -> None:
    # On 12 July as known at the end of the 10th; then a fee correction of the 16 July
    # session is entered on the 11th, dated the 11th.
    params = ReportParams(as_of=D(2024, 7, 12), as_known_at=dt.datetime(2024, 7, 10, 14))
    with reading(engine) as conn:
        before = to_csv(unearned(conn, params))
    invoicing.adjust_line(
        clock.at_date(D(2024, 7, 11)),
        invoicing.AdjustLine(
            line_id=journal["blair"][1], amount_cents=500, reason=AdjustmentReason.FEE_CORRECTION
        ),
    )
    with reading(engine) as conn:
        after = to_csv(unearned(conn, params))
        now = to_csv(unearned(conn, ReportParams(as_of=D(2024, 7, 12))))
    assert before == after
    # BR: 16 July 50.00 - 10.00 discount; MAIN: 15 and 22 July prepaid, 20 July not
    assert before.splitlines()[:3] == [
        "location,lines,billed,paid",
        "BR,1,40.00,0.00",
        "MAIN,3,150.00,100.00",
    ]
    assert now.splitlines()[1] == "BR,1,35.00,0.00"


def test_as_of_is_required(engine, clock) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine)
    assert caught.value.field == "as_of"
