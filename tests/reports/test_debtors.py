"""Debtors listing (reference 004 "Debtors Listing"), with hand-computed rows on SQLite and
PostgreSQL, and the property that its total is every party's owing charges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinicledger.domain.choices import AdjustmentReason, LineKind, PaymentMethod
from clinicledger.domain.errors import InvalidInput
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.debtors import debtors
from clinicledger.reports.receipts import receipts
from clinicledger.services import invoicing, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import lookups
from clinicledger.store import tables as t
from clinicledger.store.uow import reading
from conftest import PROPERTY
from journals import add_masters, invoice, pay, play, service, step

D = dt.date
SYDNEY = ZoneInfo("Australia/Sydney")
AS_OF = D(2024, 12, 31)


def utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=SYDNEY).astimezone(dt.UTC).replace(tzinfo=None)


@pytest.fixture
def book(clock):
    """As of 2024-12-31 (ages: Sep 1 -> 121 days; Oct 15 -> 77; Nov 20 -> 41; Dec 1 -> 30;
    Dec 20 -> 11; Jan 20 2025 -> -20, not yet due):

    L1 INV1 P1 MAIN Dr One 2024-09-01 100.00, 40.00 paid on Oct 1    P1 owes 60.00 (90+)
    L2 INV2 P3 to DVA Dr Two 2024-10-15 120.00                       DVA owes 120.00 (60-89)
    L3 INV3 P1 NORTH Dr Two 2024-11-20 100.00                        P1 owes 100.00 (30-59)
    L4 INV4 P3 product, invoiced 2024-12-01, 18.00                   P3 owes 18.00 (30-59)
    L5 INV5 P1 Dr One for 2025-01-20, 100.00; 60.00 paid ahead Dec 10 P1: -60.00, not yet due
    L6 INV6 P2 to FUND Dr One 2024-12-20 80.00; 30.00 gap moved to P2 FUND 50.00, P2 30.00
    P1 also paid 25.00 cash on Dec 15, unapplied: credit, not a debt.
    """
    clock.now = dt.datetime(2024, 8, 1, 9)
    add_masters(clock)
    l1 = invoice(clock, D(2024, 9, 1), "P1", [service("DR1", D(2024, 9, 1))])
    paid = pay(clock, D(2024, 10, 1), "P1", 4000)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=paid, targets=[(l1, 4000)]))
    invoice(clock, D(2024, 10, 15), "P3", [service("DR2", D(2024, 10, 15), 12000)], billed_to="DVA")
    invoice(clock, D(2024, 11, 20), "P1", [service("DR2", D(2024, 11, 20))], location="NORTH")
    invoice(
        clock, D(2024, 12, 1), "P3", [LineSpec(kind=LineKind.PRODUCT, product_title="Theraband")]
    )
    l5 = invoice(clock, D(2024, 12, 10), "P1", [service("DR1", D(2025, 1, 20))])
    ahead = pay(clock, D(2024, 12, 10), "P1", 6000, PaymentMethod.EFTPOS)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=ahead, targets=[(l5, 6000)]))
    pay(clock, D(2024, 12, 15), "P1", 2500)
    l6 = invoice(
        clock, D(2024, 12, 20), "P2", [service("DR1", D(2024, 12, 20), 8000)], billed_to="FUND"
    )
    invoicing.transfer(
        clock.at_date(D(2024, 12, 21)),
        invoicing.Transfer(line_id=l6, amount_cents=3000, reason="gap", to_patient=True),
    )
    return {"l1": l1, "l6": l6}


def run(engine, **filters):
    options = filters.pop("options", {})
    filters.setdefault("as_of", AS_OF)
    with reading(engine) as conn:
        return debtors(conn, ReportParams(options=options, **filters))


def summary_rows(data):
    return [
        (
            r["debtor"],
            r["code"],
            r["kind"],
            r["days_0_29"],
            r["days_30_59"],
            r["days_60_89"],
            r["days_90_plus"],
            r["not_yet_due"],
            r["total"],
            r["credit"],
        )
        for r in data["rows"]
    ]


def summary(name: str, code: str, kind: str, amounts: str) -> tuple[str, ...]:
    """debtor, code, kind, then 0-29, 30-59, 60-89, 90+, not yet due, total, credit."""
    return (name, code, kind, *amounts.split(" "))


P1_ROW = summary("Patient One", "P1", "patient", "0.00 100.00 0.00 60.00 -60.00 100.00 25.00")
DVA_ROW = summary("Veterans", "DVA", "dva", "0.00 0.00 120.00 0.00 0.00 120.00 0.00")
P3_ROW = summary("Patient Three", "P3", "patient", "0.00 18.00 0.00 0.00 0.00 18.00 0.00")
FUND_ROW = summary("Fund One", "FUND", "fund", "50.00 0.00 0.00 0.00 0.00 50.00 0.00")
P2_ROW = summary("Patient Two", "P2", "patient", "30.00 0.00 0.00 0.00 0.00 30.00 0.00")


def test_summary_by_age(book, engine) -> None:
    data = to_json_data(run(engine))
    assert data["columns"] == [
        "debtor",
        "code",
        "kind",
        "days_0_29",
        "days_30_59",
        "days_60_89",
        "days_90_plus",
        "not_yet_due",
        "total",
        "credit",
    ]
    # Oldest debt first: P1 121 days, DVA 77, P3 30, then FUND and P2 both 11 (larger first).
    assert summary_rows(data) == [P1_ROW, DVA_ROW, P3_ROW, FUND_ROW, P2_ROW]
    assert data["totals"] == {
        "days_0_29": "80.00",  # 50 + 30
        "days_30_59": "118.00",  # 100 + 18
        "days_60_89": "120.00",
        "days_90_plus": "60.00",  # 100 - 40
        "not_yet_due": "-60.00",
        "total": "318.00",  # 80 + 118 + 120 + 60 - 60
        "credit": "25.00",
    }
    assert data["warnings"] == [
        "1 debtor(s) listed hold 25.00 of unapplied credit, shown as credit and not deducted "
        "from what they owe; apply it to their lines"  # the command line adds its hint
    ]
    assert data["parameters"]["as_of"] == "2024-12-31"


def test_ordered_by_amount(book, engine) -> None:
    data = to_json_data(run(engine, options={"order": "amount"}))
    assert summary_rows(data) == [DVA_ROW, P1_ROW, FUND_ROW, P2_ROW, P3_ROW]


def test_detailed(book, engine) -> None:
    data = to_json_data(run(engine, options={"detail": "detailed"}))
    assert data["columns"] == [
        "debtor",
        "code",
        "kind",
        "patient",
        "invoice",
        "line",
        "location",
        "provider",
        "service_date",
        "age_days",
        "bracket",
        "owing",
    ]
    keys = data["columns"][1:]
    assert ["|".join(str(r[k]) for k in keys if k != "kind") for r in data["rows"]] == [
        "P1|Patient One|INV-000001|L-000001|MAIN|Dr One|2024-09-01|121|90+|60.00",
        "P1|Patient One|INV-000003|L-000003|NORTH|Dr Two|2024-11-20|41|30-59|100.00",
        "P1|Patient One|INV-000005|L-000005|MAIN|Dr One|2025-01-20|-20|not yet due|-60.00",
        "DVA|Patient Three|INV-000002|L-000002|MAIN|Dr Two|2024-10-15|77|60-89|120.00",
        "P3|Patient Three|INV-000004|L-000004|MAIN|None|2024-12-01|30|30-59|18.00",
        "FUND|Patient Two|INV-000006|L-000006|MAIN|Dr One|2024-12-20|11|0-29|50.00",
        "P2|Patient Two|INV-000006|L-000006|MAIN|Dr One|2024-12-20|11|0-29|30.00",
    ]
    assert data["totals"]["owing"] == "318.00"
    assert data["totals"]["days_30_59"] == "118.00"


def test_older_than_lists_all_debts_of_a_debtor_in_range(book, engine) -> None:
    """Reference: 'Should a patient have a debt within the date range, then all of that
    patient's debts will be listed.' P1's 121-day debt brings in the 41-day one too."""
    data = to_json_data(run(engine, options={"older_than_days": 60}))
    assert summary_rows(data) == [P1_ROW, DVA_ROW]
    assert data["totals"]["total"] == "220.00"  # 100 + 120
    # 'include debts older than 30 days': P3's product is exactly 30 days old.
    data = to_json_data(run(engine, options={"older_than_days": 30}))
    assert summary_rows(data) == [P1_ROW, DVA_ROW, P3_ROW]
    data = to_json_data(run(engine, options={"older_than_days": 122}))
    assert data["rows"] == [] and data["warnings"] == []


