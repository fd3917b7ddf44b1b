"""The auditor's screen: the audit trail filtered and paged, its CSV download, the chain's check.

Filters are validated by the API's own schema (``mat.audit.schemas``), so the screen and the API
accept and refuse exactly the same input; the screen shows a refusal next to the form, with 422.
The screen also takes the patient by MRN (what an auditor has in hand; the API's filter is the
internal id, which the screen no longer shows): the MRN is turned into that id before the schema
sees it. Rows name the patient by MRN and name, read in one query for the whole page, and say
the action in words (``mat.audit.describe``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import func, select

from mat.audit import queries
from mat.audit.describe import describe, detail_lines
from mat.audit.export import csv_download
from mat.audit.schemas import AuditFilterQuery, AuditPageQuery
from mat.audit.service import record
from mat.audit.verify import verify_chain_on_record
from mat.auth.access import roles_required
from mat.clock import clinic_zone
from mat.extensions import db
from mat.patients.models import Patient

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTER_FIELDS = ("from", "to", "user", "mrn", "outcome")
# Words for the schema's field names next to the form (never the schema's own key names).
FIELD_LABELS = {
    "from": "From",
    "to": "To",
    "user": "User",
    "patient_id": "Patient",
    "mrn": "Patient MRN",
    "outcome": "Outcome",
    "before": "Page",
    "after": "Page",
    "_schema": "Filters",
}


def _local_time(at: datetime) -> str:
    return at.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M:%S")


def _refused_form(err: ValidationError) -> Any:
    """The screen again with what the auditor typed and why it was refused (422)."""
    values = {name: request.args.get(name, "") for name in FILTER_FIELDS}
    errors = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    return (
        render_template(
            "audit/events.html", values=values, errors=errors, labels=FIELD_LABELS, page=None
        ),
        422,
    )


def _patient_by_mrn(mrn: str) -> int:
    patient_id = db.session.scalar(
        select(Patient.id).where(func.upper(Patient.mrn) == mrn.strip().upper())
    )
    if patient_id is None:
        raise ValidationError({"mrn": [f"No patient has the MRN {mrn.strip()}."]})
    return patient_id


def _load(schema: Schema) -> dict[str, Any]:
    # Unknown arguments are ignored, as the API ignores them (webargs' default for queries).
    args = request.args.to_dict()
    mrn = args.pop("mrn", "").strip()
    if mrn:
        args["patient_id"] = str(_patient_by_mrn(mrn))
    return schema.load(args, unknown=EXCLUDE)  # type: ignore[no-any-return]


def _patients(ids: set[int]) -> dict[int, Patient]:
    """The page's patients in one query (never one per row)."""
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(ids)))}


@bp.route("", methods=["GET"])
@roles_required("auditor")
def events() -> Any:
    try:
        args = _load(AuditPageQuery())
    except ValidationError as err:
        return _refused_form(err)
    filters, zone = args["filters"], clinic_zone()
    page = queries.event_page(filters, zone, before=args.get("before"), after=args.get("after"))
    patients = _patients({e.patient_id for e in page.events if e.patient_id is not None})
    if filters.patient_id is not None and filters.patient_id not in patients:
        patients.update(_patients({filters.patient_id}))
    # Reading the trail shows who touched which patient (and now their names): on record too.
    record(
        "audit.view",
        entity_type="audit_trail",
        patient_id=filters.patient_id,
        detail={
            "filters": filters.as_detail(),
            "before": args.get("before"),
            "after": args.get("after"),
            "patients_shown": sorted(patients),
        },
    )
    values = {name: str(value) for name, value in filters.as_args().items()}
    chosen = patients.get(filters.patient_id) if filters.patient_id is not None else None
    values["mrn"] = chosen.mrn if chosen is not None else ""
    url_map = current_app.url_map
    rows = [
        (
            event,
            describe(event.action, event.outcome, _detail(event.detail), url_map),
            patients.get(event.patient_id) if event.patient_id is not None else None,
            detail_lines(event.detail),
        )
        for event in page.events
    ]
    links = filters.as_args()
    return render_template(
        "audit/events.html",
        values=values,
        errors={},
        labels=FIELD_LABELS,
        page=page,
        rows=rows,
        zone=zone.key,
        local_time=_local_time,
        csv_url=url_for("audit.export_csv", **links),
        newer_url=(
            url_for("audit.events", **links, after=page.newer_than) if page.newer_than else None
        ),
        older_url=(
            url_for("audit.events", **links, before=page.older_than) if page.older_than else None
        ),
        first_url=url_for("audit.events", **links),
        cursor=args.get("before") or args.get("after"),
    )


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@bp.route("/export.csv", methods=["GET"])
@roles_required("auditor")
def export_csv() -> Any:
    try:
        args = _load(AuditFilterQuery())
    except ValidationError as err:
        return _refused_form(err)
    return csv_download(args["filters"], clinic_zone())


@bp.route("/verify", methods=["POST"])
@roles_required("auditor")
def verify() -> Any:
    report, _ = verify_chain_on_record()
    return render_template("audit/verify.html", report=report)
