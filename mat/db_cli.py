"""``flask --app mat db ...``: Flask-Migrate's commands (``upgrade``, ``downgrade``, ``current``
...) and mat's ``db roles``, with Flask-Migrate imported only when one of them is looked up.

Flask-Migrate imports alembic and mako when it is imported (about 0.14 s and 11 MB), and
``create_app`` used to pay that in every process: each gunicorn worker, each export from the CLI,
``flask --help``. Only the ``db`` commands need them. So ``create_app`` registers the ``db`` group
defined here, which ``flask --help`` lists from its own help text; the first time one of its
commands is looked up (``db upgrade``, ``db --help``), Flask-Migrate is imported and bound to the
app (``bind_migrations``) and its command is returned.

The group takes Flask-Migrate's group options (``-d``, ``-x``) and stores them in ``g`` where its
commands read them, so ``flask db -x key=value upgrade`` works as with Flask-Migrate's own group.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, g
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from mat.db_roles import roles
from mat.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def bind_migrations(app: Flask) -> None:
    """Flask-Migrate bound to ``app`` (once): what its commands and its functions
    (``flask_migrate.upgrade()``, called in-process by the tests and the bench) read from
    ``app.extensions["migrate"]``."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    # Alembic reads db.metadata (migrations/env.py): every table must be in it, or `db migrate`
    # would write a migration that drops the tables of the models not yet imported.
    import mat.models  # noqa: F401

    ours = app.cli.commands.get("db")
    Migrate(app, db, directory=str(MIGRATIONS))
    # Migrate registers Flask-Migrate's own `db` group in its place; ours (with `roles`) stays.
    if ours is not None:
        app.cli.add_command(ours)


def _flask_migrate_commands() -> click.Group:
    from flask_migrate.cli import db as flask_migrate_db

    return flask_migrate_db


class SchemaCommands(AppGroup):
    """mat's own ``db`` commands first, then Flask-Migrate's, bound to the app on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_flask_migrate_commands().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name)
        if own is not None:
            return own
        bind_migrations(ctx.ensure_object(ScriptInfo).load_app())
        return _flask_migrate_commands().get_command(ctx, cmd_name)


@click.group("db", cls=SchemaCommands)
@click.option(
    "-d", "--directory", default=None, help='Migration script directory (default is "migrations")'
)
@click.option(
    "-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts"
)
@with_appcontext
def db_cli(directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations."""
    # Where Flask-Migrate's own group leaves them for Migrate.get_config().
    g.directory = directory
    g.x_arg = x_arg


db_cli.add_command(roles)
