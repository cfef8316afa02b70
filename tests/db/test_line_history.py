"""The typed history of line state (migration 0011): insurance-status changes and what a
cascaded deletion un-allocated. The upgrade fills it from the audit records written before
it; the reports read it, as known at any moment, to the cent; it is append-only. Both
backends."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from clinicledger.domain.choices import InsuranceStatus, LineKind, PaymentMethod
from clinicledger.domain.journal import Account, EntryKind, Posting
from clinicledger.render.formats import to_json, to_json_data
from clinicledger.reports.base import ReportParams
from clinicledger.reports.client_reconciliation import client_reconciliation
from clinicledger.reports.statements import (
    balance_differences,
    balance_statement,
    ledger_statement,
)
from clinicledger.services import invoicing, masters, payments
from clinicledger.services.invoicing import LineSpec
from clinicledger.store import schema
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

D = dt.date
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(local: dt.datetime) -> dt.datetime:
    """A Sydney wall-clock time as the storage keeps it (naive UTC)."""
    return local.replace(tzinfo=SYDNEY).astimezone(dt.UTC).replace(tzinfo=None)


def local_date(instant: dt.datetime) -> dt.date:
    return instant.replace(tzinfo=dt.UTC).astimezone(SYDNEY).date()


def history_rows(engine) -> dict[str, list[tuple]]:
    with reading(engine) as conn:
        changes = t.insurance_status_changes
        undone = t.deletion_unallocations
        return {
            "insurance_status_changes": [
                tuple(r)
                for r in conn.execute(
                    select(
                        changes.c.id,
                        changes.c.line_id,
                        changes.c.status,
                        changes.c.previous,
                        changes.c.recorded_at,
                    ).order_by(changes.c.id)
                )
            ],
            "deletion_unallocations": [
                tuple(r)
                for r in conn.execute(
                    select(undone.c.id, undone.c.line_id, undone.c.unallocation_id).order_by(
                        undone.c.id
                    )
                )
            ],
        }


@pytest.fixture
def migrating(engine):
    """The test engine, free to be taken down to an older revision. The SQLite file is the
    test's own; the PostgreSQL database serves the worker's next test, so it is left at the
    newest revision, whatever revision the test left it at."""
    yield engine
    if engine.dialect.name == "postgresql" and not schema.is_current(engine):
        schema.downgrade(engine, "base")
        schema.upgrade(engine)


# ------------------------------------------------ the upgrade reads the old audit records


class OldLedger:
    """Rows written at revision 0010 as the code of then wrote them: the journal, the
    lines' state, and the facts of this history only in the audit log's JSON."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.audits = 0

    def append(
        self,
        kind: EntryKind,
        at: dt.datetime,
        postings: tuple[Posting, ...],
        *,
        reverses: int | None = None,
        reason: str | None = None,
    ) -> int:
        entry_id: int = self.conn.execute(
            insert(t.entries)
            .values(
                recorded_at=at,
                effective_date=local_date(at),
                actor="system",
                kind=kind.value,
                reason=reason,
                reverses=reverses,
            )
            .returning(t.entries.c.id)
        ).scalar_one()
        self.conn.execute(
            insert(t.postings),
            [
                {
                    "entry_id": entry_id,
                    "account": p.account.value,
                    "amount_cents": p.amount_cents,
                    "effective_date": local_date(at),
                    "recorded_at": at,
                    "patient_id": p.patient_id,
                    "payer_id": p.payer_id,
                    "location_id": p.location_id,
                    "invoice_id": p.invoice_id,
                    "line_id": p.line_id,
                    "payment_id": p.payment_id,
                }
                for p in postings
            ],
        )
        return entry_id

    def audit(self, at: dt.datetime, action: str, subject: str, detail: dict) -> None:
        self.audits += 1
        digest = hashlib.sha256(str(self.audits).encode()).hexdigest()
        self.conn.execute(
            insert(t.audit_log).values(
                recorded_at=at,
                actor="system",
                action=action,
                subject=subject,
                detail=json.dumps(detail, sort_keys=True),
                prev_hash="0" * 64,
                hash=digest,
            )
        )


def receivable(line: int, patient: int, cents: int, payment: int | None = None) -> Posting:
    return Posting(
        account=Account.RECEIVABLE,
        amount_cents=cents,
        patient_id=patient,
        location_id=1,
        invoice_id=1,
        line_id=line,
        payment_id=payment,
    )


