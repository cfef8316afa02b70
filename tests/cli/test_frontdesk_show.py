"""``invoice show`` and ``payment show``: their ``--json`` and their words, over the
harness practice (``harness.py``), numbers worked out by hand."""

from __future__ import annotations

import pytest


@pytest.fixture
def desk_cli(practice, cli):
    return cli


def test_invoice_show(desk_cli) -> None:
    found = desk_cli.ok("invoice", "show", "INV-000001")
    assert {
        k: found[k] for k in ("id", "total", "gst", "paid", "owing", "patient", "billed_to")
    } == {
        "id": "INV-000001",
        "total": "125.00",
        "gst": "0.00",
        "paid": "20.00",
        "owing": "105.00",
        "patient": {"code": "P1", "name": "Ivy Marlowe"},
        "billed_to": None,
    }
    assert [(line["id"], line["fee"], line["paid"], line["owing"]) for line in found["lines"]] == [
        ("L-000001", "100.00", "20.00", "80.00"),
        ("L-000002", "25.00", "0.00", "25.00"),
    ]
    assert desk_cli.ok("invoice", "show", "2")["billed_to"] == {
        "code": "FUND1",
        "name": "Harbour Health Fund",
    }
    text = desk_cli("invoice", "show", "INV-000001")
    assert text.status == 0
    assert "total 125.00  GST 0.00  paid 20.00  owing 105.00" in text.out


def test_payment_show(desk_cli) -> None:
    found = desk_cli.ok("payment", "show", "PAY-000001")
    assert (found["from"], found["amount"], found["applied"], found["unallocated"]) == (
        {"kind": "patient", "code": "P1", "name": "Ivy Marlowe"},
        "30.00",
        "20.00",
        "10.00",
    )
    assert [(a["id"], a["line"], a["amount"]) for a in found["allocations"]] == [
        ("AL-000005", "L-000001", "20.00")
    ]
    assert [(o["line"], o["owing"]) for o in found["open_lines"]] == [
        ("L-000001", "80.00"),
        ("L-000002", "25.00"),
    ]
    text = desk_cli("payment", "show", "PAY-000004")
    assert "60.00 from FUND1 Harbour Health Fund" in text.out and "L-000003" in text.out


@pytest.mark.parametrize(
    ("argv", "code", "field"),
    [
        (("invoice", "show", "INV-000099"), "not_found", "invoice"),
        (("invoice", "show", "PAY-000001"), "id_malformed", "invoice"),
        (("payment", "show", "PAY-000099"), "not_found", "payment"),
    ],
)
def test_show_refuses_what_is_not_there(desk_cli, argv, code, field) -> None:
    result = desk_cli(*argv, json=True)
    assert result.status == 2
    assert (result.error()["code"], result.error()["field"]) == (code, field)
