"""JSON API of take-home loss reports and their review (``mat/dosing/loss_reports.py``)."""

from __future__ import annotations

from typing import Any

from flask import g

from mat.auth.access import ANY_ROLE, api_roles
from mat.clock import clinic_now
from mat.dosing import loss_reports
from mat.dosing.schemas import LossReportIn, LossReportOut, LossReviewIn
from mat.jsonio import ApiBlueprint

blp = ApiBlueprint(
    "dosing_loss_api", __name__, url_prefix="/api/v1", description="Take-home loss reports"
)


@blp.route("/doses/<int:dose_id>/loss-reports", methods=["POST"])
@api_roles("nurse", "prescriber")
@blp.arguments(LossReportIn())
@blp.response(201, LossReportOut)
def report(data: dict[str, Any], dose_id: int) -> Any:
    return loss_reports.report_loss(dose_id, data, g.actor, clinic_now())


@blp.route("/loss-reports/<int:loss_id>/review", methods=["POST"])
@api_roles("prescriber", rule="prescriber_required")
@blp.arguments(LossReviewIn())
@blp.response(200, LossReportOut)
def review(data: dict[str, Any], loss_id: int) -> Any:
    return loss_reports.review_loss(loss_id, data, g.actor, clinic_now())


@blp.route("/patients/<int:patient_id>/loss-reports", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, LossReportOut(many=True))
def patient_reports(patient_id: int) -> Any:
    return loss_reports.patient_losses(patient_id)
