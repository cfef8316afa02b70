"""Users and API tokens, as ``clinicledger --json user|token ...`` print them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clinicledger.services.users import NewToken, UserView
    from clinicledger.store.users import TokenListed


def _utc(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=dt.UTC).isoformat()


def user(view: UserView) -> dict[str, Any]:
    return {
        "name": view.name,
        "role": view.role.value,
        "active": view.active,
        "created_at": _utc(view.created_at),
        "changed_at": _utc(view.changed_at),
    }


def user_list(views: tuple[UserView, ...]) -> dict[str, Any]:
    return {"users": [user(view) for view in views]}


def changed(name: str, changed: bool, **now: Any) -> dict[str, Any]:
    """The answer of a change to a user or a token: what it is now, and whether it changed
    (False: it already was so)."""
    return {"name": name, **now, "changed": changed}


def new_token(made: NewToken) -> dict[str, Any]:
    """The token itself is shown here, once: only its hash is kept."""
    return {"name": made.name, "user": made.user, "token": made.secret}


def token_list(found: tuple[TokenListed, ...]) -> dict[str, Any]:
    """Every token by name, with its user; never the token itself (only its hash is kept)."""
    return {
        "tokens": [
            {
                "name": token.name,
                "user": token.user_name,
                "created_at": _utc(token.created_at),
                "revoked_at": None if token.revoked_at is None else _utc(token.revoked_at),
            }
            for token in found
        ]
    }
