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


def test_migrations_run_down_and_up_again(engine) -> None:
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert schema.is_current(engine)
    assert {"entries", "postings", "audit_log", "ledger_clock"} <= set(
        inspect(engine).get_table_names()
    )
