"""The back office in a real browser (the server, the ledger and Chromium of
``test_walk.py``, on a ledger of this module's own): a manager adds a location and an
item, uploads a patients CSV with a bad row (and sees it), then a good one, closes a
period and runs the check; an admin adds a user and disables it. Every screen is
photographed into ``build/screenshots/`` and must not be an error page."""

# ruff: noqa: F811 (the tests take test_walk's fixtures by name, as parameters)
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_walk import (  # noqa: F401 (fixtures, used by name)
    CHROMIUM,
    chromium,
    has_focus,
    ledger,
    log_in,
    screenshots,
    shot,
    site,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/test.sh does it)"
)


def cli_json(ledger: Path, *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clinicledger.cli.main import entry_point; entry_point()",
            "--db",
            str(ledger),
            "--json",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


def test_a_manager_sets_up_imports_closes_and_checks(
    chromium, site: str, ledger: Path, tmp_path: Path
) -> None:
    page = log_in(chromium, site, "manager")
    page.get_by_role("link", name="Master data").first.click()
    page.wait_for_url(site + "/masters")
    shot(page, "20-master-data")

    page.get_by_role("link", name="Practice", exact=False).filter(has_text="Name, ABN").click()
    page.wait_for_url(site + "/practice")
    shot(page, "21-practice")

    page.goto(site + "/locations")
    shot(page, "22-locations")
    page.get_by_role("link", name="Add a location").click()
    page.wait_for_url(site + "/locations/new")
    has_focus(page, "code")
    page.keyboard.type("NORTH")  # the code has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("North Clinic")
    shot(page, "23-add-a-location")
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/locations?done=added")
    shot(page, "24-location-added")
    assert page.get_by_role("cell", name="North Clinic").count() == 1

    page.goto(site + "/items/new")
    page.fill("#code", "91000")
    page.fill("#description", "Long consultation")
    page.fill("#fee", "12.345")
    with page.expect_navigation():  # the form posts: wait for its answer
        page.keyboard.press("Enter")
    shot(page, "25-add-an-item-refused")
    assert page.input_value("#description") == "Long consultation"
    assert "is not an amount" in page.inner_text("#fee-error")
    page.fill("#fee", "125.00")
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/items?done=added")
    shot(page, "26-items")
    row = page.locator("tr", has=page.get_by_role("link", name="91000"))
    assert "125.00" in row.inner_text()
    row.get_by_role("link", name="91000").click()
    page.wait_for_url(site + "/items/91000")
    shot(page, "27-an-item")
    for path, name in (
        ("/providers", "28-providers"),
        ("/payers", "29-payers"),
        ("/products", "30-products"),
        ("/patients/P1/edit", "31-edit-a-patient"),
    ):
        page.goto(site + path)
        shot(page, name)

    bad = tmp_path / "patients.csv"
    bad.write_text("code,name\nP30,Nadia Forde\nP31,\nP32,Elio Brandt\n")
    page.get_by_role("link", name="Imports").first.click()
    page.wait_for_url(site + "/imports")
    shot(page, "32-imports")
    page.select_option("#kind", "patients")
    page.set_input_files("#file", str(bad))
    with page.expect_navigation():  # the form posts: wait for its answer
        page.get_by_role("button", name="Import").click()
    shot(page, "33-import-refused")
    rows = page.locator("table.problems tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-line") == "3"
    assert "name" in rows.first.inner_text()
    assert "P30" not in cli_json(ledger, "patient", "list", "--search", "P30")  # nothing

    bad.write_text("code,name\nP30,Nadia Forde\nP31,Tomas Reyes\nP32,Elio Brandt\n")
    page.select_option("#kind", "patients")
    page.set_input_files("#file", str(bad))
    with page.expect_navigation():  # the form posts: wait for its answer
        page.get_by_role("button", name="Import").click()
    shot(page, "34-import-done")
    assert page.locator("[data-created]").get_attribute("data-created") == "3"
    assert "Tomas Reyes" in cli_json(ledger, "patient", "show", "P31")

    page.get_by_role("link", name="Periods").first.click()
    page.wait_for_url(site + "/periods")
    shot(page, "35-periods")
    page.fill("#date", "2024-02-29")
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/periods?closed=2024-02-29")
    shot(page, "36-period-closed")
    head = page.locator("[data-head]").get_attribute("data-head") or ""
    assert re.fullmatch(r"\d+/\d+:[0-9a-f]{64}", head)
    assert head in cli_json(ledger, "period", "list")

    page.get_by_role("link", name="Check the ledger").click()
    page.wait_for_url(site + "/check")
    page.get_by_role("button", name="Run the check").click()
    page.wait_for_url(site + "/check?run=1&expect_head=")
    shot(page, "37-check")
    assert page.locator("[data-check]").get_attribute("data-check") == "ok"
    page.fill("#expect_head", head)
    with page.expect_navigation():  # the form posts: wait for its answer
        page.keyboard.press("Enter")
    shot(page, "38-check-against-the-head")
    assert page.locator("[data-check]").get_attribute("data-check") == "ok"
    page.close()


def test_an_admin_adds_a_user_and_disables_it(chromium, site: str) -> None:
    page = log_in(chromium, site, "admin")
    page.get_by_role("link", name="Users").first.click()
    page.wait_for_url(site + "/users")
    page.get_by_role("link", name="Add a user").click()
    page.wait_for_url(site + "/users/new")
    has_focus(page, "name")
    page.keyboard.type("jordan")
    page.select_option("#role", "billing")
    page.fill("#password", "jordan-pass-word-1")
    page.fill("#password_again", "jordan-pass-word-2")
    with page.expect_navigation():  # the form posts: wait for its answer
        page.keyboard.press("Enter")
    shot(page, "40-add-a-user-refused")
    assert "differ" in page.inner_text("#password_again-error")
    assert page.input_value("#name") == "jordan"
    assert page.input_value("#role") == "billing"
    page.fill("#password", "jordan-pass-word-1")
    page.fill("#password_again", "jordan-pass-word-1")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/users\?done=added.*"))
    shot(page, "41-user-added")
    row = page.locator('tr[data-user="jordan"]')
    assert "billing" in row.inner_text() and "active" in row.inner_text()
    row.get_by_role("button", name="Disable").click()
    page.wait_for_url(re.compile(r".*/users\?done=disabled.*"))
    shot(page, "42-user-disabled")
    assert "disabled" in page.locator('tr[data-user="jordan"]').inner_text()
    page.set_viewport_size({"width": 820, "height": 1100})  # a tablet
    shot(page, "42-users-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="API tokens").first.click()
    page.wait_for_url(site + "/tokens")
    page.fill("#name", "night-batch")
    page.select_option("#user", "manager")
    with page.expect_navigation():  # the form posts: wait for its answer
        page.get_by_role("button", name="Create the token").click()
    shot(page, "43-token-created")
    secret = page.locator('[data-token="night-batch"]').inner_text()
    assert secret.startswith("clt_")
    page.close()

    gone = chromium.new_page(viewport={"width": 1280, "height": 800})
    gone.goto(site + "/login")
    gone.fill("#name", "jordan")
    gone.fill("#password", "jordan-pass-word-1")
    with gone.expect_navigation():  # the form posts: wait for its answer
        gone.keyboard.press("Enter")
    assert gone.url.startswith(site + "/login")
    gone.close()
