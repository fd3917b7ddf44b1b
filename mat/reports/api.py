"""Reports JSON API: the dispensing log (auditors, admins; a nurse one day) and a patient's
dosing history (prescribers, auditors). Both answer a file, streamed."""

from __future__ import annotations

from typing import Any

from flask import g

from mat.auth.access import api_roles
from mat.jsonio import ApiBlueprint
from mat.reports.exports import history_download, log_download
from mat.reports.schemas import MAX_PDF_DAYS, DispensingLogQuery, HistoryQuery

blp = ApiBlueprint("reports_api", __name__, url_prefix="/api/v1", description="Reports")


def _file(content_type: str, description: str, name: str) -> dict[str, Any]:
    return {
        "schema": {"type": "string", "format": "binary"},
        "content_type": content_type,
        "description": description,
        "headers": {
            "Content-Disposition": {
                "description": f"attachment; filename={name}",
                "schema": {"type": "string"},
            }
        },
        "success": True,
    }


# One 200 answer with three content types (flask-smorest merges them; the last description
# and headers win, so all three carry the same).
LOG_FILE = (
    "The log as a file: `json` is `{from, to, rows: [...]}` with the CSV's columns as keys, "
    f"`csv` the header of api-contract.md, `pdf` (at most {MAX_PDF_DAYS} days) a printable log."
)
LOG_NAME = "dispensing-log-FROM-TO.FORMAT"


@blp.route("/reports/dispensing-log", methods=["GET"])
@api_roles("auditor", "admin", "nurse")
@blp.arguments(DispensingLogQuery(), location="query")
@blp.alt_response(200, **_file("application/json", LOG_FILE, LOG_NAME))
@blp.alt_response(200, **_file("text/csv", LOG_FILE, LOG_NAME))
@blp.alt_response(200, **_file("application/pdf", LOG_FILE, LOG_NAME))
def dispensing_log(args: dict[str, Any]) -> Any:
    """The dispensing log of clinic-local days `from`..`to` (default: today), streamed.

    One row per dose handed out and one per void or spill, ordered by day, dispenser and time.
    Auditors and admins: up to 366 days (PDF: 31). A nurse: one day (`from` equal to `to`).
    Every export is recorded in the audit trail.
    """
    return log_download(g.actor, args["query"], args["format"], args["page"])


@blp.route("/patients/<int:patient_id>/history", methods=["GET"])
@api_roles("prescriber", "auditor")
@blp.arguments(HistoryQuery(), location="query")
@blp.alt_response(
    200,
    **_file(
        "application/pdf",
        "Demographics, orders, a chart of planned vs given doses, holds, screens, corrections",
        "history-MRN-FROM-TO.pdf",
    ),
)
def patient_history(args: dict[str, Any], patient_id: int) -> Any:
    """A patient's dosing history as a PDF (default: the last 90 days). Audited as a read of
    the patient's record (42 CFR Part 2)."""
    return history_download(patient_id, args["first"], args["last"], args["page"])
