"""The command surface of issue 2 as a contract: every command, run with ``--json``, prints
exactly one JSON object with the documented keys, amounts as two-place decimal strings,
and nothing on stderr. A front desk's morning, start to finish, with every number worked
out by hand in the comments."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
from typing import Any

import pytest

from .harness import Cli

AMOUNT_KEYS = {"amount", "total", "gst", "balance", "charges", "unallocated"}
TWO_PLACES = re.compile(r"^-?\d+\.\d{2}$")


def amounts_are_decimal_strings(data: Any) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in AMOUNT_KEYS:
                assert isinstance(value, str) and TWO_PLACES.match(value), (key, value)
            amounts_are_decimal_strings(value)
    elif isinstance(data, list):
        for value in data:
            amounts_are_decimal_strings(value)


class Desk:
    """Runs a command line, written as a practice would script it, with ``--json``, and
    checks the shape every output shares."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli

    def __call__(self, command: str, **options: Any) -> dict[str, Any]:
        data = self.cli.ok(*shlex.split(command), **options)
        amounts_are_decimal_strings(data)
        return data


def test_a_front_desk_morning(cli: Cli) -> None:
    desk = Desk(cli)

    # set-up
    assert desk("init") == {"created": True}
    assert desk(
        'practice set --name "Harbourside Test Clinic" --abn "51 824 753 556" '
        "--gst-registered --timezone Australia/Sydney --currency aud"
    ) == {"updated": True}
    assert desk('location add MAIN --name "Main Street Rooms"') == {"id": 1, "code": "MAIN"}
    assert desk(
        'provider add DR1 --name "Dr Rowan Vale" --company-name "Vale Physio Pty Ltd" '
        "--company-abn 51824753556 --company-gst-registered"
    ) == {"id": 1, "code": "DR1"}
    assert desk('patient add P1 --name "Ivy Marlowe"') == {"id": 1, "code": "P1"}
    assert desk('patient add P2 --name "Otto Brandt"') == {"id": 2, "code": "P2"}
    assert desk('payer add FUND1 --name "Harbour Health Fund" --kind fund') == {
        "id": 1,
        "code": "FUND1",
    }
    assert desk("item add 90801 --description Consultation --fee 100.00") == {
        "id": 1,
        "code": "90801",
    }
    assert desk('item add 10960 --description "Exercise program" --fee 55 --taxable') == {
        "id": 2,
        "code": "10960",
    }
    assert desk('product add GEL --title "Cold pack" --fee 16.50') == {"id": 1, "code": "GEL"}

    # invoices: GST is one eleventh of a taxable fee (55.00 -> 5.00, 16.50 -> 1.50)
    assert desk(
        "invoice create --patient P1 --location MAIN "
        "--line item=90801,provider=DR1,date=2024-03-01 "
        "--line item=10960,provider=DR1,date=2024-03-01 "
        '--line "product=Cold pack" '
        "--line cancellation,provider=DR1,date=2024-02-28,fee=25.00"
    ) == {
        "id": "INV-000001",
        "number": 1,
        "total": "196.50",
        "lines": [
            line("L-000001", "service", "100.00", "0.00", "2024-03-01"),
            line("L-000002", "service", "55.00", "5.00", "2024-03-01"),
            line("L-000003", "product", "16.50", "1.50", None),
            line("L-000004", "cancellation", "25.00", "0.00", "2024-02-28"),
        ],
    }
    # half a minute later: after the first invoice, before anything else
    known_before_payments = (cli.now + dt.timedelta(seconds=30)).isoformat()
    assert desk(
        "invoice create --patient P2 --location MAIN --billed-to FUND1 "
        "--line item=90801,provider=DR1,date=2024-03-01,insurance=open,inpatient=yes"
    ) == {
        "id": "INV-000002",
        "number": 2,
        "total": "100.00",
        "lines": [line("L-000005", "service", "100.00", "0.00", "2024-03-01")],
    }
    assert desk("line status L-000005 --insurance closed") == {
        "id": "L-000005",
        "insurance": "closed",
    }

    # payments; entries E-000001..5 are the five charges
    assert desk(
        "payment record --from P1 --amount 50.00 --method eftpos --received 2024-03-02 "
        '--location MAIN --reference R-1001 --fee 0.75 --note "paid at the desk"'
    ) == {"id": "PAY-000001", "amount": "50.00"}
    assert desk("payment allocate PAY-000001 --to L-000001=30.00 --to L-000003=16.50") == {
        "allocations": [
            allocation("AL-000007", "L-000001", "PAY-000001", "30.00"),
            allocation("AL-000008", "L-000003", "PAY-000001", "16.50"),
        ]
    }
    assert desk('payment unallocate AL-000008 --reason "wrong line"') == {
        "id": "E-000009",
        "allocation": "AL-000008",
    }
    # PAY-000001: 50.00 - 30.00 applied - 5.00 refunded = 15.00 unallocated
    assert desk("payment refund PAY-000001 --amount 5.00 --reason overpaid") == {
        "id": "E-000010",
        "payment": "PAY-000001",
        "amount": "5.00",
    }
    assert desk(
        "payment record --from FUND1 --amount 70.00 --method insurance --received 2024-03-02 "
        "--location MAIN"
    ) == {"id": "PAY-000002", "amount": "70.00"}
    assert desk("payment allocate PAY-000002 --auto") == {
        "allocations": [allocation("AL-000012", "L-000005", "PAY-000002", "70.00")]
    }
    # the gap: the 30.00 FUND1 did not pay moves to P2
    assert desk("line transfer L-000005 --to-patient --amount 30.00 --reason gap") == {
        "id": "E-000013",
        "line": "L-000005",
        "amount": "30.00",
    }
    assert desk('line adjust L-000004 --amount 5.00 --reason discount --note "first visit"') == {
        "id": "E-000014",
        "line": "L-000004",
        "amount": "5.00",
    }
    assert desk(
        "payment record --from P1 --amount 20.00 --method cheque --received 2024-03-02 "
        "--location MAIN"
    ) == {"id": "PAY-000003", "amount": "20.00"}
    assert desk('payment reverse PAY-000003 --reason "cheque dishonoured"') == {
        "id": "E-000016",
        "payment": "PAY-000003",
    }
    # P1's credit is PAY-000001's 15.00; the oldest line owing is L-000004 (2024-02-28, 20.00)
    assert desk("credit apply P1 --auto") == {
        "allocations": [allocation("AL-000017", "L-000004", "PAY-000001", "15.00")]
    }
    # --cascade un-allocates AL-000017 (E-000018), then deletes the line (E-000019)
    assert desk('line delete L-000004 --reason "keyed twice" --cascade') == {
        "id": "E-000019",
        "line": "L-000004",
    }

    # balances. P1 owes L-000001 70.00 + L-000002 55.00 + L-000003 16.50 = 141.50 and has
    # 15.00 credit back on PAY-000001: 126.50
    assert desk("balance --patient P1") == balance("patient", "P1", "126.50", "141.50", "15.00")
    assert desk("balance --patient P2") == balance("patient", "P2", "30.00", "30.00", "0.00")
    # FUND1: 100.00 charged - 70.00 paid - 30.00 moved to P2
    assert desk("balance --payer FUND1") == balance("payer", "FUND1", "0.00", "0.00", "0.00")
    assert desk("balance --invoice INV-000001") == balance(
        "invoice", "INV-000001", "141.50", "141.50", "0.00"
    )
    # the allocation is dated today (2024-03-02): as of the service date the line owed 100.00
    assert desk("balance --line L-000001 --as-of 2024-03-01") == balance(
        "line", "L-000001", "100.00", "100.00", "0.00", as_of="2024-03-01"
    )
    assert desk("balance --line L-000001")["balance"] == "70.00"
    # as known just after the first invoice: all four lines owing, nothing paid
    assert desk(f"balance --patient P1 --as-known-at {known_before_payments}") == balance(
        "patient", "P1", "196.50", "196.50", "0.00", as_known_at=f"{known_before_payments}+11:00"
    )

    closed = desk("period close 2024-03-01")
    head = closed.pop("head")  # issue 8: a close prints the head of the chains, to keep
    assert closed == {
        "closed_through": "2024-03-01",
        "balances_kept_at": ["2024-02-29", "2024-03-01"],
    }
    assert desk(f"check --expect-head {head}")["ok"] is True
    # 19 entries; postings: 2 per entry, but 3 for each taxable charge (GST) and for the
    # deletion of L-000004 (receivable, revenue, write-off back to zero): 19 * 2 + 3 = 41
    assert desk("check") == {"ok": True, "entries": 19, "postings": 41, "violations": []}


