"""``import patients|providers|payers|items|opening-balances FILE.csv``: each file all or
nothing, a bad row reported by line and column, the same file again changes nothing, and a
changed row for an existing code is refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from clinicledger.store import tables as t

from .harness import Cli, row_counts, snapshot

PATIENTS = "code,name\nP1,Ivy Marlowe\nP2,Otto Brandt\n"
PROVIDERS = (
    "code,name,company_name,company_abn,company_gst_registered\n"
    "DR1,Dr Rowan Vale,,,\n"
    "DR2,Dr Wren Ashby,Ashby Therapy Pty Ltd,51 824 753 556,yes\n"
)
PAYERS = "code,name,kind\nFUND1,Harbour Health Fund,fund\nMED,Medicare,medicare\n"
ITEMS = (
    "code,description,fee,taxable\n90801,Consultation,100.00,no\n10960,Exercise program,55,yes\n"
)
OPENING = (
    "party,code,date,location,amount,note\n"
    "patient,P1,2024-02-29,MAIN,120.00,brought forward\n"
    "patient,P2,2024-02-29,MAIN,-15.00,credit brought forward\n"
    "payer,FUND1,2024-02-29,MAIN,300.00,\n"
)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def imported(cli: Cli, kind: str, path: str) -> dict[str, object]:
    return cli.ok("import", kind, path)


@pytest.mark.parametrize(
    ("kind", "text", "table", "codes"),
    [
        ("patients", PATIENTS, t.patients, ["P1", "P2"]),
        ("providers", PROVIDERS, t.providers, ["DR1", "DR2"]),
        ("payers", PAYERS, t.payers, ["FUND1", "MED"]),
        ("items", ITEMS, t.items, ["10960", "90801"]),
    ],
    ids=["patients", "providers", "payers", "items"],
)
def test_import_master_data_then_the_same_file_again(
    cli: Cli, engine: Engine, tmp_path: Path, kind, text, table, codes
) -> None:
    cli.ok("init")
    path = write(tmp_path, f"{kind}.csv", text)

    assert imported(cli, kind, path) == {
        "kind": kind,
        "file": path,
        "created": 2,
        "unchanged": 0,
        "already_imported": False,
    }
    with engine.connect() as conn:
        assert sorted(conn.execute(select(table.c.code)).scalars()) == codes
    before = snapshot(engine)

    assert imported(cli, kind, path) == {
        "kind": kind,
        "file": path,
        "created": 0,
        "unchanged": 2,
        "already_imported": True,
    }
    assert snapshot(engine) == before


def test_imported_values_are_the_ones_used(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    cli.ok("init")
    cli.ok("practice", "set", "--gst-registered")
    cli.ok("location", "add", "MAIN", "--name", "Main Street Rooms")
    for kind, text in [("patients", PATIENTS), ("providers", PROVIDERS), ("items", ITEMS)]:
        imported(cli, kind, write(tmp_path, f"{kind}.csv", text))
    with engine.connect() as conn:
        company = conn.execute(
            select(
                t.providers.c.company_name,
                t.providers.c.company_abn,
                t.providers.c.company_gst_registered,
            ).where(t.providers.c.code == "DR2")
        ).one()
    assert tuple(company) == ("Ashby Therapy Pty Ltd", "51824753556", True)

    invoice = cli.ok(
        "invoice",
        "create",
        "--patient",
        "P2",
        "--location",
        "MAIN",
        "--line",
        "item=90801,provider=DR1,date=2024-03-01",
        "--line",
        "item=10960,provider=DR2,date=2024-03-01",
    )
    assert [(line["amount"], line["gst"]) for line in invoice["lines"]] == [
        ("100.00", "0.00"),
        ("55.00", "5.00"),
    ]


def test_the_same_rows_in_another_file_change_nothing(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    cli.ok("init")
    imported(cli, "patients", write(tmp_path, "patients.csv", PATIENTS))
    reordered = write(tmp_path, "patients-again.csv", "name,code\nOtto Brandt,P2\nIvy Marlowe,P1\n")
    before = row_counts(engine)

    assert imported(cli, "patients", reordered) == {
        "kind": "patients",
        "file": reordered,
        "created": 0,
        "unchanged": 2,
        "already_imported": False,
    }
    after = row_counts(engine)
    assert after["patients"] == before["patients"] == 2


def refused(cli: Cli, engine: Engine, kind: str, path: str) -> dict[str, object]:
    before = snapshot(engine)
    plain = cli("import", kind, path)
    as_json = cli("import", kind, path, json=True)
    assert snapshot(engine) == before, "a rejected file wrote to the ledger"
    error = as_json.error()
    assert (plain.status, as_json.status, plain.out) == (2, 2, "")
    assert plain.err == f"error: {error['message']}\n"
    return error


def test_one_bad_row_imports_nothing(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    cli.ok("init")
    path = write(
        tmp_path, "patients.csv", "code,name\nP1,Ivy Marlowe\nP 2,Otto Brandt\nP3,Cass Penrose\n"
    )

    assert refused(cli, engine, "patients", path) == {
        "code": "import_rejected",
        "field": "code",
        "message": "patients.csv rejected, nothing imported: line 3, column code: "
        "'P 2' is not a code: use 1-40 letters, digits, . _ - /",
    }


def test_every_bad_row_is_listed(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    cli.ok("init")
    path = write(
        tmp_path,
        "items.csv",
        "code,description,fee,taxable\n"
        "90801,Consultation,100.00,no\n"
        "10960,Exercise program,1.234,no\n"
        "10961,,55.00,maybe\n"
        "10962,Review\n",
    )

    assert refused(cli, engine, "items", path) == {
        "code": "import_rejected",
        "field": "fee",
        "message": "items.csv rejected, nothing imported: "
        "line 3, column fee: '1.234' is not an amount; write it like 30.00 "
        "(at most two decimal places); "
        "line 4, column description: a name of 1-200 characters is required; "
        "line 4, column taxable: 'maybe' is not yes or no; "
        "line 5, column (row): has 2 cells; the header has 4",
    }


def test_a_file_without_a_required_column(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    cli.ok("init")
    path = write(tmp_path, "payers.csv", "code,name\nFUND1,Harbour Health Fund\n")
    assert refused(cli, engine, "payers", path) == {
        "code": "import_rejected",
        "field": "kind",
        "message": "payers.csv rejected, nothing imported: "
        "line 1, column kind: required column is missing",
    }


def test_a_changed_row_for_an_existing_code_names_the_field(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    cli.ok("init")
    imported(cli, "payers", write(tmp_path, "payers.csv", PAYERS))
    changed = write(
        tmp_path,
        "payers-2024.csv",
        "code,name,kind\nFUND1,Harbour Health Fund,insurer\nDVA,Veterans' Affairs,dva\n",
    )

    assert refused(cli, engine, "payers", changed) == {
        "code": "import_rejected",
        "field": "kind",
        "message": "payers-2024.csv rejected, nothing imported: "
        "line 2, column kind: payer 'FUND1' already exists with another kind",
    }


# issue 8, G6: the column named is the file's ("fee"), not where its value is kept
# ("fee_cents"); kind: (the row of the file above, {column: another value})
CHANGED_COLUMNS = {
    "patients": ("P1,Ivy Marlowe", {"name": "Ivy Marlow"}),
    "providers": (
        "DR2,Dr Wren Ashby,Ashby Therapy Pty Ltd,51 824 753 556,yes",
        {
            "name": "Dr Wren Ashby-Vale",
            "company_name": "Ashby Physio Pty Ltd",
            "company_abn": "53 004 085 616",
            "company_gst_registered": "no",
        },
    ),
    "payers": ("FUND1,Harbour Health Fund,fund", {"name": "Harbour Health", "kind": "insurer"}),
    "items": (
        "90801,Consultation,100.00,no",
        {"description": "Long consultation", "fee": "120.00", "taxable": "yes"},
    ),
}
MASTER = {"patients": "patient", "providers": "provider", "payers": "payer", "items": "item"}
HEADERS = {
    kind: text.splitlines()[0]
    for kind, text in (
        ("patients", PATIENTS),
        ("providers", PROVIDERS),
        ("payers", PAYERS),
        ("items", ITEMS),
    )
}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("kind", "column"),
    [(kind, column) for kind, (_, changes) in CHANGED_COLUMNS.items() for column in changes],
)
def test_a_reimport_names_the_files_column_that_changed(
    cli: Cli, engine: Engine, tmp_path: Path, kind: str, column: str
) -> None:
    cli.ok("init")
    text = {"patients": PATIENTS, "providers": PROVIDERS, "payers": PAYERS, "items": ITEMS}
    imported(cli, kind, write(tmp_path, f"{kind}.csv", text[kind]))
    row, changes = CHANGED_COLUMNS[kind]
    header = HEADERS[kind].split(",")
    cells = row.split(",")
    cells[header.index(column)] = changes[column]
    changed = write(tmp_path, "again.csv", f"{HEADERS[kind]}\n{','.join(cells)}\n")

    error = refused(cli, engine, kind, changed)
    assert (error["code"], error["field"]) == ("import_rejected", column)
    assert error["message"] == (
        f"again.csv rejected, nothing imported: line 2, column {column}: "
        f"{MASTER[kind]} '{cells[0]}' already exists with another {column}"
    )


def test_an_opening_balances_note_is_kept_as_every_door_keeps_a_note(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    """Issue 8, G5: a note from a file was kept untrimmed (from the command line it is
    trimmed), so the same note written without the spaces was 'another note'."""
    practice_with_parties(cli, tmp_path)
    header = "party,code,date,location,amount,note\n"
    spaced = write(tmp_path, "spaced.csv", f"{header}patient,P1,2024-02-29,MAIN,120.00, b/f \n")
    imported(cli, "opening-balances", spaced)
    with engine.connect() as conn:
        notes = conn.execute(select(t.entries.c.note).where(t.entries.c.kind == "opening_balance"))
        assert notes.scalars().all() == ["b/f"]
    plain = write(tmp_path, "plain.csv", f"{header}patient,P1,2024-02-29,MAIN,120.00,b/f\n")
    assert imported(cli, "opening-balances", plain)["unchanged"] == 1


def test_a_file_that_cannot_be_read(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    cli.ok("init")
    missing = str(tmp_path / "nowhere.csv")
    assert refused(cli, engine, "patients", missing) == {
        "code": "file_unreadable",
        "field": "file",
        "message": f"file: cannot read {missing}: No such file or directory",
    }


def test_a_file_that_is_not_utf8(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    cli.ok("init")
    path = tmp_path / "patients.csv"
    path.write_bytes("code,name\nP1,Zo\u00eb Hart\n".encode("latin-1"))
    error = refused(cli, engine, "patients", str(path))
    assert error["code"] == "import_rejected"
    assert error["message"].startswith(
        "patients.csv rejected, nothing imported: line 2, column (file): not UTF-8 text"
    )


# ---------------------------------------------------------------- opening balances


def practice_with_parties(cli: Cli, tmp_path: Path) -> None:
    cli.ok("init")
    cli.ok("location", "add", "MAIN", "--name", "Main Street Rooms")
    imported(cli, "patients", write(tmp_path, "patients.csv", PATIENTS))
    imported(cli, "payers", write(tmp_path, "payers.csv", PAYERS))


def test_opening_balances_move_balances_as_opening_entries(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    practice_with_parties(cli, tmp_path)
    path = write(tmp_path, "opening.csv", OPENING)

    assert imported(cli, "opening-balances", path) == {
        "kind": "opening-balances",
        "file": path,
        "created": 3,
        "unchanged": 0,
        "already_imported": False,
    }

    def balance(*subject: str) -> str:
        return str(cli.ok("balance", *subject)["balance"])

    assert balance("--patient", "P1") == "120.00"
    assert balance("--patient", "P2") == "-15.00"  # a credit
    assert balance("--payer", "FUND1") == "300.00"
    assert balance("--patient", "P1", "--as-of", "2024-02-28") == "0.00"
    with engine.connect() as conn:
        kinds = conn.execute(select(t.entries.c.kind).order_by(t.entries.c.id)).scalars().all()
        openings = conn.execute(
            select(t.invoices.c.number, t.invoices.c.opening).order_by(t.invoices.c.number)
        ).all()
    assert kinds == ["opening_balance"] * 3
    # an opening charge is an invoice numbered in the practice's one sequence
    assert [tuple(row) for row in openings] == [(1, True), (2, True)]

    # the opening balance is owed like any line: a payment applied to it reduces it
    cli.ok(
        "payment",
        "record",
        "--from",
        "P1",
        "--amount",
        "50.00",
        "--method",
        "cash",
        "--received",
        "2024-03-02",
        "--location",
        "MAIN",
    )
    assert cli.ok("payment", "allocate", "PAY-000002", "--auto")["allocations"] == [
        {"id": "AL-000005", "line": "L-000001", "payment": "PAY-000002", "amount": "50.00"}
    ]
    assert balance("--patient", "P1") == "70.00"
    assert cli.ok("check")["ok"] is True

    before = snapshot(engine)
    assert imported(cli, "opening-balances", path)["already_imported"] is True
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("changed_row", "column"),
    [
        ("patient,P1,2024-02-29,MAIN,125.00,brought forward", "amount"),
        ("patient,P1,2024-02-28,MAIN,120.00,brought forward", "date"),
    ],
    ids=["amount", "date"],
)
def test_a_changed_opening_balance_names_the_field(
    cli: Cli, engine: Engine, tmp_path: Path, changed_row: str, column: str
) -> None:
    practice_with_parties(cli, tmp_path)
    imported(cli, "opening-balances", write(tmp_path, "opening.csv", OPENING))
    changed = write(
        tmp_path, "opening-fixed.csv", f"party,code,date,location,amount,note\n{changed_row}\n"
    )

    error = refused(cli, engine, "opening-balances", changed)

    assert (error["code"], error["field"]) == ("import_rejected", column)
    assert error["message"].startswith(
        f"opening-fixed.csv rejected, nothing imported: line 2, column {column}: "
    )


BAD_OPENING_ROWS = (
    "party,code,date,location,amount,note\n"
    "patient,P1,2024-02-29,MAIN,120.00,\n"
    "patient,P404,2024-02-29,MAIN,10.00,\n"
    "patient,P2,2024-01-15,MAIN,10.00,\n"
    "payer,FUND1,2024-02-29,ANNEX,10.00,\n"
    "patient,P1,2024-02-29,MAIN,120.00,\n"
)
BAD_OPENING_PROBLEMS = (
    "line 3, column code: patient 'P404' not found; "
    "line 4, column date: the period up to 2024-01-31 is closed; "
    "an entry dated 2024-01-15 cannot be recorded; "
    "line 5, column location: location 'ANNEX' not found; "
    "line 6, column code: patient 'P1' also has an opening balance on line 2"
)


def test_opening_balances_with_bad_rows_import_nothing(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    practice_with_parties(cli, tmp_path)
    cli.ok("period", "close", "2024-01-31")
    path = write(tmp_path, "opening.csv", BAD_OPENING_ROWS)

    assert refused(cli, engine, "opening-balances", path) == {
        "code": "import_rejected",
        "field": "code",
        "message": f"opening.csv rejected, nothing imported: {BAD_OPENING_PROBLEMS}",
    }


def test_every_problem_in_a_file_is_reported_at_once(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    """A row that does not parse must not hide the other rows' problems: the clerk fixes
    the file once, not once per kind of problem."""
    practice_with_parties(cli, tmp_path)
    cli.ok("period", "close", "2024-01-31")
    path = write(
        tmp_path,
        "opening.csv",
        BAD_OPENING_ROWS + "payer,MED,2024-02-29,MAIN,0.00,\nperson,P2,2024-02-29,MAIN,10.00,\n",
    )

    assert refused(cli, engine, "opening-balances", path) == {
        "code": "import_rejected",
        "field": "code",
        "message": "opening.csv rejected, nothing imported: "
        f"{BAD_OPENING_PROBLEMS}; line 7, column amount: the amount must be more than 0.00; "
        "line 8, column party: 'person' is not patient or payer",
    }


@pytest.mark.parametrize(
    ("changed_row", "column"),
    [
        ("patient,P1,2024-02-29,ANNEX,120.00,brought forward", "location"),
        ("patient,P1,2024-02-29,MAIN,120.00,carried over", "note"),
        ("patient,P1,2024-02-29,MAIN,120.00,", "note"),
        ("patient,P1,2024-02-28,MAIN,120.00,brought forward", "date"),
        ("patient,P1,2024-02-29,MAIN,125.00,brought forward", "amount"),
    ],
    ids=["location", "note", "note-dropped", "date", "amount"],
)
def test_every_column_of_an_opening_balance_is_compared_again(
    cli: Cli, engine: Engine, tmp_path: Path, changed_row: str, column: str
) -> None:
    """Issue 8: a re-import with another location or note was reported 'unchanged'."""
    practice_with_parties(cli, tmp_path)
    cli.ok("location", "add", "ANNEX", "--name", "Annex")
    imported(cli, "opening-balances", write(tmp_path, "opening.csv", OPENING))
    changed = write(
        tmp_path, "opening-fixed.csv", f"party,code,date,location,amount,note\n{changed_row}\n"
    )
    error = refused(cli, engine, "opening-balances", changed)
    assert (error["code"], error["field"]) == ("import_rejected", column)
    assert error["message"] == (
        "opening-fixed.csv rejected, nothing imported: line 2, column "
        f"{column}: patient 'P1' already has an opening balance of another {column}"
    )
    same = write(
        tmp_path,
        "opening-again.csv",
        "party,code,date,location,amount,note\npatient,P1,2024-02-29,MAIN,120.00,brought forward\n",
    )
    assert imported(cli, "opening-balances", same)["unchanged"] == 1
