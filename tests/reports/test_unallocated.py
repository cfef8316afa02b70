"""Unallocated payments (reference 004): payments not fully applied at a date, with age,
per location or all, and the retained-funds section; hand-computed rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from clinicledger.domain.choices import LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.unallocated import unallocated
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

D = dt.date


def consult(day: dt.date) -> LineSpec:
    return LineSpec(kind=LineKind.SERVICE, item_code="500", provider_code="DR1", service_date=day)


def pay(uow, party, cents, day, location, method, reference=None):
    return payments.record_payment(
        uow,
        payments.RecordPayment(
            from_code=party,
            amount_cents=cents,
            method=method,
            received_date=day,
            location_code=location,
            reference=reference,
        ),
    )


@pytest.fixture
def journal(clock):
    """June 2024 (Sydney, UTC+10): Alex overpays by 50.00 and gets 10.00 back; a fund's
    80.00 is not matched to anything; Blair pays 30.00 at the branch (applied on the 25th)
    and 20.00 by a cheque that bounces; Alex's 5.00 of 1 June is entered on the 15th."""
    clock.now = dt.datetime(2024, 6, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="BR", name="Branch rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Alex Example")
    masters.add_patient(clock.uow(), code="P2", name="Blair Sample")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    day = D(2024, 6, 3)
    [l1] = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code="P1", location_code="MAIN", billed_to_code=None, lines=[consult(day)]
        ),
    ).lines
    alex = pay(clock.uow(), "P1", 15000, day, "MAIN", PaymentMethod.EFTPOS)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=alex, targets=[(l1.id, 10000)]))
    day = D(2024, 6, 10)
    fund = pay(clock.at_date(day), "FUND", 8000, day, "MAIN", PaymentMethod.INSURANCE, "EFT123")
    day = D(2024, 6, 12)
    blair = pay(clock.at_date(day), "P2", 3000, day, "BR", PaymentMethod.CASH)
    payments.refund(
        clock.at_date(D(2024, 6, 14)),
        payments.Refund(payment_id=alex, amount_cents=1000, reason="r"),
    )
    late = pay(clock.at_date(D(2024, 6, 15)), "P1", 500, D(2024, 6, 1), "MAIN", PaymentMethod.CASH)
    day = D(2024, 6, 20)
    cheque = pay(clock.at_date(day), "P2", 2000, day, "BR", PaymentMethod.CHEQUE, "CHQ 7")
    payments.reverse_payment(
        clock.at_date(D(2024, 6, 21)), payments.ReversePayment(payment_id=cheque, reason="bounced")
    )
    day = D(2024, 6, 25)
    [l2] = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code="P2", location_code="BR", billed_to_code=None, lines=[consult(day)]
        ),
    ).lines
    payments.allocate(clock.uow(), payments.Allocate(payment_id=blair, targets=[(l2.id, 3000)]))
    return {"alex": alex, "fund": fund, "blair": blair, "late": late, "cheque": cheque}


def run(engine, **filters):
    with reading(engine) as conn:
        return to_json_data(unallocated(conn, ReportParams(**filters)))


KEYS = ("payment", "location", "received_date", "received_from", "method", "reference",
        "amount", "unallocated", "age_days")  # fmt: skip


def cells(data):
    return [tuple(row[k] for k in KEYS) for row in data["rows"]]


def test_at_month_end(journal, engine) -> None:
    data = run(engine, as_of=D(2024, 6, 30))
    assert data["columns"] == list(KEYS)
    # Alex: 150.00 - 100.00 applied - 10.00 refunded = 40.00, received 3 June: 27 days
    # the late cash: 5.00, received 1 June: 29 days; the fund: 80.00, 10 June: 20 days
    # Blair's cash was applied on the 25th and the cheque reversed on the 21st.
    assert cells(data) == [
        ("PAY-000004", "MAIN", "2024-06-01", "Alex Example", "cash", None, "5.00", "5.00", 29),
        ("PAY-000001", "MAIN", "2024-06-03", "Alex Example", "eftpos", None,
         "150.00", "40.00", 27),
        ("PAY-000002", "MAIN", "2024-06-10", "Fund One", "insurance", "EFT123",
         "80.00", "80.00", 20),
    ]  # fmt: skip
    assert data["totals"] == {"payments": 3, "amount": "235.00", "unallocated": "125.00"}
    [retained] = data["sections"]
    assert retained["report"] == "retained funds"
    assert retained["columns"] == [
        "payment",
        "location",
        "received_date",
        "received_from",
        "reference",
        "amount",
        "retained",
        "retained_at",
    ]
    assert retained["rows"] == []
    assert retained["totals"] == {"payments": 0, "amount": "0.00", "retained": "0.00"}