def unallocated(payment: int, patient: int, cents: int) -> Posting:
    return Posting(
        account=Account.UNALLOCATED,
        amount_cents=cents,
        patient_id=patient,
        location_id=1,
        payment_id=payment,
    )


T = {day: utc(dt.datetime(2018, 2, day, 10)) for day in range(1, 10)}  # 10:00, 2018-02-day


def test_the_upgrade_fills_the_tables_from_the_audit_records(migrating) -> None:
    engine = migrating
    schema.downgrade(engine, "base")
    schema.upgrade(engine, "0010")
    with engine.begin() as conn:
        old = OldLedger(conn)
        conn.execute(insert(t.locations).values(id=1, code="MAIN", name="Main rooms"))
        conn.execute(insert(t.patients).values(id=1, code="P1", name="Patient One"))
        conn.execute(
            insert(t.invoices).values(
                id=1,
                number=1,
                patient_id=1,
                location_id=1,
                invoice_date=D(2018, 2, 1),
                recorded_at=T[1],
            )
        )
        # L1 closed, L2 open to insurance, L3 and L4 closed; 100.00, 50.00, 80.00, 20.00
        for line_id, fee_cents, status in (
            (1, 10000, "closed"),
            (2, 5000, "open"),
            (3, 8000, "closed"),
            (4, 2000, "closed"),
        ):
            conn.execute(
                insert(t.lines).values(
                    id=line_id,
                    invoice_id=1,
                    kind=LineKind.CANCELLATION.value,
                    service_date=D(2018, 2, 1),
                    fee_cents=fee_cents,
                    gst_cents=0,
                    insurance_status=status,
                )
            )
            old.append(
                EntryKind.CHARGE,
                T[1],
                (
                    receivable(line_id, 1, fee_cents),
                    Posting(
                        account=Account.REVENUE_BILLED,
                        amount_cents=-fee_cents,
                        location_id=1,
                        invoice_id=1,
                        line_id=line_id,
                        patient_id=1,
                    ),
                ),
            )
        # PAY-1 60.00 and PAY-2 15.00, received 2018-02-02
        for payment_id, amount_cents in ((1, 6000), (2, 1500)):
            conn.execute(
                insert(t.payments).values(
                    id=payment_id,
                    patient_id=1,
                    location_id=1,
                    method=PaymentMethod.CASH.value,
                    amount_cents=amount_cents,
                    received_date=D(2018, 2, 2),
                    recorded_at=T[2],
                )
            )
            old.append(
                EntryKind.PAYMENT,
                T[2],
                (
                    Posting(
                        account=Account.UNBANKED,
                        amount_cents=amount_cents,
                        location_id=1,
                        payment_id=payment_id,
                    ),
                    unallocated(payment_id, 1, -amount_cents),
                ),
            )

        def allocate(payment_id: int, line_id: int, cents: int) -> int:
            return old.append(
                EntryKind.ALLOCATION,
                T[3],
                (unallocated(payment_id, 1, cents), receivable(line_id, 1, -cents, payment_id)),
            )

        def unallocate(allocation_id: int, at: dt.datetime, reason: str) -> int:
            postings = [
                Posting(
                    account=Account(r.account),
                    amount_cents=-int(r.amount_cents),
                    patient_id=r.patient_id,
                    location_id=r.location_id,
                    invoice_id=r.invoice_id,
                    line_id=r.line_id,
                    payment_id=r.payment_id,
                )
                for r in conn.execute(
                    # the columns of revision 0010 (a later one has more)
                    select(
                        *(
                            t.postings.c[name]
                            for name in (
                                "account",
                                "amount_cents",
                                "patient_id",
                                "location_id",
                                "invoice_id",
                                "line_id",
                                "payment_id",
                            )
                        )
                    ).where(t.postings.c.entry_id == allocation_id)
                )
            ]
            return old.append(
                EntryKind.UNALLOCATION, at, tuple(postings), reverses=allocation_id, reason=reason
            )

        a1 = allocate(1, 3, 2000)  # 20.00 of PAY-1 to L3
        a2 = allocate(2, 3, 1500)  # 15.00 of PAY-2 to L3
        a3 = allocate(1, 1, 1000)  # 10.00 of PAY-1 to L1, un-allocated by hand
        u3 = unallocate(a3, T[4], "wrong line")
        old.audit(T[4], "payment.unallocate", f"AL-{a3:06d}", {"entry": u3, "reason": "wrong line"})

        # Insurance status; records written before commit 1169dab kept no "previous".
        conn.execute(update(t.lines).where(t.lines.c.id == 2).values(insurance_status="closed"))
        old.audit(T[5], "line.insurance_status", "L-000002", {"status": "closed"})
        conn.execute(update(t.lines).where(t.lines.c.id == 1).values(insurance_status="open"))
        old.audit(
            T[6], "line.insurance_status", "L-000001", {"status": "open", "previous": "closed"}
        )
        conn.execute(update(t.lines).where(t.lines.c.id == 2).values(insurance_status="open"))
        old.audit(
            T[7], "line.insurance_status", "L-000002", {"status": "open", "previous": "closed"}
        )

        # L3 deleted with its payments (the cascade), L4 with none applied
        u1 = unallocate(a1, T[8], "line L-000003 deleted: keyed twice")
        u2 = unallocate(a2, T[8], "line L-000003 deleted: keyed twice")
        deletion = old.append(
            EntryKind.LINE_DELETION,
            T[8],
            (
                receivable(3, 1, -8000),
                Posting(
                    account=Account.REVENUE_BILLED,
                    amount_cents=8000,
                    location_id=1,
                    invoice_id=1,
                    line_id=3,
                    patient_id=1,
                ),
            ),
            reason="keyed twice",
        )
        conn.execute(update(t.lines).where(t.lines.c.id == 3).values(deleted_at=T[8]))
        old.audit(
            T[8],
            "line.delete",
            "L-000003",
            {"entry": deletion, "reason": "keyed twice", "unallocated": [a1, a2]},
        )
        deletion_4 = old.append(
            EntryKind.LINE_DELETION,
            T[9],
            (
                receivable(4, 1, -2000),
                Posting(
                    account=Account.REVENUE_BILLED,
                    amount_cents=2000,
                    location_id=1,
                    invoice_id=1,
                    line_id=4,
                    patient_id=1,
                ),
            ),
            reason="not seen",
        )
        conn.execute(update(t.lines).where(t.lines.c.id == 4).values(deleted_at=T[9]))
        old.audit(
            T[9],
            "line.delete",
            "L-000004",
            {"entry": deletion_4, "reason": "not seen", "unallocated": []},
        )

    schema.upgrade(engine)

    assert history_rows(engine) == {
        "insurance_status_changes": [
            (1, 2, "closed", "open", T[5]),  # no "previous": the other status
            (2, 1, "open", "closed", T[6]),
            (3, 2, "open", "closed", T[7]),
        ],
        # the cascade's two un-allocations; not the one made by hand, nor L4's (none)
        "deletion_unallocations": [(1, 3, u1), (2, 3, u2)],
    }

    # and the reports read them: as known just before each change, the status it replaced
    def statuses(at: dt.datetime | None) -> list[str]:
        with reading(engine) as conn:
            report = client_reconciliation(conn, ReportParams(patient="P1", as_known_at=at))
        return [row.status for row in report.rows]

    before = T[5] - dt.timedelta(seconds=1)
    assert statuses(before) == ["closed", "open to insurance", "closed", "closed"]
    assert statuses(T[5]) == ["closed"] * 4
    assert statuses(T[6]) == ["open to insurance", "closed", "closed", "closed"]
    assert statuses(T[8]) == ["open to insurance", "open to insurance", "deleted", "closed"]
    assert statuses(None) == ["open to insurance", "open to insurance", "deleted", "deleted"]
    with reading(engine) as conn:
        checkbook = to_json_data(ledger_statement(conn, ReportParams(patient="P1")))
    # the 20.00 and 15.00 the cascade freed are marked on their payments; the 10.00
    # un-allocated by hand from L1 is not
    assert [r["description"] for r in checkbook["rows"]][4:6] == [
        "payment PAY-000001 (cash); 20.00 was applied to L-000003: charge deleted",
        "payment PAY-000002 (cash); 15.00 was applied to L-000003: charge deleted",
    ]
    # 0018: each posting written before it carries its entry's kind, copied by the upgrade
    with reading(engine) as conn:
        copied = conn.execute(
            select(t.entries.c.id, t.entries.c.kind, t.postings.c.entry_kind)
            .join(t.postings, t.postings.c.entry_id == t.entries.c.id)
            .order_by(t.postings.c.id)
        ).all()
    assert [(entry, posting) for _, entry, posting in copied] == [
        (entry, entry) for _, entry, _ in copied
    ]
    assert {kind for _, kind, _ in copied} == {
        "charge",
        "payment",
        "allocation",
        "unallocation",
        "line_deletion",
    }


