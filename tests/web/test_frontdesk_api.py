"""The front desk's endpoints: invoices, payments, allocations and the corrections, each
answering what the command line's ``--json`` prints, and every money-moving POST posting
once under its ``Idempotency-Key``. Numbers from the harness practice
(``tests/cli/harness.py``): P1 owes 80.00 on L-000001 and 25.00 on L-000002; PAY-000001
has 10.00 unallocated (AL-000005: 20.00 to L-000001); FUND1 owes 100.00 on L-000003."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests.cli.harness import Cli, db_url

from clinicledger.domain.permissions import Role
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

R, B = Role.RECEPTION, Role.BILLING

TWO_LINES = {
    "patient": "P1",
    "location": "MAIN",
    "lines": [
        {"item": "90801", "provider": "DR1", "date": "2024-03-01"},
        {"kind": "product", "product": "Cold pack", "fee": "12.50"},
    ],
}
CASH = {
    "from": "P1",
    "amount": "30.00",
    "method": "cash",
    "received": "2024-03-02",
    "location": "MAIN",
}


@pytest.fixture
def cli(desk, capsys, monkeypatch) -> Cli:
    """The command line over the same ledger, its clock after the app's (11:00, Sydney)."""
    return Cli(db_url(desk), capsys, monkeypatch, start=dt.datetime(2024, 3, 2, 12, 0))


def entries_count(engine) -> int:
    with reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(t.entries)).scalar_one())


def test_an_invoice_of_two_lines_answers_as_invoice_create(api, cli) -> None:
    answer = api(R).post("/api/v1/invoices", json=TWO_LINES)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    # the item's fee when none is given; the product at the fee typed
    assert made == {
        "id": "INV-000003",
        "number": 3,
        "total": "112.50",
        "lines": [
            {"id": "L-000004", "kind": "service", "amount": "100.00", "gst": "0.00",
             "service_date": "2024-03-01"},
            {"id": "L-000005", "kind": "product", "amount": "12.50", "gst": "0.00",
             "service_date": None},
        ],
    }  # fmt: skip
    from_cli = cli.ok(
        "invoice", "create", "--patient", "P1", "--location", "MAIN",
        "--line", "item=90801,provider=DR1,date=2024-03-01",
        "--line", "product=Cold pack,fee=12.50",
    )  # fmt: skip
    assert from_cli == {
        **made,
        "id": "INV-000004",
        "number": 4,
        "lines": [
            {**made["lines"][0], "id": "L-000006"},
            {**made["lines"][1], "id": "L-000007"},
        ],
    }
    shown = api(R).get("/api/v1/invoices/INV-000003")
    assert shown.status_code == 200
    assert shown.json() == cli.ok("invoice", "show", "INV-000003")
    assert (shown.json()["total"], shown.json()["owing"], shown.json()["paid"]) == (
        "112.50",
        "112.50",
        "0.00",
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({**TWO_LINES, "lines": []}, 422, "line_missing", "line"),
        ({**TWO_LINES, "lines": [{"item": "90801", "date": "2024-03-01"}]}, 422,
         "line_incomplete", "line 1"),
        ({**TWO_LINES, "lines": [TWO_LINES["lines"][0], {"kind": "cancellation",
          "provider": "DR1", "date": "2024-03-01"}]}, 422, "fee_missing", "line 2"),
        ({**TWO_LINES, "lines": [{"item": "90801", "provider": "DR1", "date": "1/3/24"}]}, 422,
         "date_malformed", "line 1"),
        ({**TWO_LINES, "patient": "P7"}, 404, "not_found", "patient"),
    ],
)  # fmt: skip
def test_a_refused_invoice_posts_nothing(api, desk, body, status, code, field) -> None:
    before = entries_count(desk)
    answer = api(R).post("/api/v1/invoices", json=body)
    assert answer.status_code == status, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["field"]) == (code, field)
    assert entries_count(desk) == before


def test_a_payment_recorded_allocated_and_shown_answers_as_the_command_line(api, cli) -> None:
    recorded = api(R).post("/api/v1/payments", json=CASH)
    assert recorded.status_code == 201
    assert recorded.json() == {"id": "PAY-000005", "amount": "30.00"}
    allocated = api(R).post(
        "/api/v1/payments/PAY-000005/allocations",
        json={
            "to": [{"line": "L-000001", "amount": "20.00"}, {"line": "L-000002", "amount": "10.00"}]
        },
    )
    assert allocated.status_code == 201, allocated.text
    made = allocated.json()["allocations"]
    assert [(a["line"], a["payment"], a["amount"]) for a in made] == [
        ("L-000001", "PAY-000005", "20.00"),
        ("L-000002", "PAY-000005", "10.00"),
    ]
    shown = api(R).get("/api/v1/payments/PAY-000005").json()
    assert shown == cli.ok("payment", "show", "PAY-000005")
    assert (shown["applied"], shown["unallocated"]) == ("30.00", "0.00")
    assert [(a["line"], a["amount"]) for a in shown["allocations"]] == [
        ("L-000001", "20.00"),
        ("L-000002", "10.00"),
    ]
    # L-000001 owed 80.00, L-000002 25.00
    assert [(o["line"], o["owing"]) for o in shown["open_lines"]] == [
        ("L-000001", "60.00"),
        ("L-000002", "15.00"),
    ]
    auto = api(R).post("/api/v1/payments/PAY-000001/allocations", json={"auto": True})
    assert [(a["line"], a["amount"]) for a in auto.json()["allocations"]] == [("L-000001", "10.00")]


