"""The schema comes from the migrations, matches the tables module, and runs down and up."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from clinicledger.store import schema
from clinicledger.store.tables import metadata


def test_migrations_match_the_tables_module(engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_the_newest_migration_is_alembics_head() -> None:
    """The schema's state is read without Alembic, from the migrations' numbers: they must
    run in the order of their numbers, one after another."""
    from alembic.script import ScriptDirectory

    from clinicledger.store.plain import head_revision, schema_revisions

    scripts = ScriptDirectory.from_config(schema.alembic_config())
    assert scripts.get_current_head() == head_revision()
    ordered = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert ordered == sorted(schema_revisions())


def test_migrations_run_down_and_up_again(engine) -> None:
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert schema.is_current(engine)
    assert {"entries", "postings", "audit_log", "ledger_clock"} <= set(
        inspect(engine).get_table_names()
    )


def test_a_ledger_with_history_migrates_down_and_up_again(engine, clock) -> None:
    """The migrations of this change (0010-0012) run down and up over rows that other
    tables reference: SQLite rebuilds a table to drop a column, with its foreign keys."""
    import datetime as dt

    from tests.cli.harness import snapshot

    from clinicledger.domain.choices import InsuranceStatus, LineKind, PaymentMethod
    from clinicledger.services import invoicing, masters, payments
    from clinicledger.services.invoicing import LineSpec

    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    masters.add_provider(clock.uow(), code="DR1", name="Dr Rowan Vale")
    masters.add_patient(clock.uow(), code="P1", name="Ivy Marlowe")
    masters.add_item(clock.uow(), code="500", description="Consultation", fee_cents=10000)
    day = dt.date(2018, 1, 1)
    spec = LineSpec(kind=LineKind.SERVICE, item_code="500", provider_code="DR1", service_date=day)
    [line] = invoicing.create_invoice(
        clock.uow(), invoicing.CreateInvoice(patient_code="P1", location_code="MAIN", lines=(spec,))
    ).lines
    paid = payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=4000,
            method=PaymentMethod.CASH,
            received_date=day,
            location_code="MAIN",
        ),
        idempotency_key="desk-1",
    )
    payments.allocate(clock.uow(), payments.Allocate(payment_id=paid, targets=((line.id, 4000),)))
    invoicing.set_insurance_status(
        clock.uow(), invoicing.SetInsuranceStatus(line_id=line.id, status=InsuranceStatus.OPEN)
    )
    invoicing.delete_line(
        clock.uow(), invoicing.DeleteLine(line_id=line.id, reason="keyed twice", cascade=True)
    )
    before = snapshot(engine)

    schema.downgrade(engine, "0009")
    assert "idempotency_keys" not in inspect(engine).get_table_names()
    schema.upgrade(engine)

    after = snapshot(engine)
    # below 0012 and 0013 a ledger keeps no idempotency keys, and no record of which
    # entries each audit record named: those are lost; everything else comes back
    assert after.pop("idempotency_keys") == []
    for lost in ("idempotency_keys", "audit_log", "ledger_clock"):
        before.pop(lost)
    after.pop("audit_log")
    after.pop("ledger_clock")
    assert after == before
