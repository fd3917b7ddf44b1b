"""``flask --app mat import history FILE.json [--dry-run]`` (or ``--csv FOLDER``): an import from
a file of any size, streamed (``mat.imports.reader``), in one transaction committed at the end.

The import is recorded as done by an admin (``--by USERNAME``; without it, the one active admin
if there is exactly one). The counts and every warning are printed; a refusal prints every bad
value by row and exits 1, having written nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app, g
from flask.cli import AppGroup
from sqlalchemy import select

from mat.auth.models import User, UserRole
from mat.clock import clinic_now
from mat.errors import MatError
from mat.extensions import db
from mat.imports.reader import CsvSource, ImportSource, JsonSource
from mat.imports.service import ImportResult, import_history

import_cli = AppGroup("import", help="Bring another program's patients and history in.")


def _admin(username: str | None) -> User:
    stmt = select(User).join(UserRole).where(UserRole.role == "admin", User.active.is_(True))
    if username is not None:
        stmt = stmt.where(User.username == username)
    found = list(db.session.scalars(stmt).unique())
    if username is not None and not found:
        raise click.ClickException(f"{username} is not an active admin.")
    if len(found) != 1:
        raise click.ClickException("Name the admin the import is recorded as: --by USERNAME.")
    return found[0]


@import_cli.command("history")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--csv",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of patients.csv, orders.csv, doses.csv, drug_screens.csv.",
)
@click.option("--source", default=None, help="With --csv: the system it came from and the date.")
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
@click.option("--by", "username", default=None, help="The admin the import is recorded as.")
def history(
    file: Path | None, folder: Path | None, source: str | None, dry_run: bool, username: str | None
) -> None:
    """Import FILE.json (the body of POST /api/v1/imports), or a folder of CSV files."""
    if (file is None) == (folder is None):
        raise click.UsageError("Give FILE.json or --csv FOLDER (one of them).")
    reader: ImportSource = JsonSource.of_file(file) if file else CsvSource(folder, source)  # type: ignore[arg-type]
    g.actor = _admin(username)
    try:
        result = import_history(
            reader, by=g.actor, now=clinic_now(), profile=current_app.extensions["mat_profile"],
            dry_run=dry_run,
        )  # fmt: skip
        db.session.commit()
    except MatError as err:
        db.session.rollback()
        for name, problems in sorted(err.fields.items()):
            for problem in problems:
                click.echo(f"{name}: {problem}", err=True)
        raise click.ClickException(err.message) from err
    _print(result)


def _print(result: ImportResult) -> None:
    for warning in result.warnings:
        click.echo(f"warning {warning['row']} {warning['rule']}: {warning['message']}")
    counts = ", ".join(f"{n} {name}" for name, n in result.counts.items())
    if result.dry_run:
        click.echo(f"Dry run, nothing written: would import {counts}.")
    else:
        click.echo(f"Import {result.id}: imported {counts}.")