# ------------------------------------------- a journal with status changes and cascades


def service(day: dt.date, fee_cents: int, **more) -> LineSpec:
    return LineSpec(
        kind=LineKind.SERVICE,
        item_code="90837",
        provider_code="DR1",
        service_date=day,
        fee_cents=fee_cents,
        **more,
    )


def pay(clock, patient: str, day: dt.date, amount_cents: int) -> int:
    return payments.record_payment(
        clock.at_date(day),
        payments.RecordPayment(
            from_code=patient,
            amount_cents=amount_cents,
            method=PaymentMethod.CASH,
            received_date=day,
            location_code="MAIN",
        ),
    )


def set_status(clock, day: dt.date, line: int, status: InsuranceStatus) -> None:
    invoicing.set_insurance_status(
        clock.at_date(day), invoicing.SetInsuranceStatus(line_id=line, status=status)
    )


def outputs(engine, at: dt.datetime | None) -> dict[str, str]:
    """The four reports as known at ``at``, as JSON (rows, totals, warnings, parameters)."""
    made = {}
    with reading(engine) as conn:
        for patient in ("P1", "P2"):
            params = ReportParams(patient=patient, as_known_at=at)
            made[f"ledger-statement {patient}"] = to_json(ledger_statement(conn, params))
            made[f"balance-statement {patient}"] = to_json(balance_statement(conn, params))
            made[f"client-reconciliation {patient}"] = to_json(client_reconciliation(conn, params))
        made["balance-differences"] = to_json(
            balance_differences(conn, ReportParams(as_known_at=at))
        )
        made["balance-differences 02-03"] = to_json(
            balance_differences(conn, ReportParams(as_of=D(2018, 2, 3), as_known_at=at))
        )
    return made


