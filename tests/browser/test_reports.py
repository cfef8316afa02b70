"""Reports in a real browser: a manager opens the reports, runs debtors and
income-by-provider with the keyboard, downloads each as CSV and as PDF, and finds in both
files the totals the page shows. The screens are photographed into ``build/screenshots/``,
and each PDF's first page too (``pdftoppm``), to be looked at."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from tests.browser.test_walk import (  # the walk's served practice and browser
    CHROMIUM,
    SCREENSHOTS,
    chromium,  # noqa: F401
    ledger,  # noqa: F401
    log_in,
    screenshots,  # noqa: F401
    shot,
    site,  # noqa: F401
)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed"),
]


def dollars(text: str) -> Decimal:
    text = text.strip()
    negative = text.startswith("(")
    value = Decimal(text.strip("()").replace("$", "").replace(",", ""))
    return -value if negative else value


def shown_total(page, label: str) -> Decimal:
    return dollars(page.locator(f'[data-total="{label}"]').first.inner_text())


def download(page, link: str, target: Path) -> Path:
    with page.expect_download() as started:
        page.click(f"text={link}")
    started.value.save_as(str(target))
    return target


def csv_total(path: Path, column: str) -> Decimal:
    first = path.read_text(encoding="utf-8").split("\n\n")[0]
    return sum((Decimal(row[column]) for row in csv.DictReader(io.StringIO(first))), Decimal(0))


def pdf_text(path: Path, name: str) -> str:
    assert path.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(SCREENSHOTS / name)],
        check=True,
    )
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"[ \t]+", " ", done.stdout.decode())


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}" if amount >= 0 else f"(${-amount:,.2f})"


def test_a_manager_runs_reports_and_downloads_them(chromium, site: str, tmp_path: Path) -> None:  # noqa: F811
    page = log_in(chromium, site, "manager")
    page.click("nav >> text=Reports")
    page.wait_for_url(site + "/reports")
    shot(page, "20-reports")

    page.click('a[href="/reports/debtors"]')
    page.fill("#as_of", "2024-03-02")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/reports/debtors\?.*as_of=2024-03-02.*"))
    shot(page, "21-debtors")
    total = shown_total(page, "Total")
    assert total == Decimal("205.00")  # P1 owes 105.00, FUND1 100.00 (tests/cli/harness.py)
    assert csv_total(download(page, "Download CSV", tmp_path / "debtors.csv"), "total") == total
    text = pdf_text(download(page, "Download PDF", tmp_path / "debtors.pdf"), "22-debtors-pdf")
    assert f"Total {money(total)}" in text and "As of 2024-03-02" in text

    page.goto(site + "/reports/income-by-provider")
    page.select_option("#preset", "")
    page.fill("#from", "2024-02-01")
    page.fill("#to", "2024-03-31")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/reports/income-by-provider\?.*from=2024-02-01.*"))
    assert page.locator("figure.chart svg rect").count() >= 1
    shot(page, "23-income-by-provider")
    income = shown_total(page, "Income")
    assert income == Decimal("20.00")  # 20.00 applied to DR1's line in March, 5.00 undone
    path = download(page, "Download CSV", tmp_path / "income.csv")
    assert csv_total(path, "income") == income
    text = pdf_text(download(page, "Download PDF", tmp_path / "income.pdf"), "24-income-pdf")
    assert f"Income {money(income)}" in text

    page.set_viewport_size({"width": 820, "height": 1100})  # a tablet held upright
    shot(page, "25-income-by-provider-tablet")
    page.close()


def test_a_refused_filter_keeps_what_was_typed(chromium, site: str) -> None:  # noqa: F811
    page = log_in(chromium, site, "billing")
    page.goto(site + "/reports/receipts")
    page.select_option("#preset", "")
    page.fill("#from", "2024-02-30")
    page.fill("#to", "2024-03-31")
    page.keyboard.press("Enter")
    page.wait_for_selector("#from-error")
    assert "is not a date" in page.inner_text("#from-error")
    assert page.input_value("#from") == "2024-02-30" and page.input_value("#to") == "2024-03-31"
    page.screenshot(path=str(SCREENSHOTS / "26-report-refused.png"), full_page=True)
    page.close()
