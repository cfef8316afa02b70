"""The JSON API: bearer tokens (401 without one, 403 by role), answers equal to the command
line's ``--json`` for the same request, and errors in the command line's shape."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.cli.harness import Cli, db_url

from clinicledger.domain.permissions import Role

R = Role.RECEPTION


@pytest.fixture
def cli(desk, capsys, monkeypatch) -> Cli:
    """The command line over the same ledger, its clock after the app's (11:00, Sydney)."""
    return Cli(db_url(desk), capsys, monkeypatch, start=dt.datetime(2024, 3, 2, 12, 0))


def test_without_a_valid_token_the_api_answers_401(api, app) -> None:
    from .harness import api_client

    for client in (api(None), api_client(app, "clt_not-a-token")):
        answer = client.get("/api/v1/patients")
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "login_required"
    basic = api(None).get("/api/v1/patients", headers={"Authorization": "Basic cmVjZXB0aW9u"})
    assert basic.status_code == 401


def test_a_session_cookie_is_no_api_token(browser) -> None:
    assert browser(R).get("/api/v1/patients").status_code == 401


def test_a_role_that_may_not_gets_403(api) -> None:
    refused = api(Role.MANAGER).get("/api/v1/users")
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {
            "code": "forbidden",
            "field": None,
            "message": "a manager user may not manage users (user.manage: admin)",
        }
    }
    assert api(Role.ADMIN).get("/api/v1/users").status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "argv"),
    [
        ("/api/v1/patients", {"search": "marl"}, ("patient", "list", "--search", "marl")),
        ("/api/v1/patients", {}, ("patient", "list")),
        ("/api/v1/patients/P1", {}, ("patient", "show", "P1")),
        ("/api/v1/patients/P1/account", {}, ("patient", "account", "P1")),
        (
            "/api/v1/balances",
            {"patient": "P1", "as_of": "2024-03-01"},
            ("balance", "--patient", "P1", "--as-of", "2024-03-01"),
        ),
        ("/api/v1/balances", {"invoice": "INV-000001"}, ("balance", "--invoice", "INV-000001")),
        ("/api/v1/balances", {"payer": "FUND1"}, ("balance", "--payer", "FUND1")),
        ("/api/v1/users", {}, ("user", "list")),
        ("/api/v1/invoices/INV-000001", {}, ("invoice", "show", "INV-000001")),
        ("/api/v1/invoices/2", {}, ("invoice", "show", "INV-000002")),
        ("/api/v1/payments/PAY-000001", {}, ("payment", "show", "PAY-000001")),
        ("/api/v1/payments/PAY-000004", {}, ("payment", "show", "PAY-000004")),
        ("/api/v1/practice", {}, ("practice", "show")),
        ("/api/v1/locations", {}, ("location", "list")),
        ("/api/v1/providers", {"search": "vale"}, ("provider", "list", "--search", "vale")),
        ("/api/v1/payers/FUND1", {}, ("payer", "show", "FUND1")),
        ("/api/v1/items", {"inactive": "true"}, ("item", "list", "--inactive")),
        ("/api/v1/products/GEL", {}, ("product", "show", "GEL")),
        ("/api/v1/periods", {}, ("period", "list")),
        ("/api/v1/check", {}, ("check",)),
        ("/api/v1/check", {"print_head": "true"}, ("check", "--print-head")),
        ("/api/v1/tokens", {}, ("token", "list")),
    ],
)
def test_an_answer_is_the_command_lines_json(api, cli, path, params, argv) -> None:
    answer = api(Role.ADMIN).get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json() == cli.ok(*argv)


