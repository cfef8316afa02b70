"""The back office, through its API and its pages: master data, imports, period close and
check, users and tokens. The API's writes answer what the command line's ``--json`` prints
for the same request; a refused form keeps what was typed, with the message beside its
field; an import with a bad row lists every bad row by its line and writes nothing."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from tests.cli.harness import Cli, db_url, snapshot

from clinicledger.domain.permissions import Role
from clinicledger.services import masters

from .harness import Browser, password

M = Role.MANAGER
A = Role.ADMIN


@pytest.fixture
def cli(desk, capsys, monkeypatch) -> Cli:
    """The command line over the same ledger, its clock after the app's (11:00, Sydney)."""
    return Cli(db_url(desk), capsys, monkeypatch, start=dt.datetime(2024, 3, 2, 12, 0))


def refused_beside(page: str, field: str) -> str:
    """The message shown beside a form's field."""
    found = re.search(
        rf'<p class="error" id="{field}-error" data-refused="[a-z_]+">([^<]*)</p>', page
    )
    assert found is not None, page
    return html.unescape(found.group(1))


def typed_in(page: str, field: str) -> str:
    found = re.search(rf'<input id="{field}" name="{field}" type="text"\s+value="([^"]*)"', page)
    assert found is not None, page
    return html.unescape(found.group(1))


# ---------------------------------------------------------------- the API beside the command line


def test_master_writes_answer_as_the_command_line(api, cli) -> None:
    manager = api(M)
    added = manager.post("/api/v1/locations", json={"code": "WEST", "name": "West Rooms"})
    assert added.status_code == 201
    from_cli = cli.ok("location", "add", "EAST", "--name", "East Rooms")
    assert added.json() == {"id": from_cli["id"] - 1, "code": "WEST"}

    edited = manager.patch("/api/v1/items/90801", json={"fee": "105.50", "taxable": True})
    assert edited.status_code == 200
    assert edited.json() == {
        "id": 1,
        "code": "90801",
        "changed": {"fee": ["100.00", "105.50"], "taxable": [False, True]},
    }
    cli.ok("item", "add", "90802", "--description", "Review", "--fee", "100.00")
    assert {
        key: value
        for key, value in cli.ok("item", "edit", "90802", "--fee", "105.50", "--taxable").items()
        if key != "id"
    } == {"code": "90802", "changed": edited.json()["changed"]}

    gone = manager.post("/api/v1/payers/FUND1/deactivate")
    assert gone.json() == {"id": 1, "code": "FUND1", "changed": {"active": [True, False]}}
    assert cli.ok("payer", "deactivate", "FUND1") == {"id": 1, "code": "FUND1", "changed": {}}
    activated = manager.post("/api/v1/payers/FUND1/activate")
    assert activated.json() == {"id": 1, "code": "FUND1", "changed": {"active": [False, True]}}
    assert cli.ok("payer", "activate", "FUND1") == {"id": 1, "code": "FUND1", "changed": {}}


def test_the_practice_through_the_api(api, cli) -> None:
    changed = api(M).patch(
        "/api/v1/practice", json={"name": "Harbourside Physio", "abn": "51824753556"}
    )
    assert changed.json() == {"updated": True}
    assert api(Role.RECEPTION).get("/api/v1/practice").json() == cli.ok("practice", "show")
    assert cli.ok("practice", "show")["abn"] == "51824753556"
    moved = api(M).patch("/api/v1/practice", json={"timezone": "Australia/Perth"})
    assert moved.status_code == 409
    assert moved.json()["error"]["code"] == "timezone_fixed"
    refused = api(Role.RECEPTION).patch("/api/v1/practice", json={"name": "X"})
    assert refused.status_code == 403


def test_an_import_answers_as_the_command_line(api, cli, tmp_path) -> None:
    good = "code,name\nP7,Wren Castell\nP1,Ivy Marlowe\n"
    answer = api(M).post(
        "/api/v1/imports/patients?file=first.csv",
        content=good.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "patients",
        "file": "first.csv",
        "created": 1,
        "unchanged": 1,
        "already_imported": False,
    }
    path = tmp_path / "first.csv"
    path.write_text(good)
    assert cli.ok("import", "patients", str(path)) == answer.json() | {
        "file": str(path),
        "created": 0,
        "unchanged": 2,
        "already_imported": True,
    }
    other = tmp_path / "second.csv"
    other.write_text("code,name\nP8,Lena Hart\n")
    sent = api(M).post(
        "/api/v1/imports/patients",
        files={"file": ("second.csv", other.read_bytes(), "text/csv")},
    )
    assert sent.json()["file"] == "second.csv" and sent.json()["created"] == 1


