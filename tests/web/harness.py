"""What the page, API, matrix and browser tests share: the harness practice of
``tests/cli/harness.py`` with one login per role, the web app over it with a clock the test
moves, and clients signed in by session (pages) or by token (API).

Logins: ``reception``, ``billing``, ``manager``, ``admin``, each with the password
``<role>-password-1``. The app's clock is 2024-03-02 11:00 at the practice (Sydney), the
command line harness's "today".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clinicledger.domain.permissions import ROLES, Role
from clinicledger.services import users
from clinicledger.store.uow import UnitOfWork

NOW = dt.datetime(2024, 3, 2, 0, 0, tzinfo=dt.UTC)
_HIDDEN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def password(role: Role) -> str:
    return f"{role.value}-password-1"


class WebClock:
    """The app's clock: aware, moved on by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def add_logins(engine: Engine) -> None:
    for role in ROLES:
        users.add_user(
            UnitOfWork(engine, now=NOW, actor="system"),
            users.AddUser(name=role.value, role=role, password=password(role)),
        )


def token_for(engine: Engine, role: Role) -> str:
    made = users.create_token(
        UnitOfWork(engine, now=NOW, actor="admin"),
        users.CreateToken(name=f"{role.value}-script", user=role.value),
    )
    return made.secret


def csrf_in(page: str) -> str:
    found = _HIDDEN_TOKEN.search(page)
    assert found is not None, page
    return found.group(1)


class Browser:
    """A TestClient that keeps its cookies, logs in through the form, and sends the
    session's CSRF token with every form it posts."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        self.csrf = ""

    def log_in(self, name: str, secret: str, *, next_path: str = "/") -> httpx.Response:
        form = self.client.get("/login")
        answer = self.client.post(
            "/login",
            data={
                "name": name,
                "password": secret,
                "csrf_token": csrf_in(form.text),
                "next": next_path,
            },
        )
        if answer.status_code == 303:
            self.csrf = csrf_in(self.client.get("/").text)
        return answer

    def as_role(self, role: Role) -> Browser:
        answer = self.log_in(role.value, password(role))
        assert answer.status_code == 303, answer.text
        return self

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.client.get(path, **options)

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.client.post(path, data=form)


def api_client(app: FastAPI, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, raise_server_exceptions=False, headers=headers)
