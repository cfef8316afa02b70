"""The authorization matrix: every role, and nobody, against every page and endpoint, read
from the routes' own declarations (``page(Action.X)`` / ``api(Action.X)``) and the
permission matrix (``domain/permissions.py``), not written out a second time. Nobody is
sent to the login form (a page) or answered 401 (the API); a role the matrix allows is
neither refused nor sent to log in; any other role gets 403.

A request is sent with the harness practice's patient P1 for a ``{code}`` (another kind's
code P1 is not found: 404, let through), the user ``reception`` for a ``{name}`` (an
admin's run may disable them; it goes on as admin), ``patients`` for an import's
``{kind}``, and with no body: the permission is checked before the input is read, so an
allowed request may be refused as bad input (422), which still shows it was let through.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from clinicledger.domain.permissions import ROLES, Action, Role, may
from clinicledger.web.app import API, API_PREFIX, PAGES
from clinicledger.web.security import Needs

# The routes anyone may reach: the login form itself.
PUBLIC = {("GET", "/login"), ("POST", "/login")}
SAMPLES = {  # a value for each path parameter
    "code": "P1",
    "name": "debtors",
    "report": "debtors",
    "favourite": "none",
    "number": "INV-000001",
    "payment": "PAY-000001",
    "line": "L-000001",
    "kind": "patients",
}


def declared(route: APIRoute) -> list[Needs]:
    """The ``Needs`` a route declares (a page's or an endpoint's one action)."""
    found: list[Needs] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Needs):
            found.append(dependency.call)
        pending.extend(dependency.dependencies)
    return found


def routes() -> dict[tuple[str, str], Needs]:
    """(method, path) -> what it needs, for every route of the app's pages and API (as
    ``web/app.py`` includes them) but the public ones."""
    table: dict[tuple[str, str], Needs] = {}
    for prefix, routers in (("", PAGES), (API_PREFIX, API)):
        for router in routers:
            for route in router.routes:
                assert isinstance(route, APIRoute), route
                for method in sorted(route.methods):
                    path = prefix + route.path
                    if (method, path) in PUBLIC:
                        continue
                    needs = declared(route)
                    assert len(needs) == 1, f"{method} {path} declares {len(needs)} actions"
                    table[(method, path)] = needs[0]
    return table


def test_every_route_declares_one_action_or_is_public() -> None:
    table = routes()
    assert len(table) >= 13
    assert {needs.action for needs in table.values()} >= {Action.PATIENT_READ, Action.USER_MANAGE}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES[m.group(1)], path)


def _outcome(status: int, location: str) -> str:
    if status == 401 or (status == 303 and location.startswith("/login?next=")):
        return "login"
    if status == 403:
        return "403"
    return "allowed"


def _expected(role: Role | None, needs: Needs) -> str:
    if role is None:
        return "login"
    return "allowed" if needs.action is None or may(role, needs.action) else "403"


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: str(r or "nobody"))
def test_the_matrix(role: Role | None, app: FastAPI, browser, api) -> None:
    table = routes()
    expected = {route: _expected(role, needs) for route, needs in table.items()}
    found = {}
    for (method, path), needs in table.items():
        if needs.api:
            answer = api(role).request(method, _url(path))
        else:
            client = browser(role)
            answer = client.post(_url(path)) if method == "POST" else client.get(_url(path))
        found[(method, path)] = _outcome(answer.status_code, answer.headers.get("location", ""))
    assert found == expected
