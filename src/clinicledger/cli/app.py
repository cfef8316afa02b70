"""``clinicledger [--db URL] [--now TIMESTAMP [--allow-future-clock]] [--actor NAME | --user NAME]
[--json] COMMAND ...``: the application, its global options, the settings every command
reads, and :func:`needs`, with which each command declares its action of the permission
matrix (``domain/permissions.py``).

The command surface is a contract (issue 2): add freely, never rename.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from clinicledger.cli.parse import parse_instant
from clinicledger.domain.dates import CLOCK_AHEAD_MAX, DATE_LAST
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.permissions import Action, require
from clinicledger.store import plain
from clinicledger.store.plain import PlainSqlite


def later(name: str) -> ModuleType:
    """The module ``name``, loaded when it is first used rather than now. A command's module
    names the services it calls, and a command loads only what it runs: help needs no
    database library, which alone takes 0.2 s to import (start-up, issue 9)."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from clinicledger.services import users
    from clinicledger.services.users import Caller
    from clinicledger.store import engine as store_engine
    from clinicledger.store import schema, uow
    from clinicledger.store.engine import Engine
    from clinicledger.store.uow import UnitOfWork
else:
    store_engine = later("clinicledger.store.engine")
    schema = later("clinicledger.store.schema")
    uow = later("clinicledger.store.uow")
    users = later("clinicledger.services.users")

DEFAULT_DB = "./clinicledger.db"


def os_user() -> str:
    """Who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"uid {os.getuid()}"


@dataclass
class Settings:
    """What the global options say, for one run of the command line."""

    db: str = DEFAULT_DB
    now_text: str | None = None
    allow_future_clock: bool = False
    actor: str | None = None
    user: str | None = None  # --user: a user of the ledger, whose role is checked
    as_json: bool = False
    debug: bool = False
    create: bool = False  # init and demo may create the database
    _engine: Engine | None = None
    _caller: Caller | None = None

    @property
    def engine(self) -> Engine:
        """The ledger's database, opened on first use (so that help needs none); anything
        but init and demo needs it at the newest migration."""
        if self._engine is None:
            engine = store_engine.open_engine(self.db, create=self.create)
            self._engine = engine
            if not self.create:
                schema.require_current(engine)
        return self._engine

    def reader(self) -> Engine | PlainSqlite:
        """What a command that only reads ``store.lookups`` reads from: a SQLite file opened
        without SQLAlchemy (a tenth of the start-up), else the engine."""
        path = plain.sqlite_file(self.db)
        if path is None or self._engine is not None:
            return self.engine
        return plain.PlainSqlite.open(path)

    def clock(self) -> dt.datetime:
        """The command's clock: ``--now`` (a naive time is the practice's), or the real one."""
        if self.now_text is not None:
            return parse_instant(self.now_text, field="now")
        return dt.datetime.now(dt.UTC)

    def who(self) -> str:
        """The actor of what this command records: the ``--user``, else ``--actor``, else
        the operating-system user."""
        if self._caller is not None:
            return self._caller.name
        return os_user() if self.actor is None else self.actor

    def uow(self) -> UnitOfWork:
        return uow.UnitOfWork(
            self.engine,
            now=self.clock(),
            actor=self.who(),
            strict_clock=self.now_text is not None,
            allow_future_clock=self.allow_future_clock,
        )

    def authorise(self, action: Action) -> None:
        """Refuse ``action`` unless ``--user``'s role may do it (a disabled or unknown user
        is refused too). Without ``--user`` the command line is the machine's own operator,
        who may do everything: whoever can run it can open the ledger's file anyway."""
        if self.user is None:
            return
        if self._caller is None:
            if self.create:  # init and demo open a database that may not be a ledger yet
                schema.require_current(self.engine)
            self._caller = users.user_caller(self.engine, self.user)
        require(self._caller.role, action)

    def close(self) -> None:
        self._caller = None  # read from the ledger: another run, another ledger
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


settings = Settings()

# Plain help, not Rich's: Rich's help box shows a flag as "<bool>" and wraps the
# descriptions of long option lists into a narrow column.
app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    help="Accounts receivable and practice billing for health practices.",
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Database URL or SQLite file path "
            "(default: $CLINICLEDGER_DB, else ./clinicledger.db)",
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            metavar="TIMESTAMP",
            help="Clock for the entries this command records, for back-entry of history "
            "(default: $CLINICLEDGER_NOW, else the real clock)",
        ),
    ] = None,
    allow_future_clock: Annotated[
        bool,
        typer.Option(
            "--allow-future-clock",
            help=f"Let --now be more than {CLOCK_AHEAD_MAX // dt.timedelta(minutes=1)} minutes "
            "ahead of the real clock (for tests and for reproducing history; "
            f"never after {DATE_LAST.isoformat()})",
        ),
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Who is doing this, on every entry and audit record "
            "(default: $CLINICLEDGER_ACTOR, else your login name)",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Act as this user of the ledger: their role must allow the command, and "
            "they are its actor (default: $CLINICLEDGER_USER, else the machine's operator, "
            "who may do everything)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    settings.close()  # a second run() in one process: its own --db
    settings.create = ctx.invoked_subcommand in ("init", "demo")
    settings.db = db or os.environ.get("CLINICLEDGER_DB") or DEFAULT_DB
    settings.now_text = now or os.environ.get("CLINICLEDGER_NOW") or None
    settings.allow_future_clock = allow_future_clock
    # an empty --actor is refused (by the unit of work), not taken as no --actor
    settings.actor = actor if actor is not None else os.environ.get("CLINICLEDGER_ACTOR") or None
    settings.user = user if user is not None else os.environ.get("CLINICLEDGER_USER") or None
    settings.as_json = as_json
    if settings.user is not None and settings.actor is not None:
        raise InvalidInput(
            "actor", "give --user or --actor, not both (a user is the actor)", code="actor_conflict"
        )
    settings.debug = debug


def sub_app(name: str, help: str) -> typer.Typer:
    """A ``clinicledger NOUN`` group of commands."""
    group = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group


IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        metavar="KEY",
        help="Post once: the same key again returns the first result (for scripts that retry)",
    ),
]


C = TypeVar("C", bound=Callable[..., Any])


def needs(action: Action) -> Callable[[C], C]:
    """Declare the action of the permission matrix that a command does, under its
    ``@group.command(...)``; with ``--user`` the user's role is checked before it runs
    (:meth:`Settings.authorise`). Every command declares one (tests/cli/test_users.py)."""

    def declare(command: C) -> C:
        @functools.wraps(command)
        def checked(*args: Any, **kwargs: Any) -> Any:
            settings.authorise(action)
            return command(*args, **kwargs)

        checked.action = action  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return declare