def test_adding_a_patient_answers_as_patient_add(api, cli) -> None:
    answer = api(R).post("/api/v1/patients", json={"code": "P9", "name": "Cleo Dunmore"})
    assert answer.status_code == 201
    from_cli = cli.ok("patient", "add", "P10", "--name", "Hugo Varley")
    assert answer.json() == {"id": from_cli["id"] - 1, "code": "P9"}
    assert cli.ok("patient", "show", "P9")["name"] == "Cleo Dunmore"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("GET", "/api/v1/patients/P7", None, 404, ("not_found", "patient")),
        ("GET", "/api/v1/balances?patient=P1&as_of=1/3/24", None, 422, ("date_malformed", "as_of")),
        ("GET", "/api/v1/balances", None, 422, ("subject_missing", "subject")),
        ("POST", "/api/v1/patients", {"code": "P9"}, 422, ("invalid_input", "name")),
        ("POST", "/api/v1/patients", {"code": "P1", "name": "Ivy"}, 409, ("code_taken", "code")),
        ("POST", "/api/v1/patients", {"code": "a b", "name": "X"}, 422, ("code_malformed", "code")),
        ("GET", "/api/v1/nowhere", None, 404, ("not_found", None)),
        ("DELETE", "/api/v1/patients", None, 405, ("usage", None)),
    ],
)
def test_errors_are_the_command_lines_shape(api, method, path, body, status, error) -> None:
    answer = api(R).request(method, path, json=body)
    assert answer.status_code == status, answer.text
    found = answer.json()
    assert list(found) == ["error"] and sorted(found["error"]) == ["code", "field", "message"]
    assert (found["error"]["code"], found["error"]["field"]) == error
    assert "Traceback" not in answer.text


def test_the_openapi_document_lists_the_api_and_no_page(app) -> None:
    from fastapi.testclient import TestClient

    document = TestClient(app).get("/openapi.json").json()
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    assert sorted(document["paths"]) == [
        "/api/v1/balances",
        "/api/v1/check",
        "/api/v1/imports/{kind}",
        "/api/v1/invoices",
        "/api/v1/invoices/{number}",
        "/api/v1/invoices/{number}/pdf",
        "/api/v1/items",
        "/api/v1/items/{code}",
        "/api/v1/items/{code}/activate",
        "/api/v1/items/{code}/deactivate",
        "/api/v1/lines/{line}/adjust",
        "/api/v1/lines/{line}/delete",
        "/api/v1/lines/{line}/status",
        "/api/v1/lines/{line}/transfer",
        "/api/v1/locations",
        "/api/v1/locations/{code}",
        "/api/v1/locations/{code}/activate",
        "/api/v1/locations/{code}/deactivate",
        "/api/v1/patients",
        "/api/v1/patients/{code}",
        "/api/v1/patients/{code}/account",
        "/api/v1/patients/{code}/activate",
        "/api/v1/patients/{code}/credit/apply",
        "/api/v1/patients/{code}/deactivate",
        "/api/v1/payers",
        "/api/v1/payers/{code}",
        "/api/v1/payers/{code}/activate",
        "/api/v1/payers/{code}/deactivate",
        "/api/v1/payments",
        "/api/v1/payments/{payment}",
        "/api/v1/payments/{payment}/allocations",
        "/api/v1/payments/{payment}/receipt",
        "/api/v1/payments/{payment}/refund",
        "/api/v1/payments/{payment}/reverse",
        "/api/v1/payments/{payment}/unallocate",
        "/api/v1/periods",
        "/api/v1/periods/close",
        "/api/v1/practice",
        "/api/v1/products",
        "/api/v1/products/{code}",
        "/api/v1/products/{code}/activate",
        "/api/v1/products/{code}/deactivate",
        "/api/v1/providers",
        "/api/v1/providers/{code}",
        "/api/v1/providers/{code}/activate",
        "/api/v1/providers/{code}/deactivate",
        "/api/v1/reports/favourites",
        "/api/v1/reports/favourites/{favourite}",
        "/api/v1/reports/{name}",
        "/api/v1/tokens",
        "/api/v1/tokens/{name}/revoke",
        "/api/v1/users",
        "/api/v1/users/{name}/disable",
        "/api/v1/users/{name}/enable",
        "/api/v1/users/{name}/password",
        "/api/v1/users/{name}/role",
    ]
    refusal = document["paths"]["/api/v1/patients"]["get"]["responses"]["403"]
    assert refusal["description"] == "The token's user may not do this"
