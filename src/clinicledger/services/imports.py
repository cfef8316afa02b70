"""Moving in from another program: master data and opening balances from CSV files.

A file is all-or-nothing and idempotent: the same file again changes nothing (keyed by its
content hash), and a row whose natural key (its code) already exists with the same content
is left as it is; with other content the whole file is refused, naming the field.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from clinicledger.domain.choices import LineKind, PaymentMethod, check_choice
from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import ImportProblem, ImportRejected, InvalidInput, UserError
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.periods import check_period_open
from clinicledger.domain.postings import opening_line_postings, receipt_postings
from clinicledger.formats.csv_masters import ENCODINGS, FILE_COLUMN, KINDS, Row, parse_csv
from clinicledger.services.masters import check_row, insert_master
from clinicledger.services.usecase import ResultCodec, set_field, use_case
from clinicledger.store import billing, imports, lookups, masters
from clinicledger.store.billing import NewLine
from clinicledger.store.uow import UnitOfWork

MASTER_KINDS = {"patients": "patient", "providers": "provider", "payers": "payer", "items": "item"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    created: int
    unchanged: int
    already_imported: bool


IMPORT_RESULT: ResultCodec[ImportResult] = ResultCodec(
    dump=asdict, load=lambda data: ImportResult(**data)
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportFile:
    """A CSV file of ``kind`` (patients, providers, payers, items, opening-balances):
    its name (for messages), its bytes, and the text encoding it was saved in."""

    INPUTS: ClassVar[dict[str, str]] = {"content": "file", "file_name": "file"}

    kind: str
    file_name: str
    content: bytes
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        set_field(self, "kind", check_choice(self.kind, KINDS, field="kind"))
        set_field(self, "encoding", check_choice(self.encoding, ENCODINGS, field="encoding"))


@use_case(IMPORT_RESULT)
def import_file(uow: UnitOfWork, command: ImportFile) -> ImportResult:
    kind, name, data = command.kind, command.file_name, command.content
    rows, problems = parse_csv(kind, name, data, encoding=command.encoding)
    digest = hashlib.sha256(data).hexdigest()
    done = imports.imported_rows(uow.conn, kind=kind, sha256=digest)
    if done is not None:
        return ImportResult(created=0, unchanged=done, already_imported=True)
    if kind == "opening-balances":
        openings, found = _plan_openings(uow, rows)
    else:
        new, found = _plan_masters(uow, MASTER_KINDS[kind], rows)
    everything = sorted((*problems, *found), key=lambda p: p.line)
    if everything:
        raise ImportRejected(name, tuple(everything))
    if kind == "opening-balances":
        for values, party_id, location_id in openings:
            _post_opening(uow, values, party_id, location_id)
        created = len(openings)
    else:
        for values in new:
            insert_master(uow, MASTER_KINDS[kind], values)
        created = len(new)
    imports.keep_import(
        uow.conn, kind=kind, sha256=digest, rows=len(rows), created=created, recorded_at=uow.stamp()
    )
    uow.audit(
        "import", kind, {"file": name, "sha256": digest, "rows": len(rows), "created": created}
    )
    return ImportResult(created=created, unchanged=len(rows) - created, already_imported=False)


def _plan_masters(
    uow: UnitOfWork, master: str, rows: tuple[Row, ...]
) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    """The rows to insert, and the problems: codes twice in the file, or already here with
    other content, or taken by the other kind of party."""
    problems: list[ImportProblem] = []
    new: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in rows:
        code = row.values["code"]
        if code in seen:
            problems.append(
                ImportProblem(
                    line=row.line,
                    column="code",
                    reason=(f"code '{code}' is also on line {seen[code]}"),
                )
            )
            continue
        seen[code] = row.line
        try:
            check_row(master, row.values)  # the rules over a whole row, as for 'add'
        except UserError as exc:
            problems.append(ImportProblem(line=row.line, column=_column(exc), reason=exc.message))
            continue
        other = masters.other_party_with_code(uow.conn, master, code)
        if other is not None:
            problems.append(
                ImportProblem(
                    line=row.line, column="code", reason=f"code '{code}' is taken by a {other}"
                )
            )
            continue
        existing = masters.existing_master(uow.conn, master, code)
        if existing is None:
            new.append(row.values)
            continue
        for key, value in row.values.items():
            if existing[key] != value:
                column = FILE_COLUMN.get(key, key)
                problems.append(
                    ImportProblem(
                        line=row.line,
                        column=column,
                        reason=f"{master} '{code}' already exists with another {column}",
                    )
                )
                break
    return new, problems


def _plan_openings(
    uow: UnitOfWork, rows: tuple[Row, ...]
) -> tuple[list[tuple[dict[str, Any], int, int]], list[ImportProblem]]:
    """(values, party id, location id) of the opening balances to post, and the problems."""
    conn = uow.conn
    problems: list[ImportProblem] = []
    closed = uow.closed_through
    todo: list[tuple[dict[str, Any], int, int]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        v = row.values
        key = (v["party"], v["code"])
        if key in seen:
            problems.append(
                ImportProblem(
                    line=row.line,
                    column="code",
                    reason=(
                        f"{v['party']} '{v['code']}' also has an opening balance on line "
                        f"{seen[key]}"
                    ),
                )
            )
            continue
        seen[key] = row.line
        try:
            check_in_range(v["date"], field="date")
        except InvalidInput as exc:  # worded as the file's other problems: no field prefix
            problems.append(ImportProblem(line=row.line, column="date", reason=exc.reason))
            continue
        try:
            party_id = lookups.id_for_code(conn, v["party"], v["code"])
            location_id = lookups.id_for_code(conn, "location", v["location"])
            check_period_open(v["date"], closed, field="date")
        except UserError as exc:
            problems.append(ImportProblem(line=row.line, column=_column(exc), reason=exc.message))
            continue
        earlier = imports.existing_opening(conn, v["party"], party_id)
        if earlier is None:
            todo.append((v, party_id, location_id))
            continue
        # every column of the row, as kept: another value in any of them is refused
        given = {
            "date": v["date"],
            "amount": v["amount_cents"],
            "location": location_id,
            "note": v.get("note"),
        }
        kept = {
            "date": earlier.date,
            "amount": earlier.amount_cents,
            "location": earlier.location_id,
            "note": earlier.note,
        }
        differs = next((column for column in given if given[column] != kept[column]), None)
        if differs is not None:
            problems.append(
                ImportProblem(
                    line=row.line,
                    column=differs,
                    reason=(
                        f"{v['party']} '{v['code']}' already has an opening balance of another "
                        f"{differs}"
                    ),
                )
            )
    return todo, problems


def _column(exc: UserError) -> str:
    """The file's column an error is about: an unknown patient or payer is its code."""
    return "code" if exc.field in (None, "patient", "payer") else exc.field


