"""Users and their logins: adding users with a role of the permission matrix
(``domain/permissions.py``), changing and disabling them, API tokens, and the web's
sessions with their lockout after repeated failed logins.

Each use case is one function over a frozen command and one transaction with its audit
record, as everywhere; they are not ``@use_case`` functions because they move no money and
take no idempotency key, and a command holding a password must never be kept whole (the
idempotency table keeps commands). A secret is stored only as a hash: a password with
argon2id, a session id and an API token (random, 256 bits) with SHA-256.

Sessions: a login starts one, identified by a random id in the browser's cookie. It ends
at logout, after :data:`SESSION_IDLE` without a request, after :data:`SESSION_LIFETIME`
whatever happens, and at once when its user is disabled (every request reads the user's
state with the session). Failed logins are kept by name in the database: after
:data:`LOGIN_FAILURES_MAX` of them within :data:`LOGIN_WINDOW`, a login with that name is
refused until the window has passed, in every process and across restarts.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from clinicledger.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    UserError,
)
from clinicledger.domain.permissions import ROLES, Role
from clinicledger.domain.text import check_code, check_plain
from clinicledger.store import users
from clinicledger.store.engine import Engine
from clinicledger.store.lookups import to_naive_utc
from clinicledger.store.uow import UnitOfWork, reading

PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 200  # bounds the work of hashing what a login form is sent
LOGIN_FAILURES_MAX = 5
LOGIN_WINDOW = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(minutes=30)
SESSION_LIFETIME = dt.timedelta(hours=12)  # a working day, however busy
SESSION_TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale "last seen" may be (a write each)
TOKEN_PREFIX = "clt_"  # so that a token pasted where it should not be is recognisable

# argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 0.1 s here, where the
# library's default (64 MiB, 3 passes, 4 lanes) takes 0.4 s of a 2-core machine per login.
_PASSWORDS = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1),))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@functools.cache
def _unknown_user_hash() -> str:
    """A hash to check a password against when the name is no user's, so that a login
    takes as long whether or not the name exists."""
    return _PASSWORDS.hash(secrets.token_urlsafe(16))


def _check_password(password: str) -> str:
    check_plain(password, field="password")
    if not PASSWORD_LENGTH_MIN <= len(password) <= PASSWORD_LENGTH_MAX:
        raise InvalidInput(
            "password",
            f"a password is {PASSWORD_LENGTH_MIN}-{PASSWORD_LENGTH_MAX} characters long",
            code="password_length",
        )
    return password


def _user_name(name: str, *, field: str = "name") -> str:
    return check_code(name, field=field)


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Who is asking, as every door knows them once they are signed in: a user's name (the
    actor of what they do) and role; a web session also has its id and CSRF token."""

    name: str
    role: Role
    session_id: int | None = None
    csrf_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserView:
    name: str
    role: Role
    active: bool
    created_at: dt.datetime  # naive UTC
    changed_at: dt.datetime


def _view(record: users.UserRecord) -> UserView:
    return UserView(
        name=record.name,
        role=record.role,
        active=record.active,
        created_at=record.created_at,
        changed_at=record.changed_at,
    )


def _existing(uow: UnitOfWork, name: str, *, field: str = "name") -> users.UserRecord:
    found = users.user(uow.conn, _user_name(name, field=field))
    if found is None:
        raise NotFound("user", f"'{name}'", field=field)
    return found


# ---------------------------------------------------------------- users


@dataclass(frozen=True, slots=True, kw_only=True)
class AddUser:
    name: str
    role: Role
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        _user_name(self.name)
        _check_password(self.password)


def add_user(uow: UnitOfWork, command: AddUser) -> int:
    """A new user, active, with their role; returns the user's id."""
    hashed = _PASSWORDS.hash(command.password)  # before the lock: it takes a while
    with uow:
        if users.user(uow.conn, command.name) is not None:
            raise Conflict(f"user '{command.name}' already exists", code="name_taken", field="name")
        new_id = users.insert_user(
            uow.conn, name=command.name, role=command.role, password_hash=hashed, at=uow.stamp()
        )
        uow.audit("user.create", f"user:{command.name}", {"role": command.role.value})
        uow.commit()
    return new_id


def list_users(engine: Engine) -> tuple[UserView, ...]:
    """Every user, by name."""
    with reading(engine) as conn:
        return tuple(_view(record) for record in users.all_users(conn))


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRole:
    name: str
    role: Role


def set_role(uow: UnitOfWork, command: SetRole) -> bool:
    """Give a user another role, from their next request on; False if it was theirs."""
    with uow:
        found = _existing(uow, command.name)
        if found.role is command.role:
            return False
        users.update_user(uow.conn, found.id, "role", command.role.value, at=uow.stamp())
        uow.audit(
            "user.update",
            f"user:{found.name}",
            {"role": [found.role.value, command.role.value]},
        )
        uow.commit()
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class DisableUser:
    name: str