def test_earlier_dates_and_one_location(journal, engine) -> None:
    # 20 June: the cheque is not yet reversed (0 days old); Blair's cash not yet applied
    assert [(r[0], r[7], r[8]) for r in cells(run(engine, as_of=D(2024, 6, 20)))] == [
        ("PAY-000003", "30.00", 8),
        ("PAY-000005", "20.00", 0),
        ("PAY-000004", "5.00", 19),
        ("PAY-000001", "40.00", 17),
        ("PAY-000002", "80.00", 10),
    ]
    # 5 June: the refund (14th) is still to come; the fund has not paid yet
    assert [(r[0], r[7]) for r in cells(run(engine, as_of=D(2024, 6, 5)))] == [
        ("PAY-000004", "5.00"),
        ("PAY-000001", "50.00"),
    ]
    branch = run(engine, as_of=D(2024, 6, 22), location="BR")
    assert [(r[0], r[7]) for r in cells(branch)] == [("PAY-000003", "30.00")]


def test_as_known_at_is_byte_identical_after_more_entries(journal, engine, clock) -> None:
    # Known at the end of 14 June: the late cash entered on the 15th is not yet known.
    params = ReportParams(as_of=D(2024, 6, 30), as_known_at=dt.datetime(2024, 6, 14, 14))
    with reading(engine) as conn:
        before = to_csv(unallocated(conn, params))
    payments.refund(
        clock.uow(), payments.Refund(payment_id=journal["fund"], amount_cents=8000, reason="dup")
    )
    with reading(engine) as conn:
        after = to_csv(unallocated(conn, params))
    assert before == after
    assert before.splitlines() == [
        ",".join(KEYS),
        "PAY-000003,BR,2024-06-12,Blair Sample,cash,,30.00,30.00,18",
        "PAY-000001,MAIN,2024-06-03,Alex Example,eftpos,,150.00,40.00,27",
        "PAY-000002,MAIN,2024-06-10,Fund One,insurance,EFT123,80.00,80.00,20",
        "",
        "# retained funds",
        "payment,location,received_date,received_from,reference,amount,retained,retained_at",
    ]


def test_retained_funds_are_listed_apart(journal, engine, clock) -> None:
    """Until the retain-funds use case exists, an entry of its expected shape is written by
    hand: 3.00 of the fund's payment moved from UNALLOCATED to RETAINED."""
    with clock.at_date(D(2024, 6, 28)) as uow:
        recorded_at = uow.stamp()
        entry_id = uow.conn.execute(
            insert(t.entries)
            .values(
                recorded_at=recorded_at,
                effective_date=D(2024, 6, 28),
                actor="system",
                kind="retain",
                reason="rounding",
            )
            .returning(t.entries.c.id)
        ).scalar_one()
        common = {
            "entry_id": entry_id,
            "effective_date": D(2024, 6, 28),
            "recorded_at": recorded_at,
            "entry_kind": "retain",
            "payer_id": 1,
            "location_id": 1,
            "payment_id": journal["fund"],
        }
        uow.conn.execute(
            insert(t.postings),
            [
                {**common, "account": "UNALLOCATED", "amount_cents": 300},
                {**common, "account": "RETAINED", "amount_cents": -300},
            ],
        )
        uow.commit()
    data = run(engine, as_of=D(2024, 6, 30))
    assert [(r["payment"], r["unallocated"]) for r in data["rows"]][-1] == ("PAY-000002", "77.00")
    [retained] = data["sections"]
    assert retained["rows"] == [
        {
            "payment": "PAY-000002",
            "location": "MAIN",
            "received_date": "2024-06-10",
            "received_from": "Fund One",
            "reference": "EFT123",
            "amount": "80.00",
            "retained": "3.00",
            "retained_at": "2024-06-28 10:00:00+10:00",
        }
    ]
    assert retained["totals"] == {"payments": 1, "amount": "80.00", "retained": "3.00"}
    assert run(engine, as_of=D(2024, 6, 27))["sections"][0]["rows"] == []


def test_as_of_is_required(engine, clock) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine)
    # issue 7: a report names no flag; the command line says "--as-of DATE"
    assert caught.value.message == "as_of: this report needs an as-of date"
