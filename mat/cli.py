"""The Flask CLI: ``demo seed`` and ``db roles`` here; ``user ...`` is in ``mat.auth.cli``,
``audit ...`` in ``mat.audit.cli``, ``report ...`` in ``mat.reports.cli``.

Each command is one unit of work: it commits once at the end, like a request.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, g
from flask.cli import AppGroup

from mat.errors import MatError
from mat.extensions import db

demo_cli = AppGroup("demo", help="The demo clinic.")


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

    from mat.audit.cli import audit_cli
    from mat.auth.cli import user_cli
    from mat.reports.cli import report_cli

    for group in (user_cli, demo_cli, audit_cli, report_cli):
        app.cli.add_command(group)
    # `flask --app mat db roles`, beside Flask-Migrate's `db upgrade`.
    migrate_cli.add_command(roles)
