"""Users, sessions, API tokens and the lockout after failed logins, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from clinicledger.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from clinicledger.domain.permissions import Role
from clinicledger.services import users
from clinicledger.store.engine import make_engine
from clinicledger.store.uow import UnitOfWork

START = dt.datetime(2024, 3, 2, 0, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


class Moments:
    """The web's clock in these tests: aware, moved on by hand."""

    def __init__(self) -> None:
        self.now = START

    def uow(self, engine, actor: str = "admin") -> UnitOfWork:
        return UnitOfWork(engine, now=self.now, actor=actor)


@pytest.fixture
def moments(clock) -> Moments:  # clock: an initialised ledger
    return Moments()


def add(engine, moments: Moments, name: str = "rita", role: Role = Role.RECEPTION) -> int:
    return users.add_user(
        moments.uow(engine), users.AddUser(name=name, role=role, password=PASSWORD)
    )


def log_in(engine, moments: Moments, name: str = "rita", password: str = PASSWORD):
    return users.log_in(
        moments.uow(engine, users.login_actor(name)), users.LogIn(name=name, password=password)
    )


def audit_actions(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT actor, action, subject FROM audit_log WHERE action NOT LIKE 'practice%'"
                    " ORDER BY id"
                )
            )
        ]


def test_a_user_is_added_listed_and_audited(engine, moments) -> None:
    add(engine, moments)
    add(engine, moments, "bill", Role.BILLING)
    assert [(u.name, u.role, u.active) for u in users.list_users(engine)] == [
        ("bill", Role.BILLING, True),
        ("rita", Role.RECEPTION, True),
    ]
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert audit_actions(engine) == [
        ("admin", "user.create", "user:rita"),
        ("admin", "user.create", "user:bill"),
    ]


def test_a_taken_name_a_short_password_and_a_bad_name_are_refused(engine, moments) -> None:
    add(engine, moments)
    with pytest.raises(Conflict) as taken:
        add(engine, moments)
    assert (taken.value.code, taken.value.field) == ("name_taken", "name")
    with pytest.raises(InvalidInput) as short:
        users.AddUser(name="sam", role=Role.ADMIN, password="short")
    assert short.value.code == "password_length"
    with pytest.raises(InvalidInput) as bad:
        users.AddUser(name="sam smith", role=Role.ADMIN, password=PASSWORD)
    assert (bad.value.code, bad.value.field) == ("code_malformed", "name")


def test_a_login_starts_a_session_that_reads_back_its_user(engine, moments) -> None:
    add(engine, moments)
    started = log_in(engine, moments)
    assert started.caller.name == "rita" and started.caller.role is Role.RECEPTION
    found = users.session_caller(engine, started.secret, now=moments.now)
    assert found.caller == started.caller and not found.stale
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT session_hash FROM sessions")).scalar_one()
    assert kept != started.secret and len(kept) == 64  # only its hash is kept
    assert audit_actions(engine)[-1] == ("rita", "session.start", "user:rita")


def test_a_session_ends_at_logout_when_idle_and_when_too_old(engine, moments) -> None:
    add(engine, moments)
    ended = log_in(engine, moments)
    users.log_out(moments.uow(engine, "rita"), ended.caller)
    with pytest.raises(Unauthenticated):
        users.session_caller(engine, ended.secret, now=moments.now)

    idle = log_in(engine, moments)
    moments.now += users.SESSION_IDLE - dt.timedelta(seconds=1)
    assert users.session_caller(engine, idle.secret, now=moments.now).stale
    moments.now += dt.timedelta(seconds=2)
    with pytest.raises(Unauthenticated):
        users.session_caller(engine, idle.secret, now=moments.now)

    busy = log_in(engine, moments)
    busy_since = moments.now
    step = users.SESSION_IDLE - dt.timedelta(minutes=1)
    while moments.now + step <= busy_since + users.SESSION_LIFETIME:
        moments.now += step
        found = users.session_caller(engine, busy.secret, now=moments.now)
        users.touch_session(moments.uow(engine, "rita"), busy.caller.session_id)
        assert found.caller.name == "rita"
    moments.now += step
    with pytest.raises(Unauthenticated):  # used all day, still ended after its lifetime
        users.session_caller(engine, busy.secret, now=moments.now)


def test_wrong_passwords_lock_a_name_out_for_its_window_across_processes(engine, moments) -> None:
    add(engine, moments)
    for _ in range(users.LOGIN_FAILURES_MAX):
        with pytest.raises(Unauthenticated) as wrong:
            log_in(engine, moments, password="not the password")
        assert wrong.value.code == "login_failed"
        moments.now += dt.timedelta(seconds=10)
    # another process, another engine: the failures are in the database
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with pytest.raises(Unauthenticated) as locked:
            log_in(other, moments)  # the right password: still refused
        assert (locked.value.code, locked.value.message) == (
            "login_locked",
            "too many failed logins for 'rita': try again in 15 minutes",
        )
        moments.now += users.LOGIN_WINDOW - dt.timedelta(seconds=60)
        with pytest.raises(Unauthenticated) as still:
            log_in(other, moments)
        assert still.value.code == "login_locked"
        moments.now += dt.timedelta(seconds=60)  # the first failure has left the window
        assert log_in(other, moments).caller.name == "rita"
    finally:
        other.dispose()
    with engine.connect() as conn:  # a login clears the name's failures
        assert conn.execute(text("SELECT count(*) FROM login_failures")).scalar_one() == 0
    assert ("rita", "login.refused", "user:rita") in audit_actions(engine)


