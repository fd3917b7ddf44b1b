"""``flask --app mat report dispensing-log``: the API's bytes in a file, on record as "cli"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from tests.reports.conftest import DAY1, DAY2


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["report", "dispensing-log", *args])


def exports() -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "report.dispensing_log")
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_the_file_holds_the_bytes_the_api_sends(app, api, clinic, tmp_path: Path, fmt) -> None:
    out = tmp_path / f"log.{fmt}"
    result = run(app, "--from", str(DAY1), "--to", str(DAY2), "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    response = api(
        "get",
        f"/api/v1/reports/dispensing-log?from={DAY1}&to={DAY2}&format={fmt}",
        as_=clinic.staff["auditor"],
    )
    assert out.read_bytes() == response.get_data()
    cli_event, api_event = exports()
    assert (cli_event.username, cli_event.user_id, cli_event.client_addr) == ("cli", None, None)
    assert json.loads(cli_event.detail)["format"] == fmt
    assert api_event.username == "audit"
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    "args, sentence",
    [
        (["--from", "2026-11-17", "--to", "2026-11-16"], "--from: from (2026-11-17) is after to"),
        (["--from", "16/11/2026", "--to", "2026-11-16"], "--from: Use a date as YYYY-MM-DD."),
        (["--from", "2025-01-01", "--to", "2026-11-16"], "--to: Ask for at most 366 days"),
        (["--from", "2026-11-16", "--to", "2026-11-16", "--product", "METH-99"],
         "--product: Unknown code 'METH-99'"),
    ],
)  # fmt: skip
def test_bad_input_exits_non_zero_with_one_sentence(app, clinic, tmp_path, args, sentence) -> None:
    out = tmp_path / "log.csv"
    result = run(app, *args, "--format", "csv", "--output", str(out))
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and sentence in result.output
    assert result.output.count("\n") == 1
    assert not out.exists() and exports() == []


def test_a_wrong_format_or_folder(app, clinic, tmp_path) -> None:
    days = ["--from", str(DAY1), "--to", str(DAY1)]
    result = run(app, *days, "--format", "xlsx", "--output", str(tmp_path / "x"))
    assert result.exit_code != 0 and "--format: Must be one of: csv, pdf, json." in result.output
    result = run(app, *days, "--format", "pdf", "--output", str(tmp_path / "no" / "log.pdf"))
    assert result.exit_code != 0 and "does not exist" in result.output
    assert exports() == []
