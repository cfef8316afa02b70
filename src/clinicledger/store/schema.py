"""Creating and upgrading the schema, through Alembic only; and what state a database's
schema is in, read without Alembic (its import takes a tenth of a second, and every
command asks): the revision kept in ``alembic_version`` against the newest migration's.

Several ``init`` runs at once (a deployment started on several machines) upgrade one after
another: on PostgreSQL each takes an advisory lock in its migration's transaction before
Alembic reads the schema's revision, so a later one finds the schema made and has nothing to
do; on SQLite the migration's ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from clinicledger.domain.errors import InvariantBroken, Unavailable
from clinicledger.store import plain

MIGRATIONS = Path(__file__).parent / "migrations"
# The advisory lock that serialises migrations on PostgreSQL: any 64-bit number no other
# program takes in the ledger's database; the ASCII of "cl-schem".
MIGRATION_LOCK_KEY = 0x636C2D736368656D

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; refused on a database that holds something else, or
    that a newer clinicledger made."""
    _refuse_foreign(engine, state(engine))
    from alembic import command

    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run Alembic's ``step`` in one transaction, one migration at a time (see the module's
    docstring). On SQLite the foreign keys are off while it runs (a table rebuilt by a
    batch migration is dropped and made again) and checked before it commits."""
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        # the pragma has no effect inside a transaction: set on the driver's connection
        driver = conn.connection.dbapi_connection if sqlite else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                if not sqlite:  # held until this transaction ends, commit or rollback
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                config.attributes["connection"] = conn
                step(config, revision)
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise InvariantBroken("a migration left rows that break a foreign key")
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys = ON")


def state(engine: Engine) -> str:
    """``current`` (at the newest migration), ``outdated`` (an older one), ``empty`` (no
    tables yet), ``newer`` (a later migration than this clinicledger knows) or ``foreign``:
    tables but never a clinicledger ledger, or another program's migrations."""
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        tables = set(inspect(conn).get_table_names())
        current = (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if "alembic_version" in tables
            else None
        )
    if current is None:
        return "foreign" if tables - {"alembic_version"} else "empty"
    return plain.revision_state(current)


def _refuse_foreign(engine: Engine, found: str) -> None:
    if found == "foreign":
        raise not_a_ledger(engine)
    if found == "newer":
        raise plain.newer_ledger(_label(engine))


def require_current(engine: Engine) -> None:
    """A ledger at the newest migration: anything but creating or upgrading one needs it."""
    found = state(engine)
    _refuse_foreign(engine, found)
    if found != "current":
        raise Unavailable(
            "this database is not initialised or is out of date",
            code="not_initialised",
            field="db",
        )


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    return state(engine) == "current"


def not_a_ledger(engine: Engine) -> Unavailable:
    return plain.not_a_ledger(_label(engine), foreign=True)


def _label(engine: Engine) -> str:
    """The database as a message names it: a SQLite file's path, else the URL without its
    password."""
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    return engine.url.render_as_string(hide_password=True)
