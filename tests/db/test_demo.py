"""The demo practice: deterministic, realistic, and sound. Built once (about 30 s)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from clinicledger import demo
from clinicledger.domain.errors import UserError
from clinicledger.services import masters
from clinicledger.store import tables as t
from clinicledger.store.engine import make_engine

PROGRESS: list[tuple[str, int, int]] = []  # what the build told of its progress


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(str(tmp_path_factory.mktemp("demo") / "demo.db"))
    demo.build(engine, seed=1, progress=lambda *told: PROGRESS.append(told))
    return engine


def test_the_build_tells_its_progress_day_by_day(demo_engine: Engine) -> None:
    days = (demo.END - demo.START).days + 1
    done = [count for _, count, _ in PROGRESS]
    assert {(step, total) for step, _, total in PROGRESS} == {("days", days)}
    assert done == sorted(done) and len(done) > 500  # forward, day by day (~600 busy days)
    assert done[0] >= 1 and done[-1] == days  # to the last day of the span


def test_seed_1_builds_exactly_this_practice(demo_engine: Engine) -> None:
    again = demo.build(demo_engine, seed=1)  # already built: shown, not rebuilt
    assert again.built is False
    assert again.as_json() == {
        "seed": 1,
        "built": False,
        "counts": {
            "locations": 3,
            "providers": 8,
            "patients": 400,
            "payers": 3,
            "invoices": 2588,
            "lines": 2588,
            "payments": 1725,
            "entries": 8025,
            "allocations": 2940,
        },
        "charged": "325381.00",
        "gst": "167.13",
        "received": "315460.85",
        "applied": "309068.82",
        "credit_used": "8763.00",
        "refunded": "602.28",
        "reversed": "1858.00",
        "adjusted": "7340.78",
        "patients_owing": "430.00",
        "patients_credit": "3892.00",
        "payers": [
            {
                "code": "CWI",
                "name": "Coastal Workers Insurance",
                "kind": "insurer",
                "owing": "1540.00",
                "unallocated": "0.00",
            },
            {
                "code": "HHF",
                "name": "Harbour Health Fund",
                "kind": "fund",
                "owing": "1915.00",
                "unallocated": "39.75",
            },
            {
                "code": "MEDICARE",
                "name": "Medicare",
                "kind": "medicare",
                "owing": "273.20",
                "unallocated": "0.00",
            },
        ],
        "open_insurance_lines": 33,
        "check_violations": 0,
    }


def test_received_money_is_all_accounted_for(demo_engine: Engine) -> None:
    s = demo.build(demo_engine, seed=1).summary
    payer_unallocated = sum(p.unallocated_cents for p in s.payers)
    assert s.received_cents == (
        s.applied_cents
        + s.refunded_cents
        + s.reversed_cents
        + s.patients_credit_cents
        + payer_unallocated
    )


def test_every_payment_method_and_correction_occurs(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        methods = set(conn.execute(select(t.payments.c.method)).scalars())
        kinds = set(conn.execute(select(t.entries.c.kind)).scalars())
        line_kinds = set(conn.execute(select(t.lines.c.kind)).scalars())
        reasons = set(
            conn.execute(
                select(t.postings.c.reason).where(t.postings.c.reason.is_not(None))
            ).scalars()
        )
    assert methods == {
        "cash",
        "cheque",
        "eftpos",
        "credit-card",
        "hicaps",
        "direct-deposit",
        "online-card",
        "insurance",
        "other",
    }
    assert kinds == {
        "charge",
        "payment",
        "allocation",
        "credit_applied",
        "unallocation",
        "refund",
        "payment_reversal",
        "adjustment",
        "transfer",
        "line_deletion",
    }
    assert line_kinds == {"service", "product", "cancellation"}
    assert reasons == {"write-off", "discount", "bad-debt"}


def test_the_demo_refuses_a_ledger_holding_another_practice(engine: Engine, clock) -> None:
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    with pytest.raises(UserError) as caught:
        demo.build(engine, seed=1)
    assert caught.value.code == "demo_needs_empty_ledger"
