"""The front desk's reads of one invoice and one payment (``services/desk.py``) on both
backends, over the harness practice (``tests/cli/harness.py``), every number worked out
by hand: P1 owes 80.00 on L-000001 (100.00, 20.00 paid by AL-000005 from PAY-000001) and
25.00 on L-000002; INV-000002 is P2's, billed to FUND1, which owes 100.00 on L-000003."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.cli.harness import build_practice, service_clock

from clinicledger.domain.choices import LineKind
from clinicledger.domain.errors import NotFound
from clinicledger.services import desk, invoicing, masters, payments


@pytest.fixture
def harness(engine):
    build_practice(engine)
    return service_clock(engine, dt.datetime(2024, 3, 2, 9, 0))


def test_an_invoice_with_its_lines_paid_and_owing(engine, harness) -> None:
    found = desk.show_invoice(engine, 1)
    head = found.header
    assert (head.number, head.patient_code, head.patient_name, head.billed_to_code) == (
        1,
        "P1",
        "Ivy Marlowe",
        None,
    )
    assert [
        (line.id, line.kind, line.fee_cents, line.paid_cents, line.owing_cents)
        for line in found.lines
    ] == [(1, LineKind.SERVICE, 10000, 2000, 8000), (2, LineKind.CANCELLATION, 2500, 0, 2500)]
    assert (found.total_cents, found.gst_cents, found.paid_cents, found.owing_cents) == (
        12500,
        0,
        2000,
        10500,
    )
    assert [(a.id, a.line_id, a.payment_id, a.amount_cents) for a in found.allocations] == [
        (5, 1, 1, 2000)  # AL-000008 was un-allocated: not listed
    ]
    fund = desk.show_invoice(engine, 2)
    assert (fund.header.billed_to_code, fund.payer_owing_cents, fund.patient_owing_cents) == (
        "FUND1",
        10000,
        0,
    )
    with pytest.raises(NotFound) as missing:
        desk.show_invoice(engine, 99)
    assert (missing.value.field, missing.value.message) == (
        "invoice",
        "invoice INV-000099 not found",
    )


def test_gst_and_a_deleted_line(engine, harness) -> None:
    masters.set_practice(harness(), gst_registered=True)
    masters.add_item(harness(), code="TAX", description="Taxed", fee_cents=11000, taxable=True)
    made = invoicing.create_invoice(
        harness(),
        invoicing.CreateInvoice(
            patient_code="P2",
            location_code="MAIN",
            lines=(
                invoicing.LineSpec(
                    kind=LineKind.SERVICE,
                    item_code="TAX",
                    provider_code="DR1",
                    service_date=dt.date(2024, 3, 2),
                ),
                invoicing.LineSpec(kind=LineKind.PRODUCT, product_title="Cold pack"),
            ),
        ),
    )
    invoicing.delete_line(
        harness(), invoicing.DeleteLine(line_id=made.lines[1].id, reason="keyed twice")
    )
    found = desk.show_invoice(engine, made.number)
    # 110.00 with 10.00 GST; the product (15.00, 1.36 GST) deleted: out of the totals
    assert (found.total_cents, found.gst_cents, found.owing_cents) == (11000, 1000, 11000)
    assert [line.deleted for line in found.lines] == [False, True]


def test_a_payment_where_it_went_and_what_it_could_still_pay(engine, harness) -> None:
    found = desk.show_payment(engine, 1)
    assert (found.party_kind, found.party_code, found.header.party_name) == (
        "patient",
        "P1",
        "Ivy Marlowe",
    )
    assert (found.applied_cents, found.refunded_cents, found.unallocated_cents) == (2000, 0, 1000)
    assert [(a.allocation_id, a.line.id, a.amount_cents) for a in found.allocations] == [
        (5, 1, 2000)
    ]
    assert [(o.line.id, o.owing_cents) for o in found.open_lines] == [(1, 8000), (2, 2500)]
    eftpos = desk.show_payment(engine, 2)  # 10.00 refunded; its allocation undone
    assert (eftpos.applied_cents, eftpos.refunded_cents, eftpos.unallocated_cents) == (
        0,
        1000,
        4000,
    )
    assert eftpos.allocations == ()
    reversed_ = desk.show_payment(engine, 3)
    assert reversed_.header.reversed and reversed_.open_lines == ()
    assert reversed_.unallocated_cents == 0
    fund = desk.show_payment(engine, 4)
    assert (fund.party_kind, fund.party_code) == ("payer", "FUND1")
    assert [(o.line.id, o.line.patient_code, o.owing_cents) for o in fund.open_lines] == [
        (3, "P2", 10000)
    ]
    payments.allocate(harness(), payments.Allocate(payment_id=4, targets=((3, 6000),)))
    fund = desk.show_payment(engine, 4)
    assert (fund.applied_cents, fund.unallocated_cents) == (6000, 0)
    assert [(o.line.id, o.owing_cents) for o in fund.open_lines] == [(3, 4000)]
    with pytest.raises(NotFound):
        desk.show_payment(engine, 99)


def test_an_allocations_payment_and_a_lines_invoice(engine, harness) -> None:
    assert desk.allocation_payment(engine, 5) == 1
    assert desk.allocation_payment(engine, 7) is None  # a refund, not an allocation
    invoice, line = desk.line_invoice(engine, 3)
    assert (invoice.header.number, line.id, line.payer_owing_cents) == (2, 3, 10000)
    with pytest.raises(NotFound):
        desk.line_invoice(engine, 99)


def test_a_payment_lists_its_oldest_open_lines_and_counts_the_rest(
    engine, harness, monkeypatch
) -> None:
    monkeypatch.setattr(desk, "OPEN_LINES_MAX", 1)
    found = desk.show_payment(engine, 1)
    assert [(o.line.id, o.owing_cents) for o in found.open_lines] == [(1, 8000)]
    assert found.open_more == 1
    assert desk.show_payment(engine, 4).open_more == 0
