"""Moving in from another program: master data and opening balances from CSV files.

A file is all-or-nothing and idempotent: the same file again changes nothing (keyed by its
content hash), and a row whose natural key (its code) already exists with the same content
is left as it is; with other content the whole file is refused, naming the field.

A file is one unit of work however many rows it has, and is written in bulk: what it
decides on is read with one query per kind of row (store/imports.py), and its rows,
entries and audit records are written with ``executemany`` (``UnitOfWork.append_many``,
``audit_many``): the same rows and the same two chains as writing them one at a time, at
tens of thousands of rows a second (bench/bulk.py). Its progress is told to
``uow.progress`` (a door's progress bar) step by step.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from clinicledger.domain.choices import InsuranceStatus, LineKind, PaymentMethod, check_choice
from clinicledger.domain.dates import check_in_range
from clinicledger.domain.errors import (
    ImportProblem,
    ImportRejected,
    InvalidInput,
    NotFound,
    UserError,
)
from clinicledger.domain.journal import Entry, EntryKind
from clinicledger.domain.periods import check_period_open
from clinicledger.domain.postings import (
    LineRef,
    PaymentRef,
    opening_line_postings,
    receipt_postings,
)
from clinicledger.formats.csv_masters import ENCODINGS, FILE_COLUMN, KINDS, Row, parse_csv
from clinicledger.services.masters import check_row
from clinicledger.services.usecase import ResultCodec, set_field, use_case
from clinicledger.store import bulk, imports
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
    uow.progressed("reading", 0, 0)
    rows, problems = parse_csv(kind, name, data, encoding=command.encoding)
    digest = hashlib.sha256(data).hexdigest()
    done = imports.imported_rows(uow.conn, kind=kind, sha256=digest)
    if done is not None:
        return ImportResult(created=0, unchanged=done, already_imported=True)
    uow.progressed("checking", 0, len(rows))
    if kind == "opening-balances":
        openings, found = _plan_openings(uow, rows)
    else:
        new, found = _plan_masters(uow, MASTER_KINDS[kind], rows)
    everything = sorted((*problems, *found), key=lambda p: p.line)
    if everything:
        raise ImportRejected(name, tuple(everything))
    with bulk.roomy_cache(uow.conn):
        if kind == "opening-balances":
            created = _post_openings(uow, openings)
        else:
            created = _insert_masters(uow, MASTER_KINDS[kind], new)
    imports.keep_import(
        uow.conn, kind=kind, sha256=digest, rows=len(rows), created=created, recorded_at=uow.stamp()
    )
    uow.audit(
        "import", kind, {"file": name, "sha256": digest, "rows": len(rows), "created": created}
    )
    uow.progressed("writing", len(rows), len(rows))
    return ImportResult(created=created, unchanged=len(rows) - created, already_imported=False)


# Rows written per statement: the progress bar moves this often, and no statement's
# parameters outgrow memory whatever the file's size.
ROWS_PER_STEP = 10_000


def _plan_masters(
    uow: UnitOfWork, master: str, rows: tuple[Row, ...]
) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    """The rows to insert, and the problems: codes twice in the file, or already here with
    other content, or taken by the other kind of party."""
    codes = [row.values["code"] for row in rows]
    existing = imports.existing_masters(uow.conn, master, codes)
    other = {"patient": "payer", "payer": "patient"}.get(master)
    taken_by_other = set() if other is None else set(imports.ids_for_codes(uow.conn, other, codes))
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
        if code in taken_by_other:
            problems.append(
                ImportProblem(
                    line=row.line, column="code", reason=f"code '{code}' is taken by a {other}"
                )
            )
            continue
        kept = existing.get(code)
        if kept is None:
            new.append(row.values)
            continue
        for key, value in row.values.items():
            if kept[key] != value:
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


def _insert_masters(uow: UnitOfWork, master: str, new: list[dict[str, Any]]) -> int:
    """Insert the new master rows, each with its audit record (as ``add`` writes them)."""
    for start in range(0, len(new), ROWS_PER_STEP):
        step = new[start : start + ROWS_PER_STEP]
        ids = imports.insert_masters(uow.conn, master, step)
        uow.audit_many(
            [
                (f"{master}.create", f"{master}:{values['code']}", {"id": new_id})
                for new_id, values in zip(ids, step, strict=True)
            ]
        )
        uow.progressed("writing", start + len(step), len(new))
    return len(new)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Opening:
    """A row of an opening-balances file to post: its line, its values, whose it is,
    where."""

    line: int
    values: dict[str, Any]
    party_id: int
    location_id: int


class _Codes:
    """The ids of the codes a file names, read once per kind; an unknown code refused as
    ``lookups.id_for_code`` refuses it (a problem of the file names no suggestions, so
    none are looked for)."""

    def __init__(self, uow: UnitOfWork, rows: tuple[Row, ...]) -> None:
        wanted: dict[str, set[str]] = {"patient": set(), "payer": set(), "location": set()}
        for row in rows:
            wanted[row.values["party"]].add(row.values["code"])
            wanted["location"].add(row.values["location"])
        self._ids = {
            kind: imports.ids_for_codes(uow.conn, kind, codes) for kind, codes in wanted.items()
        }

    def id(self, kind: str, code: str) -> int:
        found = self._ids[kind].get(code)
        if found is None:
            raise NotFound(kind, f"'{code}'", field=kind)
        return found


def _plan_openings(
    uow: UnitOfWork, rows: tuple[Row, ...]
) -> tuple[list[_Opening], list[ImportProblem]]:
    """The opening balances to post, and the problems."""
    problems: list[ImportProblem] = []
    closed = uow.closed_through
    todo: list[_Opening] = []
    found: list[_Opening] = []  # rows whose party may already have an opening balance
    seen: dict[tuple[str, str], int] = {}
    codes = _Codes(uow, rows)
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
            party_id = codes.id(v["party"], v["code"])
            location_id = codes.id("location", v["location"])
            check_period_open(v["date"], closed, field="date")
        except UserError as exc:
            problems.append(ImportProblem(line=row.line, column=_column(exc), reason=exc.message))
            continue
        found.append(_Opening(line=row.line, values=v, party_id=party_id, location_id=location_id))
    earlier = {
        party: imports.existing_openings(
            uow.conn, party, (o.party_id for o in found if o.values["party"] == party)
        )
        for party in ("patient", "payer")
    }
    for opening in found:
        v = opening.values
        kept_opening = earlier[v["party"]].get(opening.party_id)
        if kept_opening is None:
            todo.append(opening)
            continue
        # every column of the row, as kept: another value in any of them is refused
        given = {
            "date": v["date"],
            "amount": v["amount_cents"],
            "location": opening.location_id,
            "note": v.get("note"),
        }
        kept = {
            "date": kept_opening.date,
            "amount": kept_opening.amount_cents,
            "location": kept_opening.location_id,
            "note": kept_opening.note,
        }
        differs = next((column for column in given if given[column] != kept[column]), None)
        if differs is not None:
            problems.append(
                ImportProblem(
                    line=opening.line,
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


def _post_openings(uow: UnitOfWork, todo: list[_Opening]) -> int:
    """Post the opening balances: a charge as an opening invoice of one line, a credit as
    an opening payment, each with its entry; as ``_post_opening`` one by one would."""
    for start in range(0, len(todo), ROWS_PER_STEP):
        step = todo[start : start + ROWS_PER_STEP]
        _post_opening_step(uow, step)
        uow.progressed("writing", start + len(step), len(todo))
    return len(todo)


def _post_opening_step(uow: UnitOfWork, step: list[_Opening]) -> None:
    conn = uow.conn
    charges = sum(1 for o in step if o.values["amount_cents"] > 0)
    numbers = iter(uow.next_invoice_numbers(charges))
    invoice_ids = iter(bulk.reserve_ids(conn, "invoices", charges))
    line_ids = iter(bulk.reserve_ids(conn, "lines", charges))
    payment_ids = iter(bulk.reserve_ids(conn, "payments", len(step) - charges))
    recorded_at = uow.stamp()
    invoices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    entries: list[Entry] = []
    for opening in step:
        v = opening.values
        patient_id = opening.party_id if v["party"] == "patient" else None
        payer_id = opening.party_id if v["party"] == "payer" else None
        amount = v["amount_cents"]
        if amount > 0:
            invoice_id, line_id = next(invoice_ids), next(line_ids)
            invoices.append(
                {
                    "id": invoice_id,
                    "number": next(numbers),
                    "patient_id": patient_id,
                    "payer_id": payer_id,
                    "location_id": opening.location_id,
                    "invoice_date": v["date"],
                    "recorded_at": recorded_at,
                    "opening": True,
                }
            )
            lines.append(
                {
                    "id": line_id,
                    "invoice_id": invoice_id,
                    "kind": LineKind.OPENING.value,
                    "item_id": None,
                    "product_id": None,
                    "provider_id": None,
                    "service_date": v["date"],
                    "fee_cents": amount,
                    "gst_cents": 0,
                    "client_billable": True,
                    "insurance_status": InsuranceStatus.CLOSED.value,
                    "inpatient": False,
                }
            )
            line = LineRef(
                line_id=line_id,
                invoice_id=invoice_id,
                patient_id=patient_id,
                provider_id=None,
                location_id=opening.location_id,
                payer_id=payer_id,
            )
            postings = opening_line_postings(line, amount)
        else:
            payment_id = next(payment_ids)
            payments.append(
                {
                    "id": payment_id,
                    "patient_id": patient_id,
                    "payer_id": payer_id,
                    "location_id": opening.location_id,
                    "method": PaymentMethod.OTHER.value,
                    "amount_cents": -amount,
                    "received_date": v["date"],
                    "reference": None,
                    "processor_fee_cents": None,
                    "note": v.get("note"),
                    "recorded_at": recorded_at,
                    "opening": True,
                }
            )
            payment = PaymentRef(
                payment_id=payment_id,
                patient_id=patient_id,
                payer_id=payer_id,
                location_id=opening.location_id,
            )
            postings = receipt_postings(payment, -amount, opening=True)
        entries.append(
            Entry(
                kind=EntryKind.OPENING_BALANCE,
                effective_date=v["date"],
                note=v.get("note"),
                postings=postings,
            )
        )
    imports.insert_openings(conn, invoices=invoices, lines=lines, payments=payments)
    uow.append_many(entries)