def line(id_: str, kind: str, amount: str, gst: str, service_date: str | None) -> dict[str, object]:
    return {
        "id": id_,
        "kind": kind,
        "amount": amount,
        "gst": gst,
        "service_date": service_date,
    }


def allocation(id_: str, line_: str, payment: str, amount: str) -> dict[str, object]:
    return {"id": id_, "line": line_, "payment": payment, "amount": amount}


def balance(
    subject: str,
    key: str,
    balance_: str,
    charges: str,
    unallocated: str,
    *,
    as_of: str | None = None,
    as_known_at: str | None = None,
) -> dict[str, object]:
    return {
        "subject": subject,
        "key": key,
        "balance": balance_,
        "charges": charges,
        "unallocated": unallocated,
        "as_of": as_of,
        "as_known_at": as_known_at,
    }


def test_plain_output_is_for_people(cli: Cli, practice: None) -> None:
    result = cli("balance", "--patient", "P1")
    assert (result.status, result.out, result.err) == (
        0,
        "patient P1: balance 55.00 (owing 105.00, credit 50.00)\n",
        "",
    )
    result = cli("payment", "allocate", "PAY-000002", "--to", "L-000002=25.00")
    assert (result.status, result.out, result.err) == (
        0,
        "1 allocation(s)\n  AL-000013  PAY-000002 -> L-000002       25.00\n",
        "",
    )


