"""Fixtures of the web tests: they live in ``harness.py``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clinicledger.domain.permissions import Role
from clinicledger.store.engine import make_engine
from clinicledger.web.app import create_app

pytest.register_assert_rewrite("web.harness", "tests.cli.harness")

from tests.cli.harness import build_practice, clean_environment  # noqa: E402, F401

from .harness import Browser, WebClock, add_logins, api_client, token_for  # noqa: E402


@pytest.fixture(autouse=True)
def _quick(quick_passwords: None) -> None:
    """Every web test logs in: argon2id at its least cost (tests/conftest.py)."""


@pytest.fixture(scope="session")
def desk_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The harness practice and its logins, built once per session into a SQLite file."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from clinicledger.services import users

    path = tmp_path_factory.mktemp("desk") / "desk.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(str(path))
    with pytest.MonkeyPatch.context() as patch:
        cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
        patch.setattr(users, "_PASSWORDS", cheap)
        build_practice(engine)
        add_logins(engine)
    engine.dispose()
    return path


@pytest.fixture
def desk(engine: Engine, request: pytest.FixtureRequest) -> Engine:
    """The practice and its logins in the test's ledger."""
    if engine.dialect.name != "sqlite":
        build_practice(engine)
        add_logins(engine)
        return engine
    engine.dispose()
    target = Path(str(engine.url.database))
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(request.getfixturevalue("desk_template"), target)
    return engine


@pytest.fixture
def web_clock() -> WebClock:
    return WebClock()


@pytest.fixture
def app(desk: Engine, web_clock: WebClock) -> FastAPI:
    return create_app(desk, clock=web_clock)


@pytest.fixture
def browser(app: FastAPI) -> Callable[[Role | None], Browser]:
    """``browser(role)``: a client logged in as that role's user (None: not logged in)."""

    def made(role: Role | None) -> Browser:
        client = Browser(app)
        return client if role is None else client.as_role(role)

    return made


@pytest.fixture
def api(app: FastAPI, desk: Engine) -> Callable[[Role | None], TestClient]:
    """``api(role)``: an API client with a token of that role's user (None: no token),
    made once per test."""

    tokens: dict[Role, str] = {}

    def made(role: Role | None) -> TestClient:
        if role is not None and role not in tokens:
            tokens[role] = token_for(desk, role)
        return api_client(app, None if role is None else tokens[role])

    return made