OPEN, CLOSED = InsuranceStatus.OPEN, InsuranceStatus.CLOSED
# noon in Sydney of each day events happen on (they happen at 10:00 and the minutes after)
NOON = {day: utc(dt.datetime(2018, 2, day, 12)) for day in (1, 2, 5, 8, 10, 12)}


@pytest.fixture
def journal(clock, engine):
    """Two patients. P1: L1 100.00 open to insurance, L2 50.00, L3 80.00; PAY1 60.00 (30.00
    to L2, 20.00 to L3) and PAY2 15.00 (to L3). P2: L4 60.00 paid by PAY3. Then L1 closed
    and L4 opened (02-05), L3 deleted with its payments (02-08), L1 and L2 opened (02-10),
    L2 and L4 closed (02-12). Returns the ids and each day's reports as known at its noon,
    read on that day."""
    clock.now = dt.datetime(2018, 1, 2, 9)
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient Two")
    masters.add_item(clock.uow(), code="90837", description="Therapy", fee_cents=10000)
    day = D(2018, 2, 1)
    seen: dict[int, dict[str, str]] = {}

    def invoice(patient: str, *lines: LineSpec) -> list[int]:
        made = invoicing.create_invoice(
            clock.at_date(day),
            invoicing.CreateInvoice(
                patient_code=patient, location_code="MAIN", billed_to_code=None, lines=list(lines)
            ),
        )
        return [line.id for line in made.lines]

    l1, l2, l3 = invoice(
        "P1", service(day, 10000, insurance_open=True), service(day, 5000), service(day, 8000)
    )
    [l4] = invoice("P2", service(day, 6000))
    seen[1] = outputs(engine, NOON[1])

    day = D(2018, 2, 2)
    pay1, pay2, pay3 = (
        pay(clock, "P1", day, 6000),
        pay(clock, "P1", day, 1500),
        pay(clock, "P2", day, 6000),
    )
    for payment, targets in (
        (pay1, [(l2, 3000), (l3, 2000)]),
        (pay2, [(l3, 1500)]),
        (pay3, [(l4, 6000)]),
    ):
        payments.allocate(clock.uow(), payments.Allocate(payment_id=payment, targets=targets))
    seen[2] = outputs(engine, NOON[2])

    set_status(clock, D(2018, 2, 5), l1, CLOSED)
    set_status(clock, D(2018, 2, 5), l4, OPEN)
    seen[5] = outputs(engine, NOON[5])

    invoicing.delete_line(
        clock.at_date(D(2018, 2, 8)),
        invoicing.DeleteLine(line_id=l3, reason="keyed twice", cascade=True),
    )
    seen[8] = outputs(engine, NOON[8])

    set_status(clock, D(2018, 2, 10), l1, OPEN)
    set_status(clock, D(2018, 2, 10), l2, OPEN)
    seen[10] = outputs(engine, NOON[10])

    set_status(clock, D(2018, 2, 12), l2, CLOSED)
    set_status(clock, D(2018, 2, 12), l4, CLOSED)
    seen[12] = outputs(engine, NOON[12])
    ids = {"L1": l1, "L2": l2, "L3": l3, "L4": l4, "PAY1": pay1, "PAY2": pay2, "PAY3": pay3}
    return ids, seen


