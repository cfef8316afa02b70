"""``/api/v1/tokens``: list, create and revoke API tokens; the same objects as
``clinicledger --json token list|create|revoke``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from clinicledger.domain.permissions import Action
from clinicledger.services import users
from clinicledger.shapes import users as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERRORS)

Admin = Annotated[Clerk, api(Action.USER_MANAGE)]


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    user: str  # the user it acts as, with their role


@router.get("")
def list_tokens(clerk: Admin) -> dict[str, Any]:
    """Every token by name, its user, and whether it is revoked (never the token)."""
    return shapes.token_list(users.list_tokens(clerk.engine))


@router.post("", status_code=201)
def create_token(new: NewToken, clerk: Admin) -> JSONResponse:
    """Create a token; the answer is the only time it is shown (only its hash is kept)."""
    made = users.create_token(clerk.uow(), users.CreateToken(name=new.name, user=new.user))
    return JSONResponse(shapes.new_token(made), status_code=201)


@router.post("/{name:path}/revoke")
def revoke_token(name: str, clerk: Admin) -> dict[str, Any]:
    """Revoke a token, at once."""
    changed = users.revoke_token(clerk.uow(), users.RevokeToken(name=name))
    return shapes.changed(name, changed, revoked=True)
