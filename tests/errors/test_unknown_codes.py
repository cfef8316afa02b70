"""Codes and ids that name nothing: the message names the kind and the key."""

from __future__ import annotations

import pytest

from .commands import SERVICE, TODAY, adjust, allocate, invoice, record, refund, transfer
from .reproduce import assert_refused, case, on_backends

CASES = [
    case(
        "invoice-unknown-patient",
        invoice(patient="P404"),
        "not_found",
        "patient",
        "patient 'P404' not found",
    ),
    case(
        "invoice-unknown-location",
        invoice(location="ANNEX"),
        "not_found",
        "location",
        "location 'ANNEX' not found",
    ),
    case(
        "invoice-unknown-billed-to",
        (*invoice(), "--billed-to", "FUND9"),
        "not_found",
        "billed_to",
        "payer 'FUND9' not found",
    ),
    case(
        "invoice-unknown-item",
        invoice(f"item=99999,provider=DR1,date={TODAY}"),
        "not_found",
        "line 1",
        "item '99999' not found",
    ),
    case(
        "invoice-unknown-provider",
        invoice(f"item=90801,provider=DR9,date={TODAY}"),
        "not_found",
        "line 1",
        "provider 'DR9' not found",
    ),
    case(
        "invoice-unknown-provider-on-cancellation",
        invoice(f"cancellation,provider=DR9,date={TODAY},fee=25.00"),
        "not_found",
        "line 1",
        "provider 'DR9' not found",
    ),
    case(
        "invoice-unknown-product",
        invoice("product=Heat pack,fee=12.00"),
        "not_found",
        "line 1",
        "product 'Heat pack' not found",
    ),
    case(
        "invoice-unknown-item-on-second-line",
        invoice(SERVICE, f"item=99999,provider=DR1,date={TODAY}"),
        "not_found",
        "line 2",
        "item '99999' not found",
    ),
    case(
        "payment-from-unknown-party",
        record(party="P404"),
        "not_found",
        "from",
        "patient or payer 'P404' not found",
    ),
    case(
        "payment-at-unknown-location",
        record(location="ANNEX"),
        "not_found",
        "location",
        "location 'ANNEX' not found",
    ),
    case(
        "allocate-unknown-payment",
        allocate("PAY-000099", "L-000001=5.00"),
        "not_found",
        "payment",
        "payment PAY-000099 not found",
    ),
    case(
        "allocate-auto-unknown-payment",
        ("payment", "allocate", "PAY-000099", "--auto"),
        "not_found",
        "payment",
        "payment PAY-000099 not found",
    ),
    case(
        "allocate-to-unknown-line",
        allocate("PAY-000001", "L-000099=5.00"),
        "not_found",
        "to",
        "line L-000099 not found",
    ),
    case(
        "unallocate-unknown-allocation",
        ("payment", "unallocate", "AL-000099", "--reason", "keyed in error"),
        "not_found",
        "allocation",
        "allocation AL-000099 not found",
    ),
    case(
        # entry 4 exists, but it is PAY-000001's receipt, not an allocation
        "unallocate-an-entry-that-is-no-allocation",
        ("payment", "unallocate", "AL-000004", "--reason", "keyed in error"),
        "not_found",
        "allocation",
        "allocation AL-000004 not found",
    ),
    case(
        "refund-unknown-payment",
        refund("PAY-000099", "5.00"),
        "not_found",
        "payment",
        "payment PAY-000099 not found",
    ),
    case(
        "reverse-unknown-payment",
        ("payment", "reverse", "PAY-000099", "--reason", "keyed twice"),
        "not_found",
        "payment",
        "payment PAY-000099 not found",
    ),
    case(
        "adjust-unknown-line",
        adjust("L-000099", "5.00"),
        "not_found",
        "line",
        "line L-000099 not found",
    ),
    case(
        "transfer-unknown-line",
        transfer("L-000099", "5.00"),
        "not_found",
        "line",
        "line L-000099 not found",
    ),
    case(
        "delete-unknown-line",
        ("line", "delete", "L-000099", "--reason", "keyed twice"),
        "not_found",
        "line",
        "line L-000099 not found",
    ),
    case(
        "status-of-unknown-line",
        ("line", "status", "L-000099", "--insurance", "open"),
        "not_found",
        "line",
        "line L-000099 not found",
    ),
    case(
        "credit-for-unknown-patient",
        ("credit", "apply", "P404", "--auto"),
        "not_found",
        "patient",
        "patient 'P404' not found",
    ),
    case(
        "balance-of-unknown-patient",
        ("balance", "--patient", "P404"),
        "not_found",
        "patient",
        "patient 'P404' not found",
    ),
    case(
        "balance-of-unknown-payer",
        ("balance", "--payer", "FUND9"),
        "not_found",
        "payer",
        "payer 'FUND9' not found",
    ),
    case(
        "balance-of-unknown-invoice",
        ("balance", "--invoice", "INV-000099"),
        "not_found",
        "invoice",
        "invoice INV-000099 not found",
    ),
    case(
        "balance-of-unknown-line",
        ("balance", "--line", "L-000099"),
        "not_found",
        "line",
        "line L-000099 not found",
    ),
    # ids of the wrong kind or shape
    case(
        "payment-id-of-another-kind",
        allocate("INV-000001", "L-000001=5.00"),
        "id_malformed",
        "payment",
        "payment: 'INV-000001' is not a payment id (expected like PAY-000042)",
    ),
    case(
        "line-id-not-a-number",
        adjust("L-one", "5.00"),
        "id_malformed",
        "line",
        "line: 'L-one' is not a line id (expected like L-000042)",
    ),
    case(
        "line-id-zero",
        adjust("L-000000", "5.00"),
        "id_malformed",
        "line",
        "line: 'L-000000' is not a line id",
    ),
    case(
        "target-line-id-malformed",
        allocate("PAY-000001", "X-1=5.00"),
        "id_malformed",
        "to",
        "to: 'X-1' is not a line id (expected like L-000042)",
    ),
    case(
        "allocation-id-of-another-kind",
        ("payment", "unallocate", "PAY-000001", "--reason", "keyed in error"),
        "id_malformed",
        "allocation",
        "allocation: 'PAY-000001' is not an allocation id (expected like AL-000042)",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_unknown_code_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)