REASONS = (
    "not_client_billable_payments",
    "deleted_line_payments",
    "open_to_insurance",
    "posted_after_ending_date",
    "unapplied_credit",
    "not_client_billable_charges",
    "deleted_line_charges",
    "services_after_ending_date",
    "unexplained",
)


def figures(engine, at: dt.datetime | None) -> dict[str, object]:
    """What the four reports say as known at ``at``, in short."""
    data = {name: json.loads(made) for name, made in outputs(engine, at).items()}

    def differences(name: str) -> dict[str, tuple]:
        return {
            r["patient"]: (
                r["ledger_balance"],
                r["statement_balance"],
                r["difference"],
                {k: r[k] for k in REASONS if r[k] != "0.00"},
            )
            for r in data[name]["rows"]
        }

    return {
        "status": [
            r["status"]
            for patient in ("P1", "P2")
            for r in data[f"client-reconciliation {patient}"]["rows"]
        ],
        "balance-statement": [
            (r["description"][-9:-1], r["balance"]) for r in data["balance-statement P1"]["rows"]
        ],
        "ledger-statement": [
            (r["description"], r["balance"]) for r in data["ledger-statement P1"]["rows"]
        ],
        "balance-differences": differences("balance-differences"),
        "balance-differences 02-03": differences("balance-differences 02-03"),
    }