def test_another_bracket_interval(book, engine) -> None:
    data = to_json_data(run(engine, options={"interval_days": 14}))
    assert data["columns"][3:7] == ["days_0_13", "days_14_27", "days_28_41", "days_42_plus"]
    assert data["totals"] == {
        "days_0_13": "80.00",  # FUND 50 + P2 30 (11 days)
        "days_14_27": "0.00",
        "days_28_41": "118.00",  # P1 100 (41 days) + P3 18 (30 days)
        "days_42_plus": "180.00",  # P1 60 (121 days) + DVA 120 (77 days)
        "not_yet_due": "-60.00",
        "total": "318.00",
        "credit": "25.00",
    }


def test_billed_to_provider_and_location(book, engine) -> None:
    def codes(**filters):
        return [(r["code"], r["total"]) for r in to_json_data(run(engine, **filters))["rows"]]

    assert codes(options={"billed_to": "fund"}) == [("FUND", "50.00")]
    assert codes(options={"billed_to": "dva"}) == [("DVA", "120.00")]
    assert codes(options={"billed_to": "medicare"}) == []
    assert codes(options={"billed_to": "patient"}) == [
        ("P1", "100.00"),
        ("P3", "18.00"),
        ("P2", "30.00"),
    ]
    assert codes(provider="DR2") == [("DVA", "120.00"), ("P1", "100.00")]  # 77 days, 41
    assert codes(location="NORTH") == [("P1", "100.00")]


