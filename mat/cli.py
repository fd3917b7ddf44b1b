"""The Flask CLI: ``demo seed`` here; ``db ...`` in ``mat.db_cli``, ``user ...`` in
``mat.auth.cli``, ``audit ...`` in ``mat.audit.cli``, ``report ...`` in ``mat.reports.cli``,
``import ...`` in ``mat.imports.cli``.

Each command is one unit of work: it commits once at the end, like a request.

A group's module is imported when one of its commands is looked up (``GroupImportedOnUse``),
never by ``flask --help``: the modules import the models, services and schemas they need, and
every ``flask`` command paid for all of them (start-up, ``mat.create_app``). In a command's own
process, what start-up loaded is then frozen out of the garbage collector's sight
(``freeze_start_up``).
"""

from __future__ import annotations

import gc
import importlib

import click
from flask import Flask, current_app, g, has_app_context
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


def freeze_start_up() -> None:
    """In a command's process only (an app built to find a command, ``mat.create_app``): move
    what is loaded so far out of the garbage collector's sight (``gc.freeze``, as each gunicorn
    worker does after loading, ``mat/gunicorn_conf.py``).

    Python's full collections otherwise walk every object of Flask, SQLAlchemy and the models
    again and again while the models are imported and mapped, and once more at the process's
    end: about a quarter of the CPU time of ``flask --help`` and of a one-day report. What is
    frozen is modules, classes and mappings, kept for the life of the process anyway;
    collections go on as before for what the command itself makes."""
    gc.freeze()


class StandIn(AppGroup):
    """A group listed by ``flask --help`` under its own name and help, standing for a group that
    is set up only when one of its commands is listed or looked up (``real_group``). The real
    groups take no options and have no callback of their own, so looking their commands up
    through a stand-in runs them the same; ``tests/test_cli_startup.py`` checks that and that
    each stand-in's name and help are the real group's."""

    def real_group(self) -> click.Group:
        raise NotImplementedError

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self.real_group().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.real_group().get_command(ctx, cmd_name)


class GroupImportedOnUse(StandIn):
    """A group of mat's commands defined in another module (``"mat.audit.cli:audit_cli"``),
    imported with every model the first time one of its commands is listed or looked up."""

    def __init__(self, name: str, help: str, target: str) -> None:
        super().__init__(name, help=help)
        self.target = target

    def real_group(self) -> click.Group:
        # Every model first: a command's queries need all tables mapped (relationships name
        # each other by string), as when create_app imported the models itself.
        import mat.models  # noqa: F401

        module, attribute = self.target.split(":")
        group: click.Group = getattr(importlib.import_module(module), attribute)
        if has_app_context() and current_app.extensions.get("mat_command_process"):
            from sqlalchemy.orm import configure_mappers

            configure_mappers()  # what the first query would do, so that it is frozen too
            freeze_start_up()
        return group


class OpenAPICommands(StandIn):
    """flask-smorest's ``openapi`` group (``flask --app mat openapi print``) in an app built
    without its web part (``mat.create_app``), where flask-smorest, which adds the group when
    the JSON API is set up, is not loaded: the first use completes the app (``mat.add_web``),
    and the document is the whole app's."""

    def __init__(self, app: Flask) -> None:
        super().__init__("openapi", help="OpenAPI commands.")
        self.app = app

    def real_group(self) -> click.Group:
        from mat import add_web

        add_web(self.app)
        group = self.app.cli.commands["openapi"]  # flask-smorest's, added in this one's place
        assert isinstance(group, click.Group)
        return group


GROUPS = (
    GroupImportedOnUse("user", "Manage user accounts.", "mat.auth.cli:user_cli"),
    GroupImportedOnUse("demo", "The demo clinic.", "mat.cli:demo_cli"),
    GroupImportedOnUse("audit", "The audit trail.", "mat.audit.cli:audit_cli"),
    GroupImportedOnUse("report", "Reports: the dispensing log.", "mat.reports.cli:report_cli"),
    GroupImportedOnUse(
        "import",
        "Bring another program's patients and history in.",
        "mat.imports.cli:import_cli",
    ),
)


def register(app: Flask) -> None:
    # db_cli: Flask-Migrate's `db upgrade` and mat's `db roles`, alembic imported only for them.
    from mat.db_cli import db_cli

    for group in (db_cli, *GROUPS):
        app.cli.add_command(group)
