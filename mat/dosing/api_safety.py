"""JSON API of holds, withheld doses, drug screens and clinic closures; and the patient record's
``open_holds`` part."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g

from mat.auth.access import api_roles
from mat.clock import clinic_now
from mat.dosing import safety
from mat.dosing.schemas import (
    ClosureIn,
    ClosureOut,
    HoldOut,
    ReasonIn,
    ScreenIn,
    ScreenOut,
    WithheldIn,
    WithheldOut,
)
from mat.dosing.situation import open_holds
from mat.jsonio import ApiBlueprint
from mat.patients.models import Patient

blp = ApiBlueprint(
    "dosing_safety_api", __name__, url_prefix="/api/v1", description="Holds, screens, closures"
)


@blp.route("/patients/<int:patient_id>/doses/withheld", methods=["POST"])
@api_roles("nurse", rule="dispenser_required")
@blp.arguments(WithheldIn())
@blp.response(201, WithheldOut)
def withhold(data: dict[str, Any], patient_id: int) -> Any:
    profile = current_app.extensions["mat_profile"]
    return safety.withhold_dose(patient_id, data, g.actor, clinic_now(), profile)


@blp.route("/patients/<int:patient_id>/holds", methods=["POST"])
@api_roles("nurse", "prescriber")
@blp.arguments(ReasonIn())
@blp.response(201, HoldOut)
def place_hold(data: dict[str, Any], patient_id: int) -> Any:
    return safety.place_hold(patient_id, data["reason"], g.actor, clinic_now())


@blp.route("/holds/<int:hold_id>/release", methods=["POST"])
@api_roles("prescriber", rule="prescriber_required")
@blp.arguments(ReasonIn())
@blp.response(200, HoldOut)
def release_hold(data: dict[str, Any], hold_id: int) -> Any:
    return safety.release_hold(hold_id, data["reason"], g.actor, clinic_now())


@blp.route("/patients/<int:patient_id>/drug-screens", methods=["POST"])
@api_roles("nurse", "prescriber")
@blp.arguments(ScreenIn())
@blp.response(201, ScreenOut)
def record_screen(data: dict[str, Any], patient_id: int) -> Any:
    return safety.record_screen(patient_id, data, g.actor, clinic_now())


@blp.route("/closures", methods=["POST"])
@api_roles("admin")
@blp.arguments(ClosureIn())
@blp.response(201, ClosureOut)
def close_clinic(data: dict[str, Any]) -> Any:
    return safety.close_clinic(data, g.actor, clinic_now())


def open_holds_part(patient: Patient, today: date) -> list[dict[str, Any]]:
    """The patient record's ``open_holds`` part, in the shape of ``HoldOut`` (registered in
    ``mat.web``). An open hold is open whatever the date: ``today`` goes unused."""
    return HoldOut(many=True).dump(open_holds(patient.id))