def disable_user(uow: UnitOfWork, command: DisableUser) -> bool:
    """Disable a user: their sessions end and their API tokens are revoked, at once; False
    if they were disabled already."""
    with uow:
        found = _existing(uow, command.name)
        if not found.active:
            return False
        at = uow.stamp()
        users.update_user(uow.conn, found.id, "active", False, at=at)
        sessions = users.end_users_sessions(uow.conn, found.id, at=at)
        tokens = users.revoke_users_tokens(uow.conn, found.id, at=at)
        uow.audit(
            "user.disable",
            f"user:{found.name}",
            {"sessions_ended": sessions, "tokens_revoked": tokens},
        )
        uow.commit()
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class EnableUser:
    name: str


def enable_user(uow: UnitOfWork, command: EnableUser) -> bool:
    """Let a disabled user log in again (their old tokens stay revoked); False if they
    were active."""
    with uow:
        found = _existing(uow, command.name)
        if found.active:
            return False
        users.update_user(uow.conn, found.id, "active", True, at=uow.stamp())
        uow.audit("user.enable", f"user:{found.name}", {})
        uow.commit()
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPassword:
    name: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        _user_name(self.name)
        _check_password(self.password)


def set_password(uow: UnitOfWork, command: SetPassword) -> None:
    """A new password for a user; their sessions end (whoever knew the old one is out)."""
    hashed = _PASSWORDS.hash(command.password)
    with uow:
        found = _existing(uow, command.name)
        at = uow.stamp()
        users.update_user(uow.conn, found.id, "password_hash", hashed, at=at)
        sessions = users.end_users_sessions(uow.conn, found.id, at=at)
        uow.audit("user.password", f"user:{found.name}", {"sessions_ended": sessions})
        uow.commit()


# ---------------------------------------------------------------- API tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateToken:
    name: str
    user: str

    def __post_init__(self) -> None:
        _user_name(self.name)
        _user_name(self.user, field="user")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewToken:
    name: str
    user: str
    secret: str = field(repr=False)  # shown once; only its hash is kept


def create_token(uow: UnitOfWork, command: CreateToken) -> NewToken:
    """A bearer token for scripts, acting as ``user`` with their role."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        owner = _existing(uow, command.user, field="user")
        if not owner.active:
            raise _disabled(owner.name)
        if users.token(uow.conn, command.name) is not None:
            raise Conflict(
                f"token '{command.name}' already exists", code="name_taken", field="name"
            )
        users.insert_token(
            uow.conn,
            user_id=owner.id,
            name=command.name,
            token_hash=_digest(secret),
            at=uow.stamp(),
        )
        uow.audit("token.create", f"token:{command.name}", {"user": owner.name})
        uow.commit()
    return NewToken(name=command.name, user=owner.name, secret=secret)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeToken:
    name: str


def revoke_token(uow: UnitOfWork, command: RevokeToken) -> bool:
    """Revoke a token at once; False if it was revoked already."""
    with uow:
        found = users.token(uow.conn, _user_name(command.name))
        if found is None:
            raise NotFound("token", f"'{command.name}'", field="name")
        if found.revoked_at is not None:
            return False
        users.revoke_token(uow.conn, found.id, at=uow.stamp())
        uow.audit("token.revoke", f"token:{found.name}", {"user": found.user_name})
        uow.commit()
    return True


def list_tokens(engine: Engine) -> tuple[users.TokenListed, ...]:
    """Every API token by name: its user, when it was made, and when it was revoked (none
    of them can be shown again: only their hashes are kept)."""
    with reading(engine) as conn:
        return users.all_tokens(conn)


def token_caller(engine: Engine, secret: str) -> Caller:
    """The user a bearer token acts for; refused if it is no live token of an active user."""
    with reading(engine) as conn:
        found = users.token_caller(conn, _digest(secret)) if secret.isascii() else None
    if found is None:
        raise Unauthenticated(
            "the API token is not valid: unknown, revoked, or its user is disabled",
            code="login_required",
        )
    name, role = found
    return Caller(name=name, role=role)


def user_caller(engine: Engine, name: str) -> Caller:
    """A user named by the machine's own operator (the command line's ``--user``): no
    password is asked, since the operator can read the ledger's file anyway; what the
    user's role may not do is refused, and the user is the actor of what they do."""
    with reading(engine) as conn:
        found = users.user(conn, _user_name(name, field="user"))
    if found is None:
        raise NotFound("user", f"'{name}'", field="user")
    if not found.active:
        raise _disabled(found.name)
    return Caller(name=found.name, role=found.role)


def _disabled(name: str) -> Forbidden:
    return Forbidden(f"user '{name}' is disabled", code="user_disabled", field="user")


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True, kw_only=True)
class LogIn:
    name: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSession:
    caller: Caller
    secret: str = field(repr=False)  # the cookie's value; only its hash is kept


def login_actor(name: str) -> str:
    """The actor of a login's unit of work (its audit record: the session's start, or the
    refusal): the name typed, when it can be a user's name; else ``login``."""
    try:
        return _user_name(name)
    except UserError:
        return "login"


