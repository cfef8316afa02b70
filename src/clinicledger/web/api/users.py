"""``/api/v1/users``: list, add, disable, enable, set a role or a password; the same
objects as ``clinicledger --json user list|add|disable|enable|set-role|set-password``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from clinicledger.domain.choices import check_choice
from clinicledger.domain.permissions import ROLES, Action, Role
from clinicledger.services import users
from clinicledger.shapes import users as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/users", tags=["users"], responses=ERRORS)

Admin = Annotated[Clerk, api(Action.USER_MANAGE)]


def role_of(text: str) -> Role:
    return Role(check_choice(text, [role.value for role in ROLES], field="role"))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(_Body):
    name: str
    role: str  # reception, billing, manager, admin
    password: str = Field(repr=False)


class NewRole(_Body):
    role: str


class NewPassword(_Body):
    password: str = Field(repr=False)


@router.get("")
def list_users(clerk: Admin) -> dict[str, Any]:
    """Every user, their role, and whether they may log in."""
    return shapes.user_list(users.list_users(clerk.engine))


@router.post("", status_code=201)
def add_user(new: NewUser, clerk: Admin) -> JSONResponse:
    """Add a user who logs in with a password (12 characters at least)."""
    command = users.AddUser(name=new.name, role=role_of(new.role), password=new.password)
    users.add_user(clerk.uow(), command)
    return JSONResponse({"name": command.name, "role": command.role.value}, status_code=201)


@router.post("/{name:path}/disable")
def disable_user(name: str, clerk: Admin) -> dict[str, Any]:
    """Disable a user: their sessions end and their API tokens are revoked, at once."""
    changed = users.disable_user(clerk.uow(), users.DisableUser(name=name))
    return shapes.changed(name, changed, active=False)


@router.post("/{name:path}/enable")
def enable_user(name: str, clerk: Admin) -> dict[str, Any]:
    """Let a disabled user log in again."""
    changed = users.enable_user(clerk.uow(), users.EnableUser(name=name))
    return shapes.changed(name, changed, active=True)


@router.post("/{name:path}/role")
def set_role(name: str, new: NewRole, clerk: Admin) -> dict[str, Any]:
    """Give a user another role (from their next request on)."""
    role = role_of(new.role)
    changed = users.set_role(clerk.uow(), users.SetRole(name=name, role=role))
    return shapes.changed(name, changed, role=role.value)


@router.post("/{name:path}/password")
def set_password(name: str, new: NewPassword, clerk: Admin) -> dict[str, Any]:
    """Give a user a new password; their sessions end."""
    users.set_password(clerk.uow(), users.SetPassword(name=name, password=new.password))
    return shapes.changed(name, True)
