"""Refusals that depend on the ledger's state: money that is not there, payments reversed or
refunded, allocations already undone, lines with payments, codes already taken."""

from __future__ import annotations

import pytest

from .commands import adjust, allocate, refund, transfer
from .reproduce import assert_refused, case, on_backends

DELETE_L2 = ("line", "delete", "L-000002", "--reason", "keyed twice")

CASES = [
    # over-allocation
    case(
        "allocate-more-than-the-payment-has",
        allocate("PAY-000001", "L-000001=40.00"),
        "allocation_exceeds_payment",
        "to",
        "payment PAY-000001 has 10.00 unallocated; cannot allocate 40.00 to line L-000001",
    ),
    case(
        # the first target fits; the second does not, and the first is not kept either
        "allocate-more-than-the-payment-has-over-two-lines",
        allocate("PAY-000001", "L-000001=6.00", "L-000002=6.00"),
        "allocation_exceeds_payment",
        "to",
        "payment PAY-000001 has 4.00 unallocated; cannot allocate 6.00 to line L-000002",
    ),
    case(
        "allocate-more-than-the-line-owes",
        allocate("PAY-000002", "L-000002=30.00"),
        "allocation_exceeds_line",
        "to",
        "line L-000002 has 25.00 owing; cannot allocate 30.00 from payment PAY-000002",
    ),
    case(
        "allocate-the-same-line-twice-past-what-it-owes",
        allocate("PAY-000002", "L-000002=20.00", "L-000002=10.00"),
        "allocation_exceeds_line",
        "to",
        "line L-000002 has 5.00 owing; cannot allocate 10.00 from payment PAY-000002",
    ),
    case(
        # L-000001 owes 80.00, but to the patient: FUND1 is owed nothing on it
        "allocate-a-payer-payment-to-a-line-not-billed-to-it",
        allocate("PAY-000004", "L-000001=5.00"),
        "line_not_billed_to_payer",
        "to",
        "line L-000001 is not billed to payer FUND1, who made payment PAY-000004",
    ),
    case(
        "allocate-a-patient-payment-to-another-patients-line",
        allocate("PAY-000001", "L-000003=5.00"),
        "line_of_other_patient",
        "to",
        "to: line L-000003 is not a line of the patient who made payment PAY-000001",
    ),
    case(
        "allocate-a-reversed-payment",
        allocate("PAY-000003", "L-000001=5.00"),
        "payment_reversed",
        "payment",
        "payment PAY-000003 was reversed",
    ),
    case(
        "auto-allocate-a-reversed-payment",
        ("payment", "allocate", "PAY-000003", "--auto"),
        "payment_reversed",
        "payment",
        "payment PAY-000003 was reversed",
    ),
    case(
        "allocate-to-a-deleted-line",
        allocate("PAY-000002", "L-000002=5.00"),
        "line_deleted",
        "to",
        "line L-000002 was deleted",
        given=(DELETE_L2,),
    ),
    case(
        "allocate-with-neither-to-nor-auto",
        ("payment", "allocate", "PAY-000001"),
        "allocation_target_missing",
        "to",
        "to: give --to LINE=AMOUNT (one or more) or --auto, not both",
    ),
    case(
        "allocate-with-both-to-and-auto",
        (*allocate("PAY-000001", "L-000001=5.00"), "--auto"),
        "allocation_target_missing",
        "to",
        "to: give --to LINE=AMOUNT (one or more) or --auto, not both",
    ),
    case(
        "apply-more-credit-than-the-patient-has",
        ("credit", "apply", "P1", "--to", "L-000001=60.00"),
        "credit_exceeded",
        "to",
        "patient P1 has 50.00 credit; cannot apply 60.00",
    ),
    case(
        "apply-credit-to-another-patients-line",
        ("credit", "apply", "P1", "--to", "L-000003=5.00"),
        "line_of_other_patient",
        "to",
        "to: line L-000003 is not a line of the patient who made payment PAY-000001",
    ),
    # refunds, reversals, un-allocations
    case(
        "refund-more-than-unallocated",
        refund("PAY-000001", "15.00"),
        "refund_exceeds_unallocated",
        "amount",
        "payment PAY-000001 has 10.00 unallocated; cannot refund 15.00",
    ),
    case(
        "refund-a-reversed-payment",
        refund("PAY-000003", "5.00"),
        "payment_reversed",
        "payment",
        "payment PAY-000003 was reversed",
    ),
    case(
        "refund-without-a-reason",
        refund("PAY-000001", "5.00", reason="   "),
        "reason_missing",
        "reason",
        "reason: a reason is required",
    ),
    case(
        "reverse-a-refunded-payment",
        ("payment", "reverse", "PAY-000002", "--reason", "keyed twice"),
        "payment_refunded",
        "payment",
        "payment PAY-000002 has 10.00 refunded; a payment with refunds cannot be reversed",
    ),
    case(
        "reverse-a-payment-twice",
        ("payment", "reverse", "PAY-000003", "--reason", "keyed twice"),
        "payment_reversed",
        "payment",
        "payment PAY-000003 was reversed",
    ),
    case(
        "unallocate-twice",
        ("payment", "unallocate", "AL-000008", "--reason", "wrong line"),
        "allocation_undone",
        "allocation",
        "allocation AL-000008 was already un-allocated",
    ),
    case(
        "unallocate-without-a-reason",
        ("payment", "unallocate", "AL-000005", "--reason", ""),
        "reason_missing",
        "reason",
        "reason: a reason is required",
    ),
    # lines
    case(
        "delete-a-line-with-payments-applied",
        ("line", "delete", "L-000001", "--reason", "keyed twice"),
        "line_has_payments",
        "line",
        "line L-000001 has 20.00 of payments applied (AL-000005); "
        "un-allocate them first, or delete with --cascade",
    ),
    case(
        "delete-a-line-twice",
        DELETE_L2,
        "line_deleted",
        "line",
        "line L-000002 was deleted",
        given=(DELETE_L2,),
    ),
    case(
        "adjust-a-deleted-line",
        adjust("L-000002", "5.00"),
        "line_deleted",
        "line",
        "line L-000002 was deleted",
        given=(DELETE_L2,),
    ),
    case(
        "adjust-more-than-the-line-owes",
        adjust("L-000001", "90.00"),
        "exceeds_line_balance",
        "amount",
        "line L-000001 has 80.00 owing; cannot adjust off 90.00",
    ),
    case(
        "adjust-with-an-unknown-reason",
        adjust("L-000001", "5.00", reason="oops"),
        "choice_unknown",
        "reason",
        "reason: 'oops' is not one of: write-off, discount, fee-correction, bad-debt, "
        "small-balance",
    ),
    case(
        "transfer-a-patient-billed-line",
        transfer("L-000001", "5.00"),
        "line_billed_to_patient",
        "line",
        "line L-000001 is already billed to the patient",
    ),
    case(
        "transfer-more-than-the-payer-owes",
        transfer("L-000003", "150.00"),
        "exceeds_line_balance",
        "amount",
        "line L-000003 has 100.00 owing; cannot transfer 150.00",
    ),
    case(
        "transfer-without-to-patient",
        ("line", "transfer", "L-000003", "--amount", "5.00", "--reason", "gap"),
        "transfer_target_missing",
        "to_patient",
        "to_patient: say --to-patient (the only transfer there is)",
    ),
    case(
        "transfer-without-a-reason",
        ("line", "transfer", "L-000003", "--to-patient", "--amount", "5.00", "--reason", " "),
        "reason_missing",
        "reason",
        "reason: a reason is required",
    ),
    case(
        "insurance-status-not-open-or-closed",
        ("line", "status", "L-000003", "--insurance", "pending"),
        "choice_unknown",
        "insurance",
        "insurance: 'pending' is not open or closed",
    ),
    case(
        "insurance-status-of-a-deleted-line",
        ("line", "status", "L-000002", "--insurance", "open"),
        "line_deleted",
        "line",
        "line L-000002 was deleted",
        given=(DELETE_L2,),
    ),
    # duplicate codes
    *[
        case(
            f"duplicate-{kind}-code",
            (kind, "add", code, *rest),
            "code_taken",
            "code",
            f"{kind} code '{code}' is already taken",
        )
        for kind, code, rest in [
            ("patient", "P1", ("--name", "Ada Quenby")),
            ("location", "MAIN", ("--name", "Annex Rooms")),
            ("provider", "DR1", ("--name", "Dr Hale Orrin")),
            ("payer", "FUND1", ("--name", "Second Fund", "--kind", "fund")),
            ("item", "90801", ("--description", "Long consultation", "--fee", "150.00")),
            ("product", "GEL", ("--title", "Heat pack", "--fee", "12.00")),
        ]
    ],
    case(
        "duplicate-product-title",
        ("product", "add", "GEL2", "--title", "Cold pack", "--fee", "12.00"),
        "title_taken",
        "title",
        "product title 'Cold pack' is already taken",
    ),
    case(
        # payments name their party by code: a payer sharing a patient's code would make
        # that patient's payments impossible to record ("names both a patient and a payer")
        "payer-code-of-a-patient",
        ("payer", "add", "P1", "--name", "Parkside Insurance", "--kind", "insurer"),
        "code_taken",
        "code",
        "payer code 'P1' is already taken (by a patient)",
    ),
    case(
        "patient-code-of-a-payer",
        ("patient", "add", "FUND1", "--name", "Cass Penrose"),
        "code_taken",
        "code",
        "patient code 'FUND1' is already taken (by a payer)",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_conflict_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)