# What the reports said on each day as known at its noon (hand-checked): the lines' status
# (client-reconciliation, P1's three lines then P2's), P1's balance statement (line,
# balance) and ledger statement (description, running balance), and the explained
# difference of each patient (ledger, statement, difference, the reasons not zero), as of
# the latest effective date known and as of 2018-02-03.
P2_SETTLED = ("0.00", "0.00", "0.00", {})
CHARGES = [
    "90837 Therapy (L-000001); open to insurance",
    "90837 Therapy (L-000002)",
    "90837 Therapy (L-000003)",
]
DELETED_MARKS = [
    ("90837 Therapy (L-000003); deleted", "230.00"),
    ("payment PAY-000001 (cash); 20.00 was applied to L-000003: charge deleted", "170.00"),
    ("payment PAY-000002 (cash); 15.00 was applied to L-000003: charge deleted", "155.00"),
    ("charge deleted: 90837 Therapy (L-000003): keyed twice", "75.00"),
]
FIGURES: dict[int, dict[str, object]] = {
    # 230.00 charged, nothing paid; L1 was created open to insurance
    1: {
        "status": ["open to insurance", "closed", "closed", "closed"],
        "balance-statement": [("L-000002", "50.00"), ("L-000003", "80.00")],
        "ledger-statement": list(zip(CHARGES, ["100.00", "150.00", "230.00"], strict=True)),
        "balance-differences": {
            "P1": ("230.00", "130.00", "100.00", {"open_to_insurance": "100.00"}),
            "P2": ("60.00", "60.00", "0.00", {}),
        },
        "balance-differences 02-03": {
            "P1": ("230.00", "130.00", "100.00", {"open_to_insurance": "100.00"}),
            "P2": ("60.00", "60.00", "0.00", {}),
        },
    },
    # 75.00 received, 65.00 of it applied: 10.00 of PAY1 unapplied
    2: {
        "status": ["open to insurance", "closed", "closed", "closed"],
        "balance-statement": [("L-000002", "20.00"), ("L-000003", "45.00")],
        "ledger-statement": [
            *zip(CHARGES, ["100.00", "150.00", "230.00"], strict=True),
            ("payment PAY-000001 (cash)", "170.00"),
            ("payment PAY-000002 (cash)", "155.00"),
        ],
        "balance-differences": {
            "P1": (
                "155.00",
                "65.00",
                "90.00",
                {"open_to_insurance": "100.00", "unapplied_credit": "-10.00"},
            ),
            "P2": P2_SETTLED,
        },
        "balance-differences 02-03": {
            "P1": (
                "155.00",
                "65.00",
                "90.00",
                {"open_to_insurance": "100.00", "unapplied_credit": "-10.00"},
            ),
            "P2": P2_SETTLED,
        },
    },
    # L1 closed: on the statement, 100 + 20 + 45 = 165.00
    5: {
        "status": ["closed", "closed", "closed", "open to insurance"],
        "balance-statement": [("L-000001", "100.00"), ("L-000002", "20.00"), ("L-000003", "45.00")],
        "ledger-statement": [
            ("90837 Therapy (L-000001)", "100.00"),
            ("90837 Therapy (L-000002)", "150.00"),
            ("90837 Therapy (L-000003)", "230.00"),
            ("payment PAY-000001 (cash)", "170.00"),
            ("payment PAY-000002 (cash)", "155.00"),
        ],
        "balance-differences": {
            "P1": ("155.00", "165.00", "-10.00", {"unapplied_credit": "-10.00"}),
            "P2": P2_SETTLED,
        },
        "balance-differences 02-03": {
            "P1": ("155.00", "165.00", "-10.00", {"unapplied_credit": "-10.00"}),
            "P2": P2_SETTLED,
        },
    },
    # L3 deleted with its 35.00: credit again; 155 - 80 = 75.00; as of 02-03 the ledger
    # still has the charge: 155 - 120 = 35 = 80.00 - 35.00 - 10.00
    8: {
        "status": ["closed", "closed", "deleted", "open to insurance"],
        "balance-statement": [("L-000001", "100.00"), ("L-000002", "20.00")],
        "ledger-statement": [
            ("90837 Therapy (L-000001)", "100.00"),
            ("90837 Therapy (L-000002)", "150.00"),
            *DELETED_MARKS,
        ],
        "balance-differences": {
            "P1": (
                "75.00",
                "120.00",
                "-45.00",
                {"deleted_line_payments": "-35.00", "unapplied_credit": "-10.00"},
            ),
            "P2": P2_SETTLED,
        },
        "balance-differences 02-03": {
            "P1": (
                "155.00",
                "120.00",
                "35.00",
                {
                    "deleted_line_payments": "-35.00",
                    "unapplied_credit": "-10.00",
                    "deleted_line_charges": "80.00",
                },
            ),
            "P2": P2_SETTLED,
        },
    },
    # L1 and L2 open: nothing on the statement; open 100.00 + (50.00 - 30.00) = 120.00
    10: {
        "status": ["open to insurance", "open to insurance", "deleted", "open to insurance"],
        "balance-statement": [],
        "ledger-statement": [
            ("90837 Therapy (L-000001); open to insurance", "100.00"),
            ("90837 Therapy (L-000002); open to insurance", "150.00"),
            *DELETED_MARKS,
        ],
        "balance-differences": {
            "P1": (
                "75.00",
                "0.00",
                "75.00",
                {
                    "deleted_line_payments": "-35.00",
                    "open_to_insurance": "120.00",
                    "unapplied_credit": "-10.00",
                },
            ),
            "P2": P2_SETTLED,
        },
        "balance-differences 02-03": {
            "P1": (
                "155.00",
                "0.00",
                "155.00",
                {
                    "deleted_line_payments": "-35.00",
                    "open_to_insurance": "120.00",
                    "unapplied_credit": "-10.00",
                    "deleted_line_charges": "80.00",
                },
            ),
            "P2": P2_SETTLED,
        },
    },
    # L2 closed again: 20.00 on the statement
    12: {
        "status": ["open to insurance", "closed", "deleted", "closed"],
        "balance-statement": [("L-000002", "20.00")],
        "ledger-statement": [
            ("90837 Therapy (L-000001); open to insurance", "100.00"),
            ("90837 Therapy (L-000002)", "150.00"),
            *DELETED_MARKS,
        ],
        "balance-differences": {
            "P1": (
                "75.00",
                "20.00",
                "55.00",
                {
                    "deleted_line_payments": "-35.00",
                    "open_to_insurance": "100.00",
                    "unapplied_credit": "-10.00",
                },
            ),
            "P2": P2_SETTLED,
        },
        "balance-differences 02-03": {
            "P1": (
                "155.00",
                "20.00",
                "135.00",
                {
                    "deleted_line_payments": "-35.00",
                    "open_to_insurance": "100.00",
                    "unapplied_credit": "-10.00",
                    "deleted_line_charges": "80.00",
                },
            ),
            "P2": P2_SETTLED,
        },
    },
}


