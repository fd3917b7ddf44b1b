"""``flask --app mat report dispensing-log --from --to --format --output``: the log to a file.

The same validation, audit event and bytes as ``GET /api/v1/reports/dispensing-log``; the actor
on record is "cli". The file is written beside its final name and moved there when complete,
so a half-written log never looks like a finished one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import g
from flask.cli import AppGroup
from marshmallow import ValidationError

from mat.errors import MatError
from mat.extensions import db
from mat.reports.exports import begin_log_export, log_body
from mat.reports.schemas import DispensingLogQuery

report_cli = AppGroup("report", help="Reports: the dispensing log.")


def _sentence(messages: Any) -> str:
    """The first refusal as one sentence: ``to: Ask for at most 366 days at a time.``"""
    if isinstance(messages, dict):
        name, problems = next(iter(messages.items()))
        return f"--{name}: {_sentence(problems)}" if name != "_schema" else _sentence(problems)
    if isinstance(messages, list) and messages:
        return str(messages[0])
    return str(messages)


@report_cli.command("dispensing-log")
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First clinic day.")
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD", help="Last clinic day.")
@click.option("--format", "fmt", required=True, metavar="csv|pdf|json")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--product", default=None, help="Only this formulary code.")
@click.option("--substance", default=None, help="Only methadone, buprenorphine or naltrexone.")
@click.option("--page", default="letter", metavar="letter|a4", help="Paper of a PDF.")
def dispensing_log(
    first: str,
    last: str,
    fmt: str,
    output: Path,
    product: str | None,
    substance: str | None,
    page: str,
) -> None:
    """Write the dispensing log of clinic days FROM..TO to OUTPUT (recorded as an export)."""
    raw = {"from": first, "to": last, "format": fmt, "page": page}
    raw |= {k: v for k, v in (("product", product), ("substance", substance)) if v is not None}
    try:
        args = DispensingLogQuery().load(raw)
    except ValidationError as err:
        raise click.ClickException(_sentence(err.messages)) from err
    if not output.parent.is_dir():
        raise click.ClickException(f"--output: the folder {output.parent} does not exist.")
    g.actor_name = "cli"
    query = args["query"]
    try:
        snapshot = begin_log_export(query, args["format"], args["page"])
        body = log_body(query, args["format"], args["page"], snapshot)
        db.session.commit()  # the export is on record before the first byte is written
    except MatError as err:
        db.session.rollback()
        raise click.ClickException(_sentence(err.fields) if err.fields else err.message) from err
    handle, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in body:
                out.write(chunk)
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    click.echo(f"dispensing log {query.first} to {query.last} ({args['format']}) -> {output}")
