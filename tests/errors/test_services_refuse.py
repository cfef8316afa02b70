"""The same refusals one layer down: the services are the boundary every adapter (the
command line now, the web later) relies on, so they must refuse bad values themselves,
with the error's class, code, field and message, and write nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from clinicledger.domain.choices import AdjustmentReason, PaymentMethod
from clinicledger.domain.errors import (
    Conflict,
    ImportProblem,
    ImportRejected,
    InvalidInput,
    NotFound,
    OverAllocation,
    PeriodClosed,
    UserError,
)
from clinicledger.services import imports, invoicing, masters, payments, periods
from clinicledger.store.uow import UnitOfWork

from .reproduce import harness, snapshot

TODAY = dt.date(2024, 3, 2)
Uow = Callable[[], UnitOfWork]


def pay(uow: Uow, cents: int, **changes: Any) -> int:
    values: dict[str, Any] = {
        "from_code": "P1",
        "amount_cents": cents,
        "method": PaymentMethod.CASH,
        "received_date": TODAY,
        "location_code": "MAIN",
        **changes,
    }
    return payments.record_payment(uow(), payments.RecordPayment(**values))


@dataclass(frozen=True, slots=True)
class Refusal:
    call: Callable[[Uow], object]
    error: type[UserError]
    code: str
    field: str | None
    message: str


def refusal(
    name: str,
    call: Callable[[Uow], object],
    error: type[UserError],
    code: str,
    field: str | None,
    message: str,
    *,
    postgresql: bool = False,
) -> Any:
    backends = ["sqlite", "postgresql"] if postgresql else ["sqlite"]
    return [
        pytest.param(backend, Refusal(call, error, code, field, message), id=f"{backend}-{name}")
        for backend in backends
    ]


NEGATIVE = "amount: -5.00 is negative; the amount must be positive"
ZERO = "amount: the amount must be more than 0.00"

REFUSALS = [
    *refusal(
        "invoice-without-lines",
        lambda uow: invoicing.create_invoice(
            uow(),
            invoicing.CreateInvoice(
                patient_code="P1", location_code="MAIN", billed_to_code=None, lines=[]
            ),
        ),
        InvalidInput,
        "line_missing",
        "line",
        "line: an invoice needs at least one line",
        postgresql=True,
    ),
    *refusal(
        "allocation-without-targets",
        lambda uow: payments.allocate(uow(), payments.Allocate(payment_id=1, targets=[])),
        InvalidInput,
        "allocation_target_missing",
        "to",
        # issue 7: a service names no flag; the command line words "--to ... or --auto"
        "to: name the lines and amounts to apply, or apply automatically (not both)",
    ),
    *refusal(
        "allocation-past-the-payment",
        lambda uow: payments.allocate(uow(), payments.Allocate(payment_id=1, targets=[(1, 1001)])),
        OverAllocation,
        "allocation_exceeds_payment",
        "to",
        "payment PAY-000001 has 10.00 unallocated; cannot allocate 10.01 to line L-000001",
        postgresql=True,
    ),
    *refusal(
        "allocation-negative",
        lambda uow: payments.allocate(uow(), payments.Allocate(payment_id=1, targets=[(1, -500)])),
        InvalidInput,
        "amount_negative",
        "to",
        "to: -5.00 is negative; the amount must be positive",
    ),
    *refusal(
        "refund-past-unallocated",
        lambda uow: payments.refund(
            uow(), payments.Refund(payment_id=2, amount_cents=4001, reason="overpaid")
        ),
        OverAllocation,
        "refund_exceeds_unallocated",
        "amount",
        "payment PAY-000002 has 40.00 unallocated; cannot refund 40.01",
    ),
    *refusal(
        "reversal-of-a-refunded-payment",
        lambda uow: payments.reverse_payment(
            uow(), payments.ReversePayment(payment_id=2, reason="keyed twice")
        ),
        Conflict,
        "payment_refunded",
        "payment",
        "payment PAY-000002 has 10.00 refunded; a payment with refunds cannot be reversed",
    ),
    *refusal(
        "unknown-payment",
        lambda uow: payments.refund(
            uow(), payments.Refund(payment_id=99, amount_cents=100, reason="overpaid")
        ),
        NotFound,
        "not_found",
        "payment",
        "payment PAY-000099 not found",
    ),
    *refusal(
        "payment-received-in-the-future",
        lambda uow: pay(uow, 3000, received_date=dt.date(2024, 3, 3)),
        InvalidInput,
        "date_in_future",
        "received",
        "received: 2024-03-03 is after today (2024-03-02)",
    ),
    *refusal(
        "processor-fee-above-the-amount",
        lambda uow: pay(uow, 3000, processor_fee_cents=3001),
        InvalidInput,
        "fee_out_of_range",
        "fee",
        "fee: the processor fee must be between 0.00 and the amount",
    ),
    # amounts the command line would have refused while parsing: a service must refuse them
    # too, or a negative refund puts money back on a payment and a negative payment is
    # recorded (``check`` then reports payment_over_applied)
    *refusal(
        "payment-negative",
        lambda uow: pay(uow, -500),
        InvalidInput,
        "amount_negative",
        "amount",
        NEGATIVE,
        postgresql=True,
    ),
    *refusal(
        "payment-zero",
        lambda uow: pay(uow, 0),
        InvalidInput,
        "amount_zero",
        "amount",
        ZERO,
    ),
    *refusal(
        "refund-negative",
        lambda uow: payments.refund(
            uow(), payments.Refund(payment_id=1, amount_cents=-500, reason="overpaid")
        ),
        InvalidInput,
        "amount_negative",
        "amount",
        NEGATIVE,
    ),
    *refusal(
        "adjustment-negative",
        lambda uow: invoicing.adjust_line(
            uow(),
            invoicing.AdjustLine(line_id=1, amount_cents=-500, reason=AdjustmentReason.DISCOUNT),
        ),
        InvalidInput,
        "amount_negative",
        "amount",
        NEGATIVE,
    ),
    *refusal(
        "transfer-negative",
        lambda uow: invoicing.transfer(
            uow(), invoicing.Transfer(line_id=3, amount_cents=-500, reason="gap", to_patient=True)
        ),
        InvalidInput,
        "amount_negative",
        "amount",
        NEGATIVE,
    ),
    *refusal(
        "item-fee-negative",
        lambda uow: masters.add_item(uow(), code="10960", description="Review", fee_cents=-500),
        InvalidInput,
        "amount_negative",
        "fee",
        "fee: -5.00 is negative; the amount must be positive",
    ),
    *refusal(
        "product-fee-zero",
        lambda uow: masters.add_product(uow(), code="TAPE", title="Sports tape", fee_cents=0),
        InvalidInput,
        "amount_zero",
        "fee",
        "fee: the amount must be more than 0.00",
    ),
]


@pytest.mark.parametrize(("engine", "refusal"), REFUSALS, indirect=["engine"])
def test_service_refuses(engine: Engine, refusal: Refusal, practice: None) -> None:
    uow = harness.service_clock(engine, harness.CLI_START)
    before = snapshot(engine)

    with pytest.raises(UserError) as raised:
        refusal.call(uow)

    error = raised.value
    assert (type(error), error.code, error.field, error.message, str(error)) == (
        refusal.error,
        refusal.code,
        refusal.field,
        refusal.message,
        refusal.message,
    )
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_errors_carry_their_typed_fields(engine: Engine, practice: None) -> None:
    uow = harness.service_clock(engine, harness.CLI_START)
    periods.close_period(uow(), periods.ClosePeriod(through=dt.date(2024, 2, 29)))
    before = snapshot(engine)

    with pytest.raises(NotFound) as missing:
        pay(uow, 3000, from_code="P404")
    with pytest.raises(PeriodClosed) as closed:
        pay(uow, 3000, received_date=dt.date(2024, 2, 1))

    assert (missing.value.kind, missing.value.key, missing.value.field) == (
        "patient or payer",
        "'P404'",
        "from",
    )
    assert isinstance(closed.value, Conflict)
    assert closed.value.code == "period_closed"
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_a_clock_earlier_than_the_latest_entry_is_refused(engine: Engine, practice: None) -> None:
    before = snapshot(engine)
    # the practice's last unit of work was at 2024-03-01 08:19 Sydney time
    early = UnitOfWork(engine, now=dt.datetime(2024, 3, 1, 8, 0), actor="system", strict_clock=True)

    with pytest.raises(InvalidInput) as raised:
        payments.record_payment(
            early,
            payments.RecordPayment(
                from_code="P1",
                amount_cents=3000,
                method=PaymentMethod.CASH,
                received_date=dt.date(2024, 3, 1),
                location_code="MAIN",
            ),
        )

    assert (raised.value.code, raised.value.field) == ("now_in_past", "now")
    assert raised.value.message.startswith(
        "now: 2024-02-29T21:00:00 UTC is earlier than the latest recorded entry (2024-02-29T21:19"
    )
    assert snapshot(engine) == before


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_an_import_lists_every_problem_and_writes_nothing(
    engine: Engine, practice: None, tmp_path
) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("code,name\nP7,Lena Hartigan\nP 8,Milo Ferris\nP9,\nP7,Lena Hartigan\n")
    before = snapshot(engine)

    with pytest.raises(ImportRejected) as raised:
        imports.import_file(
            harness.service_clock(engine, harness.CLI_START)(),
            imports.ImportFile(kind="patients", file_name=path.name, content=path.read_bytes()),
        )

    assert raised.value.problems == (
        ImportProblem(
            line=3, column="code", reason="'P 8' is not a code: use 1-40 letters, digits, . _ - /"
        ),
        ImportProblem(line=4, column="name", reason="a name of 1-200 characters is required"),
        ImportProblem(line=5, column="code", reason="code 'P7' is also on line 2"),
    )
    assert raised.value.field == "code"
    assert snapshot(engine) == before
