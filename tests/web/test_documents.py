"""The tax invoice and the payment receipt, as PDF: from the pages, the API and the command
line, read back with pdftotext. A GST-registered practice's taxable line makes a tax
invoice (ATO: the words "Tax invoice", the seller's name and ABN, the date, each item with
its price and GST, the totals); a GST-free one is an invoice that says no GST was charged."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.cli.harness import Cli, db_url

from clinicledger.domain.permissions import Role

R = Role.RECEPTION
pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


@pytest.fixture
def cli(desk, capsys, monkeypatch) -> Cli:
    return Cli(db_url(desk), capsys, monkeypatch, start=dt.datetime(2024, 3, 2, 12, 0))


def text_of(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return re.sub(r"[ \t]+", " ", done.stdout.decode())


@pytest.fixture
def taxable(cli) -> str:
    """A GST-registered practice, a taxable product on a new invoice of P1 (INV-000003),
    part paid (PAY-000005)."""
    cli.ok(
        "practice",
        "set",
        "--name",
        "Harbourside Physio",
        "--abn",
        "51824753556",
        "--gst-registered",
    )
    cli.ok("product", "add", "BRACE", "--title", "Knee brace", "--fee", "55.00", "--taxable")
    made = cli.ok(
        "invoice", "create", "--patient", "P1", "--location", "MAIN",
        "--line", "product=Knee brace",
        "--line", "item=90801,provider=DR1,date=2024-03-02",
    )  # fmt: skip
    paid = cli.ok(
        "payment", "record", "--from", "P1", "--amount", "60.00", "--method", "eftpos",
        "--received", "2024-03-02", "--location", "MAIN",
    )  # fmt: skip
    cli.ok("payment", "allocate", str(paid["id"]), "--to", "L-000004=55.00")
    assert [line["id"] for line in made["lines"]] == ["L-000004", "L-000005"], made
    assert made["id"] == "INV-000003"
    return "INV-000003"


def test_a_tax_invoice_names_the_seller_its_abn_and_each_lines_gst(browser, taxable) -> None:
    answer = browser(R).get("/invoices/INV-000003.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text = text_of(answer.content)
    assert "Tax invoice" in text and "INV-000003" in text
    assert "Harbourside Physio" in text and "ABN 51 824 753 556" in text
    assert "Date of issue 2 Mar 2024" in text
    # the brace: 55.00 with 5.00 GST (one eleventh); the consultation is GST-free
    assert re.search(r"Knee brace .*?\$55\.00 \$5\.00 \$55\.00 \$0\.00", text), text
    assert re.search(
        r"L-000005 2 Mar 2024 90801 Consultation .*\$100\.00 \$0\.00 \$0\.00 \$100\.00", text
    )
    assert text.count("(GST-free)") == 1  # the consultation; the brace is taxable
    assert re.search(r"Total \(incl\. GST\) \$155\.00", text)
    assert re.search(r"GST included \$5\.00", text)
    assert re.search(r"Paid \$55\.00", text) and re.search(r"Owing \$100\.00", text)


def test_an_invoice_without_gst_says_so(browser) -> None:
    text = text_of(browser(R).get("/invoices/INV-000001.pdf").content)
    assert "Tax invoice" not in text and "Invoice" in text
    assert "No GST has been charged on this invoice." in text
    assert re.search(r"Total \(incl\. GST\) \$125\.00", text)
    assert re.search(r"Paid \$20\.00", text) and re.search(r"Owing \$105\.00", text)


def test_a_payment_receipt_says_where_the_money_went(browser, api) -> None:
    text = text_of(browser(R).get("/payments/1/receipt.pdf").content)
    assert "Payment receipt" in text and "PAY-000001" in text and "Ivy Marlowe" in text
    assert re.search(r"Amount received \$30\.00", text)
    assert re.search(r"INV-000001 L-000001 1 Mar 2024 90801 Consultation \$20\.00", text), text
    assert re.search(r"Held as credit \$10\.00", text)
    refunded = text_of(api(R).get("/api/v1/payments/PAY-000002/receipt").content)
    assert re.search(r"Refunded \$10\.00", refunded) and "Not applied to any service" in refunded


def test_the_api_and_the_command_line_print_the_same_invoice(api, cli, tmp_path: Path) -> None:
    answer = api(R).get("/api/v1/invoices/1/pdf")
    assert (answer.status_code, answer.headers["content-type"]) == (200, "application/pdf")
    target = tmp_path / "inv.pdf"
    printed = cli.ok("invoice", "print", "INV-000001", "--output", str(target))
    assert printed == {
        "printed": "INV-000001",
        "output": str(target),
        "bytes": target.stat().st_size,
    }
    strip = lambda text: re.sub(r"printed .*\n", "", text)  # noqa: E731 - the moment differs
    assert strip(text_of(target.read_bytes())) == strip(text_of(answer.content))
    receipt = tmp_path / "pay.pdf"
    cli.ok("payment", "receipt", "PAY-000004", "--output", str(receipt))
    assert "Harbour Health Fund" in text_of(receipt.read_bytes())


@pytest.mark.parametrize(
    ("path", "status", "code", "field"),
    [
        ("/api/v1/invoices/INV-000099/pdf", 404, "not_found", "invoice"),
        ("/api/v1/invoices/PAY-1/pdf", 422, "id_malformed", "invoice"),
        ("/api/v1/payments/99/receipt", 404, "not_found", "payment"),
    ],
)
def test_an_unknown_document_is_refused_by_name(api, path, status, code, field) -> None:
    answer = api(R).get(path)
    assert answer.status_code == status
    assert (answer.json()["error"]["code"], answer.json()["error"]["field"]) == (code, field)


def test_the_command_line_refuses_an_unknown_invoice_and_writes_nothing(cli, tmp_path) -> None:
    target = tmp_path / "x.pdf"
    refused = cli("invoice", "print", "INV-000099", "--output", str(target))
    assert refused.status == 2 and "invoice INV-000099 not found" in refused.err
    assert not target.exists()