def test_over_allocating_is_refused_beside_the_lines(api, desk) -> None:
    before = entries_count(desk)
    answer = api(R).post(
        "/api/v1/payments/PAY-000001/allocations",
        json={"to": [{"line": "L-000002", "amount": "10.01"}]},
    )
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("allocation_exceeds_payment", "to")
    assert "10.00" in error["message"]
    assert entries_count(desk) == before


def test_a_post_retried_with_its_idempotency_key_posts_once(api, desk) -> None:
    key = {"Idempotency-Key": "desk-3:2024-03-02:17"}
    before = entries_count(desk)
    first = api(R).post("/api/v1/payments", json=CASH, headers=key)
    again = api(R).post("/api/v1/payments", json=CASH, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"id": "PAY-000005", "amount": "30.00"}
    assert entries_count(desk) == before + 1  # one payment entry
    other = api(R).post("/api/v1/payments", json={**CASH, "amount": "31.00"}, headers=key)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert other.json()["error"]["field"] == "amount"
    assert entries_count(desk) == before + 1

    invoice_key = {"Idempotency-Key": "desk-3:invoice:1"}
    made = api(R).post("/api/v1/invoices", json=TWO_LINES, headers=invoice_key)
    retried = api(R).post("/api/v1/invoices", json=TWO_LINES, headers=invoice_key)
    assert made.json() == retried.json()
    assert entries_count(desk) == before + 3  # and two charges
    changed = {**TWO_LINES, "lines": TWO_LINES["lines"][:1]}
    refused = api(R).post("/api/v1/invoices", json=changed, headers=invoice_key)
    assert (refused.status_code, refused.json()["error"]["field"]) == (409, "line")

    to = {"to": [{"line": "L-000002", "amount": "5.00"}]}
    allocation_key = {"Idempotency-Key": "alloc-1"}
    once = api(R).post("/api/v1/payments/PAY-000001/allocations", json=to, headers=allocation_key)
    twice = api(R).post("/api/v1/payments/PAY-000001/allocations", json=to, headers=allocation_key)
    assert once.json() == twice.json() and len(once.json()["allocations"]) == 1
    assert entries_count(desk) == before + 4
    bad_key = api(R).post("/api/v1/payments", json=CASH, headers={"Idempotency-Key": "a b"})
    assert bad_key.status_code == 422
    assert bad_key.json()["error"]["field"] == "idempotency_key"


def test_the_corrections_answer_as_the_command_line(api, cli) -> None:
    billing = api(B)
    refunded = billing.post(
        "/api/v1/payments/PAY-000001/refund", json={"amount": "4.00", "reason": "overpaid"}
    )
    assert refunded.status_code == 200, refunded.text
    from_cli = cli.ok("payment", "refund", "PAY-000001", "--amount", "1.00", "--reason", "again")
    assert refunded.json() == {**from_cli, "id": refunded.json()["id"], "amount": "4.00"}
    assert int(from_cli["id"][2:]) == int(refunded.json()["id"][2:]) + 1
    shown = billing.get("/api/v1/payments/PAY-000001").json()
    assert (shown["refunded"], shown["unallocated"]) == ("5.00", "5.00")

    unallocated = billing.post(
        "/api/v1/payments/PAY-000001/unallocate",
        json={"allocation": "AL-000005", "reason": "wrong line"},
    )
    assert unallocated.status_code == 200, unallocated.text
    assert unallocated.json()["allocation"] == "AL-000005"
    assert billing.get("/api/v1/payments/PAY-000001").json()["unallocated"] == "25.00"
    not_its_own = billing.post(
        "/api/v1/payments/PAY-000002/unallocate",
        json={"allocation": "AL-000005", "reason": "wrong line"},
    )
    assert (not_its_own.status_code, not_its_own.json()["error"]["field"]) == (404, "allocation")

    adjusted = billing.post(
        "/api/v1/lines/L-000002/adjust", json={"amount": "5.00", "reason": "write-off"}
    )
    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.json()["line"] == "L-000002" and adjusted.json()["amount"] == "5.00"
    moved = billing.post(
        "/api/v1/lines/L-000003/transfer",
        json={"amount": "30.00", "reason": "gap", "to_patient": True},
    )
    assert moved.status_code == 200, moved.text
    line3 = cli.ok("invoice", "show", "INV-000002")["lines"][0]
    assert (line3["payer_owing"], line3["patient_owing"]) == ("70.00", "30.00")
    no_reason = billing.post("/api/v1/lines/L-000001/delete", json={"reason": " "})
    assert no_reason.status_code == 422
    deleted = billing.post("/api/v1/lines/L-000001/delete", json={"reason": "keyed in error"})
    assert deleted.status_code == 200, deleted.text
    invoice = cli.ok("invoice", "show", "INV-000001")
    assert invoice["lines"][0]["deleted"] is True
    assert (invoice["total"], invoice["owing"]) == ("25.00", "20.00")  # less 5.00 written off
    reversed_ = billing.post("/api/v1/payments/PAY-000004/reverse", json={"reason": "bounced"})
    assert reversed_.status_code == 200
    assert cli.ok("payment", "show", "PAY-000004")["reversed"] is True