def _post_opening(uow: UnitOfWork, v: dict[str, Any], party_id: int, location_id: int) -> None:
    conn = uow.conn
    patient_id = party_id if v["party"] == "patient" else None
    payer_id = party_id if v["party"] == "payer" else None
    amount = v["amount_cents"]
    if amount > 0:
        invoice_id = billing.insert_invoice(
            conn,
            number=uow.next_invoice_number(),
            patient_id=patient_id,
            payer_id=payer_id,
            location_id=location_id,
            invoice_date=v["date"],
            recorded_at=uow.stamp(),
            opening=True,
        )
        line_id = billing.insert_line(
            conn,
            invoice_id,
            NewLine(kind=LineKind.OPENING, service_date=v["date"], fee_cents=amount, gst_cents=0),
        )
        line = lookups.line_record(conn, line_id)
        postings = opening_line_postings(line.ref(payer_id=payer_id), amount)
    else:
        payment_id = billing.insert_payment(
            conn,
            patient_id=patient_id,
            payer_id=payer_id,
            location_id=location_id,
            method=PaymentMethod.OTHER,
            amount_cents=-amount,
            received_date=v["date"],
            note=v.get("note"),
            recorded_at=uow.stamp(),
            opening=True,
        )
        payment = lookups.payment_record(conn, payment_id)
        postings = receipt_postings(payment.ref(), -amount, opening=True)
    uow.append(
        Entry(
            kind=EntryKind.OPENING_BALANCE,
            effective_date=v["date"],
            note=v.get("note"),
            postings=postings,
        )
    )
