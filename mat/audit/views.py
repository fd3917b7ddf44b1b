"""The auditor's screen: the audit trail filtered and paged, its CSV download, the chain's check.

Filters are validated by the API's own schema (``mat.audit.schemas``), so the screen and the API
accept and refuse exactly the same input; the screen shows a refusal next to the form, with 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError

from mat.audit import queries
from mat.audit.export import csv_download
from mat.audit.schemas import AuditFilterQuery, AuditPageQuery
from mat.audit.service import record
from mat.audit.verify import verify_chain_on_record
from mat.auth.access import roles_required
from mat.clock import clinic_zone

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTER_FIELDS = ("from", "to", "user", "patient_id", "outcome")


def _local_time(at: datetime) -> str:
    return at.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M:%S")


def _refused_form(err: ValidationError) -> Any:
    """The screen again with what the auditor typed and why it was refused (422)."""
    values = {name: request.args.get(name, "") for name in FILTER_FIELDS}
    errors = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    return render_template("audit/events.html", values=values, errors=errors, page=None), 422


def _load(schema: Schema) -> dict[str, Any]:
    # Unknown arguments are ignored, as the API ignores them (webargs' default for queries).
    return schema.load(request.args, unknown=EXCLUDE)  # type: ignore[no-any-return]


@bp.route("", methods=["GET"])
@roles_required("auditor")
def events() -> Any:
    try:
        args = _load(AuditPageQuery())
    except ValidationError as err:
        return _refused_form(err)
    filters, zone = args["filters"], clinic_zone()
    page = queries.event_page(filters, zone, before=args.get("before"), after=args.get("after"))
    # Reading the trail shows who touched which patient: that read is on record too.
    record(
        "audit.view",
        entity_type="audit_trail",
        patient_id=filters.patient_id,
        detail={
            "filters": filters.as_detail(),
            "before": args.get("before"),
            "after": args.get("after"),
        },
    )
    values = {name: str(value) for name, value in filters.as_args().items()}
    links = filters.as_args()
    return render_template(
        "audit/events.html",
        values=values,
        errors={},
        page=page,
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
