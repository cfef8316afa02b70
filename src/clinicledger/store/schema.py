"""Creating and upgrading the schema, through Alembic only."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from clinicledger.domain.errors import Unavailable
from clinicledger.store import engine as engine_module

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; refused on a database that holds something else."""
    if state(engine) == "foreign":
        raise not_a_ledger(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def state(engine: Engine) -> str:
    """``current`` (at the newest migration), ``outdated`` (an older one), ``empty`` (no
    tables yet) or ``foreign`` (tables, but never a clinicledger ledger)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current is None:
            others = set(inspect(conn).get_table_names()) - {"alembic_version"}
            return "foreign" if others else "empty"
    return "current" if current == head else "outdated"


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    return state(engine) == "current"


def not_a_ledger(engine: Engine) -> Unavailable:
    label = engine.url.render_as_string(hide_password=True)
    if engine.dialect.name == "sqlite":
        label = str(engine.url.database)
    return engine_module.not_a_ledger(label, foreign=True)
