"""The Flask CLI: ``demo seed`` here; ``db ...`` in ``mat.db_cli``, ``user ...`` in
``mat.auth.cli``, ``audit ...`` in ``mat.audit.cli``, ``report ...`` in ``mat.reports.cli``,
``import ...`` in ``mat.imports.cli``.

Each command is one unit of work: it commits once at the end, like a request.
"""

from __future__ import annotations

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


def register(app: Flask) -> None:
    from mat.audit.cli import audit_cli
    from mat.auth.cli import user_cli
    from mat.db_cli import db_cli
    from mat.imports.cli import import_cli
    from mat.reports.cli import report_cli

    # db_cli: Flask-Migrate's `db upgrade` and mat's `db roles`, alembic imported only for them.
    for group in (db_cli, user_cli, demo_cli, audit_cli, report_cli, import_cli):
        app.cli.add_command(group)