def test_reception_may_not_refund(api) -> None:
    refused = api(R).post(
        "/api/v1/payments/PAY-000001/refund", json={"amount": "1.00", "reason": "x"}
    )
    assert refused.status_code == 403


def test_every_money_moving_post_takes_an_idempotency_key(app) -> None:
    from fastapi.testclient import TestClient

    document = TestClient(app).get("/openapi.json").json()
    posts = {
        path: operations["post"]
        for path, operations in document["paths"].items()
        if "post" in operations and (path.startswith(("/api/v1/invoices", "/api/v1/payments",
                                                      "/api/v1/lines"))
                                     or path.endswith("/credit/apply"))
    }  # fmt: skip
    assert len(posts) == 11
    for path, operation in posts.items():
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path


def test_credit_applied_answers_as_credit_apply(api, cli, desk) -> None:
    """P1 holds 50.00 of credit: 10.00 of PAY-000001 and 40.00 of PAY-000002, used oldest
    first."""
    key = {"Idempotency-Key": "credit-1"}
    to = {"to": [{"line": "L-000002", "amount": "25.00"}]}
    before = entries_count(desk)
    applied = api(R).post("/api/v1/patients/P1/credit/apply", json=to, headers=key)
    assert applied.status_code == 201, applied.text
    made = applied.json()["allocations"]
    assert [(a["payment"], a["line"], a["amount"]) for a in made] == [
        ("PAY-000001", "L-000002", "10.00"),
        ("PAY-000002", "L-000002", "15.00"),
    ]
    again = api(R).post("/api/v1/patients/P1/credit/apply", json=to, headers=key)
    assert (again.status_code, again.json()) == (201, applied.json())
    assert entries_count(desk) == before + 2
    from_cli = cli.ok("credit", "apply", "P1", "--to", "L-000001=5.00")
    assert [{**a, "id": "AL"} for a in from_cli["allocations"]] == [
        {**made[1], "id": "AL", "line": "L-000001", "amount": "5.00"}
    ]
    auto = api(R).post("/api/v1/patients/P1/credit/apply", json={"auto": True})
    assert auto.status_code == 201, auto.text
    assert [(a["line"], a["amount"]) for a in auto.json()["allocations"]] == [("L-000001", "20.00")]
    assert cli.ok("patient", "account", "P1")["balance"]["unallocated"] == "0.00"


@pytest.mark.parametrize(
    ("code", "body", "status", "refused"),
    [
        ("P1", {"to": [{"line": "L-000001", "amount": "50.01"}]}, 409, ("credit_exceeded", "to")),
        ("P1", {"to": [{"line": "L-000002", "amount": "26.00"}]}, 409,
         ("allocation_exceeds_line", "to")),
        ("P1", {"to": [{"line": "L-000001", "amount": "x"}]}, 422, ("amount_malformed", "to")),
        ("P1", {}, 422, ("allocation_target_missing", "to")),
        ("P7", {"auto": True}, 404, ("not_found", "patient")),
    ],
)  # fmt: skip
def test_credit_over_applied_is_refused_and_posts_nothing(api, desk, code, body, status, refused):
    before = entries_count(desk)
    answer = api(R).post(f"/api/v1/patients/{code}/credit/apply", json=body)
    assert answer.status_code == status, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["field"]) == refused
    assert entries_count(desk) == before


def test_a_line_opened_to_insurance_answers_as_line_status(api, cli) -> None:
    opened = api(B).post("/api/v1/lines/L-000001/status", json={"insurance": "open"})
    assert opened.status_code == 200, opened.text
    assert opened.json() == {"id": "L-000001", "insurance": "open"}
    assert cli.ok("line", "status", "L-000002", "--insurance", "open") == {
        **opened.json(),
        "id": "L-000002",
    }
    lines = cli.ok("invoice", "show", "INV-000001")["lines"]
    assert [line["insurance"] for line in lines] == ["open", "open"]
    closed = api(B).post("/api/v1/lines/L-000001/status", json={"insurance": "closed"})
    assert closed.json() == {"id": "L-000001", "insurance": "closed"}
    assert cli.ok("invoice", "show", "INV-000001")["lines"][0]["insurance"] == "closed"
    assert (
        api(R).post("/api/v1/lines/L-000001/status", json={"insurance": "open"}).status_code == 403
    )
    bad = api(B).post("/api/v1/lines/L-000001/status", json={"insurance": "maybe"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "insurance")
    missing = api(B).post("/api/v1/lines/L-000099/status", json={"insurance": "open"})
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "line")
