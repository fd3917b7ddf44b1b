"""Audit trail JSON API (auditors): the events, filtered and exported, and the chain's check."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import current_app

from mat.audit import verify_cursor
from mat.audit.checkpoints import all_checkpoints, as_export
from mat.audit.export import csv_download, json_download
from mat.audit.schemas import (
    AuditEventsOut,
    AuditExportQuery,
    ChainReportOut,
    CheckpointsOut,
    VerifyQuery,
)
from mat.audit.service import record
from mat.audit.verify import verify_chain_on_record
from mat.auth.access import api_roles
from mat.clock import clinic_zone
from mat.errors import InvalidInput
from mat.extensions import db
from mat.jsonio import ApiBlueprint

blp = ApiBlueprint("audit_api", __name__, url_prefix="/api/v1", description="Audit trail")

CSV_HEADERS = {
    "Content-Disposition": {
        "description": "attachment; filename=audit-FROM-TO.csv",
        "schema": {"type": "string"},
    }
}


@blp.route("/audit", methods=["GET"])
@api_roles("auditor")
@blp.arguments(AuditExportQuery(), location="query")
@blp.response(200, AuditEventsOut)
@blp.alt_response(
    200,
    schema={"type": "string"},
    content_type="text/csv",
    description="`{events}` as JSON, or with format=csv the same events as a streamed CSV file",
    headers=CSV_HEADERS,
    success=True,
)
def events(args: dict[str, Any]) -> Any:
    """Audit events of clinic-local days `from`..`to` (default: the last 7 days), in id order.

    `format=csv` streams the same events as a CSV download. Every call is itself recorded as an
    `audit.export` event (after the events it answers).
    """
    filters, zone = args["filters"], clinic_zone()
    if args["format"] == "csv":
        return csv_download(filters, zone)
    # Streamed: the schema's document written a batch at a time (memory stays flat for a year).
    return json_download(filters, zone)


@blp.route("/audit/verify", methods=["GET"])
@api_roles("auditor")
@blp.arguments(VerifyQuery(), location="query")
@blp.response(200, ChainReportOut)
def verify(args: dict[str, Any]) -> Any:
    """Check the hash chain; `first_bad` names the first event that does not match.

    At most 100,000 events per call (a call never outlasts the worker's timeout): while
    `complete` is false, call again with `after` set to the answer's `next`. The counts are for
    the whole walk so far; `ok` is false as soon as a part finds a problem."""
    start = None
    if "after" in args:
        start = verify_cursor.decode(args["after"], current_app.secret_key)
        if start is None:
            raise InvalidInput(
                "This cursor was not given by this server: start the check again without it.",
                fields={"after": ["Not a cursor of this server."]},
            )
    report, stopped = verify_chain_on_record(start=start, limit=verify_cursor.EVENTS_PER_CALL)
    cursor = None if stopped is None else verify_cursor.encode(stopped, current_app.secret_key)
    return {**asdict(report), "complete": stopped is None, "next": cursor}


@blp.route("/audit/checkpoints", methods=["GET"])
@api_roles("auditor")
@blp.response(200, CheckpointsOut)
def checkpoints() -> Any:
    """Every signed checkpoint of the chain, oldest first: keep this file away from the database
    server; `flask --app mat audit verify --checkpoints FILE` proves the trail still holds them."""
    found = [as_export(c) for c in all_checkpoints(db.session)]
    record("audit.checkpoints", entity_type="audit_trail", detail={"checkpoints": len(found)})
    return {"checkpoints": found}