def test_as_known_at_the_moment_of_an_invoice_shows_all_of_it(cli: Cli) -> None:
    """One command is one transaction: as known at the instant it was recorded (its
    ``--now``), all of it is known, not its first line only."""
    desk = Desk(cli)
    desk("init")
    desk('location add MAIN --name "Main Street Rooms"')
    desk('provider add DR1 --name "Dr Rowan Vale"')
    desk('patient add P1 --name "Ivy Marlowe"')
    desk("item add 90801 --description Consultation --fee 100.00")
    made = desk(
        "invoice create --patient P1 --location MAIN "
        "--line item=90801,provider=DR1,date=2024-03-01 "
        "--line cancellation,provider=DR1,date=2024-03-01,fee=25.00",
        now="2024-03-02T10:00",
    )
    assert made["total"] == "125.00"

    at_that_moment = desk("balance --patient P1 --as-known-at 2024-03-02T10:00")
    a_second_later = desk("balance --patient P1 --as-known-at 2024-03-02T10:00:01")

    assert (at_that_moment["balance"], a_second_later["balance"]) == ("125.00", "125.00")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.skipif(
    not os.environ.get("CLINICLEDGER_TEST_SLOW"),
    reason="builds two years of a practice (about a minute); set CLINICLEDGER_TEST_SLOW=1",
)
def test_demo_prints_one_json_object(cli: Cli) -> None:
    data = cli.ok("demo", "--seed", "7", now=False)
    assert data["seed"] == 7
    assert data["counts"]["patients"] == 400
    assert data["check_violations"] == 0
    amounts_are_decimal_strings(data)
