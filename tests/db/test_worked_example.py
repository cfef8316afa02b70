"""Reference 003's worked example on the ledger view: a $100 service on 2018-02-01 and a
$30 payment posted on 2018-02-15 and applied to it."""

from __future__ import annotations

import datetime as dt

from clinicledger.domain.choices import LineKind, PaymentMethod
from clinicledger.services import balances, invoicing, masters, payments


def test_ledger_balance_before_and_after_the_payment(clock, engine) -> None:
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Pat One")
    masters.add_item(clock.uow(), code="90801", description="Session", fee_cents=10000)
    invoice = invoicing.create_invoice(
        clock.at_date(dt.date(2018, 2, 1)),
        invoicing.CreateInvoice(
            patient_code="P1",
            location_code="MAIN",
            billed_to_code=None,
            lines=[
                invoicing.LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="90801",
                    provider_code="DR1",
                    service_date=dt.date(2018, 2, 1),
                )
            ],
        ),
    )
    payment_id = payments.record_payment(
        clock.at_date(dt.date(2018, 2, 15)),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=3000,
            method=PaymentMethod.CASH,
            received_date=dt.date(2018, 2, 15),
            location_code="MAIN",
        ),
    )
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=payment_id, targets=[(invoice.lines[0].id, 3000)])
    )

    def patient_balance(day: dt.date) -> int:
        return balances.balance(engine, patient_code="P1", as_of=day).balance_cents

    assert patient_balance(dt.date(2018, 2, 15)) == 7000
    assert patient_balance(dt.date(2018, 2, 10)) == 10000
    assert patient_balance(dt.date(2018, 1, 31)) == 0