def test_as_known_at_the_reports_say_what_they_said_then(journal, engine) -> None:
    _, seen = journal
    for day, then in seen.items():
        # byte for byte what the four reports said that day, however the lines changed since
        assert outputs(engine, NOON[day]) == then, day
        assert figures(engine, NOON[day]) == FIGURES[day], day
    assert figures(engine, None) == FIGURES[12]


def test_a_downgrade_and_upgrade_rebuild_the_tables_identically(journal, migrating) -> None:
    engine = migrating
    ids, seen = journal
    written = history_rows(engine)
    with reading(engine) as conn:
        undone = conn.execute(
            select(t.entries.c.id, t.postings.c.payment_id, t.postings.c.line_id)
            .join(t.postings, t.postings.c.entry_id == t.entries.c.reverses)
            .where(
                t.entries.c.kind == EntryKind.UNALLOCATION.value,
                t.postings.c.account == Account.RECEIVABLE.value,
            )
            .order_by(t.entries.c.id)
        ).all()
    # the two un-allocations of the cascade: PAY1's 20.00 and PAY2's 15.00 on L3
    [(u1, *first), (u2, *second)] = undone
    assert (first, second) == ([ids["PAY1"], ids["L3"]], [ids["PAY2"], ids["L3"]])
    at = {day: utc(dt.datetime(2018, 2, day, 10)) for day in (5, 10, 12)}
    minute = dt.timedelta(minutes=1)
    assert written == {
        "insurance_status_changes": [
            (1, ids["L1"], "closed", "open", at[5]),
            (2, ids["L4"], "open", "closed", at[5] + minute),
            (3, ids["L1"], "open", "closed", at[10]),
            (4, ids["L2"], "open", "closed", at[10] + minute),
            (5, ids["L2"], "closed", "open", at[12]),
            (6, ids["L4"], "closed", "open", at[12] + minute),
        ],
        "deletion_unallocations": [(1, ids["L3"], u1), (2, ids["L3"], u2)],
    }
    before = {day: outputs(engine, NOON[day]) for day in seen}

    schema.downgrade(engine, "0010")
    assert not {"insurance_status_changes", "deletion_unallocations"} & set(
        inspect(engine).get_table_names()
    )
    schema.upgrade(engine)

    assert history_rows(engine) == written
    assert {day: outputs(engine, NOON[day]) for day in seen} == before == seen


CHANGES = {
    ("insurance_status_changes", "UPDATE"): "UPDATE insurance_status_changes SET status = previous",
    ("insurance_status_changes", "DELETE"): "DELETE FROM insurance_status_changes",
    ("deletion_unallocations", "UPDATE"): "UPDATE deletion_unallocations SET line_id = line_id",
    ("deletion_unallocations", "DELETE"): "DELETE FROM deletion_unallocations",
}


@pytest.mark.parametrize(("table", "action"), list(CHANGES))
def test_the_history_is_append_only(journal, engine, table: str, action: str) -> None:
    before = history_rows(engine)
    assert before[table]  # there is something to change
    with pytest.raises(DBAPIError, match=f"{table} is append-only"), engine.begin() as conn:
        conn.execute(text(CHANGES[table, action]))
    assert history_rows(engine) == before