def test_an_import_with_a_bad_row_writes_nothing(api, desk) -> None:
    manager = api(M)  # its token made before the snapshot
    before = snapshot(desk)
    answer = manager.post(
        "/api/v1/imports/items",
        content=b"code,description,fee\n700,Massage,80.00\n701,,90.00\n702,Dry needling,9x\n",
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "error": {
            "code": "import_rejected",
            "field": "description",
            "message": "upload.csv rejected, nothing imported: line 3, column description: "
            "a name of 1-200 characters is required; line 4, column fee: '9x' is not an "
            "amount; write it like 30.00 (at most two decimal places)",
        }
    }
    assert snapshot(desk) == before


def test_closing_a_period_and_checking_through_the_api(api, cli) -> None:
    closed = api(M).post("/api/v1/periods/close", json={"date": "2024-02-29"})
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["closed_through"] == "2024-02-29" and body["balances_kept_at"] == ["2024-02-29"]
    assert cli.ok("period", "list")["periods"][0]["head"] == body["head"]
    again = api(M).post("/api/v1/periods/close", json={"date": "2024-02-01"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "period_already_closed")
    checked = api(M).get("/api/v1/check", params={"expect_head": body["head"]})
    assert checked.json()["ok"] is True
    assert checked.json() == cli.ok("check", "--expect-head", body["head"])
    assert api(Role.BILLING).get("/api/v1/check").status_code == 403


def test_users_and_tokens_through_the_api(api, app) -> None:
    from .harness import api_client

    admin = api(A)
    added = admin.post(
        "/api/v1/users", json={"name": "casey", "role": "billing", "password": "casey-pass-word-1"}
    )
    assert (added.status_code, added.json()) == (201, {"name": "casey", "role": "billing"})
    role = admin.post("/api/v1/users/casey/role", json={"role": "manager"})
    assert role.json() == {"name": "casey", "role": "manager", "changed": True}
    made = admin.post("/api/v1/tokens", json={"name": "casey-script", "user": "casey"})
    assert made.status_code == 201
    secret = made.json()["token"]
    assert api_client(app, secret).get("/api/v1/periods").status_code == 200
    listed = {t["name"]: t for t in admin.get("/api/v1/tokens").json()["tokens"]}
    assert (
        listed["casey-script"]["user"] == "casey" and listed["casey-script"]["revoked_at"] is None
    )
    assert secret not in admin.get("/api/v1/tokens").text
    disabled = admin.post("/api/v1/users/casey/disable")
    assert disabled.json() == {"name": "casey", "active": False, "changed": True}
    assert api_client(app, secret).get("/api/v1/periods").status_code == 401
    short = admin.post("/api/v1/users/casey/password", json={"password": "short"})
    assert (short.status_code, short.json()["error"]["code"]) == (422, "password_length")
    revoked = admin.post("/api/v1/tokens/casey-script/revoke")
    assert revoked.json() == {"name": "casey-script", "revoked": True, "changed": False}


# ---------------------------------------------------------------- the pages


def test_adding_a_location_and_an_item_through_the_pages(browser, desk) -> None:
    manager = browser(M)
    added = manager.post("/locations/new", {"code": "NORTH", "name": "North Clinic"})
    assert (added.status_code, added.headers["location"]) == (303, "/locations?done=added")
    listing = manager.get("/locations?done=added").text
    assert "North Clinic" in listing and "Added." in listing

    item = manager.post(
        "/items/new", {"code": "91000", "description": "Long consult", "fee": "1,250.00"}
    )
    assert item.status_code == 422
    assert refused_beside(item.text, "fee") == (
        "'1,250.00' is not an amount; write it like 30.00 (at most two decimal places)"
    )
    assert typed_in(item.text, "description") == "Long consult"
    assert typed_in(item.text, "fee") == "1,250.00"
    assert typed_in(item.text, "code") == "91000"

    item = manager.post(
        "/items/new",
        {"code": "91000", "description": "Long consult", "fee": "1250.00", "taxable": "true"},
    )
    assert item.status_code == 303
    shown = masters.show_master(desk, "item", "91000")
    assert shown.values == {"description": "Long consult", "fee_cents": 125000, "taxable": True}
    page = manager.get("/items").text
    assert '<td class="num">$1,250.00</td>' in page


def test_editing_and_deactivating_through_the_pages(browser, desk) -> None:
    manager = browser(M)
    form = manager.get("/providers/DR1").text
    assert typed_in(form, "name") == "Dr Rowan Vale"
    refused = manager.post(
        "/providers/DR1", {"name": "Dr Rowan Vale", "company_abn": "51824753556"}
    )
    assert refused.status_code == 422
    assert refused_beside(refused.text, "company_name") == (
        "a company ABN or GST registration needs the company's name"
    )
    assert typed_in(refused.text, "company_abn") == "51824753556"
    saved = manager.post(
        "/providers/DR1",
        {"name": "Dr Rowan Vale", "company_name": "Vale Health", "company_abn": "51824753556"},
    )
    assert saved.headers["location"] == "/providers/DR1?done=saved"
    assert masters.show_master(desk, "provider", "DR1").values["company_name"] == "Vale Health"

    gone = manager.post("/products/GEL/deactivate")
    assert gone.headers["location"] == "/products/GEL?done=deactivated"
    assert masters.show_master(desk, "product", "GEL").active is False
    assert "Cold pack" not in manager.get("/products").text
    assert "Cold pack" in manager.get("/products?inactive=true").text

    renamed = manager.post("/patients/P2/edit", {"name": "Otto Brandt-Hale"})
    assert renamed.headers["location"] == "/patients/P2/edit?done=saved"
    assert masters.show_master(desk, "patient", "P2").values["name"] == "Otto Brandt-Hale"


def test_reception_reads_master_data_and_changes_none(browser) -> None:
    desk_clerk = browser(Role.RECEPTION)
    page = desk_clerk.get("/items/90801").text
    assert "Consultation" in page and '<form method="post" action="/items/90801"' not in page
    assert "Add an item" not in desk_clerk.get("/items").text
    assert desk_clerk.post("/items/90801", {"description": "X"}).status_code == 403
    assert desk_clerk.get("/imports").status_code == 403


def test_an_import_page_lists_every_bad_row_and_writes_nothing(browser, desk) -> None:
    manager = browser(M)
    before = snapshot(desk)
    bad = b"code,name\nP20,Tess Moreno\nP21,\nP 22,Ari Lund\n"
    answer = manager.client.post(
        "/imports",
        data={"kind": "patients", "encoding": "utf-8", "csrf_token": manager.csrf},
        files={"file": ("patients.csv", bad, "text/csv")},
    )
    assert answer.status_code == 422
    rows = re.findall(
        r'<tr data-line="(\d+)"><td class="num">\d+</td><td>([a-z_]+)</td>', answer.text
    )
    assert rows == [("3", "name"), ("4", "code")]
    assert "nothing was imported" in answer.text
    assert snapshot(desk) == before

    good = b"code,name\nP20,Tess Moreno\nP21,Ari Lund\nP1,Ivy Marlowe\n"
    answer = manager.client.post(
        "/imports",
        data={"kind": "patients", "encoding": "utf-8", "csrf_token": manager.csrf},
        files={"file": ("patients.csv", good, "text/csv")},
    )
    assert answer.status_code == 200
    assert 'data-created="2"' in answer.text and 'data-unchanged="1"' in answer.text
    assert masters.show_master(desk, "patient", "P21").values["name"] == "Ari Lund"

    empty = manager.client.post(
        "/imports", data={"kind": "items", "csrf_token": manager.csrf}, files={"file": ("", b"")}
    )
    assert empty.status_code == 422
    assert refused_beside(empty.text, "file") == "choose a CSV file to upload"


def test_closing_a_period_shows_its_head_and_check_passes(browser, cli) -> None:
    manager = browser(M)
    refused = manager.post("/periods/close", {"date": "29/02/2024"})
    assert refused.status_code == 422
    assert refused_beside(refused.text, "date") == "'29/02/2024' is not a date (YYYY-MM-DD)"
    assert typed_in(refused.text, "date") == "29/02/2024"

    closed = manager.post("/periods/close", {"date": "2024-02-29"})
    assert closed.headers["location"] == "/periods?closed=2024-02-29"
    page = manager.get(closed.headers["location"]).text
    head = cli.ok("period", "list")["periods"][0]["head"]
    assert f'data-head="{head}"' in page

    assert "data-check" not in manager.get("/check").text  # the form: it runs when asked
    checked = manager.get("/check", params={"run": "1"}).text
    assert 'data-check="ok"' in checked
    assert f"Checked {cli.ok('check')['entries']} entries" in checked
    kept = manager.get("/check", params={"expect_head": head, "run": "1"}).text
    assert 'data-check="ok"' in kept
    other = manager.get("/check", params={"expect_head": "1/1:" + "0" * 64, "run": "1"}).text
    assert 'data-check="violations"' in other
    assert "<code>" in other.split('data-check="violations"')[1]  # each violation by its code
    bad = manager.get("/check", params={"expect_head": "nonsense", "run": "1"})
    assert bad.status_code == 422 and "expect_head-error" in bad.text


def test_an_admin_adds_a_user_who_logs_in_until_disabled(browser, app) -> None:
    admin = browser(A)
    mismatch = admin.post(
        "/users/new",
        {
            "name": "devi",
            "role": "billing",
            "password": "devi-pass-word-1",
            "password_again": "devi-pass-word-2",
        },
    )
    assert mismatch.status_code == 422
    assert (
        refused_beside(mismatch.text, "password_again") == "the two passwords differ: type it twice"
    )
    assert typed_in(mismatch.text, "name") == "devi"
    assert 'value="devi-pass-word-1"' not in mismatch.text  # a password is never sent back
    assert '<option value="billing" selected>' in mismatch.text

    added = admin.post(
        "/users/new",
        {
            "name": "devi",
            "role": "billing",
            "password": "devi-pass-word-1",
            "password_again": "devi-pass-word-1",
        },
    )
    assert added.headers["location"] == "/users?done=added#user-devi"
    devi = Browser(app)
    assert devi.log_in("devi", "devi-pass-word-1").status_code == 303
    assert devi.get("/patients").status_code == 200

    assert admin.post("/users/devi/disable").headers["location"] == (
        "/users?done=disabled#user-devi"
    )
    assert devi.get("/patients").status_code == 303  # the session ended: to the login form
    assert Browser(app).log_in("devi", "devi-pass-word-1").status_code == 401
    page = admin.get("/users").text
    assert re.search(r'data-user="devi">.*?<span class="tag">disabled</span>', page, re.S)

    assert admin.post("/users/devi/enable").status_code == 303
    assert admin.post("/users/devi/role", {"role": "manager"}).headers["location"] == (
        "/users?done=role#user-devi"
    )
    newpass = admin.post(
        "/users/devi/password",
        {"password": "devi-pass-word-3", "password_again": "devi-pass-word-3"},
    )
    assert newpass.status_code == 303
    assert Browser(app).log_in("devi", "devi-pass-word-3").status_code == 303
    assert Browser(app).log_in("devi", password(A)).status_code == 401


def test_a_token_is_shown_once_and_revoked(browser, app) -> None:
    from .harness import api_client

    admin = browser(A)
    made = admin.post("/tokens", {"name": "night-batch", "user": "manager"})
    assert made.status_code == 200
    secret = re.search(r'data-token="night-batch">(clt_[^<]+)<', made.text)
    assert secret is not None
    assert api_client(app, secret.group(1)).get("/api/v1/check").status_code == 200
    assert secret.group(1) not in admin.get("/tokens").text
    taken = admin.post("/tokens", {"name": "night-batch", "user": "manager"})
    assert taken.status_code == 409
    assert refused_beside(taken.text, "name") == "token 'night-batch' already exists"
    revoked = admin.post("/tokens/night-batch/revoke")
    assert revoked.headers["location"] == "/tokens?done=revoked#token-night-batch"
    assert api_client(app, secret.group(1)).get("/api/v1/check").status_code == 401


def test_the_navigation_shows_the_back_office_to_the_roles_that_may(browser) -> None:
    def nav(role: Role) -> list[str]:
        page = browser(role).get("/").text
        return re.findall(r'<li><a href="(/[a-z]+)"', page.split("</nav>")[0])

    assert "/masters" in nav(Role.RECEPTION) and "/imports" not in nav(Role.RECEPTION)
    assert {"/masters", "/imports", "/periods"} <= set(nav(M)) and "/tokens" not in nav(M)
    assert {"/users", "/tokens"} <= set(nav(A))


def test_no_back_office_page_has_inline_script_or_style(browser) -> None:
    admin = browser(A)
    for path in (
        "/masters",
        "/practice",
        "/locations",
        "/locations/new",
        "/items/90801",
        "/patients/P1/edit",
        "/imports",
        "/periods",
        "/check",
        "/users",
        "/users/new",
        "/users/reception/password",
        "/tokens",
    ):
        answer = admin.get(path)
        assert answer.status_code == 200, path
        body = answer.text
        assert "<script" not in body and "<style" not in body and "style=" not in body, path


def test_the_practice_page_saves_and_refuses_beside_the_field(browser, desk) -> None:
    manager = browser(M)
    form = {
        "name": "Harbourside Physio",
        "abn": "51824753556",
        "gst_registered": "true",
        "timezone": "Australia/Perth",
        "currency": "AUD",
        "locale": "en_AU",
    }
    moved = manager.post("/practice", form)
    assert moved.status_code == 409  # the ledger holds entries: the zone is fixed
    assert refused_beside(moved.text, "timezone").startswith(
        "the time zone cannot change from Australia/Sydney"
    )
    assert typed_in(moved.text, "name") == "Harbourside Physio"
    assert typed_in(moved.text, "timezone") == "Australia/Perth"
    assert masters.practice(desk).name != "Harbourside Physio"  # nothing written

    saved = manager.post("/practice", form | {"timezone": "Australia/Sydney", "locale": "en_NZ"})
    assert saved.headers["location"] == "/practice?done=saved"
    shown = masters.practice(desk)
    assert (shown.name, shown.abn, shown.gst_registered, shown.locale) == (
        "Harbourside Physio",
        "51824753556",
        True,
        "en_NZ",
    )
    assert "Harbourside Physio" in browser(Role.RECEPTION).get("/practice").text


def test_a_name_with_a_slash_reaches_its_own_routes(api, browser) -> None:
    admin = api(A)
    added = admin.post(
        "/api/v1/users", json={"name": "desk/2", "role": "reception", "password": "desk-two-pass-1"}
    )
    assert added.status_code == 201
    made = admin.post("/api/v1/tokens", json={"name": "desk/2-script", "user": "desk/2"})
    assert made.status_code == 201
    assert admin.post("/api/v1/tokens/desk/2-script/revoke").json()["changed"] is True
    page = browser(A)
    assert page.post("/users/desk/2/disable").headers["location"] == (
        "/users?done=disabled#user-desk/2"
    )
    assert page.get("/users/desk/2/password").status_code == 200
    shown = {u["name"]: u for u in admin.get("/api/v1/users").json()["users"]}
    assert shown["desk/2"]["active"] is False


def test_an_import_retried_with_its_key_answers_the_first_time_again(api, desk) -> None:
    manager = api(M)
    first = manager.post(
        "/api/v1/imports/payers?file=payers.csv",
        content=b"code,name,kind\nMED,Medicare,medicare\n",
        headers={"Idempotency-Key": "move-in-1"},
    )
    assert first.json()["created"] == 1
    again = manager.post(
        "/api/v1/imports/payers?file=payers.csv",
        content=b"code,name,kind\nMED,Medicare,medicare\n",
        headers={"Idempotency-Key": "move-in-1"},
    )
    assert again.json() == first.json()
    other = manager.post(
        "/api/v1/imports/payers?file=payers.csv",
        content=b"code,name,kind\nDVA,Veterans,dva\n",
        headers={"Idempotency-Key": "move-in-1"},
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert masters.list_masters(desk, "payer", search="DVA").rows == ()


def test_a_code_with_a_slash_reaches_its_own_pages(browser, desk) -> None:
    manager = browser(M)
    assert (
        manager.post("/locations/new", {"code": "SITE/2", "name": "Second Site"}).status_code == 303
    )
    assert manager.post("/patients/new", {"code": "FAM/7", "name": "Rue Calder"}).status_code == 303
    assert 'action="/locations/SITE/2"' in manager.get("/locations/SITE/2").text
    assert manager.post("/locations/SITE/2", {"name": "Site Two"}).headers["location"] == (
        "/locations/SITE/2?done=saved"
    )
    assert manager.post("/locations/SITE/2/deactivate").headers["location"] == (
        "/locations/SITE/2?done=deactivated"
    )
    assert masters.show_master(desk, "location", "SITE/2").active is False
    assert 'action="/patients/FAM/7/edit"' in manager.get("/patients/FAM/7/edit").text
    assert manager.post("/patients/FAM/7/edit", {"name": "Rue Calder-Ng"}).status_code == 303
    assert masters.show_master(desk, "patient", "FAM/7").values["name"] == "Rue Calder-Ng"
    account = manager.get("/patients/FAM/7")  # still the account, with a way to its edit
    assert account.status_code == 200
    assert '<a href="/patients/FAM/7/edit">Edit details</a>' in account.text
