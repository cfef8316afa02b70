"""The pages through TestClient: logins and sessions, CSRF, security headers, a rejected
form that keeps what was typed, the patient pages, and errors that show no traceback."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from clinicledger.domain.permissions import Action, Role
from clinicledger.services import accounts, masters, users
from clinicledger.store import tables as t
from clinicledger.store.uow import UnitOfWork
from clinicledger.web import pages
from clinicledger.web.pages import masters as masters_pages

from .harness import NOW, password

R = Role.RECEPTION


def patients_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.patients)).scalar_one())


def test_every_response_carries_the_security_headers(browser, app) -> None:
    signed = browser(R)
    answers = {
        "login": browser(None).get("/login"),
        "page": signed.get("/patients/P1"),
        "missing": signed.get("/no/such/page"),
        "api": signed.get("/api/v1/patients"),  # no token: 401
        "static": signed.get("/static/app.css"),
    }
    for name, answer in answers.items():
        headers = answer.headers
        assert "'unsafe-inline'" not in headers["content-security-policy"], name
        assert headers["content-security-policy"].startswith("default-src 'self'"), name
        assert headers["x-frame-options"] == "DENY", name
        assert headers["referrer-policy"] == "no-referrer", name
        assert headers["x-content-type-options"] == "nosniff", name
        if name != "static":
            assert headers["cache-control"] == "no-store", name
    assert "cache-control" not in answers["static"].headers
    assert [answers[n].status_code for n in answers] == [200, 200, 404, 401, 200]


def test_no_page_has_inline_script_or_style(browser) -> None:
    signed = browser(Role.ADMIN)
    for path in ("/", "/patients", "/patients/P1", "/patients/new", "/users"):
        body = signed.get(path).text
        assert "<script" not in body and "<style" not in body and "style=" not in body, path


def test_a_page_without_a_login_goes_to_the_login_form_and_back(browser) -> None:
    visitor = browser(None)
    first = visitor.get("/patients/P1?x=1")
    assert (first.status_code, first.headers["location"]) == (
        303,
        "/login?next=/patients/P1%3Fx%3D1",
    )
    answer = visitor.log_in("reception", password(R), next_path="/patients/P1?x=1")
    assert (answer.status_code, answer.headers["location"]) == (303, "/patients/P1?x=1")
    cookie = answer.headers["set-cookie"].lower()
    assert "clinicledger_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.split("clinicledger_login")[0]  # plain http: not Secure
    assert visitor.get("/patients/P1").status_code == 200


def test_a_login_never_leads_to_another_site(browser) -> None:
    answer = browser(None).log_in("reception", password(R), next_path="//elsewhere.example/x")
    assert answer.headers["location"] == "/"


def test_session_cookies_are_secure_over_https(app) -> None:
    from fastapi.testclient import TestClient

    from .harness import csrf_in

    client = TestClient(app, base_url="https://clinic.test", follow_redirects=False)
    form = client.get("/login")
    assert "secure" in form.headers["set-cookie"].lower()
    answer = client.post(
        "/login",
        data={"name": "reception", "password": password(R), "csrf_token": csrf_in(form.text)},
    )
    assert "secure" in answer.headers["set-cookie"].lower()


def test_a_form_without_its_csrf_token_is_refused(browser, desk) -> None:
    signed = browser(R)
    before = patients_count(desk)
    for token in (None, "forged"):
        data = {"code": "P9", "name": "Cleo Dunmore"}
        if token is not None:
            data["csrf_token"] = token
        refused = signed.post("/patients/new", data, csrf=False)
        assert refused.status_code == 403
        assert "the form is out of date" in refused.text
    assert patients_count(desk) == before
    assert signed.post("/logout", csrf=False).status_code == 403
    assert signed.get("/").status_code == 200  # still logged in


def test_a_login_form_without_its_token_is_refused(browser) -> None:
    visitor = browser(None)
    visitor.get("/login")
    answer = visitor.client.post(
        "/login", data={"name": "reception", "password": password(R), "csrf_token": "x"}
    )
    assert answer.status_code == 403
    assert 'value="reception"' in answer.text  # the form again, with what was typed


def test_a_rejected_form_keeps_what_was_typed_and_shows_the_error_beside_it(browser) -> None:
    signed = browser(R)
    refused = signed.post("/patients/new", {"code": "bad code", "name": "Cleo  Dunmore"})
    assert refused.status_code == 422
    page = refused.text
    assert 'value="bad code"' in page and 'value="Cleo  Dunmore"' in page
    assert 'id="code" name="code" type="text"' in page
    assert 'aria-invalid="true" aria-describedby="code-error"' in page
    assert "is not a code: use 1-40 letters, digits, . _ - /" in html.unescape(page)
    assert "autofocus" in page.split('id="code"')[1].split(">")[0]  # the cursor is there
    taken = signed.post("/patients/new", {"code": "P1", "name": "Someone Else"})
    assert taken.status_code == 409 and "already taken" in html.unescape(taken.text)


def test_a_failed_login_keeps_the_name_but_never_the_password(browser) -> None:
    visitor = browser(None)
    answer = visitor.log_in("reception", "not the password")
    assert answer.status_code == 401
    assert 'value="reception"' in answer.text and "not the password" not in answer.text
    assert "the name or the password is wrong" in answer.text


def test_a_name_is_locked_out_after_repeated_failures_for_its_window(browser, web_clock) -> None:
    visitor = browser(None)
    for _ in range(users.LOGIN_FAILURES_MAX):
        assert visitor.log_in("billing", "wrong password").status_code == 401
    locked = visitor.log_in("billing", password(Role.BILLING))
    assert locked.status_code == 401
    assert "too many failed logins for &#39;billing&#39;: try again in 15 minutes" in locked.text
    assert browser(None).log_in("reception", password(R)).status_code == 303  # others not
    web_clock.now += users.LOGIN_WINDOW
    assert visitor.log_in("billing", password(Role.BILLING)).status_code == 303


def test_adding_a_patient_opens_their_account_and_names_the_user(browser, desk) -> None:
    added = browser(R).post("/patients/new", {"code": "P9", "name": "Cleo Dunmore"})
    assert (added.status_code, added.headers["location"]) == (303, "/patients/P9")
    with desk.connect() as conn:
        actor = conn.execute(
            text("SELECT actor FROM audit_log WHERE action = 'patient.create' ORDER BY id DESC")
        ).first()
    assert actor is not None and actor[0] == "reception"


def test_find_a_patient_by_code_or_part_of_a_name(browser) -> None:
    signed = browser(R)
    by_name = signed.get("/patients", params={"search": "marl"}).text
    assert "Ivy Marlowe" in by_name and "Otto Brandt" not in by_name
    by_code = signed.get("/patients", params={"search": "p2"}).text
    assert "Otto Brandt" in by_code and "Ivy Marlowe" not in by_code
    nobody = signed.get("/patients", params={"search": "zz"}).text
    assert "No patients match" in nobody


def test_money_is_written_in_the_practice_s_locale(browser, desk) -> None:
    masters.set_practice(UnitOfWork(desk, now=NOW, actor="manager"), locale="de_DE")
    page = browser(R).get("/patients/P1").text
    assert "55,00\xa0AU$" in page and "-50,00\xa0AU$" in page  # German, and its negatives
    later = NOW + dt.timedelta(minutes=1)
    masters.set_practice(UnitOfWork(desk, now=later, actor="manager"), locale="en_NZ")
    page = browser(R).get("/patients/P1").text
    assert "A$55.00" in page and "(A$50.00)" in page


def test_the_account_shows_the_balance_as_the_command_line_computes_it(browser) -> None:
    page = browser(R).get("/patients/P1").text
    assert 'data-balance="5500"' in page and "$55.00" in page
    assert "$105.00" in page and "$50.00" in page  # owing, credit
    assert "L-000001" in page and "PAY-000002" in page
    assert "($50.00)" in page  # the difference, in the accounting style
    assert "Credit not applied to any line" in page


def test_an_unknown_patient_is_a_page_that_says_so(browser) -> None:
    answer = browser(R).get("/patients/p-1")
    assert answer.status_code == 404
    assert "patient &#39;p-1&#39; not found; did you mean P1?" in answer.text


def test_an_internal_error_is_logged_and_shows_nothing_of_it(
    browser, monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    detail = "Ivy Marlowe owes 55.00"  # a message that must reach neither page nor log

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(detail)

    monkeypatch.setattr(accounts, "patient_account", broken)
    answer = browser(R).get("/patients/P1")
    assert answer.status_code == 500
    assert "Ivy" not in answer.text and "Traceback" not in answer.text
    assert "internal error (RuntimeError)" in answer.text
    logged = (clean_environment / "error.log").read_text()
    assert "RuntimeError" in logged and "Ivy" not in logged


def test_logging_out_ends_the_session(browser) -> None:
    signed = browser(R)
    answer = signed.post("/logout")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    assert signed.get("/").status_code == 303


def test_an_idle_session_ends(browser, web_clock) -> None:
    signed = browser(R)
    web_clock.now += users.SESSION_IDLE - dt.timedelta(minutes=1)
    assert signed.get("/").status_code == 200  # and "last seen" moves on
    web_clock.now += users.SESSION_IDLE - dt.timedelta(minutes=1)
    assert signed.get("/").status_code == 200
    web_clock.now += users.SESSION_IDLE + dt.timedelta(seconds=1)
    assert signed.get("/").status_code == 303


def test_a_disabled_users_session_and_token_stop_at_once(browser, api, desk) -> None:
    signed = browser(Role.BILLING)
    script = api(Role.BILLING)
    assert signed.get("/").status_code == 200
    assert script.get("/api/v1/patients").status_code == 200
    users.disable_user(UnitOfWork(desk, now=NOW, actor="admin"), users.DisableUser(name="billing"))
    assert signed.get("/").status_code == 303
    assert script.get("/api/v1/patients").status_code == 401


def test_the_navigation_shows_only_what_the_role_may_do(browser) -> None:
    assert any(item.action is Action.USER_MANAGE for item in pages.NAV)
    reception = browser(R).get("/").text
    admin = browser(Role.ADMIN).get("/").text
    assert 'href="/users"' not in reception and 'href="/users"' in admin
    assert 'href="/patients"' in reception
    assert browser(R).get("/users").status_code == 403


def _current(page: str) -> list[tuple[str, str]]:
    """The menu items marked as where the page is: (path, aria-current)."""
    return re.findall(r'<a href="([^"]+)" aria-current="(page|true)">', page)


def test_the_menu_marks_the_page_and_the_part_a_sub_page_is_under(browser) -> None:
    manager = browser(Role.MANAGER)
    assert _current(manager.get("/masters").text) == [("/masters", "page")]
    for kind in masters_pages.KINDS.values():
        assert _current(manager.get(kind.path).text) == [("/masters", "true")], kind.path
    assert _current(manager.get("/locations/MAIN").text) == [("/masters", "true")]
    assert _current(manager.get("/practice").text) == [("/masters", "true")]
    reception = browser(R)
    # "Add a patient" is an item of its own, though under "Patients"
    assert _current(reception.get("/patients/new").text) == [("/patients/new", "page")]
    assert _current(reception.get("/patients/P1").text) == [("/patients", "true")]
    assert _current(reception.get("/").text) == []
