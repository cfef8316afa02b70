"""``clinicledger KIND list|show|edit|deactivate|activate`` for the six kinds of master data
(issue 7), against the harness practice (see harness.py): found by code or name, changed
with an audit record, codes never changed, and a deactivated master refused for new
invoices while its payments and reports go on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from clinicledger.store import tables as t

from .harness import TODAY, Cli, snapshot

SERVICE = f"item=90801,provider=DR1,date={TODAY}"

LISTED = {
    "location": [{"id": 1, "code": "MAIN", "name": "Main Street Rooms", "active": True}],
    "provider": [
        {
            "id": 1,
            "code": "DR1",
            "name": "Dr Rowan Vale",
            "company_name": None,
            "company_abn": None,
            "company_gst_registered": False,
            "active": True,
        }
    ],
    "patient": [
        {"id": 1, "code": "P1", "name": "Ivy Marlowe", "active": True},
        {"id": 2, "code": "P2", "name": "Otto Brandt", "active": True},
    ],
    "payer": [
        {"id": 1, "code": "FUND1", "name": "Harbour Health Fund", "kind": "fund", "active": True}
    ],
    "item": [
        {
            "id": 1,
            "code": "90801",
            "description": "Consultation",
            "fee": "100.00",
            "taxable": False,
            "active": True,
        }
    ],
    "product": [
        {
            "id": 1,
            "code": "GEL",
            "title": "Cold pack",
            "fee": "15.00",
            "taxable": True,
            "active": True,
        }
    ],
}


def audit_rows(engine: Engine, action: str) -> list[tuple[str, str, str, Any]]:
    """(actor, action, subject, detail) of the audit records of ``action``, oldest first."""
    a = t.audit_log
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.c.actor, a.c.action, a.c.subject, a.c.detail)
            .where(a.c.action == action)
            .order_by(a.c.id)
        ).all()
    return [(r.actor, r.action, r.subject, json.loads(r.detail)) for r in rows]


def codes(engine: Engine, kind: str) -> list[str]:
    table = {"patient": t.patients, "item": t.items, "product": t.products}[kind]
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.code).order_by(table.c.id)).scalars())


# ---------------------------------------------------------------- list and show


@pytest.mark.parametrize("kind", list(LISTED))
def test_list_gives_every_column_by_code(cli: Cli, practice: None, kind: str) -> None:
    assert cli.ok(kind, "list") == {f"{kind}s": LISTED[kind], "more": 0}


@pytest.mark.parametrize("kind", list(LISTED))
def test_show_gives_the_same_keys_as_list(cli: Cli, practice: None, kind: str) -> None:
    first = LISTED[kind][0]
    assert cli.ok(kind, "show", first["code"]) == first


def test_list_and_show_as_text(cli: Cli, practice: None) -> None:
    listed = cli("item", "list")
    assert (listed.status, listed.err) == (0, "")
    assert listed.out.splitlines() == [
        "code   description   fee     taxable  active",
        "90801  Consultation  100.00  no       yes",
    ]
    shown = cli("provider", "show", "DR1")
    assert (shown.status, shown.err) == (0, "")
    assert shown.out == (
        "code: DR1\n"
        "name: Dr Rowan Vale\n"
        "company_name: \n"
        "company_abn: \n"
        "company_gst_registered: no\n"
        "active: yes\n"
    )


def test_search_matches_part_of_the_code_or_name_in_any_case(cli: Cli, practice: None) -> None:
    cli.ok("patient", "add", "P3", "--name", "Cass_Penrose")
    cli.ok("patient", "add", "P4", "--name", "Dot 50% Hale")
    cli.ok("patient", "add", "X10", "--name", "Sam Pike")

    def found(*search: str) -> list[str]:
        data = cli.ok("patient", "list", "--search", *search)
        assert data["more"] == 0
        return [row["code"] for row in data["patients"]]

    assert found("IVY") == ["P1"]  # part of the name, any case
    assert found("p2") == ["P2"]  # part of the code, any case
    assert found("x1") == ["X10"]
    assert found("e") == ["P1", "P3", "P4", "X10"]
    # LIKE's wildcards are plain characters in a search
    assert found("_") == ["P3"]
    assert found("%") == ["P4"]
    assert found("s_p") == ["P3"]  # not "Sam Pike"'s "s P" (a wildcard would match it)
    assert found("0%") == ["P4"]
    assert found("nobody") == []
    assert cli("patient", "list", "--search", "nobody").out == "no patients match 'nobody'\n"


def test_a_listing_stops_at_500_rows_and_says_how_many_more(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    cli.ok("init")
    path = tmp_path / "patients.csv"
    path.write_text(
        "code,name\n" + "".join(f"P{n:04d},Test Person {n}\n" for n in range(1, 503)),
        encoding="utf-8",
    )
    assert cli.ok("import", "patients", str(path))["created"] == 502

    data = cli.ok("patient", "list")
    listed = [row["code"] for row in data["patients"]]
    assert (len(listed), listed[0], listed[-1], data["more"]) == (500, "P0001", "P0500", 2)

    as_text = cli("patient", "list")
    assert as_text.status == 0
    lines = as_text.out.splitlines()
    assert (len(lines), lines[0], lines[-1]) == (
        501,
        "code   name             active",
        "P0500  Test Person 500  yes",
    )
    assert as_text.err == "... and 2 more patients: narrow the list with --search\n"

    narrowed = cli.ok("patient", "list", "--search", "p05")
    assert [row["code"] for row in narrowed["patients"]] == ["P0500", "P0501", "P0502"]
    assert narrowed["more"] == 0


# ---------------------------------------------------------------- edit


def test_an_edit_is_audited_and_the_code_stays(cli: Cli, engine: Engine, practice: None) -> None:
    assert cli.ok("--actor", "reception", "patient", "edit", "P1", "--name", "Ivy  Hart") == {
        "id": 1,
        "code": "P1",
        "changed": {"name": ["Ivy Marlowe", "Ivy Hart"]},  # spaces collapsed, as by add
    }

    assert cli.ok("patient", "show", "P1") == {
        "id": 1,
        "code": "P1",
        "name": "Ivy Hart",
        "active": True,
    }
    assert codes(engine, "patient") == ["P1", "P2"]
    assert audit_rows(engine, "patient.update") == [
        ("reception", "patient.update", "patient:P1", {"name": ["Ivy Marlowe", "Ivy Hart"]})
    ]
    # her invoice and balance are hers still
    assert cli.ok("balance", "--patient", "P1")["balance"] == "55.00"

    plain = cli("patient", "edit", "P2", "--name", "Otto Hale")
    assert (plain.status, plain.out, plain.err) == (0, "updated patient P2: name\n", "")


def test_an_edit_to_the_values_it_has_writes_nothing(
    cli: Cli, engine: Engine, practice: None
) -> None:
    before = snapshot(engine)
    assert cli.ok("patient", "edit", "P1", "--name", "Ivy Marlowe") == {
        "id": 1,
        "code": "P1",
        "changed": {},
    }
    plain = cli("patient", "edit", "P1", "--name", "Ivy Marlowe")
    assert (plain.status, plain.out, plain.err) == (
        0,
        "patient P1 unchanged: it already had those values\n",
        "",
    )
    assert snapshot(engine) == before


EDITS = [
    pytest.param(
        "location",
        ("MAIN", "--name", "Main Street Clinic"),
        {"name": ["Main Street Rooms", "Main Street Clinic"]},
        {"name": "Main Street Clinic"},
        id="location",
    ),
    pytest.param(
        "provider",
        (
            "DR1",
            "--company-name",
            "Vale Physio Pty Ltd",
            "--company-abn",
            "51 824 753 556",
            "--company-gst-registered",
        ),
        {
            "company_name": [None, "Vale Physio Pty Ltd"],
            "company_abn": [None, "51824753556"],
            "company_gst_registered": [False, True],
        },
        {
            "name": "Dr Rowan Vale",
            "company_name": "Vale Physio Pty Ltd",
            "company_abn": "51824753556",
            "company_gst_registered": True,
        },
        id="provider",
    ),
    pytest.param(
        "payer",
        ("FUND1", "--name", "Harbour Insurance", "--kind", "Insurer"),
        {"name": ["Harbour Health Fund", "Harbour Insurance"], "kind": ["fund", "insurer"]},
        {"name": "Harbour Insurance", "kind": "insurer"},
        id="payer",
    ),
    pytest.param(
        "item",
        ("90801", "--description", "Standard consultation", "--fee", "120", "--taxable"),
        {
            "description": ["Consultation", "Standard consultation"],
            "fee": ["100.00", "120.00"],
            "taxable": [False, True],
        },
        {"description": "Standard consultation", "fee": "120.00", "taxable": True},
        id="item",
    ),
    pytest.param(
        "product",
        ("GEL", "--title", "Cold gel pack", "--fee", "16.50", "--gst-free"),
        {
            "title": ["Cold pack", "Cold gel pack"],
            "fee": ["15.00", "16.50"],
            "taxable": [True, False],
        },
        {"title": "Cold gel pack", "fee": "16.50", "taxable": False},
        id="product",
    ),
]


@pytest.mark.parametrize(("kind", "argv", "changed", "now"), EDITS)
def test_each_kind_is_edited_and_audited(
    cli: Cli,
    engine: Engine,
    practice: None,
    kind: str,
    argv: tuple[str, ...],
    changed: dict[str, list[Any]],
    now: dict[str, Any],
) -> None:
    code = argv[0]
    assert cli.ok(kind, "edit", *argv) == {"id": 1, "code": code, "changed": changed}
    assert cli.ok(kind, "show", code) == {**LISTED[kind][0], **now}
    [(_, _, subject, detail)] = audit_rows(engine, f"{kind}.update")
    assert subject == f"{kind}:{code}"
    # the audit record keeps the stored values: a fee in cents
    assert detail == {
        ("fee_cents" if key == "fee" else key): [
            int(v.replace(".", "")) if key == "fee" else v for v in values
        ]
        for key, values in changed.items()
    }


def test_a_provider_company_is_cleared_with_empty_text(cli: Cli, practice: None) -> None:
    cli.ok("provider", "edit", "DR1", "--company-name", "Vale Physio Pty Ltd")
    cli.ok("provider", "edit", "DR1", "--company-abn", "51824753556")  # it has a company now
    assert cli.ok("provider", "edit", "DR1", "--company-name", "", "--company-abn", "") == {
        "id": 1,
        "code": "DR1",
        "changed": {
            "company_name": ["Vale Physio Pty Ltd", None],
            "company_abn": ["51824753556", None],
        },
    }
    assert cli.ok("provider", "show", "DR1") == LISTED["provider"][0]


def test_a_new_fee_is_the_default_of_new_invoices_only(
    cli: Cli, engine: Engine, practice: None
) -> None:
    cli.ok("item", "edit", "90801", "--fee", "120.00")
    cli.ok("product", "edit", "GEL", "--fee", "16.50")

    invoice = cli.ok(
        "invoice",
        "create",
        "--patient",
        "P1",
        "--location",
        "MAIN",
        "--line",
        SERVICE,
        "--line",
        "product=Cold pack",
    )
    assert [(line["id"], line["amount"]) for line in invoice["lines"]] == [
        ("L-000004", "120.00"),
        ("L-000005", "16.50"),
    ]
    # the lines charged before keep their fees: the journal is immutable
    with engine.connect() as conn:
        fees = conn.execute(select(t.lines.c.id, t.lines.c.fee_cents).order_by(t.lines.c.id))
        assert [tuple(row) for row in fees] == [
            (1, 10000),
            (2, 2500),
            (3, 10000),
            (4, 12000),
            (5, 1650),
        ]
    assert cli.ok("balance", "--line", "L-000001")["balance"] == "80.00"
    assert cli.ok("balance", "--line", "L-000003")["balance"] == "100.00"


def test_an_edit_with_nothing_to_change_is_refused(
    cli: Cli, engine: Engine, practice: None
) -> None:
    before = snapshot(engine)
    result = cli("item", "edit", "90801", json=True)
    error = result.error()
    assert (result.status, error["code"], error["field"]) == (2, "nothing_to_change", "item")
    assert snapshot(engine) == before


# ---------------------------------------------------------------- deactivate, activate

# (kind, code, the invoice that uses it, the field and the key it is refused with)
IN_USE = [
    pytest.param(
        "patient",
        "P1",
        ("--patient", "P1", "--location", "MAIN", "--line", SERVICE),
        "patient",
        "P1",
        id="patient",
    ),
    pytest.param(
        "location",
        "MAIN",
        ("--patient", "P1", "--location", "MAIN", "--line", SERVICE),
        "location",
        "MAIN",
        id="location",
    ),
    pytest.param(
        "provider",
        "DR1",
        ("--patient", "P1", "--location", "MAIN", "--line", SERVICE),
        "line 1",
        "DR1",
        id="provider",
    ),
    pytest.param(
        "payer",
        "FUND1",
        ("--patient", "P2", "--location", "MAIN", "--billed-to", "FUND1", "--line", SERVICE),
        "billed_to",
        "FUND1",
        id="payer-billed-to",
    ),
    pytest.param(
        "item",
        "90801",
        ("--patient", "P1", "--location", "MAIN", "--line", SERVICE),
        "line 1",
        "90801",
        id="item",
    ),
    pytest.param(
        "product",
        "GEL",
        ("--patient", "P1", "--location", "MAIN", "--line", "product=Cold pack"),
        "line 1",
        "Cold pack",  # a product line names its product by title
        id="product",
    ),
]


@pytest.mark.parametrize(("kind", "code", "invoice", "field", "key"), IN_USE)
def test_a_deactivated_master_takes_no_new_invoice_but_keeps_its_history(
    cli: Cli,
    engine: Engine,
    practice: None,
    kind: str,
    code: str,
    invoice: tuple[str, ...],
    field: str,
    key: str,
) -> None:
    assert cli.ok(kind, "deactivate", code) == {
        "id": 1,
        "code": code,
        "changed": {"active": [True, False]},
    }
    assert [row["code"] for row in cli.ok(kind, "list")[f"{kind}s"]] == [
        row["code"] for row in LISTED[kind] if row["code"] != code
    ]
    assert cli.ok(kind, "list", "--inactive")[f"{kind}s"] == [
        {**row, "active": row["code"] != code} for row in LISTED[kind]
    ]

    before = snapshot(engine)
    refused = cli("invoice", "create", *invoice, json=True)
    assert (refused.status, refused.error()) == (
        2,
        {
            "code": "inactive",
            "field": field,
            "message": f"{kind} '{key}' is deactivated: it is kept for history, "
            f"and takes no new invoices; '{kind} activate {code}' brings it back",
        },
    )
    assert snapshot(engine) == before

    # payments, balances and reports go on for it
    party = "FUND1" if kind == "payer" else "P1"
    cli.ok(
        "payment",
        "record",
        "--from",
        party,
        "--amount",
        "30.00",
        "--method",
        "cash" if kind != "payer" else "insurance",
        "--received",
        TODAY,
        "--location",
        "MAIN",
    )
    subject = "--payer" if kind == "payer" else "--patient"
    # P1 55.00 less 30.00; FUND1 owes 100.00 and holds 60.00 + 30.00
    balance = "10.00" if kind == "payer" else "25.00"
    assert cli.ok("balance", subject, party)["balance"] == balance
    assert cli.ok("report", "debtors", "--format", "json")["totals"]["total"] == "205.00"
    assert cli.ok("check")["ok"] is True

    assert cli.ok(kind, "activate", code) == {
        "id": 1,
        "code": code,
        "changed": {"active": [False, True]},
    }
    assert cli.ok("invoice", "create", *invoice)["id"] == "INV-000003"


def test_deactivation_and_activation_are_audited_once(
    cli: Cli, engine: Engine, practice: None
) -> None:
    cli.ok("patient", "deactivate", "P2")
    before = snapshot(engine)
    again = cli("patient", "deactivate", "P2")
    assert (again.status, again.out) == (0, "patient P2 was already deactivated\n")
    assert cli.ok("patient", "deactivate", "P2")["changed"] == {}
    assert snapshot(engine) == before

    activated = cli("patient", "activate", "P2")
    assert (activated.status, activated.out) == (0, "activated patient P2\n")
    assert cli.ok("patient", "activate", "P2")["changed"] == {}
    assert [row[1:] for row in audit_rows(engine, "patient.deactivate")] == [
        ("patient.deactivate", "patient:P2", {"active": [True, False]})
    ]
    assert [row[1:] for row in audit_rows(engine, "patient.activate")] == [
        ("patient.activate", "patient:P2", {"active": [False, True]})
    ]
    assert codes(engine, "patient") == ["P1", "P2"]


# ---------------------------------------------------------------- unknown codes


@pytest.mark.parametrize(
    "argv",
    [
        ("show", "p1"),
        ("edit", "p1", "--name", "Ivy Hart"),
        ("deactivate", "p1"),
        ("activate", "p-01"),
    ],
    ids=["show", "edit", "deactivate", "activate"],
)
def test_an_unknown_code_suggests_the_one_it_was_probably_meant_to_be(
    cli: Cli, engine: Engine, practice: None, argv: tuple[str, ...]
) -> None:
    before = snapshot(engine)
    plain = cli("patient", *argv)
    as_json = cli("patient", *argv, json=True)
    message = f"patient '{argv[1]}' not found; did you mean P1?"
    assert (plain.status, plain.out, plain.err) == (2, "", f"error: {message}\n")
    assert as_json.status == 2
    assert as_json.error() == {"code": "not_found", "field": "patient", "message": message}
    assert snapshot(engine) == before
