"""Flask CLI commands of the contract: ``user create``, ``demo seed``, ``audit verify``.

Each command is one unit of work: it commits once at the end, like a request.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, g
from flask.cli import AppGroup

from mat.auth.models import ROLES
from mat.errors import MatError
from mat.extensions import db

user_cli = AppGroup("user", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="The demo clinic.")
audit_cli = AppGroup("audit", help="The audit trail.")


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
    from mat.auth.service import create_user as create

    password = sys.stdin.readline().rstrip("\r\n")
    g.actor_name = "cli"
    try:
        user = create(username, password, full_name, initials, roles)
        db.session.commit()
    except MatError as err:
        db.session.rollback()
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in err.fields.items())
        raise click.ClickException(f"{err.message} {details}".strip()) from err
    click.echo(f"created user {user.username} ({', '.join(sorted(user.role_names))})")


@demo_cli.command("seed")
def seed() -> None:
    """Create the demo clinic (invented people) in an empty database, or in a demo one."""
    from flask import current_app

    from mat.demo import DEMO_USERS, seed_demo_clinic

    g.actor_name = "demo-seed"
    try:
        seed_demo_clinic(demo_mode=current_app.config["MAT_DEMO"])
        db.session.commit()
    except MatError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err
    click.echo("Demo clinic ready. Sign in at http://127.0.0.1:5000 with:")
    for username, password, _name, _initials, roles in DEMO_USERS:
        click.echo(f"  {username:<12} {password:<22} {', '.join(roles)}")


@audit_cli.command("verify")
def verify() -> None:
    """Check the whole hash chain: exit 0 and "ok N events", or 1 naming the first bad event."""
    from mat.audit.service import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"ok {report.events} events")
        return
    click.echo(f"bad event {report.first_bad}: {report.reason}", err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    from mat.db_roles import register_roles_command
    from mat.reports.cli import report_cli

    for group in (user_cli, demo_cli, audit_cli, report_cli):
        app.cli.add_command(group)
    register_roles_command()
