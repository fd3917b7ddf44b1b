"""Orders JSON API: preview, sign, list, discontinue, and the planned schedule; and the
patient record's ``active_order`` part. The service returns orders; they are shaped here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app, g

from mat.auth.access import ANY_ROLE, api_roles
from mat.clock import clinic_now
from mat.jsonio import ApiBlueprint
from mat.orders import exceptions, service
from mat.orders.answers import order_answer, planned_answer
from mat.orders.schemas import (
    DiscontinueIn,
    OrderIn,
    OrderOut,
    PlannedDoseOut,
    PreviewOut,
    ScheduleQuery,
    SignedOrderOut,
    TakeHomeExceptionIn,
    TakeHomeExceptionOut,
)
from mat.patients.models import Patient
from mat.patients.service import get_patient
from mat.profiles import Profile

blp = ApiBlueprint("orders_api", __name__, url_prefix="/api/v1", description="Prescriber orders")

# The schedule call without dates answers four weeks from today.
DEFAULT_SCHEDULE_DAYS = 28


def _profile() -> Profile:
    return current_app.extensions["mat_profile"]


@blp.route("/patients/<int:patient_id>/orders/preview", methods=["POST"])
@api_roles("prescriber", rule="prescriber_required")
@blp.arguments(OrderIn())
@blp.response(200, PreviewOut)
def preview(data: dict[str, Any], patient_id: int) -> Any:
    found = service.preview_order(patient_id, data, clinic_now(), _profile())
    return {
        "schedule": [planned_answer(p, None) for p in found.schedule],
        "violations": [v.as_dict() for v in found.violations],
    }


@blp.route("/patients/<int:patient_id>/orders", methods=["POST"])
@api_roles("prescriber", rule="prescriber_required")
@blp.arguments(OrderIn())
@blp.response(201, SignedOrderOut)
def sign(data: dict[str, Any], patient_id: int) -> Any:
    order = service.sign_order(patient_id, data, g.actor, clinic_now(), _profile())
    answer = order_answer(order, "active")
    stored = order.stored
    product = order.medication.as_product()
    answer["schedule"] = [
        planned_answer(p, order.id) for p in stored.planned(product, *stored.whole_curve())
    ]
    return answer


@blp.route("/patients/<int:patient_id>/orders", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, OrderOut(many=True))
def list_orders(patient_id: int) -> Any:
    found = service.orders_with_status(patient_id, clinic_now().date())
    return [order_answer(f.order, f.status) for f in found]


@blp.route("/orders/<int:order_id>/discontinue", methods=["POST"])
@api_roles("prescriber", rule="prescriber_required")
@blp.arguments(DiscontinueIn())
@blp.response(200, OrderOut)
def discontinue(data: dict[str, Any], order_id: int) -> Any:
    order = service.discontinue_order(order_id, data["reason"], g.actor, clinic_now())
    return order_answer(order, "discontinued")


@blp.route("/patients/<int:patient_id>/schedule", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.arguments(ScheduleQuery(), location="query")
@blp.response(200, PlannedDoseOut(many=True))
def schedule(args: dict[str, Any], patient_id: int) -> Any:
    start = args["from_"] or clinic_now().date()
    stop = args["to"] or start + timedelta(days=DEFAULT_SCHEDULE_DAYS - 1)
    return [planned_answer(p, o.id) for p, o in service.planned_schedule(patient_id, start, stop)]


@blp.route("/patients/<int:patient_id>/take-home-exceptions", methods=["POST"])
@api_roles("prescriber", rule="prescriber_required")
@blp.arguments(TakeHomeExceptionIn())
@blp.response(201, TakeHomeExceptionOut)
def record_exception(data: dict[str, Any], patient_id: int) -> Any:
    return exceptions.record_exception(patient_id, data, g.actor, clinic_now())


@blp.route("/patients/<int:patient_id>/take-home-exceptions", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, TakeHomeExceptionOut(many=True))
def list_exceptions(patient_id: int) -> Any:
    get_patient(patient_id)  # 404; the read of the record is audited
    return exceptions.patient_exceptions(patient_id)


def active_order_part(patient: Patient, today: date) -> dict[str, Any] | None:
    """The patient record's ``active_order`` part, in the shape of ``OrderOut`` (registered in
    ``mat.web``, so the patients package needs no import of orders)."""
    found = service.active_order_with_status(patient, today)
    return None if found is None else OrderOut().dump(order_answer(found.order, found.status))