def _failed() -> Unauthenticated:
    return Unauthenticated("the name or the password is wrong", code="login_failed")


def log_in(uow: UnitOfWork, command: LogIn) -> NewSession:
    """Start a session for the user ``name`` if the password is theirs and the name is
    not locked out; a failure is recorded (and audited) before it is refused. The
    password is checked outside the ledger's write lock (it takes a tenth of a second),
    between a read of the user and the writing transaction. ``uow``'s clock is aware."""
    now = to_naive_utc(uow.now)
    try:
        name = _user_name(command.name)
        check_plain(command.password, field="password")
    except UserError:
        raise _failed() from None  # no user has such a name: nothing to lock out
    with reading(uow.engine) as conn:
        found = users.user(conn, name)
        failures = users.failures_since(conn, name, now - LOGIN_WINDOW)
    if len(failures) >= LOGIN_FAILURES_MAX:
        until = failures[-LOGIN_FAILURES_MAX] + LOGIN_WINDOW
        minutes = max(1, math.ceil((until - now) / dt.timedelta(minutes=1)))
        raise Unauthenticated(
            f"too many failed logins for '{name}': try again in {minutes} minutes",
            code="login_locked",
            minutes=minutes,
        )
    password = command.password[:PASSWORD_LENGTH_MAX]
    if found is None or not found.active:
        _PASSWORDS.verify(password, _unknown_user_hash())
        valid, rehashed = False, None
    else:
        valid, rehashed = _PASSWORDS.verify_and_update(password, found.password_hash)
    with uow:
        at = uow.now  # the moment of the request, which the window and timeouts count from
        if found is None or not valid:
            users.insert_failure(uow.conn, name, at=at)
            uow.audit("login.refused", f"user:{name}", {})
            uow.commit()
            raise _failed()
        secret = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        session_id = users.insert_session(
            uow.conn, session_hash=_digest(secret), user_id=found.id, csrf_token=csrf_token, at=at
        )
        if rehashed is not None:  # the hasher's settings have changed since it was made
            users.update_user(uow.conn, found.id, "password_hash", rehashed, at=at)
        users.clear_failures(uow.conn, name)
        uow.audit("session.start", f"user:{name}", {"session": session_id})
        uow.commit()
    caller = Caller(name=name, role=found.role, session_id=session_id, csrf_token=csrf_token)
    return NewSession(caller=caller, secret=secret)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCheck:
    caller: Caller
    stale: bool  # its "last seen" should be brought forward (:func:`touch_session`)


def session_caller(engine: Engine, secret: str, *, now: dt.datetime) -> SessionCheck:
    """The user of a live session at ``now`` (aware); refused if the session is unknown,
    ended, idle too long, too old, or its user is disabled."""
    moment = to_naive_utc(now)
    with reading(engine) as conn:
        found = users.session(conn, _digest(secret)) if secret.isascii() else None
    if (
        found is None
        or found.ended_at is not None
        or not found.user_active
        or moment - found.last_seen_at > SESSION_IDLE
        or moment - found.created_at > SESSION_LIFETIME
    ):
        raise Unauthenticated(
            "not logged in, or the session has ended: log in again", code="login_required"
        )
    caller = Caller(
        name=found.user_name,
        role=found.role,
        session_id=found.id,
        csrf_token=found.csrf_token,
    )
    return SessionCheck(caller=caller, stale=moment - found.last_seen_at > SESSION_TOUCH_EVERY)


def touch_session(uow: UnitOfWork, session_id: int) -> None:
    """Bring a session's "last seen" forward to the unit of work's clock. Not audited:
    it changes no one's rights, and would write an audit record a minute per user; the
    session's start and end are."""
    with uow:
        users.touch_session(uow.conn, session_id, at=uow.now)
        uow.commit()


def log_out(uow: UnitOfWork, caller: Caller) -> None:
    """End the caller's session (nothing if it has ended already)."""
    if caller.session_id is None:
        return
    with uow:
        if users.end_session(uow.conn, caller.session_id, at=uow.stamp()):
            uow.audit("session.end", f"user:{caller.name}", {"session": caller.session_id})
            uow.commit()


# ---------------------------------------------------------------- the demo's logins


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoLogin:
    name: str
    role: Role
    password: str = field(repr=False)


def demo_logins(make_uow: Callable[[], UnitOfWork]) -> tuple[DemoLogin, ...]:
    """One login per role, named as the role, each with a new random password (made
    again on every run: a demo's passwords are printed, so they must not outlive it)."""
    made = []
    for role in ROLES:
        password = secrets.token_urlsafe(12)
        name = role.value
        try:
            add_user(make_uow(), AddUser(name=name, role=role, password=password))
        except Conflict:
            set_password(make_uow(), SetPassword(name=name, password=password))
            set_role(make_uow(), SetRole(name=name, role=role))
            enable_user(make_uow(), EnableUser(name=name))
        made.append(DemoLogin(name=name, role=role, password=password))
    return tuple(made)
