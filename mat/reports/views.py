"""The reports page: the dispensing log in each format (auditors, admins; a nurse one day) and,
for auditors, a patient's dosing history.

Queries are validated by the API's own schemas and answered by the same export functions
(``mat.reports.exports``), so the page and the API accept, refuse and write exactly the same.
A refused form is shown again with its errors, with 422.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import select

from mat.auth.access import roles_required
from mat.clock import clinic_today, clinic_zone
from mat.extensions import db
from mat.formulary.models import Medication
from mat.patients.models import Patient
from mat.reports.exports import ANY_RANGE_ROLES, history_download, log_download
from mat.reports.schemas import (
    LOG_FORMATS,
    MAX_DAYS,
    MAX_PDF_DAYS,
    PAGE_SIZES,
    SUBSTANCES,
    DispensingLogQuery,
    HistoryPageQuery,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")

LOG_FIELDS = ("from", "to", "format", "product", "substance", "page")
HISTORY_FIELDS = ("mrn", "from", "to", "page")


def _page(
    status: int = 200, *, log_errors: Any = None, history_errors: Any = None
) -> tuple[str, int]:
    today = clinic_today().isoformat()
    log_values = {"from": today, "to": today, "format": "csv", "page": "letter"}
    history_values: dict[str, str] = {"page": "letter"}
    if log_errors is not None:
        log_values = {name: request.args.get(name, "") for name in LOG_FIELDS}
    if history_errors is not None:
        history_values = {name: request.form.get(name, "") for name in HISTORY_FIELDS}
    products = db.session.scalars(select(Medication.code).order_by(Medication.code)).all()
    page = render_template(
        "reports/index.html",
        any_range=current_user.has_role(*ANY_RANGE_ROLES),
        auditor=current_user.has_role("auditor"),
        log_values=log_values,
        log_errors=log_errors or {},
        history_values=history_values,
        history_errors=history_errors or {},
        formats=LOG_FORMATS,
        page_sizes=PAGE_SIZES,
        products=products,
        substances=SUBSTANCES,
        max_days=MAX_DAYS,
        max_pdf_days=MAX_PDF_DAYS,
        zone=clinic_zone().key,
    )
    return page, status


def _messages(err: ValidationError) -> dict[str, Any]:
    return err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}


def _load(schema: Schema, values: Any) -> dict[str, Any]:
    # Unknown arguments are ignored, as the API ignores them (webargs' default for queries).
    return schema.load(values, unknown=EXCLUDE)  # type: ignore[no-any-return]


@bp.route("", methods=["GET"])
@roles_required("auditor", "admin", "nurse")
def index() -> Any:
    return _page()


@bp.route("/dispensing-log", methods=["GET"])
@roles_required("auditor", "admin", "nurse")
def dispensing_log() -> Any:
    try:
        args = _load(DispensingLogQuery(), request.args)
    except ValidationError as err:
        return _page(422, log_errors=_messages(err))
    return log_download(current_user, args["query"], args["format"], args["page"])


@bp.route("/history", methods=["POST"])
@roles_required("auditor")
def history() -> Any:
    """The history PDF of the patient with this MRN. A POST, so that the MRN (a patient
    identifier) is never in an address: not in browser history, logs or a Referer. The log's
    form stays a GET: its dates and product name no patient."""
    try:
        args = _load(HistoryPageQuery(), request.form)
    except ValidationError as err:
        return _page(422, history_errors=_messages(err))
    patient_id = db.session.scalar(select(Patient.id).where(Patient.mrn == args["mrn"]))
    if patient_id is None:
        return _page(422, history_errors={"mrn": [f"No patient has the MRN {args['mrn']}."]})
    return history_download(patient_id, args["first"], args["last"], args["page"])
