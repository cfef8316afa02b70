"""Client reconciliation (reference 001): one patient's lines with responsibility, paid and
credit used, the balance check, and the comparison with another program's export."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinicledger.domain.choices import (
    AdjustmentReason,
    InsuranceStatus,
    LineKind,
    PayerKind,
    PaymentMethod,
)
from clinicledger.domain.errors import ImportRejected, InvalidInput, NotFound
from clinicledger.domain.journal import Account, Entry, EntryKind, Posting
from clinicledger.formats.compare_csv import CompareLine, parse_amount, parse_compare_csv
from clinicledger.render.formats import to_csv, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.client_reconciliation import (
    ClientReconciliationRow,
    client_reconciliation,
    match_lines,
)
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import lookups
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

D = dt.date
SYDNEY = ZoneInfo("Australia/Sydney")
JUNE_30 = D(2024, 6, 30)


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=SYDNEY).astimezone(dt.UTC).replace(tzinfo=None)


def run(engine, **filters):
    options = filters.pop("options", {})
    with reading(engine) as conn:
        return client_reconciliation(conn, ReportParams(patient="GOOD", **filters, options=options))


def session(provider: str, day: dt.date, **more) -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE, item_code="90837", provider_code=provider, service_date=day, **more
    )


def invoice(clock, day: dt.date, *lines: LineSpec, billed_to: str | None = None) -> list[int]:
    made = invoicing.create_invoice(
        clock.at_date(day),
        invoicing.CreateInvoice(
            patient_code="GOOD", location_code="MAIN", billed_to_code=billed_to, lines=list(lines)
        ),
    )
    return [line.id for line in made.lines]


def pay(clock, cents: int, method: PaymentMethod = PaymentMethod.CASH, who: str = "GOOD") -> int:
    return payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code=who,
            amount_cents=cents,
            method=method,
            received_date=clock.now.date(),
            location_code="MAIN",
        ),
    )


@pytest.fixture
def journal(clock):
    """001's worked example, June 2024: a patient whose sessions add up to a balance of
    555.00 on 30 June = a current balance of 255.00 + 300.00 of unpaid sessions (a program
    of two July sessions invoiced ahead). Every kind of line and money is in it."""
    clock.now = dt.datetime(2024, 6, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_provider(clock.uow(), code="DR2", name="Dr Two")
    masters.add_patient(clock.uow(), code="GOOD", name="Patient Good")
    masters.add_patient(clock.uow(), code="OTHER", name="Patient Other")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="90837", description="Therapy", fee_cents=15000)
    masters.add_product(clock.uow(), code="TB", title="Theraband", fee_cents=1800)
    ids: dict[str, int] = {}

    [ids["L1"]] = invoice(clock, D(2024, 6, 3), session("DR1", D(2024, 6, 3)))
    card = pay(clock, 15000, PaymentMethod.EFTPOS)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=card, targets=[(ids["L1"], 15000)]))

    [ids["L2"]] = invoice(clock, D(2024, 6, 10), session("DR1", D(2024, 6, 10)))
    cash = pay(clock, 10000)  # 50.00 applied, 50.00 left as credit
    payments.allocate(clock.uow(), payments.Allocate(payment_id=cash, targets=[(ids["L2"], 5000)]))

    [ids["L3"]] = invoice(clock, D(2024, 6, 12), session("DR2", D(2024, 6, 12)), billed_to="FUND")

    ids["L4"], ids["L5"] = invoice(
        clock,
        D(2024, 6, 17),
        LineSpec(
            kind=LineKind.CANCELLATION,
            provider_code="DR2",
            service_date=D(2024, 6, 17),
            fee_cents=6000,
        ),
        LineSpec(kind=LineKind.PRODUCT, product_title="Theraband"),
    )
    invoicing.adjust_line(
        clock.uow(),
        invoicing.AdjustLine(
            line_id=ids["L4"], amount_cents=1000, reason=AdjustmentReason.DISCOUNT
        ),
    )
    payments.apply_credit(
        clock.uow(),
        payments.ApplyCredit(patient_code="GOOD", targets=[(ids["L2"], 2000), (ids["L5"], 1800)]),
    )

    fund = payments.record_payment(
        clock.at_date(D(2024, 6, 19)),
        payments.RecordPayment(
            from_code="FUND",
            amount_cents=10000,
            method=PaymentMethod.INSURANCE,
            received_date=D(2024, 6, 19),
            location_code="MAIN",
        ),
    )
    payments.allocate(clock.uow(), payments.Allocate(payment_id=fund, targets=[(ids["L3"], 10000)]))
    invoicing.transfer(
        clock.uow(),
        invoicing.Transfer(line_id=ids["L3"], amount_cents=5000, reason="gap", to_patient=True),
    )
    gap = pay(clock, 2500, PaymentMethod.EFTPOS)
    payments.allocate(clock.uow(), payments.Allocate(payment_id=gap, targets=[(ids["L3"], 2500)]))

    [ids["L6"]] = invoice(
        clock, D(2024, 6, 20), session("DR2", D(2024, 6, 20), insurance_open=True), billed_to="FUND"
    )
    [ids["L7"]] = invoice(
        clock,
        D(2024, 6, 21),
        session("DR1", D(2024, 6, 21), client_billable=False),
        billed_to="FUND",
    )
    [ids["L8"]] = invoice(clock, D(2024, 6, 24), session("DR1", D(2024, 6, 24)))
    invoicing.delete_line(
        clock.at_date(D(2024, 6, 25)),
        invoicing.DeleteLine(line_id=ids["L8"], reason="booked twice"),
    )
    [ids["L9"]] = invoice(clock, D(2024, 6, 26), session("DR2", D(2024, 6, 26), fee_cents=10000))
    ids["L10"], ids["L11"] = invoice(
        clock, D(2024, 6, 28), session("DR1", D(2024, 7, 8)), session("DR1", D(2024, 7, 15))
    )
    # Another patient's session and payment: not in GOOD's reconciliation.
    invoicing.create_invoice(
        clock.uow(),
        invoicing.CreateInvoice(
            patient_code="OTHER",
            location_code="MAIN",
            billed_to_code=None,
            lines=[session("DR1", D(2024, 6, 28))],
        ),
    )
    pay(clock, 4400, who="OTHER")
    # After 30 June: 40.00 paid on the 26 June session.
    later = payments.record_payment(
        clock.at_date(D(2024, 7, 2)),
        payments.RecordPayment(
            from_code="GOOD",
            amount_cents=4000,
            method=PaymentMethod.CASH,
            received_date=D(2024, 7, 2),
            location_code="MAIN",
        ),
    )
    payments.allocate(clock.uow(), payments.Allocate(payment_id=later, targets=[(ids["L9"], 4000)]))
    return ids


def money(data):
    return [
        (
            r["date"],
            r["service"],
            r["status"],
            r["client_responsibility"],
            r["client_paid"],
            r["credit_used"],
            r["balance"],
        )
        for r in data["rows"]
    ]


def test_worked_example_of_001(journal, engine) -> None:
    data = to_json_data(run(engine, as_of=JUNE_30))
    assert data["columns"] == [
        "date",
        "provider",
        "service",
        "status",
        "client_responsibility",
        "client_paid",
        "credit_used",
        "balance",
        "invoice",
        "line",
    ]
    assert money(data) == [
        # fee 150.00, paid 150.00 by card
        ("2024-06-03", "90837", "closed", "150.00", "150.00", "0.00", "0.00"),
        # fee 150.00, 50.00 cash applied, 20.00 of the rest of it used as credit
        ("2024-06-10", "90837", "closed", "150.00", "50.00", "20.00", "80.00"),
        # billed to the fund, which paid 100.00; the 50.00 gap moved to the patient, who
        # paid 25.00 of it
        ("2024-06-12", "90837", "closed", "50.00", "25.00", "0.00", "25.00"),
        # cancellation fee 60.00 less a 10.00 discount
        ("2024-06-17", "Cancellation", "closed", "50.00", "0.00", "0.00", "50.00"),
        # product, dated by its invoice, paid with credit
        ("2024-06-17", "Theraband", "closed", "18.00", "0.00", "18.00", "0.00"),
        # billed to the fund and still open to it: nothing is the patient's yet
        ("2024-06-20", "90837", "open to insurance", "0.00", "0.00", "0.00", "0.00"),
        ("2024-06-21", "90837", "not client-billable", "0.00", "0.00", "0.00", "0.00"),
        # deleted: the deletion takes its 150.00 back
        ("2024-06-24", "90837", "deleted", "0.00", "0.00", "0.00", "0.00"),
        # 100.00 unpaid on 30 June (the 40.00 paid on 2 July is after the balance date)
        ("2024-06-26", "90837", "closed", "100.00", "0.00", "0.00", "100.00"),
        # a program invoiced ahead: two July sessions
        ("2024-07-08", "90837", "closed", "150.00", "0.00", "0.00", "150.00"),
        ("2024-07-15", "90837", "closed", "150.00", "0.00", "0.00", "150.00"),
    ]
    assert [r["provider"] for r in data["rows"][:5]] == [
        "Dr One",
        "Dr One",
        "Dr Two",
        "Dr Two",
        None,
    ]
    assert data["rows"][0]["line"] == f"L-{journal['L1']:06d}"
    # responsibility 150 + 150 + 50 + 50 + 18 + 100 + 150 + 150 = 818.00
    # paid 150 + 50 + 25 = 225.00; credit used 20 + 18 = 38.00
    # balance 818.00 - 225.00 - 38.00 = 555.00, as on the page
    # current balance on 30 June: 0 + 80 + 25 + 50 + 0 + 100 = 255.00 (the July sessions'
    # fees are dated in July); unpaid sessions: 150.00 + 150.00 = 300.00
    # 255.00 + 300.00 = 555.00
    assert data["totals"] == {
        "client_responsibility": "818.00",
        "client_paid": "225.00",
        "credit_used": "38.00",
        "balance": "555.00",
        "current_balance": "255.00",
        "unpaid_sessions": "300.00",
        "lines_outside_range": "0.00",
        "difference": "0.00",
    }
    assert data["warnings"] == []
    with reading(engine) as conn:
        patient_id = lookups.id_for_code(conn, "patient", "GOOD")
        balance = lookups.party_balance(conn, patient_id=patient_id, as_of=JUNE_30)
    assert balance.charges_cents == 25500
    # The 12.00 of cash never applied is credit, outside both sides of the check.
    assert balance.unallocated_cents == 1200


def test_without_a_balance_date_every_session_is_in_the_current_balance(journal, engine) -> None:
    data = to_json_data(run(engine))
    # The 40.00 paid on 2 July now counts: 555.00 - 40.00 = 515.00, all of it current.
    assert data["rows"][8]["client_paid"] == "40.00"
    assert {k: data["totals"][k] for k in ("balance", "current_balance", "unpaid_sessions")} == {
        "balance": "515.00",
        "current_balance": "515.00",
        "unpaid_sessions": "0.00",
    }
    assert data["totals"]["difference"] == "0.00"


def test_a_date_range_lists_its_lines_and_accounts_for_the_others(journal, engine) -> None:
    data = to_json_data(
        run(engine, as_of=JUNE_30, from_date=D(2024, 6, 10), to_date=D(2024, 6, 20))
    )
    assert [r["date"] for r in data["rows"]] == [
        "2024-06-10",
        "2024-06-12",
        "2024-06-17",
        "2024-06-17",
        "2024-06-20",
    ]
    # listed: 80 + 25 + 50 + 0 + 0 = 155.00; outside the range, owed on 30 June:
    # 3 June 0.00, 21 June 0.00, 24 June 0.00, 26 June 100.00, the July sessions 0.00 (their
    # fees are after the balance date) = 100.00; 155.00 = 255.00 + 0.00 - 100.00
    assert {k: data["totals"][k] for k in data["totals"] if k not in ("client_paid",)} == {
        "client_responsibility": "268.00",
        "credit_used": "38.00",
        "balance": "155.00",
        "current_balance": "255.00",
        "unpaid_sessions": "0.00",
        "lines_outside_range": "100.00",
        "difference": "0.00",
    }


def test_a_posting_on_none_of_the_lines_is_warned_about(journal, engine, clock) -> None:
    # Written directly (no service does this): 5.00 on the patient's account, on no line.
    with reading(engine) as conn:
        patient_id = lookups.id_for_code(conn, "patient", "GOOD")
    with clock.uow() as uow:
        uow.append(
            Entry(
                kind=EntryKind.OPENING_BALANCE,
                effective_date=D(2024, 6, 1),
                postings=(
                    Posting(account=Account.RECEIVABLE, amount_cents=500, patient_id=patient_id),
                    Posting(
                        account=Account.OPENING_BALANCE, amount_cents=-500, patient_id=patient_id
                    ),
                ),
            )
        )
        uow.audit("test.write", "patient:GOOD", {})  # every entry is audited
        uow.commit()
    report = run(engine, as_of=JUNE_30)
    assert report.totals["current_balance_cents"] == 26000
    assert report.totals["difference_cents"] == -500
    assert tuple(w.text for w in report.warnings) == (
        "the rows' balance 555.00 is not the current balance 260.00 plus unpaid sessions "
        "300.00 less 0.00 on lines outside the range: -5.00 of the patient's account is on "
        "none of their lines",
    )


def test_as_known_at_reproduces_the_report_byte_for_byte(journal, engine, clock) -> None:
    moment = utc(dt.datetime(2024, 6, 22, 12))  # before the deletion and the last sessions
    params = {"as_known_at": moment}
    before = to_csv(run(engine, **params))
    # Later: the fund closes the open line, more money, a deletion.
    invoicing.set_insurance_status(
        clock.at_date(D(2024, 7, 3)),
        invoicing.SetInsuranceStatus(line_id=journal["L6"], status=InsuranceStatus.CLOSED),
    )
    # A change that changes nothing: the first line was closed then too.
    invoicing.set_insurance_status(
        clock.uow(),
        invoicing.SetInsuranceStatus(line_id=journal["L1"], status=InsuranceStatus.CLOSED),
    )
    extra = pay(clock, 5000)
    payments.allocate(
        clock.uow(), payments.Allocate(payment_id=extra, targets=[(journal["L4"], 5000)])
    )
    invoicing.delete_line(
        clock.uow(), invoicing.DeleteLine(line_id=journal["L10"], reason="program cancelled")
    )
    assert to_csv(run(engine, **params)) == before
    data = to_json_data(run(engine, **params))
    assert [r["status"] for r in data["rows"]] == [
        "closed",
        "closed",
        "closed",
        "closed",
        "closed",
        "open to insurance",
        "not client-billable",
    ]
    # 0 + 80 + 25 + 50 + 0 + 0 + 0 = 155.00, all current as known then
    assert data["totals"]["balance"] == data["totals"]["current_balance"] == "155.00"
    now = to_json_data(run(engine))
    assert now["rows"][5]["status"] == "closed"
    assert now["rows"][3]["balance"] == "0.00"
    assert now["rows"][9]["status"] == "deleted"


def test_the_patient_is_required(journal, engine) -> None:
    with reading(engine) as conn, pytest.raises(InvalidInput) as caught:
        client_reconciliation(conn, ReportParams())
    assert caught.value.field == "patient"
    assert caught.value.code == "patient_missing"
    with reading(engine) as conn, pytest.raises(NotFound):
        client_reconciliation(conn, ReportParams(patient="NOBODY"))


# --- compare with another program's export -----------------------------------------------

OTHER_EXPORT = (
    "Date,Client,Item,Amount,Memo\n"
    "2024-06-03,Patient Good,90837 therapy,$150.00,\n"
    "2024-06-10,Patient Good,90837 therapy,150.00,\n"
    "2024-06-12,Patient Good,90837 gap,50.00,\n"
    "2024-06-17,Patient Good,Cancellation fee,60.00,not discounted there\n"
    "2024-06-17,Patient Good,Theraband,18.00,\n"
    "2024-06-20,Patient Good,90837,0.00,\n"
    "\n"
    "2024-06-26,Patient Good,90837,100.00,\n"
    "2024-07-08,Patient Good,90837,150.00,\n"
    "2024-07-22,Patient Good,90837,150.00,\n"
)


def test_compare_with_another_programs_export(journal, engine, tmp_path) -> None:
    path = tmp_path / "other.csv"
    path.write_text(OTHER_EXPORT, encoding="utf-8")
    report = run(
        engine,
        as_of=JUNE_30,
        options={"compare": str(path), "compare_description_column": "Item"},
    )
    data = to_json_data(report)
    assert [s["report"] for s in data["sections"]] == [
        "matched",
        "differ",
        "only here",
        "only in the other program",
    ]
    matched, differ, only_here, only_there = data["sections"]
    assert matched["columns"] == [
        "date",
        "service",
        "line",
        "amount_here",
        "other_file_line",
        "other_date",
        "other_description",
        "other_amount",
        "difference",
    ]
    # File lines: header 1; rows 2-7, a blank line 8, rows 9-11.
    assert [(r["date"], r["other_file_line"], r["amount_here"]) for r in matched["rows"]] == [
        ("2024-06-03", 2, "150.00"),
        ("2024-06-10", 3, "150.00"),
        ("2024-06-12", 4, "50.00"),
        ("2024-06-17", 6, "18.00"),
        ("2024-06-20", 7, "0.00"),
        ("2024-06-26", 9, "100.00"),
        ("2024-07-08", 10, "150.00"),
    ]
    assert matched["totals"] == {
        "amount_here": "618.00",
        "other_amount": "618.00",
        "difference": "0.00",
    }
    # The cancellation: 50.00 here (after the discount), 60.00 there.
    assert [tuple(r.values()) for r in differ["rows"]] == [
        (
            "2024-06-17",
            "Cancellation",
            f"L-{journal['L4']:06d}",
            "50.00",
            5,
            "2024-06-17",
            "Cancellation fee",
            "60.00",
            "-10.00",
        )
    ]
    # Not deleted, not in the file: the not client-billable line and the 15 July session.
    assert [(r["date"], r["service"], r["amount_here"]) for r in only_here["rows"]] == [
        ("2024-06-21", "90837", "0.00"),
        ("2024-07-15", "90837", "150.00"),
    ]
    assert [
        (r["other_date"], r["other_file_line"], r["other_amount"]) for r in only_there["rows"]
    ] == [("2024-07-22", 11, "150.00")]
    assert data["warnings"] == [
        "compare: 7 matched, 1 differ, 2 only here, 1 only in the other program"
    ]
    csv_text = to_csv(report)
    assert "\n# differ\n" in csv_text and "\n# only in the other program\n" in csv_text


def test_compare_refuses_a_bad_file(journal, engine, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,amount,description\n2024-06-03,150.00,ok\n03/06/2024,1.234,x\n2024-06-10\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as caught:
        run(engine, options={"compare": str(path)})
    assert [str(p) for p in caught.value.problems] == [
        "line 3, column date: '03/06/2024' is not a date (YYYY-MM-DD)",
        "line 3, column amount: '1.234' is not an amount; write it like 30.00 (at most two "
        "decimal places)",
        "line 4, column (row): has 1 cells; the header has 3",
    ]
    assert caught.value.file == "bad.csv"
    with pytest.raises(ImportRejected) as caught:
        run(engine, options={"compare": str(path), "compare_amount_column": "total"})
    assert str(caught.value.problems[0]) == (
        "line 1, column total: required column is missing (found: date, amount, description)"
    )
    with pytest.raises(InvalidInput) as missing:
        run(engine, options={"compare": str(tmp_path / "absent.csv")})
    assert missing.value.field == "compare"


def test_parse_compare_csv_amounts_dates_and_columns() -> None:
    rows = parse_compare_csv(
        "x.csv",
        (
            '\ufeffDATE ,Amount\n2024-06-03 10:30,"$1,234.50"\n2024-06-04,(12.00)\n2024-06-05,-$5\n'
        ).encode(),
    )
    assert rows == (
        CompareLine(line=2, date=D(2024, 6, 3), amount_cents=123450, description=""),
        CompareLine(line=3, date=D(2024, 6, 4), amount_cents=-1200, description=""),
        CompareLine(line=4, date=D(2024, 6, 5), amount_cents=-500, description=""),
    )
    for bad in ("1,23.00", "--5", "5.001", "1e3", "$", "NaN"):
        with pytest.raises(InvalidInput):
            parse_amount(bad, field="amount")
    with pytest.raises(ImportRejected) as caught:
        parse_compare_csv("x.csv", b"\xff\xfe")
    assert "not UTF-8" in str(caught.value)
    with pytest.raises(ImportRejected) as caught:
        parse_compare_csv(
            "x.csv", b"date,amount\n", description_column="memo", description_required=True
        )
    assert caught.value.problems[0].column == "memo"


def test_matching_uses_the_description_only_to_break_ties() -> None:
    def line(n: int, service: str, cents: int) -> ClientReconciliationRow:
        return ClientReconciliationRow(
            date=D(2024, 6, 3),
            provider=None,
            service=service,
            status="closed",
            client_responsibility_cents=cents,
            client_paid_cents=0,
            credit_used_cents=0,
            balance_cents=cents,
            invoice="INV-000001",
            line=f"L-{n:06d}",
        )

    here = (line(1, "Cancellation", 5000), line(2, "90837", 5000), line(3, "90834", 9000))
    other = (
        CompareLine(line=2, date=D(2024, 6, 3), amount_cents=5000, description="90837"),
        CompareLine(line=3, date=D(2024, 6, 3), amount_cents=5000, description="cancellation"),
        CompareLine(line=4, date=D(2024, 6, 3), amount_cents=9900, description="other text"),
        CompareLine(line=5, date=D(2024, 6, 4), amount_cents=9000, description="90834"),
    )
    matched, differ, only_here, only_there = match_lines(here, other)
    assert [(r.line, r.other_file_line) for r in matched] == [("L-000001", 3), ("L-000002", 2)]
    # Same date, another amount: a difference, whatever the description says.
    assert [(r.line, r.other_file_line, r.difference_cents) for r in differ] == [
        ("L-000003", 4, -900)
    ]
    assert only_here == ()
    assert [r.other_file_line for r in only_there] == [5]


# --- property: the rows always reconcile to the patient's balance ------------------------

INVOICE = st.tuples(
    st.just("invoice"),
    st.sampled_from([None, "FUND"]),
    st.booleans(),  # open to insurance
    st.booleans(),  # client-billable
    st.integers(-3, 10),  # service date, days from today (a program invoiced ahead)
)
PAY = st.one_of(
    st.tuples(st.just("pay"), st.integers(1, 20000)),
    st.tuples(st.just("pay"), st.integers(1, 20000)),
    st.tuples(st.just("fund pays"), st.integers(1, 20000)),
)
ALLOCATE = st.tuples(
    st.just("allocate"), st.integers(0, 9), st.integers(0, 9), st.integers(1, 20000)
)
ACTION = st.one_of(
    ALLOCATE,
    ALLOCATE,
    ALLOCATE,
    ALLOCATE,
    ALLOCATE,
    st.tuples(st.just("credit"), st.integers(0, 9), st.integers(1, 20000)),
    st.tuples(st.just("transfer"), st.integers(0, 9), st.integers(1, 20000)),
    st.tuples(st.just("transfer"), st.integers(0, 9), st.integers(1, 20000)),
    st.tuples(st.just("adjust"), st.integers(0, 9), st.integers(1, 5000)),
    st.tuples(st.just("unallocate"), st.integers(0, 19)),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    st.tuples(st.just("next day")),
    INVOICE,
    PAY,
)
STEPS = st.builds(
    lambda invoices, pays, actions: [*invoices, *pays, *actions],
    st.lists(INVOICE, min_size=1, max_size=3),
    st.lists(PAY, min_size=1, max_size=3),
    st.lists(ACTION, min_size=2, max_size=10),
)


@pytest.fixture
def practice(clock):
    clock.now = dt.datetime(2025, 1, 1, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="GOOD", name="Patient Good")
    masters.add_payer(clock.uow(), code="FUND", name="Fund One", kind=PayerKind.FUND)
    masters.add_item(clock.uow(), code="90837", description="Therapy", fee_cents=15000)
    return clock


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=STEPS,
    balance_day=st.one_of(st.none(), st.integers(-2, 6)),
    window=st.one_of(st.none(), st.tuples(st.integers(-3, 6), st.integers(-3, 6))),
)
def test_the_rows_always_reconcile(practice, engine, steps, balance_day, window) -> None:
    """Random journals of one patient: the check's difference is always 0.00, and without a
    balance date each row's balance is what the ledger says the patient owes on the line."""
    clock = practice
    day = clock.now.date() + dt.timedelta(days=2)
    clock.now = dt.datetime.combine(day, dt.time(8))
    first_day = day
    lines: list[tuple[int, str | None]] = []  # (line id, billed to)
    paid: list[tuple[int, bool]] = []  # (payment id, from the fund)
    applied: list[int] = []

    def read(fn, *args):
        with reading(engine) as conn:
            return fn(conn, *args)

    def free(payment_id: int) -> int:
        if read(lookups.payment_record, payment_id).reversed_at is not None:
            return 0
        return read(lookups.payment_unallocated_cents, payment_id)

    def live(line_id: int) -> bool:
        return read(lookups.line_record, line_id).deleted_at is None

    for step in steps:
        kind = step[0]
        if kind == "next day":
            day += dt.timedelta(days=1)
            clock.now = max(clock.now, dt.datetime.combine(day, dt.time(8)))
        elif kind == "invoice":
            _, billed_to, insurance_open, billable, offset = step
            [line_id] = invoice(
                clock,
                day,
                session(
                    "DR1",
                    day + dt.timedelta(days=offset),
                    insurance_open=insurance_open,
                    client_billable=billable,
                ),
                billed_to=billed_to,
            )
            lines.append((line_id, billed_to))
        elif kind == "pay":
            paid.append((pay(clock, step[1]), False))
        elif kind == "fund pays":
            paid.append((pay(clock, step[1], PaymentMethod.INSURANCE, who="FUND"), True))
        elif kind == "allocate" and paid:
            payment, from_fund = paid[step[1] % len(paid)]
            # The lines this payment can pay: the fund its own portions, the patient theirs.
            owing = []
            for line_id, billed_to in lines:
                if live(line_id) and (billed_to is not None or not from_fund):
                    portion = read(lookups.line_record, line_id).payer_id if from_fund else None
                    owing.append((line_id, read(lookups.line_owing_cents, line_id, portion)))
            owing = [(line_id, cents) for line_id, cents in owing if cents > 0]
            if owing:
                line_id, most = owing[step[2] % len(owing)]
                cents = min(step[3], free(payment), most)
                if cents > 0:
                    made = payments.allocate(
                        clock.uow(),
                        payments.Allocate(payment_id=payment, targets=[(line_id, cents)]),
                    )
                    applied.extend(a.id for a in made)
        elif kind in ("credit", "transfer", "adjust", "delete") and lines:
            line_id, billed_to = lines[step[1] % len(lines)]
            if not live(line_id):
                continue
            if kind == "credit":
                credit = sum(free(p) for p, from_fund in paid if not from_fund)
                cents = min(step[2], credit, read(lookups.line_owing_cents, line_id, None))
                if cents > 0:
                    made = payments.apply_credit(
                        clock.uow(),
                        payments.ApplyCredit(patient_code="GOOD", targets=[(line_id, cents)]),
                    )
                    applied.extend(a.id for a in made)
            elif kind == "transfer" and billed_to is not None:
                fund_owing = read(
                    lookups.line_owing_cents, line_id, read(lookups.line_record, line_id).payer_id
                )
                cents = min(step[2], fund_owing)
                if cents > 0:
                    invoicing.transfer(
                        clock.uow(),
                        invoicing.Transfer(
                            line_id=line_id, amount_cents=cents, reason="gap", to_patient=True
                        ),
                    )
            elif kind == "adjust":
                cents = min(step[2], read(lookups.line_owing_cents, line_id, None))
                if cents > 0:
                    invoicing.adjust_line(
                        clock.uow(),
                        invoicing.AdjustLine(
                            line_id=line_id,
                            amount_cents=cents,
                            reason=AdjustmentReason.WRITE_OFF,
                            patient_portion=True,
                        ),
                    )
            elif kind == "delete":
                invoicing.delete_line(
                    clock.uow(), invoicing.DeleteLine(line_id=line_id, reason="error", cascade=True)
                )
        elif kind == "unallocate" and applied:
            entry = applied[step[1] % len(applied)]
            with reading(engine) as conn:
                undone = conn.execute(
                    select(t.entries.c.id).where(t.entries.c.reverses == entry)
                ).first()
            if undone is None:
                payments.unallocate(
                    clock.uow(), payments.Unallocate(allocation_id=entry, reason="wrong line")
                )
        elif kind == "reverse" and paid:
            payment, _ = paid[step[1] % len(paid)]
            row = read(lookups.payment_record, payment)
            if row.reversed_at is None and read(lookups.payment_refunded_cents, payment) == 0:
                payments.reverse_payment(
                    clock.uow(), payments.ReversePayment(payment_id=payment, reason="dishonoured")
                )

    filters: dict = {}
    if balance_day is not None:
        filters["as_of"] = first_day + dt.timedelta(days=balance_day)
    if window is not None:
        filters["from_date"] = first_day + dt.timedelta(days=min(window))
        filters["to_date"] = first_day + dt.timedelta(days=max(window))
    report = run(engine, **filters)
    assert report.totals["difference_cents"] == 0
    assert report.warnings == ()
    if balance_day is None:
        whole = run(engine)
        assert whole.totals["difference_cents"] == 0
        assert whole.totals["balance_cents"] == whole.totals["current_balance_cents"]
        with reading(engine) as conn:
            for row in whole.rows:
                line_id = int(row.line.removeprefix("L-"))
                assert row.balance_cents == lookups.line_owing_cents(conn, line_id, None)
