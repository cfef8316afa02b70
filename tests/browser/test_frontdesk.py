"""The front desk in a real browser (Playwright driving Debian's headless Chromium): a
receptionist finds a patient, creates an invoice of two lines, records a payment and
allocates it (what is left follows the typing; an over-allocation is refused beside its
line), and sees the balance that ``clinicledger balance`` prints; a billing clerk refunds
part of a payment and writes off a line, each with its reason. Every screen is
photographed into ``build/screenshots/`` (``fd-*``), and a screen showing an error page
fails the test.

Numbers: the harness practice (``tests/cli/harness.py``) has P1 owing 105.00 (L-000001
80.00, L-000002 25.00) with 50.00 of credit: a balance of 55.00. The new invoice is
100.00 (item 90801 at its own fee) and 15.00 (the Cold pack): 115.00, so 170.00; the
payment of 100.00 brings it to 70.00."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .test_walk import (  # noqa: F401  (fixtures, shared)
    chromium,
    cli_balance,
    has_focus,
    ledger,
    log_in,
    screenshots,
    shot,
    site,
)

playwright = pytest.importorskip("playwright.sync_api")


def test_reception_invoices_takes_a_payment_and_allocates_it(chromium, site, ledger) -> None:  # noqa: F811
    page = log_in(chromium, site, "reception")
    has_focus(page, "search")
    page.keyboard.type("marl")  # the home page's search has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/patients?search=marl")
    page.get_by_role("link", name="Ivy Marlowe").click()
    page.wait_for_url(site + "/patients/P1")
    shot(page, "fd-01-account")

    page.locator("main").get_by_role("link", name="New invoice").click()
    page.wait_for_url(site + "/invoices/new?patient=P1")
    page.select_option("#line-1-charge", "item:90801")
    page.select_option("#line-1-provider", "DR1")
    page.select_option("#line-2-charge", "product:Cold pack")
    page.click("#add-line")  # the script adds a sixth row
    assert page.locator("tr.line-row").count() == 6
    shot(page, "fd-02-new-invoice")
    page.set_viewport_size({"width": 820, "height": 1100})  # a tablet
    shot(page, "fd-02-new-invoice-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.select_option("#line-3-charge", "cancellation")  # no provider, no fee: refused
    with page.expect_navigation():  # the form posts: wait for its answer
        page.get_by_role("button", name="Create the invoice").click()
    assert "a cancellation line needs a provider and a date" in page.inner_text("#line-3-error")
    assert page.input_value("#line-1-charge") == "item:90801"  # kept as chosen
    assert page.input_value("#line-2-charge") == "product:Cold pack"
    assert page.evaluate("document.activeElement.id") == "line-3-charge"  # where to fix it
    shot(page, "fd-02-new-invoice-refused")
    page.select_option("#line-3-charge", "")  # the row emptied: ignored
    page.get_by_role("button", name="Create the invoice").click()
    page.wait_for_url(site + "/invoices/INV-000003")
    assert page.get_attribute("[data-total]", "data-total") == "11500"
    assert page.locator("tbody tr[data-line]").count() == 2
    shot(page, "fd-03-invoice")

    page.locator("main").get_by_role("link", name="Record a payment").click()
    page.wait_for_url(site + "/payments/new?patient=P1")
    page.fill("#amount", "100.00")  # the amount has the focus: From is filled in
    page.select_option("#method", "eftpos")
    shot(page, "fd-04-record-a-payment")
    page.get_by_role("button", name="Record, then allocate").click()
    page.wait_for_url(site + "/payments/PAY-000005/allocate")
    shot(page, "fd-05-allocate")
    page.set_viewport_size({"width": 820, "height": 1100})
    shot(page, "fd-05-allocate-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.fill("#to-L-000001", "80.00")
    assert page.inner_text("#left") == "$20.00"  # as it is typed
    page.fill("#to-L-000004", "30.00")
    assert page.inner_text("#left") == "($10.00)"
    assert "over" in (page.get_attribute("#left-figure", "class") or "")
    shot(page, "fd-06-allocate-too-much-typed")
    with page.expect_navigation():  # the form posts: wait for its answer
        page.get_by_role("button", name="Allocate", exact=True).click()
    refusal = page.locator("#to-L-000004-error")
    assert "has 20.00 unallocated; cannot allocate 30.00 to line L-000004" in refusal.inner_text()
    assert page.input_value("#to-L-000001") == "80.00"  # kept as typed
    assert page.input_value("#to-L-000004") == "30.00"
    shot(page, "fd-07-allocate-refused")
    page.fill("#to-L-000004", "20.00")
    page.get_by_role("button", name="Allocate", exact=True).click()
    page.wait_for_url(site + "/payments/PAY-000005")
    assert page.get_attribute("[data-applied]", "data-applied") == "10000"
    assert page.locator("a[href='/payments/PAY-000005/receipt.pdf']").count() == 1
    shot(page, "fd-08-payment")

    page.get_by_role("link", name="The patient's account").click()
    page.wait_for_url(site + "/patients/P1")
    shown = page.locator("[data-balance]")
    expected = cli_balance(ledger, "P1")
    assert Decimal(expected) == Decimal("70.00")
    assert Decimal(shown.get_attribute("data-balance") or "") == Decimal(expected) * 100
    assert shown.inner_text() == f"${expected}"
    shot(page, "fd-09-account-after")
    page.close()


def test_billing_refunds_part_and_writes_off_a_line(chromium, site) -> None:  # noqa: F811
    page = log_in(chromium, site, "billing")
    page.goto(site + "/payments/PAY-000001")
    shot(page, "fd-10-payment-billing")
    page.locator("main").get_by_role("link", name="Refund").click()
    page.wait_for_url(site + "/payments/PAY-000001/refund")
    page.fill("#amount", "5.00")
    with page.expect_navigation():  # the form posts: wait for its answer
        page.get_by_role("button", name="Refund").click()  # no reason: refused beside it
    assert page.locator("#reason-error").count() == 1
    assert page.input_value("#amount") == "5.00"
    shot(page, "fd-11-refund-refused")
    page.fill("#reason", "overpaid at the desk")
    shot_before = page.locator("[data-unallocated]").get_attribute("data-unallocated")
    page.get_by_role("button", name="Refund").click()
    page.wait_for_url(site + "/payments/PAY-000001")
    assert page.get_attribute("[data-refunded]", "data-refunded") == "500"
    assert int(shot_before or "0") - 500 == int(
        page.get_attribute("[data-unallocated]", "data-unallocated") or "0"
    )
    shot(page, "fd-12-refunded")

    page.goto(site + "/invoices/INV-000001")
    shot(page, "fd-13-invoice-billing")
    page.locator("tr[data-line='L-000002']").get_by_role("link", name="Adjust").click()
    page.wait_for_url(site + "/lines/L-000002/adjust")
    page.fill("#amount", "25.00")
    page.select_option("#reason", "write-off")
    page.fill("#note", "hardship, agreed by the practice manager")
    shot(page, "fd-14-write-off")
    page.get_by_role("button", name="Adjust").click()
    page.wait_for_url(site + "/invoices/INV-000001")
    owing = page.locator("tr[data-line='L-000002'] td.num").nth(4)
    assert owing.inner_text() == "$0.00"
    shot(page, "fd-15-written-off")
    page.close()


def test_billing_applies_credit_and_opens_a_line_to_insurance(chromium, site) -> None:  # noqa: F811
    page = log_in(chromium, site, "billing")
    page.goto(site + "/patients/P1")
    page.locator("main").get_by_role("link", name="Apply credit").click()
    page.wait_for_url(site + "/patients/P1/credit")
    page.locator("input.amount").first.fill("9999.00")  # more than the credit, as typed
    assert page.locator("#left-figure.over").count() == 1
    assert "more than the credit held" in page.inner_text("#left-note")
    shot(page, "fd-16-credit-over")
    page.locator("input.amount").first.fill("")
    page.get_by_role("button", name="Apply automatically, oldest first").click()
    page.wait_for_url(site + "/patients/P1?done=credit-applied")
    assert "The credit was applied" in page.inner_text("main")
    shot(page, "fd-17-credit-applied")

    page.goto(site + "/invoices/INV-000001")
    page.get_by_role("button", name="Open L-000001 to insurance").click()
    page.wait_for_url(site + "/invoices/INV-000001#L-000001")
    line = page.locator("tr[data-line='L-000001']")
    assert line.get_by_role("button", name="Close L-000001 to insurance").count() == 1
    assert "open to insurance" in line.inner_text()
    shot(page, "fd-18-open-to-insurance")
    page.close()
