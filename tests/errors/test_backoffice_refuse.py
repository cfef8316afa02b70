"""Refusals only the back office's pages give: a new user's password typed twice, not the
same. The form keeps the name and the role, never a password, and nothing is written."""

from __future__ import annotations

import pytest
from tests.web.harness import Browser, WebClock, add_logins

from clinicledger.domain.permissions import Role
from clinicledger.web.app import create_app

from .reproduce import snapshot

pytestmark = pytest.mark.usefixtures("quick_passwords")


def test_a_new_users_passwords_differ(engine, practice) -> None:
    add_logins(engine)
    admin = Browser(create_app(engine, clock=WebClock())).as_role(Role.ADMIN)
    before = snapshot(engine)
    answer = admin.post(
        "/users/new",
        {
            "name": "quinn",
            "role": "manager",
            "password": "quinn-pass-word-1",
            "password_again": "quinn-pass-word-2",
        },
    )
    assert answer.status_code == 422
    assert (
        '<p class="error" id="password_again-error" data-refused="password_mismatch">'
        "the two passwords differ: type it twice</p>"
    ) in answer.text
    assert 'value="quinn"' in answer.text and "quinn-pass-word" not in answer.text
    assert snapshot(engine) == before
