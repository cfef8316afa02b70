"""A small practice and random journals over it, through the services: for the property
tests that need a ledger of every kind of entry (debtors, balances read without
SQLAlchemy)."""

from __future__ import annotations

import datetime as dt

from hypothesis import event
from hypothesis import strategies as st

from clinicledger.domain.choices import AdjustmentReason, LineKind, PayerKind, PaymentMethod
from clinicledger.domain.errors import UserError
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from conftest import Clock

D = dt.date


def add_masters(clock: Clock) -> None:
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_location(clock.uow(), code="NORTH", name="North rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient Two")
    masters.add_patient(clock.uow(), code="P3", name="Patient Three")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_payer(clock.uow(), code="DVA", name="Veterans", kind=PayerKind.DVA)
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)


def service(provider: str, day: dt.date, fee_cents: int | None = None) -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE,
        item_code="500",
        provider_code=provider,
        service_date=day,
        fee_cents=fee_cents,
    )


def invoice(clock, day, patient, lines, *, location="MAIN", billed_to=None) -> int:
    made = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code=patient, location_code=location, billed_to_code=billed_to, lines=lines
        ),
    )
    return made.lines[0].id


def pay(clock, day, code, cents, method=PaymentMethod.CASH, received=None) -> int:
    return payments.record_payment(
        clock.at_date(day),
        payments.RecordPayment(
            from_code=code,
            amount_cents=cents,
            method=method,
            received_date=received or day,
            location_code="MAIN",
        ),
    )


PARTIES = ("P1", "P2", "P3", "FUND", "DVA")
START = D(2024, 6, 3)

invoice_step = st.tuples(
    st.just("invoice"),
    st.sampled_from(("P1", "P2", "P3")),
    st.sampled_from((None, None, "FUND", "DVA")),
    st.sampled_from(("MAIN", "NORTH")),
    st.sampled_from(("DR1", "DR2", None)),  # None: a product
    st.integers(-40, 30),  # service date, days from today: past or ahead (a program)
    st.integers(1, 200).map(lambda n: n * 100),
)
payment_step = st.tuples(
    st.just("payment"),
    st.sampled_from(PARTIES),
    st.integers(1, 200).map(lambda n: n * 100),
    st.sampled_from(list(PaymentMethod)),
    st.booleans(),  # allocate it, oldest lines first (or keep it as credit)
)
OTHER_STEPS = {
    "gap": st.tuples(st.just("gap"), st.integers(0, 30), st.integers(1, 80).map(lambda n: n * 100)),
    "write-off": st.tuples(
        st.just("write-off"), st.integers(0, 30), st.integers(1, 50).map(lambda n: n * 100)
    ),
    "delete": st.tuples(st.just("delete"), st.integers(0, 30)),
    "reverse": st.tuples(st.just("reverse"), st.integers(0, 30)),
    "unallocate": st.tuples(st.just("unallocate"), st.integers(0, 30)),
    "credit": st.tuples(st.just("credit"), st.sampled_from(("P1", "P2", "P3"))),
    "days": st.tuples(st.just("days"), st.integers(1, 30)),
}
# Invoices and payments most often, so that most journals owe something.
STEPS = {"invoice": invoice_step, "payment": payment_step, **OTHER_STEPS}
WEIGHTED = ("invoice",) * 4 + ("payment",) * 3 + ("days",) * 2 + tuple(OTHER_STEPS)
step = st.sampled_from(WEIGHTED).flatmap(lambda kind: STEPS[kind])


def play(clock: Clock, steps) -> list[dt.datetime]:
    """Run the steps through the services; a step the ledger refuses is skipped (that is
    not under test here). Returns the moments after each step, for as-known-at views."""
    today = START
    clock.at_date(today, hour=8)
    add_masters(clock)
    lines: list[int] = []
    paid: list[int] = []
    allocations: list[int] = []
    moments = []
    for s in steps:
        try:
            if s[0] == "invoice":
                _, patient, payer, location, provider, offset, fee = s
                spec = (
                    LineSpec(kind=LineKind.PRODUCT, product_title="Theraband", fee_cents=fee)
                    if provider is None
                    else service(provider, today + dt.timedelta(days=offset), fee)
                )
                lines.append(
                    invoice(clock, today, patient, [spec], location=location, billed_to=payer)
                )
            elif s[0] == "payment":
                _, code, cents, method, apply = s
                made = pay(clock, today, code, cents, method)
                paid.append(made)
                if apply:
                    allocations += [
                        a.id
                        for a in payments.allocate(
                            clock.uow(), payments.Allocate(payment_id=made, auto=True)
                        )
                    ]
            elif s[0] == "gap" and lines:
                line_id = lines[s[1] % len(lines)]
                invoicing.transfer(
                    clock.uow(),
                    invoicing.Transfer(
                        line_id=line_id, amount_cents=s[2], reason="gap", to_patient=True
                    ),
                )
            elif s[0] == "write-off" and lines:
                invoicing.adjust_line(
                    clock.uow(),
                    invoicing.AdjustLine(
                        line_id=lines[s[1] % len(lines)],
                        amount_cents=s[2],
                        reason=AdjustmentReason.WRITE_OFF,
                    ),
                )
            elif s[0] == "delete" and lines:
                invoicing.delete_line(
                    clock.uow(),
                    invoicing.DeleteLine(
                        line_id=lines[s[1] % len(lines)], reason="error", cascade=True
                    ),
                )
            elif s[0] == "reverse" and paid:
                payments.reverse_payment(
                    clock.uow(),
                    payments.ReversePayment(
                        payment_id=paid[s[1] % len(paid)], reason="dishonoured"
                    ),
                )
            elif s[0] == "unallocate" and allocations:
                payments.unallocate(
                    clock.uow(),
                    payments.Unallocate(
                        allocation_id=allocations[s[1] % len(allocations)], reason="x"
                    ),
                )
            elif s[0] == "credit":
                allocations += [
                    a.id
                    for a in payments.apply_credit(
                        clock.uow(), payments.ApplyCredit(patient_code=s[1], auto=True)
                    )
                ]
            elif s[0] == "days":
                today += dt.timedelta(days=s[1])
                clock.at_date(today, hour=8)
        except UserError:
            event(f"refused: {s[0]}")
        moments.append(clock.now)
    return moments