def test_separate_locations(book, engine) -> None:
    data = to_json_data(run(engine, options={"separate_locations": True}))
    assert data["rows"] == []
    assert data["totals"]["total"] == "318.00"
    main, north = data["sections"]
    assert (main["report"], north["report"]) == ("debtors: MAIN", "debtors: NORTH")
    # At MAIN P1 owes 60.00 (90+) and has 60.00 paid ahead: 0.00 in all, still listed.
    assert [(r["code"], r["total"]) for r in main["rows"]] == [
        ("P1", "0.00"),
        ("DVA", "120.00"),
        ("P3", "18.00"),
        ("FUND", "50.00"),
        ("P2", "30.00"),
    ]
    assert [(r["code"], r["days_30_59"], r["total"]) for r in north["rows"]] == [
        ("P1", "100.00", "100.00")
    ]
    assert main["totals"]["total"] == "218.00" and north["totals"]["total"] == "100.00"


def test_point_in_time(book, engine) -> None:
    """As of 2024-11-30: L4, L5's advance, L6 and the 25.00 credit did not exist yet."""
    data = to_json_data(run(engine, as_of=D(2024, 11, 30)))
    assert [
        (r["code"], r["days_0_29"], r["days_30_59"], r["days_90_plus"], r["total"], r["credit"])
        for r in data["rows"]
    ] == [
        ("P1", "100.00", "0.00", "60.00", "160.00", "0.00"),  # L3 10 days, L1 90 days
        ("DVA", "0.00", "120.00", "0.00", "120.00", "0.00"),  # L2 46 days
    ]
    assert data["warnings"] == []


