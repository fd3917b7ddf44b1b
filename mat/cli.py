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


@click.command("roles")
@click.option(
    "--owner", default="mat_owner", show_default=True, help="Role that owns and migrates."
)
@click.option(
    "--app", "app_role", default="mat_app", show_default=True, help="Role the app runs as."
)
@click.option("--apply", is_flag=True, help="Run the SQL now (connected as a superuser).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="With --apply: read the owner's password, then the app's, one per line from stdin.",
)
def roles(owner: str, app_role: str, apply: bool, password_stdin: bool) -> None:
    """Print (default) or apply the SQL for the owner and app database roles (PostgreSQL)."""
    from mat import db_roles

    try:
        db_roles.check_role_name(owner)
        db_roles.check_role_name(app_role)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    engine = db.engine
    if engine.dialect.name != "postgresql":
        raise click.ClickException(
            "db roles is for PostgreSQL: SQLite, the demo engine, has no roles or grants."
        )
    if owner == app_role:
        raise click.ClickException("The owner and the app must be two different roles.")
    if password_stdin and not apply:
        raise click.ClickException("--password-stdin goes with --apply.")
    passwords = _read_passwords(owner, app_role) if password_stdin else {}
    with engine.begin() as conn:
        plan = db_roles.plan_from_database(conn, owner, app_role)
        if not plan.tables:
            raise click.ClickException("The database has no tables yet: run db upgrade first.")
        if not apply:
            click.echo(db_roles.script(plan), nl=False)
            return
        driver = conn.connection.driver_connection
        for statement in db_roles.statements(plan):
            if not statement.startswith("--"):
                driver.execute(statement)  # type: ignore[union-attr]
        for role, password in passwords.items():
            # Like psql's \password: only the SCRAM verifier reaches the server (and its log).
            verifier = driver.pgconn.encrypt_password(  # type: ignore[union-attr]
                password.encode(), role.encode(), b"scram-sha-256"
            )
            driver.execute(f"ALTER ROLE \"{role}\" PASSWORD '{verifier.decode()}'")  # type: ignore[union-attr]
    click.echo(
        f"owner {owner} owns {len(plan.tables)} tables; app {app_role} may change "
        f"{len(plan.mutable)} and only read and add to {len(plan.append_only)} append-only "
        f"tables ({', '.join(plan.append_only)})."
    )


def _read_passwords(owner: str, app_role: str) -> dict[str, str]:
    passwords = {}
    for role in (owner, app_role):
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 16:
            raise click.ClickException(
                f"Give {role}'s password on its own line of stdin, 16 characters or more."
            )
        passwords[role] = password
    return passwords


def register(app: Flask) -> None:
    from flask_migrate.cli import db as migrate_cli

    from mat.reports.cli import report_cli

    for group in (user_cli, demo_cli, audit_cli, report_cli):
        app.cli.add_command(group)
    # `flask --app mat db roles`, beside Flask-Migrate's `db upgrade`.
    migrate_cli.add_command(roles)
