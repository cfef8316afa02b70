"""Adjustments summary (reference 004): every correction in a period, by recorded date,
with type, reason, who and amount, grouped as asked; hand-computed rows."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.adjustments import adjustments
from clinicledger.reports.base import ReportParams
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store.uow import UnitOfWork, reading

D = dt.date
MAY = {"from_date": D(2024, 5, 1), "to_date": D(2024, 5, 31)}


def as_clerk(clock, actor: str, day: dt.date | None = None) -> UnitOfWork:
    """A unit of work made by a named clerk, on the test clock."""
    clock.now = (
        max(dt.datetime.combine(day, dt.time(10)), clock.now + dt.timedelta(minutes=1))
        if day is not None
        else clock.now + dt.timedelta(minutes=1)
    )
    return UnitOfWork(clock.engine, now=clock.now, actor=actor, strict_clock=True)


def consult() -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE, item_code="500", provider_code="DR1", service_date=D(2024, 5, 1)
    )


@pytest.fixture
def journal(clock):
    """May 2024 (Sydney, UTC+10): a discount and an un-allocation by clerk kim, a gap
    transfer, a refund, a dishonoured cheque reversed by kim, a write-off and a deletion."""
    clock.now = dt.datetime(2024, 4, 30, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="BR", name="Branch rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Alex Example")
    masters.add_patient(clock.uow(), code="P2", name="Blair Sample")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    day = D(2024, 5, 1)
    l1, l2 = (
        line.id
        for line in invoicing.create_invoice(
            clock.at_date(day),
            invoicing.CreateInvoice(
                patient_code="P1",
                location_code="MAIN",
                billed_to_code=None,
                lines=[consult(), consult()],
            ),
        ).lines
    )
    [l3] = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P2", location_code="MAIN", billed_to_code="FUND", lines=[consult()]
        ),
    ).lines
    [l4] = invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="P2", location_code="BR", billed_to_code=None, lines=[consult()]
        ),
    ).lines
    card = payments.record_payment(
        clock.at_date(D(2024, 5, 2)),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=15000,
            method=PaymentMethod.EFTPOS,
            received_date=D(2024, 5, 2),
            location_code="MAIN",
        ),
    )
    _, to_l2 = payments.allocate(
        clock.uow(), payments.Allocate(payment_id=card, targets=[(l1, 10000), (l2, 5000)])
    )
    invoicing.adjust_line(
        as_clerk(clock, "kim", D(2024, 5, 3)),
        invoicing.AdjustLine(
            line_id=l2, amount_cents=1000, reason=AdjustmentReason.DISCOUNT, note="loyalty"
        ),
    )
    invoicing.transfer(
        clock.uow(),
        invoicing.Transfer(line_id=l3.id, amount_cents=3000, reason="gap", to_patient=True),
    )
    payments.unallocate(
        as_clerk(clock, "kim", D(2024, 5, 4)),
        payments.Unallocate(allocation_id=to_l2.id, reason="wrong line"),
    )
    payments.refund(
        clock.uow(), payments.Refund(payment_id=card, amount_cents=2000, reason="overpaid")
    )
    cheque = payments.record_payment(
        clock.at_date(D(2024, 5, 5)),
        payments.RecordPayment(
            from_code="P2",
            amount_cents=4000,
            method=PaymentMethod.CHEQUE,
            received_date=D(2024, 5, 5),
            location_code="BR",
        ),
    )
    payments.allocate(clock.uow(), payments.Allocate(payment_id=cheque, targets=[(l4.id, 4000)]))
    payments.reverse_payment(
        as_clerk(clock, "kim"),
        payments.ReversePayment(payment_id=cheque, reason="cheque dishonoured"),
    )
    invoicing.adjust_line(
        clock.at_date(D(2024, 5, 6)),
        invoicing.AdjustLine(line_id=l4.id, amount_cents=500, reason=AdjustmentReason.WRITE_OFF),
    )
    invoicing.delete_line(clock.uow(), invoicing.DeleteLine(line_id=l4.id, reason="keyed in error"))
    return {"card": card}


def run(engine, **filters):
    with reading(engine) as conn:
        return to_json_data(adjustments(conn, ReportParams(**filters)))


DETAIL = ("recorded", "type", "reason", "note", "who", "invoice", "line", "payment", "amount")
DISHONOURED = "payment PAY-000002 reversed: cheque dishonoured"
ROWS = [
    ("2024-05-03 10:00:00+10:00", "adjustment", "discount", "loyalty", "kim",
     "INV-000001", "L-000002", None, "10.00"),
    ("2024-05-03 10:01:00+10:00", "transfer", "gap", None, "system",
     "INV-000002", "L-000003", None, "30.00"),
    ("2024-05-04 10:00:00+10:00", "unallocation", "wrong line", None, "kim",
     "INV-000001", "L-000002", "PAY-000001", "50.00"),
    ("2024-05-04 10:01:00+10:00", "refund", "overpaid", None, "system",
     None, None, "PAY-000001", "20.00"),
    ("2024-05-05 10:02:00+10:00", "unallocation", DISHONOURED, None, "kim",
     "INV-000003", "L-000004", "PAY-000002", "40.00"),
    ("2024-05-05 10:02:00+10:00", "payment_reversal", "cheque dishonoured", None, "kim",
     None, None, "PAY-000002", "40.00"),
    ("2024-05-06 10:00:00+10:00", "adjustment", "write-off", None, "system",
     "INV-000003", "L-000004", None, "5.00"),
    # the deletion takes off the 95.00 still owing and reverses the 5.00 write-off: 100.00
    ("2024-05-06 10:01:00+10:00", "line_deletion", "keyed in error", None, "system",
     "INV-000003", "L-000004", None, "100.00"),
]  # fmt: skip


def detail(section):
    return [tuple(row[k] for k in DETAIL) for row in section["rows"]]


def test_every_adjustment_of_the_period_in_one_section(journal, engine) -> None:
    data = run(engine, **MAY, options={"group": "none"})
    assert data["columns"] == ["type", "entries", "amount"]
    assert [tuple(r.values()) for r in data["rows"]] == [
        ("adjustment", 2, "15.00"),  # 10.00 + 5.00
        ("transfer", 1, "30.00"),
        ("line_deletion", 1, "100.00"),
        ("payment_reversal", 1, "40.00"),
        ("unallocation", 2, "90.00"),  # 50.00 + 40.00
        ("refund", 1, "20.00"),
    ]
    assert data["totals"] == {"entries": 8}
    [section] = data["sections"]
    assert section["report"] == "adjustments"
    assert section["columns"] == list(DETAIL)
    assert detail(section) == ROWS
    assert section["totals"] == {
        "entries": 8,
        "adjustment": "15.00",
        "transfer": "30.00",
        "line_deletion": "100.00",
        "payment_reversal": "40.00",
        "unallocation": "90.00",
        "refund": "20.00",
    }


def test_grouped_by_type_by_default(journal, engine) -> None:
    data = run(engine, **MAY)
    assert [s["report"] for s in data["sections"]] == [
        "type: adjustment",
        "type: transfer",
        "type: line_deletion",
        "type: payment_reversal",
        "type: unallocation",
        "type: refund",
    ]
    adjustment = data["sections"][0]
    assert detail(adjustment) == [ROWS[0], ROWS[6]]
    assert adjustment["totals"] == {"entries": 2, "adjustment": "15.00"}
    assert adjustment["parameters"] == {"type": "adjustment"}


def test_grouped_by_actor_with_subtotals_by_type(journal, engine) -> None:
    data = run(engine, **MAY, options={"group": "actor"})
    kim, system = data["sections"]
    assert (kim["report"], system["report"]) == ("actor: kim", "actor: system")
    assert detail(kim) == [ROWS[0], ROWS[2], ROWS[4], ROWS[5]]
    # kim: 10.00 discount; 50.00 + 40.00 un-allocated; the 40.00 cheque reversed
    assert kim["totals"] == {
        "entries": 4,
        "adjustment": "10.00",
        "payment_reversal": "40.00",
        "unallocation": "90.00",
    }
    assert system["totals"] == {
        "entries": 4,
        "adjustment": "5.00",
        "transfer": "30.00",
        "line_deletion": "100.00",
        "refund": "20.00",
    }


def test_grouped_by_reason(journal, engine) -> None:
    data = run(engine, **MAY, options={"group": "reason"})
    assert [s["report"] for s in data["sections"]] == [
        "reason: cheque dishonoured",
        "reason: discount",
        "reason: gap",
        "reason: keyed in error",
        "reason: overpaid",
        f"reason: {DISHONOURED}",
        "reason: write-off",
        "reason: wrong line",
    ]


def test_filtered_by_type_location_and_period(journal, engine) -> None:
    data = run(engine, **MAY, options={"types": "refund, unallocation", "group": "none"})
    assert [r["type"] for r in data["rows"]] == ["unallocation", "refund"]
    assert detail(data["sections"][0]) == [ROWS[2], ROWS[3], ROWS[4]]
    branch = run(engine, **MAY, location="BR", options={"group": "none"})
    assert detail(branch["sections"][0]) == ROWS[4:]
    early = run(engine, from_date=D(2024, 5, 3), to_date=D(2024, 5, 3), options={"group": "none"})
    assert detail(early["sections"][0]) == ROWS[:2]
    with pytest.raises(InvalidInput) as caught:
        run(engine, options={"types": "refund,bounce"})
    assert caught.value.field == "types"


def test_as_known_at_is_byte_identical_after_more_entries(journal, engine, clock) -> None:
    params = ReportParams(**MAY, as_known_at=dt.datetime(2024, 5, 4, 14))  # 5 May 00:00 AEST
    with reading(engine) as conn:
        before = to_csv(adjustments(conn, params))
    payments.refund(
        clock.uow(), payments.Refund(payment_id=journal["card"], amount_cents=1000, reason="more")
    )
    with reading(engine) as conn:
        after = to_csv(adjustments(conn, params))
        now = to_csv(adjustments(conn, ReportParams(**MAY)))
    assert before == after
    assert before != now
    assert before.splitlines()[:8] == [
        "type,entries,amount",
        "adjustment,1,10.00",
        "transfer,1,30.00",
        "line_deletion,0,0.00",
        "payment_reversal,0,0.00",
        "unallocation,1,50.00",
        "refund,1,20.00",
        "",
    ]
