"""Users, their API tokens and sessions, and failed logins: the statements of
``services/users.py``, as SQL text (store/sql.py says why: a page or an API request reads
its caller's session or token before anything else, every time).

A secret is never here: a password as its argon2id hash, a session id and a token as their
SHA-256. Instants are naive UTC, as every ``*_at`` column of the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clinicledger.domain.permissions import Role
from clinicledger.store.sql import Db, Sql, as_instant

_USER_COLUMNS = "id, name, role, password_hash, active, created_at, changed_at"
_USER_BY_NAME = Sql(f"SELECT {_USER_COLUMNS} FROM users WHERE name = :name")
_USERS = Sql(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name")
_INSERT_USER = Sql(
    "INSERT INTO users (name, role, password_hash, active, created_at, changed_at)"
    " VALUES (:name, :role, :password_hash, :active, :at, :at) RETURNING id"
)
_UPDATE_USER = {
    column: Sql(f"UPDATE users SET {column} = :value, changed_at = :at WHERE id = :id")
    for column in ("role", "active", "password_hash")
}

_TOKEN_BY_NAME = Sql(
    "SELECT t.id, t.name, u.name, t.revoked_at FROM api_tokens AS t"
    " JOIN users AS u ON u.id = t.user_id WHERE t.name = :name"
)
_TOKENS = Sql(
    "SELECT t.name, u.name, t.created_at, t.revoked_at FROM api_tokens AS t"
    " JOIN users AS u ON u.id = t.user_id ORDER BY t.name"
)
_INSERT_TOKEN = Sql(
    "INSERT INTO api_tokens (user_id, name, token_hash, created_at)"
    " VALUES (:user_id, :name, :token_hash, :at) RETURNING id"
)
_REVOKE_TOKEN = Sql("UPDATE api_tokens SET revoked_at = :at WHERE id = :id")
_REVOKE_USERS_TOKENS = Sql(
    "UPDATE api_tokens SET revoked_at = :at WHERE user_id = :user_id AND revoked_at IS NULL"
)
_TOKEN_CALLER = Sql(
    "SELECT u.name, u.role FROM api_tokens AS t JOIN users AS u ON u.id = t.user_id"
    " WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND u.active"
)

_SESSION = Sql(
    "SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.ended_at, u.name, u.role,"
    " u.active FROM sessions AS s JOIN users AS u ON u.id = s.user_id"
    " WHERE s.session_hash = :session_hash"
)
_INSERT_SESSION = Sql(
    "INSERT INTO sessions (session_hash, user_id, csrf_token, created_at, last_seen_at)"
    " VALUES (:session_hash, :user_id, :csrf_token, :at, :at) RETURNING id"
)
_TOUCH_SESSION = Sql(
    "UPDATE sessions SET last_seen_at = :at WHERE id = :id AND ended_at IS NULL"
    " AND last_seen_at < :at"
)
_END_SESSION = Sql("UPDATE sessions SET ended_at = :at WHERE id = :id AND ended_at IS NULL")
_END_USERS_SESSIONS = Sql(
    "UPDATE sessions SET ended_at = :at WHERE user_id = :user_id AND ended_at IS NULL"
)

_FAILURES_SINCE = Sql(
    "SELECT failed_at FROM login_failures WHERE user_name = :user_name AND failed_at > :since"
    " ORDER BY failed_at"
)
_INSERT_FAILURE = Sql(
    "INSERT INTO login_failures (user_name, failed_at) VALUES (:user_name, :failed_at)"
)
_CLEAR_FAILURES = Sql("DELETE FROM login_failures WHERE user_name = :user_name")


# ---------------------------------------------------------------- users


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    id: int
    name: str
    role: Role
    password_hash: str
    active: bool
    created_at: dt.datetime
    changed_at: dt.datetime


def _user(row: Any) -> UserRecord:
    found_id, name, role, password_hash, active, created_at, changed_at = row
    created, changed = as_instant(created_at), as_instant(changed_at)
    assert created is not None and changed is not None
    return UserRecord(
        id=int(found_id),
        name=name,
        role=Role(role),
        password_hash=password_hash,
        active=bool(active),
        created_at=created,
        changed_at=changed,
    )


def user(conn: Db, name: str) -> UserRecord | None:
    row = _USER_BY_NAME.one(conn, {"name": name})
    return None if row is None else _user(row)


def all_users(conn: Db) -> tuple[UserRecord, ...]:
    return tuple(_user(row) for row in _USERS.run(conn).fetchall())


def insert_user(conn: Db, *, name: str, role: Role, password_hash: str, at: dt.datetime) -> int:
    new_id: int = _INSERT_USER.scalar(
        conn,
        {
            "name": name,
            "role": role.value,
            "password_hash": password_hash,
            "active": True,
            "at": at,
        },
    )
    return new_id


def update_user(conn: Db, user_id: int, column: str, value: str | bool, *, at: dt.datetime) -> None:
    """Set one of ``role``, ``active``, ``password_hash``."""
    _UPDATE_USER[column].run(conn, {"value": value, "at": at, "id": user_id})


# ---------------------------------------------------------------- API tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    id: int
    name: str
    user_name: str
    revoked_at: dt.datetime | None


def token(conn: Db, name: str) -> TokenRecord | None:
    row = _TOKEN_BY_NAME.one(conn, {"name": name})
    if row is None:
        return None
    found_id, token_name, user_name, revoked_at = row
    return TokenRecord(
        id=int(found_id), name=token_name, user_name=user_name, revoked_at=as_instant(revoked_at)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenListed:
    name: str
    user_name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def all_tokens(conn: Db) -> tuple[TokenListed, ...]:
    """Every token, revoked ones too, by name (never its hash)."""
    found = []
    for name, user_name, created_at, revoked_at in _TOKENS.run(conn).fetchall():
        created = as_instant(created_at)
        assert created is not None
        found.append(
            TokenListed(
                name=name,
                user_name=user_name,
                created_at=created,
                revoked_at=as_instant(revoked_at),
            )
        )
    return tuple(found)


def insert_token(conn: Db, *, user_id: int, name: str, token_hash: str, at: dt.datetime) -> int:
    new_id: int = _INSERT_TOKEN.scalar(
        conn, {"user_id": user_id, "name": name, "token_hash": token_hash, "at": at}
    )
    return new_id


def revoke_token(conn: Db, token_id: int, *, at: dt.datetime) -> None:
    _REVOKE_TOKEN.run(conn, {"id": token_id, "at": at})


def revoke_users_tokens(conn: Db, user_id: int, *, at: dt.datetime) -> int:
    """Revoke every live token of a user; how many there were."""
    return int(_REVOKE_USERS_TOKENS.run(conn, {"user_id": user_id, "at": at}).rowcount)


def token_caller(conn: Db, token_hash: str) -> tuple[str, Role] | None:
    """(user name, role) of a live token of an active user."""
    row = _TOKEN_CALLER.one(conn, {"token_hash": token_hash})
    return None if row is None else (row[0], Role(row[1]))


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    id: int
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ended_at: dt.datetime | None
    user_name: str
    role: Role
    user_active: bool


def session(conn: Db, session_hash: str) -> SessionRecord | None:
    row = _SESSION.one(conn, {"session_hash": session_hash})
    if row is None:
        return None
    found_id, csrf_token, created_at, last_seen_at, ended_at, name, role, active = row
    created, seen = as_instant(created_at), as_instant(last_seen_at)
    assert created is not None and seen is not None
    return SessionRecord(
        id=int(found_id),
        csrf_token=csrf_token,
        created_at=created,
        last_seen_at=seen,
        ended_at=as_instant(ended_at),
        user_name=name,
        role=Role(role),
        user_active=bool(active),
    )


def insert_session(
    conn: Db, *, session_hash: str, user_id: int, csrf_token: str, at: dt.datetime
) -> int:
    new_id: int = _INSERT_SESSION.scalar(
        conn,
        {"session_hash": session_hash, "user_id": user_id, "csrf_token": csrf_token, "at": at},
    )
    return new_id


def touch_session(conn: Db, session_id: int, *, at: dt.datetime) -> None:
    _TOUCH_SESSION.run(conn, {"id": session_id, "at": at})


def end_session(conn: Db, session_id: int, *, at: dt.datetime) -> bool:
    """End a session; False if it had ended already."""
    return bool(_END_SESSION.run(conn, {"id": session_id, "at": at}).rowcount)


def end_users_sessions(conn: Db, user_id: int, *, at: dt.datetime) -> int:
    """End every open session of a user; how many there were."""
    return int(_END_USERS_SESSIONS.run(conn, {"user_id": user_id, "at": at}).rowcount)


# ---------------------------------------------------------------- failed logins


def failures_since(conn: Db, user_name: str, since: dt.datetime) -> tuple[dt.datetime, ...]:
    """The moments of the failed logins for ``user_name`` after ``since``, oldest first."""
    rows = _FAILURES_SINCE.run(conn, {"user_name": user_name, "since": since}).fetchall()
    return tuple(moment for (value,) in rows if (moment := as_instant(value)) is not None)


def insert_failure(conn: Db, user_name: str, *, at: dt.datetime) -> None:
    _INSERT_FAILURE.run(conn, {"user_name": user_name, "failed_at": at})


def clear_failures(conn: Db, user_name: str) -> None:
    _CLEAR_FAILURES.run(conn, {"user_name": user_name})
