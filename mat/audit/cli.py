"""``flask --app mat audit ...``: verify the trail, write and export signed checkpoints."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import g
from flask.cli import AppGroup

from mat.extensions import db

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--checkpoints",
    "checkpoints_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An exported checkpoints file kept elsewhere (flask audit checkpoints): the trail must "
    "still hold every checkpoint in it.",
)
def verify(checkpoints_file: Path | None) -> None:
    """Check the whole chain: exit 0 and "ok N events", or 1 naming the first bad event."""
    from mat.audit.verify import verify_chain

    exported = []
    if checkpoints_file is not None:
        try:
            exported = json.loads(checkpoints_file.read_text(encoding="utf-8"))["checkpoints"]
        except (ValueError, KeyError, TypeError) as exc:
            raise click.ClickException(
                f"{checkpoints_file} is not an exported checkpoints file"
            ) from exc
    report = verify_chain(exported)
    if report.ok:
        # stdout is exactly the contract's "ok N events"; what else was checked goes to stderr.
        click.echo(f"ok {report.events} events")
        click.echo(
            f"{report.checkpoints} signed checkpoints matched, {report.records} clinical rows "
            "matched their digests"
            + (
                f"; {report.legacy_events} older events are not keyed"
                if report.legacy_events
                else ""
            ),
            err=True,
        )
        return
    click.echo(f"bad event {report.first_bad}: {report.reason}", err=True)
    sys.exit(1)


@audit_cli.command("seal")
def seal() -> None:
    """Move the staged reads into the chain now (for a timer every minute or so: a write or a
    reader of the trail seals them too, so this only bounds how long a quiet clinic's reads
    stay unchained). On PostgreSQL it then vacuums the staged reads' table, a queue whose dead
    rows every write's seal would otherwise scan (``mat.audit.staging.vacuum_staged``)."""
    from mat.audit.service import seal_staged_reads
    from mat.audit.staging import vacuum_staged

    sealed = seal_staged_reads()
    db.session.commit()  # ends the session's transaction: the vacuum waits behind none of ours
    vacuum_staged(db.engine)
    click.echo(f"sealed {sealed} reads")


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of the chain as it stands now (for a nightly cron job)."""
    from mat.audit.checkpoints import checkpoint_now
    from mat.audit.keys import audit_keys
    from mat.clock import clinic_now

    g.actor_name = "cli"
    written = checkpoint_now(db.session, audit_keys(), clinic_now())
    db.session.commit()
    if written is None:
        click.echo("no new events since the last checkpoint")
        return
    click.echo(f"checkpoint: {written.events} events through event {written.through_id}")


@audit_cli.command("checkpoints")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def checkpoints(output: Path | None) -> None:
    """Export every signed checkpoint as JSON, to keep away from the database server."""
    from mat.audit.checkpoints import all_checkpoints, as_export
    from mat.audit.service import record

    g.actor_name = "cli"
    found = [as_export(c) for c in all_checkpoints(db.session)]
    record("audit.checkpoints", entity_type="audit_trail", detail={"checkpoints": len(found)})
    db.session.commit()
    text = json.dumps({"checkpoints": found}, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(found)} checkpoints written to {output}")


@audit_cli.command("key-id")
def key_id() -> None:
    """The id of the audit key in use (never the key): what events store in ``scheme``."""
    from mat.audit.keys import audit_keys

    click.echo(audit_keys().scheme)
