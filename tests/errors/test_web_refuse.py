"""Refusals only the web gives: no login (an API request without a token), a wrong
password, a name locked out, a form without its CSRF token. Each answers its code, field
and message, and writes nothing but what it must (a failed login is recorded)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from tests.web.harness import Browser, WebClock, add_logins, password

from clinicledger.domain.permissions import Role
from clinicledger.services import users
from clinicledger.web.app import create_app

from .reproduce import snapshot

pytestmark = pytest.mark.usefixtures("quick_passwords")


@pytest.fixture
def app(engine, practice):
    add_logins(engine)
    return create_app(engine, clock=WebClock())


def changed(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after if after[name] != before.get(name))


def test_an_api_request_without_a_token(app, engine) -> None:
    before = snapshot(engine)
    answer = TestClient(app).get("/api/v1/patients")
    assert (answer.status_code, answer.json()) == (
        401,
        {
            "error": {
                "code": "login_required",
                "field": None,
                "message": "an API request needs 'Authorization: Bearer TOKEN'",
            }
        },
    )
    assert snapshot(engine) == before


def test_a_wrong_password_is_refused_and_recorded(app, engine) -> None:
    before = snapshot(engine)
    answer = Browser(app).log_in("reception", "not the password")
    assert answer.status_code == 401
    assert (
        '<p class="error banner" role="alert" data-refused="login_failed">'
        "the name or the password is wrong</p>"
    ) in answer.text
    assert changed(before, snapshot(engine)) == ["audit_log", "ledger_clock", "login_failures"]


def test_a_name_locked_out(app, engine) -> None:
    visitor = Browser(app)
    for _ in range(users.LOGIN_FAILURES_MAX):
        visitor.log_in("billing", "not the password")
    before = snapshot(engine)
    answer = visitor.log_in("billing", password(Role.BILLING))
    assert answer.status_code == 401
    assert (
        'data-refused="login_locked">'
        "too many failed logins for &#39;billing&#39;: try again in 15 minutes</p>"
    ) in answer.text
    assert snapshot(engine) == before


def test_a_form_without_its_csrf_token(app, engine) -> None:
    signed = Browser(app).as_role(Role.RECEPTION)
    before = snapshot(engine)
    answer = signed.post("/patients/new", {"code": "P9", "name": "Cleo Dunmore"}, csrf=False)
    assert answer.status_code == 403
    assert 'data-error-code="csrf_invalid"' in answer.text
    assert "the form is out of date (or did not come from this app)" in answer.text
    assert snapshot(engine) == before


def test_an_idle_session_asks_for_a_login_again(engine, practice) -> None:
    add_logins(engine)
    clock = WebClock()
    signed = Browser(create_app(engine, clock=clock)).as_role(Role.RECEPTION)
    clock.now += users.SESSION_IDLE + dt.timedelta(seconds=1)
    answer = signed.get("/patients")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=/patients")
