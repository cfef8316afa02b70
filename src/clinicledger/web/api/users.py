"""``/api/v1/users``: the same object as ``clinicledger --json user list``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from clinicledger.domain.permissions import Action
from clinicledger.services import users
from clinicledger.shapes import users as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/users", tags=["users"], responses=ERRORS)


@router.get("")
def list_users(clerk: Annotated[Clerk, api(Action.USER_MANAGE)]) -> dict[str, Any]:
    """Every user, their role, and whether they may log in."""
    return shapes.user_list(users.list_users(clerk.engine))
