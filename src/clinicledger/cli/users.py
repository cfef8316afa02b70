"""``user add|list|disable|enable|set-role|set-password`` and ``token create|revoke``: the
logins of the web app and the API, and their roles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import later, needs, settings, sub_app
from clinicledger.cli.output import out
from clinicledger.cli.parse import words
from clinicledger.domain.choices import check_choice
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.permissions import ROLES, Action, Role
from clinicledger.shapes import users as shapes

if TYPE_CHECKING:
    from clinicledger.services import users
else:
    users = later("clinicledger.services.users")

user_app = sub_app("user", "Users of the web app and the API, and their roles.")
token_app = sub_app("token", "API tokens: bearer tokens for scripts, with a user's role.")

Name = Annotated[str, typer.Argument(metavar="NAME", help="The user's login name")]
RoleWord = Annotated[str, typer.Option(metavar=words(ROLES), help="What the user may do")]
PasswordFile = Annotated[
    str | None,
    typer.Option(
        metavar="FILE",
        help="Read the password from the first line of FILE (default: ask for it twice)",
    ),
]


def _role(text: str) -> Role:
    return Role(check_choice(text, [role.value for role in ROLES], field="role"))


def _password(file: str | None) -> str:
    """The password from the first line of ``file``, or typed twice without echo."""
    if file is None:
        typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return typed
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise InvalidInput(
            "password_file", f"cannot read {file}: {reason}", code="file_unreadable"
        ) from None
    return lines[0] if lines else ""


@user_app.command("add")
@needs(Action.USER_MANAGE)
def user_add(name: Name, role: RoleWord, password_file: PasswordFile = None) -> None:
    """Add a user who logs in to the web app with a password."""
    command = users.AddUser(name=name, role=_role(role), password=_password(password_file))
    users.add_user(settings.uow(), command)
    out({"name": name, "role": command.role.value}, f"added user {name} ({command.role})")


@user_app.command("list")
@needs(Action.USER_MANAGE)
def user_list() -> None:
    """List the users, their roles, and whether they may log in."""
    found = users.list_users(settings.engine)
    out(
        shapes.user_list(found),
        "\n".join(
            f"{u.name:<20} {u.role:<10} {'active' if u.active else 'disabled'}" for u in found
        )
        or "no users",
    )


@user_app.command("disable")
@needs(Action.USER_MANAGE)
def user_disable(name: Name) -> None:
    """Disable a user: their sessions end and their API tokens are revoked, at once."""
    changed = users.disable_user(settings.uow(), users.DisableUser(name=name))
    out(
        shapes.changed(name, changed, active=False),
        f"disabled user {name}" if changed else f"user {name} was already disabled",
    )


@user_app.command("enable")
@needs(Action.USER_MANAGE)
def user_enable(name: Name) -> None:
    """Let a disabled user log in again."""
    changed = users.enable_user(settings.uow(), users.EnableUser(name=name))
    out(
        shapes.changed(name, changed, active=True),
        f"enabled user {name}" if changed else f"user {name} is already active",
    )


@user_app.command("set-role")
@needs(Action.USER_MANAGE)
def user_set_role(
    name: Name,
    role: Annotated[str, typer.Argument(metavar=words(ROLES), help="The user's new role")],
) -> None:
    """Give a user another role (from their next request on)."""
    new = _role(role)
    changed = users.set_role(settings.uow(), users.SetRole(name=name, role=new))
    out(
        shapes.changed(name, changed, role=new.value),
        f"user {name} is now {new}" if changed else f"user {name} already is {new}",
    )


@user_app.command("set-password")
@needs(Action.USER_MANAGE)
def user_set_password(name: Name, password_file: PasswordFile = None) -> None:
    """Give a user a new password; their sessions end."""
    users.set_password(
        settings.uow(), users.SetPassword(name=name, password=_password(password_file))
    )
    out(shapes.changed(name, True), f"new password for user {name}")


TokenName = Annotated[str, typer.Argument(metavar="NAME", help="The token's name")]


@token_app.command("create")
@needs(Action.USER_MANAGE)
def token_create(
    name: TokenName,
    user: Annotated[str, typer.Option(metavar="NAME", help="The user it acts as")],
) -> None:
    """Create an API token; it is printed once, and only its hash is kept."""
    made = users.create_token(settings.uow(), users.CreateToken(name=name, user=user))
    out(shapes.new_token(made), made.secret)


@token_app.command("revoke")
@needs(Action.USER_MANAGE)
def token_revoke(name: TokenName) -> None:
    """Revoke an API token, at once."""
    changed = users.revoke_token(settings.uow(), users.RevokeToken(name=name))
    out(
        shapes.changed(name, changed, revoked=True),
        f"revoked token {name}" if changed else f"token {name} was already revoked",
    )


@token_app.command("list")
@needs(Action.USER_MANAGE)
def token_list() -> None:
    """List the API tokens, their users, and which are revoked (never the tokens)."""
    found = users.list_tokens(settings.engine)
    out(
        shapes.token_list(found),
        "\n".join(
            f"{t.name:<20} {t.user_name:<20} {'revoked' if t.revoked_at else 'live'}" for t in found
        )
        or "no tokens",
    )