def test_as_known_at_reproduces_the_listing_byte_for_byte(book, engine, clock) -> None:
    moment = utc(dt.datetime(2024, 12, 31, 23))
    views = [
        dict(as_of=AS_OF),
        dict(as_of=AS_OF, options={"detail": "detailed", "separate_locations": True}),
        dict(as_of=None),  # as of the date of --as-known-at
    ]

    def outputs():
        return [to_csv(run(engine, as_known_at=moment, **v)) for v in views]

    before = outputs()
    # Recorded later but dated inside the period: a backdated payment and its allocation,
    # and a write-off; none of it was known at the moment.
    late = pay(clock, D(2025, 1, 2), "P2", 3000, received=D(2024, 12, 30))
    payments.allocate(clock.uow(), payments.Allocate(payment_id=late, targets=[(book["l6"], 3000)]))
    invoicing.adjust_line(
        clock.uow(),
        invoicing.AdjustLine(
            line_id=book["l1"], amount_cents=6000, reason=AdjustmentReason.BAD_DEBT
        ),
    )
    assert outputs() == before
    assert to_csv(run(engine, as_of=D(2024, 12, 30))) != to_csv(
        run(engine, as_of=D(2024, 12, 30), as_known_at=moment)
    )


def test_without_as_of_debts_are_aged_to_the_latest_entry(book, engine) -> None:
    data = to_json_data(run(engine, as_of=None))
    assert data["parameters"]["as_of"] == "2024-12-21"  # the gap transfer
    assert data["warnings"][0] == (
        "no as-of date given: debts are aged to 2024-12-21, the date of the latest entry"
    )
    assert data["totals"]["total"] == "318.00"


