"""The staff web app in a real browser: Playwright driving Debian's headless Chromium
(``/usr/bin/chromium``; ``scripts/test.sh`` installs it) against the app served by uvicorn
over the harness practice. A receptionist logs in with the keyboard, finds a patient,
opens the account and sees the balance that ``clinicledger balance`` prints; a rejected
form keeps what was typed; an admin sees the users. Every screen is photographed into
``build/screenshots/`` (README), and a screen showing an error page fails the test."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from tests.cli.harness import build_practice
from tests.web.harness import add_logins, password

from clinicledger.store.engine import make_engine
from clinicledger.web.app import create_app

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/test.sh does it)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ledger(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "ledger.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(str(path))
    build_practice(engine)
    add_logins(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def site(ledger: Path) -> Iterator[str]:
    """The app served by uvicorn on a free port of this machine, until the tests end."""
    engine = make_engine(str(ledger))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module", autouse=True)
def screenshots() -> Path:
    """The folder, kept as it is (the tests may run in two processes): each screen's file
    is written anew every run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def shot(page, name: str) -> None:
    """Photograph the screen; it must not be an error page."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    problem = page.locator("[data-error-code]")
    assert problem.count() == 0, f"{name}: an error page: {problem.first.inner_text()}"


def cli_balance(ledger: Path, patient: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clinicledger.cli.main import entry_point; entry_point()",
            "--db",
            str(ledger),
            "--json",
            "balance",
            "--patient",
            patient,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return str(json.loads(done.stdout)["balance"])


def test_reception_finds_a_patient_and_sees_the_balance_the_cli_prints(
    chromium, site: str, ledger: Path
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(site + "/patients/P1")  # not logged in: the login form, then back here
    assert page.url.startswith(site + "/login?next=")
    shot(page, "01-login")
    has_focus(page, "name")
    page.keyboard.type("reception")  # the name has the focus; Tab to the password
    page.keyboard.press("Tab")
    page.keyboard.type(password_of("reception"))
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/patients/P1")
    page.goto(site + "/")
    shot(page, "02-home")
    has_focus(page, "search")
    page.keyboard.type("marl")  # the search has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/patients?search=marl")
    shot(page, "03-find-a-patient")
    page.get_by_role("link", name="Ivy Marlowe").click()
    page.wait_for_url(site + "/patients/P1")
    shot(page, "04-account")
    shown = page.locator("[data-balance]")
    expected = cli_balance(ledger, "P1")
    assert Decimal(shown.get_attribute("data-balance") or "") == Decimal(expected) * 100
    assert shown.inner_text() == f"${expected}"
    page.set_viewport_size({"width": 820, "height": 1100})  # a tablet
    shot(page, "05-account-tablet")
    page.close()


def test_a_rejected_form_keeps_what_was_typed(chromium, site: str) -> None:
    page = log_in(chromium, site, "reception")
    page.goto(site + "/patients/new")
    has_focus(page, "code")
    page.keyboard.type("new patient")  # not a code: a space
    page.keyboard.press("Tab")
    page.keyboard.type("Cleo Dunmore")
    with page.expect_navigation():  # the form posts: wait for its answer
        page.keyboard.press("Enter")
    shot(page, "06-add-a-patient-refused")
    assert page.input_value("#code") == "new patient"
    assert page.input_value("#name") == "Cleo Dunmore"
    assert "is not a code" in page.inner_text("#code-error")
    page.fill("#code", "P9")
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/patients/P9")
    shot(page, "07-new-patients-account")
    page.close()


def test_an_admin_sees_the_users(chromium, site: str) -> None:
    page = log_in(chromium, site, "admin")
    page.get_by_role("link", name="Users").first.click()
    page.wait_for_url(site + "/users")
    shot(page, "08-users")
    assert page.locator("tbody tr").count() == 4
    page.close()


def password_of(role: str) -> str:
    from clinicledger.domain.permissions import Role

    return password(Role(role))


def has_focus(page, field: str) -> None:
    """Wait until the page has put the cursor in ``field`` (its first field): a person
    types there without a click, so the test types only once it is there."""
    page.wait_for_function("id => document.activeElement?.id === id", arg=field, timeout=5000)


def log_in(chromium, site: str, role: str):
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(site + "/login")
    page.fill("#name", role)
    page.fill("#password", password_of(role))
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/")
    return page
