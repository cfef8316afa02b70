"""The schema comes from the migrations, matches the tables module, and runs down and up."""

from __future__ import annotations

import re
import shutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from tests.conftest import Clock

from clinicledger.services import masters
from clinicledger.store import lookups, schema
from clinicledger.store.engine import make_engine
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


# Migration 0019: each index of the postings by a key holds only the postings that have one
SPARSE_INDEXES = {
    "ix_postings_patient": "patient_id",
    "ix_postings_payer": "payer_id",
    "ix_postings_line": "line_id",
    "ix_postings_payment": "payment_id",
    "ix_postings_invoice": "invoice_id",
}


def test_the_postings_indexes_by_a_key_keep_only_postings_that_have_it(engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = dict(
                conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'postings'"
                ).all()
            )
            expected = {name: f"WHERE {key} IS NOT NULL" for name, key in SPARSE_INDEXES.items()}
        else:
            found = dict(
                conn.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'postings'"
                ).all()
            )
            expected = {name: f"WHERE ({key} IS NOT NULL)" for name, key in SPARSE_INDEXES.items()}
    for name, where in expected.items():
        assert found[name].endswith(where), found[name]
    assert "WHERE" not in found["ix_postings_account_effective"]
    # migration 0020: only the receivable's side of money applied to a line (PostgreSQL
    # writes the list as an array, with casts)
    condition = found["ix_postings_applied"].split(" WHERE ")[1]
    condition = re.sub(r"::(text|character varying)|\[\]|[()\]]", "", condition).replace(
        "= ANY ARRAY[", "IN "
    )
    assert condition == (
        "account = 'RECEIVABLE' AND entry_kind IN 'allocation', 'credit_applied', 'unallocation'"
    )


# A statement naming the key can use its index (PostgreSQL's planner is kept off a sequential
# scan of the empty tables, to show that it may), and on SQLite a join on it too (which of
# its plans PostgreSQL picks for a join over empty tables shows nothing)
KEYED_STATEMENTS = {
    "ix_postings_line": "SELECT sum(p.amount_cents) FROM postings AS p "
    "WHERE p.line_id = 7 AND p.account = 'RECEIVABLE'",
    "ix_postings_payer": "SELECT sum(p.amount_cents) FROM postings AS p "
    "WHERE p.payer_id = 7 AND p.account = 'RECEIVABLE'",
    "ix_postings_patient": "SELECT sum(p.amount_cents) FROM postings AS p "
    "WHERE p.patient_id = 7 AND p.account = 'RECEIVABLE' AND p.payer_id IS NULL",
    "ix_postings_payment": "SELECT sum(p.amount_cents) FROM postings AS p "
    "WHERE p.payment_id = 7 AND p.account = 'UNALLOCATED'",
    "ix_postings_invoice": "SELECT p.id FROM postings AS p WHERE p.invoice_id = 7",
}
JOINED_STATEMENT = (
    "SELECT l.id, sum(p.amount_cents) FROM lines AS l JOIN postings AS p ON p.line_id = l.id "
    "WHERE l.invoice_id = 7 AND p.account = 'RECEIVABLE' GROUP BY l.id"
)


def _plan(conn, statement: str, parameters: object = ()) -> str:
    """``statement``'s plan, with ``parameters`` as its driver takes them."""
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return " ".join(r[3] for r in driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return " ".join(r[0] for r in driver.execute(f"EXPLAIN {statement}", parameters or None))


def test_a_statement_naming_a_key_uses_its_index(engine) -> None:
    with engine.connect() as conn, conn.begin():
        for name, statement in KEYED_STATEMENTS.items():
            assert name in _plan(conn, statement), (name, _plan(conn, statement))
        if engine.dialect.name == "sqlite":
            assert "ix_postings_line" in _plan(conn, JOINED_STATEMENT)


def test_a_lines_portion_owed_by_a_payer_is_read_by_the_lines_index(
    tmp_path, sqlite_template
) -> None:
    """Not the payer's, whatever SQLite knows of the indexes: with the statistics of a
    ledger whose postings' other indexes were analysed (as a bench ledger's were before its
    upgrade to 0019) it took the payer's, all of a large payer's postings, for want of a
    reason to prefer either."""
    owed = lookups._LINE_OWING[False].sqlite.replace(":line_id", "7").replace(":payer_id", "3")
    path = tmp_path / "ledger.db"
    shutil.copy(sqlite_template, path)
    with make_engine(str(path)).connect() as conn, conn.begin():
        conn.exec_driver_sql("ANALYZE")  # makes sqlite_stat1
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")
        conn.exec_driver_sql(
            "INSERT INTO sqlite_stat1 VALUES ('postings', 'ix_postings_entry_id', '8479590 3'),"
            " ('postings', 'ix_postings_account_effective', '5632032 401 201')"
        )
        conn.exec_driver_sql("ANALYZE sqlite_schema")  # the statistics read again
        plan = _plan(conn, owed)
    assert "ix_postings_line" in plan and "ix_postings_payer" not in plan, plan


def _income_allocation_statement(engine, monkeypatch) -> tuple[str, object]:
    """The statement income allocation runs for a month, as the driver is given it."""
    import datetime as dt

    from clinicledger.reports.base import ReportParams
    from clinicledger.reports.income_allocation import streamed_income_allocation
    from clinicledger.store import ledger

    queries = []
    monkeypatch.setattr(ledger, "stream_rows", lambda _conn, query: queries.append(query))
    params = ReportParams(from_date=dt.date(2025, 3, 1), to_date=dt.date(2025, 3, 31))
    with engine.connect() as conn, conn.begin():
        streamed_income_allocation(conn, params)
        (query,) = queries
        return ledger.driver_statement(conn, query)


def test_income_allocation_reads_the_applied_postings_in_order_from_their_index(
    engine, clock, monkeypatch
) -> None:
    """Migration 0020: a period's allocations are one range of ix_postings_applied, read
    from it alone and in order (each part merged, not the whole sorted); the statement
    writes the index's condition as constants, without which SQLite cannot use it."""
    statement, parameters = _income_allocation_statement(engine, monkeypatch)
    assert "postings.account = 'RECEIVABLE'" in statement
    with engine.connect() as conn, conn.begin():
        plan = _plan(conn, statement, parameters)
        if engine.dialect.name == "sqlite":
            assert "COVERING INDEX ix_postings_applied" in plan, plan
            assert "MERGE (UNION ALL)" in plan and "TEMP B-TREE" not in plan  # no sort
        else:
            assert "ix_postings_applied" in plan, plan


def test_income_allocation_keeps_its_index_whatever_sqlite_knows(
    tmp_path, sqlite_template, monkeypatch
) -> None:
    """With the statistics of a ledger analysed before its upgrade to 0020 (the account's
    index said to narrow a receivable's postings to 401), and with none at all."""
    path = tmp_path / "ledger.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(str(path))
    masters.init_ledger(engine, Clock(engine).uow)
    statement, parameters = _income_allocation_statement(engine, monkeypatch)
    for stats in (
        "('postings', 'ix_postings_entry_id', '8479590 3'), "
        "('postings', 'ix_postings_account_effective', '5632032 401 201')",
        None,
    ):
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("ANALYZE")  # makes sqlite_stat1
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
            if stats is not None:
                conn.exec_driver_sql(f"INSERT INTO sqlite_stat1 VALUES {stats}")
            conn.exec_driver_sql("ANALYZE sqlite_schema")  # the statistics read again
            plan = _plan(conn, statement, parameters)
        assert "COVERING INDEX ix_postings_applied" in plan, (stats, plan)
    engine.dispose()
