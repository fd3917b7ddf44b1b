"""``flask --app mat user ...``: accounts from the command line, the same flows as the admin API.

Each command is one unit of work, audited as the actor ``cli``: it commits once at the end.
Passwords are never arguments (they would sit in the shell history and the process list):
``create`` reads one from standard input, ``reset-password`` prints a one-time code the user
redeems at /password-reset with a password of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import g
from flask.cli import AppGroup

from mat.auth.models import ROLES, User
from mat.clock import clinic_now
from mat.errors import MatError
from mat.extensions import db

user_cli = AppGroup("user", help="Manage user accounts.")


@contextmanager
def _unit_of_work() -> Iterator[None]:
    g.actor_name = "cli"
    try:
        yield
        db.session.commit()
    except MatError as err:
        db.session.rollback()
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in err.fields.items())
        raise click.ClickException(f"{err.message} {details}".strip()) from err


def _describe(user: User) -> str:
    state = "active" if user.active else "deactivated"
    locked = f", locked until {user.locked_until:%Y-%m-%d %H:%M %Z}" if user.locked_until else ""
    return f"{user.username} ({', '.join(sorted(user.role_names))}; {state}{locked})"


@user_cli.command("create")
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--initials", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (never from the command line).",
)
def create_user(
    username: str, full_name: str, initials: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a user; the password is read from standard input."""
    from marshmallow import ValidationError

    from mat.auth.schemas import UserCreate
    from mat.auth.service import create_user as create
    from mat.errors import InvalidInput, flatten_field_errors

    password = sys.stdin.readline().rstrip("\r\n")
    with _unit_of_work():
        # The API's own schema: the same username, name and initials rules as POST /users.
        try:
            data = UserCreate().load(
                {"username": username, "password": password, "full_name": full_name,
                 "initials": initials, "roles": list(roles)}
            )  # fmt: skip
        except ValidationError as err:
            raise InvalidInput(
                "The new user is not valid.", fields=flatten_field_errors(err.normalized_messages())
            ) from err
        user = create(
            data["username"], password, data["full_name"], data["initials"], data["roles"]
        )
    click.echo(f"created user {user.username} ({', '.join(sorted(user.role_names))})")


@user_cli.command("list")
def list_users() -> None:
    """Every account, with its roles and whether it is active or locked."""
    from mat.auth.service import list_users as every_user

    for user in every_user():
        click.echo(_describe(user))


def _change(username: str, action: Callable[[User], Any]) -> User:
    from mat.auth.service import user_named

    with _unit_of_work():
        user = user_named(username)
        action(user)
    return user


@user_cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Deactivate an account: every session and API token of it stops working at once."""
    from mat.auth.service import update_user

    user = _change(username, lambda u: update_user(u, {"active": False}, clinic_now()))
    click.echo(f"deactivated {_describe(user)}")


@user_cli.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Let a deactivated account sign in again."""
    from mat.auth.service import update_user

    user = _change(username, lambda u: update_user(u, {"active": True}, clinic_now()))
    click.echo(f"activated {_describe(user)}")


@user_cli.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
def set_roles(username: str, roles: tuple[str, ...]) -> None:
    """Set the account's roles (all of them); its sessions and tokens end."""
    from mat.auth.service import update_user

    user = _change(username, lambda u: update_user(u, {"roles": list(roles)}, clinic_now()))
    click.echo(f"roles set: {_describe(user)}")


@user_cli.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Lift a lockout after too many wrong passwords (audited)."""
    from mat.auth.service import unlock_user

    user = _change(username, unlock_user)
    click.echo(f"unlocked {_describe(user)}")


@user_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Print a one-time code (24 hours) the user redeems at /password-reset with a password of
    their own; nobody else ever sees that password."""
    from mat.auth.credentials import issue_reset

    found: dict[str, Any] = {}

    def issue(user: User) -> None:
        found["code"], found["reset"] = issue_reset(user, None, clinic_now())

    _change(username, issue)
    click.echo(f"one-time reset code for {username}: {found['code']}")
    click.echo(
        f"valid until {found['reset'].expires_at:%Y-%m-%d %H:%M %Z}; give it to the user only."
    )