def test_options_are_checked(book, engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(engine, options={"billed_to": "hospital"})
    assert caught.value.message == (
        "billed_to: 'hospital' is not one of: patient, fund, medicare, dva, insurer, third-party"
    )
    for key, value in [
        ("interval_days", 0),
        ("older_than_days", -1),
        ("interval_days", True),
        ("detail", "full"),
        ("order", "name"),
        ("separate_locations", "yes"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            run(engine, options={key: value})
        assert caught.value.field == key


# ---- properties over random journals (tests/journals.py) -----------------------------


def party_charges(conn, as_of, as_known_at) -> int:
    """Sum over every patient and payer of ``party_balance(...).charges_cents``."""
    total = 0
    for patient_id in conn.execute(select(t.patients.c.id)).scalars():
        total += lookups.party_balance(
            conn, patient_id=patient_id, as_of=as_of, as_known_at=as_known_at
        ).charges_cents
    for payer_id in conn.execute(select(t.payers.c.id)).scalars():
        total += lookups.party_balance(
            conn, payer_id=payer_id, as_of=as_of, as_known_at=as_known_at
        ).charges_cents
    return total


def cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(frac))


@PROPERTY
@given(
    steps=st.lists(step, min_size=8, max_size=25),
    as_of_at=st.none() | st.tuples(st.integers(0, 24), st.integers(-10, 40)),
    known_at=st.none() | st.integers(0, 24),
)
def test_debtors_total_is_every_partys_owing_charges(fresh, steps, as_of_at, known_at) -> None:
    """As of a day near one of the steps (or, without as-of, the latest entry's), as known
    after one of the steps (or now)."""
    engine, clock = fresh()
    moments = play(clock, steps)
    as_known_at = None
    if known_at is not None:
        as_known_at = utc(moments[known_at % len(moments)])
    as_of = None
    if as_of_at is not None:
        at, offset = as_of_at
        as_of = moments[at % len(moments)].date() + dt.timedelta(days=offset)
    with reading(engine) as conn:
        report = debtors(conn, ReportParams(as_of=as_of, as_known_at=as_known_at))
        data = to_json_data(report)
        shown = data["parameters"].get("as_of")
        resolved = None if shown is None else D.fromisoformat(shown)
        expected = party_charges(conn, resolved, as_known_at)
        # The identity, to the cent: every kind, every location, no age filter.
        assert cents(data["totals"]["total"]) == expected
        totals = {k: cents(v) for k, v in data["totals"].items()}
        assert (
            sum(v for k, v in totals.items() if k.startswith("days_")) + totals["not_yet_due"]
            == expected
        )
        assert sum(r.total_cents for r in report.rows) == expected
        # Credit is shown apart, as party_balance counts it, and never deducted.
        credit = sum(r.credit_cents for r in report.rows)
        assert totals["credit"] == credit
        event(f"debtors listed: {min(len(report.rows), 3)}{'+' * (len(report.rows) >= 3)}")
        event(f"not yet due: {totals['not_yet_due'] != 0}, credit shown: {credit != 0}")

        def params(**options):
            return ReportParams(as_of=resolved, as_known_at=as_known_at, options=options)

        # Detailed, by kind, by location: the same money, split.
        detailed = debtors(conn, params(detail="detailed"))
        assert sum(r.owing_cents for r in detailed.rows) == expected
        kinds = ("patient", "fund", "medicare", "dva", "insurer", "third-party")
        by_kind = [debtors(conn, params(billed_to=kind)) for kind in kinds]
        assert sum(r.total_cents for part in by_kind for r in part.rows) == expected
        split = debtors(conn, params(separate_locations=True))
        assert sum(r.total_cents for part in split.sections for r in part.rows) == expected
        # The age filter keeps whole debtors: each debtor with a debt 20 days old or more,
        # with every portion it has; no other.
        old = debtors(conn, params(detail="detailed", older_than_days=20))
        wanted = {r.code for r in detailed.rows if r.owing_cents > 0 and r.age_days >= 20}
        assert list(old.rows) == [r for r in detailed.rows if r.code in wanted]


@settings(PROPERTY, max_examples=12)
@given(steps=st.lists(step, min_size=8, max_size=25))
def test_receipts_split_never_changes_the_money(fresh, steps) -> None:
    """Received less reversed, by date entered, equals each split view's total."""
    engine, clock = fresh()
    play(clock, steps)
    everything = dict(from_date=D(2000, 1, 1), to_date=D(2099, 12, 31))
    with reading(engine) as conn:
        rows = conn.execute(select(t.payments.c.amount_cents, t.payments.c.reversed_at)).all()
        expected = sum(r.amount_cents for r in rows if r.reversed_at is None)

        def method_total(**options) -> int:
            report = receipts(conn, ReportParams(options=options, **everything))
            [summary] = [s for s in report.sections if s.name == "receipts by method"]
            return sum(r.amount_cents for r in summary.rows)

        plain = receipts(conn, ReportParams(**everything))
        assert sum(r.amount_cents for r in plain.rows) == expected
        assert method_total() == expected
        assert method_total(by_provider=True) == expected
        assert method_total(by="service") == expected
        assert method_total(by="service", by_provider=True) == expected
        by_provider = receipts(conn, ReportParams(options={"by_provider": True}, **everything))
        assert by_provider.totals["amount_cents"] == expected


@pytest.mark.parametrize("interval", [1, 11, 14, 30, 41, 77])
@pytest.mark.parametrize(
    "as_of", [D(2024, 9, 1), D(2024, 10, 31), D(2024, 12, 31), D(2025, 1, 20), D(2025, 6, 30)]
)
def test_summary_summed_in_sql_is_the_detailed_listing_summed(book, engine, as_of, interval):
    """The summary sums each debtor's portions by bracket in SQL (a bracket of ages is one
    of dates); the detailed listing ages each portion here. Ages on a bracket's edges: the
    intervals divide the fixture's ages (11, 30, 41, 77, 121 days at 2024-12-31)."""
    options = {"interval_days": interval}
    listed = run(engine, as_of=as_of, options={**options, "detail": "detailed"})
    summed = run(engine, as_of=as_of, options=options)
    by_debtor: dict[tuple[str, str], dict[str, int]] = {}
    labels = ["not yet due", *(f"{k * interval}-{(k + 1) * interval - 1}" for k in range(3))]
    labels.append(f"{3 * interval}+")
    for row in listed.rows:
        sums = by_debtor.setdefault((row.debtor, row.code), dict.fromkeys(labels, 0))
        sums[row.bracket] += row.owing_cents
    assert {
        (r.debtor, r.code): [
            r.not_yet_due_cents,
            r.bracket_1_cents,
            r.bracket_2_cents,
            r.bracket_3_cents,
            r.bracket_4_cents,
        ]
        for r in summed.rows
    } == {key: list(sums.values()) for key, sums in by_debtor.items()}
    assert [(r.debtor, r.code) for r in summed.rows] == list(
        dict.fromkeys((r.debtor, r.code) for r in listed.rows)
    )  # the same order: oldest debt first, a debtor's oldest from its portions owing
    assert summed.totals["total_cents"] == listed.totals["owing_cents"]