def test_an_unknown_name_fails_like_a_wrong_password_and_is_counted(engine, moments) -> None:
    with pytest.raises(Unauthenticated) as unknown:
        log_in(engine, moments, name="nobody")
    assert (unknown.value.code, unknown.value.message) == (
        "login_failed",
        "the name or the password is wrong",
    )
    with pytest.raises(Unauthenticated) as garbage:
        log_in(engine, moments, name="\x1b[2J")
    assert garbage.value.code == "login_failed"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_name FROM login_failures")).scalars().all() == [
            "nobody"
        ]


def test_a_disabled_user_is_out_at_once_sessions_and_tokens(engine, moments) -> None:
    add(engine, moments)
    session = log_in(engine, moments)
    token = users.create_token(moments.uow(engine), users.CreateToken(name="desk", user="rita"))
    assert token.secret.startswith(users.TOKEN_PREFIX)
    assert users.token_caller(engine, token.secret).name == "rita"
    assert users.disable_user(moments.uow(engine), users.DisableUser(name="rita"))
    assert not users.disable_user(moments.uow(engine), users.DisableUser(name="rita"))
    with pytest.raises(Unauthenticated):
        users.session_caller(engine, session.secret, now=moments.now)
    with pytest.raises(Unauthenticated):
        users.token_caller(engine, token.secret)
    with pytest.raises(Unauthenticated) as refused:
        log_in(engine, moments)
    assert refused.value.code == "login_failed"
    with pytest.raises(Forbidden) as disabled:
        users.user_caller(engine, "rita")
    assert disabled.value.code == "user_disabled"
    # enabled again: a new login works, the old token stays revoked
    assert users.enable_user(moments.uow(engine), users.EnableUser(name="rita"))
    assert log_in(engine, moments).caller.name == "rita"
    with pytest.raises(Unauthenticated):
        users.token_caller(engine, token.secret)


def test_a_disabled_users_session_stops_even_if_only_the_flag_changed(engine, moments) -> None:
    """The guarantee is the read of the user's state with every session, not only the
    sessions ended when the user is disabled."""
    add(engine, moments)
    session = log_in(engine, moments)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = :no"), {"no": False})
    with pytest.raises(Unauthenticated):
        users.session_caller(engine, session.secret, now=moments.now)


def test_a_new_role_applies_from_the_next_request(engine, moments) -> None:
    add(engine, moments)
    session = log_in(engine, moments)
    assert users.set_role(moments.uow(engine), users.SetRole(name="rita", role=Role.MANAGER))
    assert not users.set_role(moments.uow(engine), users.SetRole(name="rita", role=Role.MANAGER))
    assert users.session_caller(engine, session.secret, now=moments.now).caller.role is Role.MANAGER
    assert audit_actions(engine)[-1] == ("admin", "user.update", "user:rita")


def test_a_new_password_ends_the_sessions(engine, moments) -> None:
    add(engine, moments)
    session = log_in(engine, moments)
    users.set_password(
        moments.uow(engine), users.SetPassword(name="rita", password="a new one, long")
    )
    with pytest.raises(Unauthenticated):
        users.session_caller(engine, session.secret, now=moments.now)
    with pytest.raises(Unauthenticated):
        log_in(engine, moments)
    assert log_in(engine, moments, password="a new one, long").caller.name == "rita"


def test_tokens_are_named_once_and_revoked(engine, moments) -> None:
    add(engine, moments)
    made = users.create_token(moments.uow(engine), users.CreateToken(name="ci", user="rita"))
    with pytest.raises(Conflict) as taken:
        users.create_token(moments.uow(engine), users.CreateToken(name="ci", user="rita"))
    assert taken.value.code == "name_taken"
    with pytest.raises(NotFound):
        users.create_token(moments.uow(engine), users.CreateToken(name="x", user="nobody"))
    assert users.revoke_token(moments.uow(engine), users.RevokeToken(name="ci"))
    assert not users.revoke_token(moments.uow(engine), users.RevokeToken(name="ci"))
    with pytest.raises(Unauthenticated):
        users.token_caller(engine, made.secret)
    with pytest.raises(Unauthenticated):
        users.token_caller(engine, "clt_not-a-token-at-all")


def test_the_demo_logins_get_new_passwords_every_run(engine, moments) -> None:
    first = users.demo_logins(lambda: moments.uow(engine))
    second = users.demo_logins(lambda: moments.uow(engine))
    assert [(d.name, d.role) for d in first] == [(r.value, r) for r in Role]
    assert all(a.password != b.password for a, b in zip(first, second, strict=True))
    assert log_in(engine, moments, "manager", second[2].password).caller.role is Role.MANAGER
