"""Receipts listing (reference 004 "Receipts Listing", "Reconciliation - End of Day"), with
hand-computed rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clinicledger.domain.choices import LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.receipts import receipts
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store.uow import reading

D = dt.date
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=SYDNEY).astimezone(dt.UTC).replace(tzinfo=None)


@pytest.fixture
def day(clock):
    """End of day at MAIN on 2 October 2024 (and a little of the 3rd):

    INV1 (P1, MAIN): L1 Dr One 2024-09-30 100.00; L2 Dr Two 2024-10-01 100.00; L3 product 18.00
    INV2 (P2, MAIN, billed to the fund): L4 Dr One 2024-10-01 80.00

    entered 2 Oct: PAY-1 P1 EFTPOS 150.00 (L1 100.00, L3 18.00, 32.00 left unapplied)
                   PAY-2 P1 cash 50.00 (L2 50.00)
                   PAY-3 fund insurance 80.00 (L4 80.00)
                   PAY-4 P2 cash 20.00 at NORTH (another location)
                   PAY-5 P2 cheque 30.00, unapplied
    entered 3 Oct: PAY-6 P1 credit card 10.00, unapplied; PAY-5 reversed (dishonoured)
    """
    clock.now = dt.datetime(2024, 10, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="NORTH", name="North rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient Two")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)
    inv1 = invoicing.create_invoice(
        clock.at_date(D(2024, 10, 1)),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[
                LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="500",
                    provider_code="DR1",
                    service_date=D(2024, 9, 30),
                ),
                LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="500",
                    provider_code="DR2",
                    service_date=D(2024, 10, 1),
                ),
                LineSpec(kind=LineKind.PRODUCT, product_title="Theraband"),
            ],
        ),
    )
    inv2 = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="MAIN",
            billed_to_code="FUND",
            lines=[
                LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="500",
                    provider_code="DR1",
                    service_date=D(2024, 10, 1),
                    fee_cents=8000,
                )
            ],
        ),
    )
    l1, l2, l3 = (line.id for line in inv1.lines)
    [l4] = (line.id for line in inv2.lines)

    def pay(code: str, cents: int, method: PaymentMethod, where: str = "MAIN", ref=None) -> int:
        return payments.record_payment(
            clock.uow(),
            payments.RecordPayment(
                from_code=code,
                amount_cents=cents,
                method=method,
                received_date=clock.now.date(),
                location_code=where,
                reference=ref,
            ),
        )

    clock.at_date(D(2024, 10, 2), hour=9)  # move the clock to the 2nd (unused unit of work)
    pay1 = pay("P1", 15000, PaymentMethod.EFTPOS, ref="EFT123")
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=pay1, targets=[(l1, 10000), (l3, 1800)])
    )
    pay2 = pay("P1", 5000, PaymentMethod.CASH)
    [cash_to_l2] = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=pay2, targets=[(l2, 5000)])
    )
    pay3 = pay("FUND", 8000, PaymentMethod.INSURANCE, ref="ERA-77")
    payments.allocate(clock.uow(), payments.Allocate(payment_id=pay3, targets=[(l4, 8000)]))
    pay("P2", 2000, PaymentMethod.CASH, where="NORTH")
    pay5 = pay("P2", 3000, PaymentMethod.CHEQUE)
    clock.at_date(D(2024, 10, 3), hour=9)
    pay("P1", 1000, PaymentMethod.CREDIT_CARD)
    payments.reverse_payment(
        clock.uow(), payments.ReversePayment(payment_id=pay5, reason="cheque dishonoured")
    )
    return {"pay1": pay1, "cash_to_l2": cash_to_l2.id}


def run(engine, **filters):
    options = filters.pop("options", {})
    with reading(engine) as conn:
        return receipts(conn, ReportParams(options=options, **filters))


def rows(part):
    return [
        (r["date"], r["payment"], r["kind"], r["method"], r["provider"], r["amount"])
        for r in part["rows"]
    ]


def methods(data):
    [summary] = [s for s in data["sections"] if s["report"] == "receipts by method"]
    return [(r["method"], r["payments"], r["amount"]) for r in summary["rows"]], summary["totals"]


def test_end_of_day_listing_for_one_location(day, engine) -> None:
    data = to_json_data(
        run(engine, from_date=D(2024, 10, 2), to_date=D(2024, 10, 2), location="MAIN")
    )
    assert data["columns"] == [
        "date",
        "payment",
        "kind",
        "received_from",
        "method",
        "reference",
        "provider",
        "amount",
    ]
    assert data["rows"][0] == {
        "date": "2024-10-02",
        "payment": "PAY-000001",
        "kind": "payment",
        "received_from": "Patient One",
        "method": "eftpos",
        "reference": "EFT123",
        "provider": None,
        "amount": "150.00",
    }
    assert rows(data) == [
        ("2024-10-02", "PAY-000001", "payment", "eftpos", None, "150.00"),
        ("2024-10-02", "PAY-000002", "payment", "cash", None, "50.00"),
        ("2024-10-02", "PAY-000003", "payment", "insurance", None, "80.00"),
        ("2024-10-02", "PAY-000005", "payment", "cheque", None, "30.00"),
    ]
    assert data["rows"][2]["received_from"] == "Fund One"
    assert data["totals"] == {"amount": "310.00"}  # 150 + 50 + 80 + 30
    # The last page: what reception checks each money type against (reference step 4), in
    # the order of the reference's receipt types: cash, cheques, EFTPOS, credit card, ...
    assert methods(data) == (
        [
            ("cash", 1, "50.00"),
            ("cheque", 1, "30.00"),
            ("eftpos", 1, "150.00"),
            ("insurance", 1, "80.00"),
        ],
        {"amount": "310.00"},
    )


def test_all_locations_and_a_reversal_on_its_own_day(day, engine) -> None:
    data = to_json_data(run(engine, from_date=D(2024, 10, 2), to_date=D(2024, 10, 2)))
    assert ("2024-10-02", "PAY-000004", "payment", "cash", None, "20.00") in rows(data)
    assert methods(data)[0][0] == ("cash", 2, "70.00")  # 50 at MAIN + 20 at NORTH

    data = to_json_data(
        run(engine, from_date=D(2024, 10, 2), to_date=D(2024, 10, 3), location="MAIN")
    )
    assert rows(data)[-2:] == [
        ("2024-10-03", "PAY-000005", "reversal", "cheque", None, "-30.00"),
        ("2024-10-03", "PAY-000006", "payment", "credit-card", None, "10.00"),
    ]
    assert data["totals"] == {"amount": "290.00"}  # 310 + 10 - 30
    assert methods(data) == (
        [
            ("cash", 1, "50.00"),
            ("cheque", 1, "0.00"),  # 30.00 received, 30.00 reversed
            ("eftpos", 1, "150.00"),
            ("credit-card", 1, "10.00"),
            ("insurance", 1, "80.00"),
        ],
        {"amount": "290.00"},
    )


def test_broken_down_by_provider(day, engine) -> None:
    data = to_json_data(
        run(
            engine,
            from_date=D(2024, 10, 2),
            to_date=D(2024, 10, 3),
            location="MAIN",
            options={"by_provider": True},
        )
    )
    assert data["rows"] == []
    assert data["totals"] == {"amount": "290.00"}  # the grand total of the sections
    sections = {s["report"]: s for s in data["sections"]}
    assert list(sections) == [
        "receipts: Dr One",
        "receipts: Dr Two",
        "receipts: lines without a provider",
        "receipts: not applied to a line",
        "receipts by method",
    ]
    assert rows(sections["receipts: Dr One"]) == [
        ("2024-10-02", "PAY-000001", "payment", "eftpos", "Dr One", "100.00"),
        ("2024-10-02", "PAY-000003", "payment", "insurance", "Dr One", "80.00"),
    ]
    assert sections["receipts: Dr One"]["totals"] == {"amount": "180.00"}
    assert rows(sections["receipts: Dr Two"]) == [
        ("2024-10-02", "PAY-000002", "payment", "cash", "Dr Two", "50.00"),
    ]
    assert rows(sections["receipts: lines without a provider"]) == [
        ("2024-10-02", "PAY-000001", "payment", "eftpos", None, "18.00"),  # the product
    ]
    assert rows(sections["receipts: not applied to a line"]) == [
        ("2024-10-02", "PAY-000001", "payment", "eftpos", None, "32.00"),  # 150 - 100 - 18
        ("2024-10-02", "PAY-000005", "payment", "cheque", None, "30.00"),
        ("2024-10-03", "PAY-000005", "reversal", "cheque", None, "-30.00"),
        ("2024-10-03", "PAY-000006", "payment", "credit-card", None, "10.00"),
    ]
    # 180 + 50 + 18 + 42 = 290: splitting never changes the money.
    assert methods(data)[1] == {"amount": "290.00"}


def test_one_provider_only(day, engine) -> None:
    data = to_json_data(
        run(engine, from_date=D(2024, 10, 2), to_date=D(2024, 10, 3), provider="DR1")
    )
    assert rows(data) == [
        ("2024-10-02", "PAY-000001", "payment", "eftpos", "Dr One", "100.00"),
        ("2024-10-02", "PAY-000003", "payment", "insurance", "Dr One", "80.00"),
    ]
    assert methods(data) == (
        [("eftpos", 1, "100.00"), ("insurance", 1, "80.00")],
        {"amount": "180.00"},
    )


def test_by_service_date(day, engine) -> None:
    data = to_json_data(
        run(engine, from_date=D(2024, 9, 30), to_date=D(2024, 9, 30), options={"by": "service"})
    )
    assert rows(data) == [("2024-09-30", "PAY-000001", "payment", "eftpos", "Dr One", "100.00")]
    assert [s["report"] for s in data["sections"]] == ["receipts by method"]

    data = to_json_data(
        run(engine, from_date=D(2024, 10, 1), to_date=D(2024, 10, 1), options={"by": "service"})
    )
    assert rows(data) == [
        ("2024-10-01", "PAY-000001", "payment", "eftpos", None, "18.00"),  # product: invoice date
        ("2024-10-01", "PAY-000002", "payment", "cash", "Dr Two", "50.00"),
        ("2024-10-01", "PAY-000003", "payment", "insurance", "Dr One", "80.00"),
    ]
    assert data["totals"] == {"amount": "148.00"}

    data = to_json_data(
        run(
            engine,
            from_date=D(2024, 9, 30),
            to_date=D(2024, 10, 3),
            location="MAIN",
            options={"by": "service"},
        )
    )
    assert data["totals"] == {"amount": "248.00"}  # 100 + 18 + 50 + 80 applied
    [unapplied] = [s for s in data["sections"] if s["report"] == "receipts not applied to a line"]
    assert rows(unapplied) == [
        ("2024-10-02", "PAY-000001", "payment", "eftpos", None, "32.00"),
        ("2024-10-02", "PAY-000005", "payment", "cheque", None, "30.00"),
        ("2024-10-03", "PAY-000005", "reversal", "cheque", None, "-30.00"),
        ("2024-10-03", "PAY-000006", "payment", "credit-card", None, "10.00"),
    ]
    assert unapplied["totals"] == {"amount": "42.00"}
    assert methods(data)[1] == {"amount": "290.00"}  # 248 + 42, as by date entered


def test_as_known_at_reproduces_the_listing_byte_for_byte(day, engine, clock) -> None:
    moment = utc(dt.datetime(2024, 10, 3, 23))
    views = [
        dict(options={"by_provider": True}),
        dict(options={"by": "service"}),
        dict(provider="DR2"),
        dict(),
    ]

    def outputs():
        return [
            to_csv(
                run(
                    engine,
                    from_date=D(2024, 9, 1),
                    to_date=D(2024, 10, 31),
                    as_known_at=moment,
                    **v,
                )
            )
            for v in views
        ]

    before = outputs()
    clock.at_date(D(2024, 10, 4))
    payments.unallocate(
        clock.uow(), payments.Unallocate(allocation_id=day["cash_to_l2"], reason="wrong line")
    )
    payments.reverse_payment(
        clock.uow(), payments.ReversePayment(payment_id=day["pay1"], reason="keyed twice")
    )
    payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=700,
            method=PaymentMethod.CASH,
            received_date=D(2024, 10, 1),
            location_code="MAIN",
        ),
    )
    assert outputs() == before
    # ...while the listing as known now has changed: Dr Two lost PAY-2's 50.00.
    now = to_json_data(
        run(engine, from_date=D(2024, 9, 1), to_date=D(2024, 10, 31), provider="DR2")
    )
    assert now["rows"] == []
    assert "Dr Two,50.00" in before[2]


def test_options_are_checked(day, engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine, options={"by": "posted"})
    assert caught.value.message == "by: 'posted' is not one of: entered, service"
    with pytest.raises(InvalidInput) as caught:
        run(engine, options={"by_provider": "yes"})
    assert caught.value.field == "by_provider"
