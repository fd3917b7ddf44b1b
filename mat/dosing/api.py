"""Dosing-window JSON API: the dose plan, observed doses, take-homes, corrections, the dose
history. Holds, withheld doses, screens and closures are in ``api_safety.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g

from mat.auth.access import ANY_ROLE, api_roles
from mat.clock import clinic_now
from mat.dosing import corrections, service
from mat.dosing.schemas import (
    CorrectionIn,
    CorrectionOut,
    DoseIn,
    DoseOut,
    DosePlanOut,
    PlanQuery,
    RangeQuery,
    TakeHomeRequestIn,
    TakeHomesOut,
)
from mat.dosing.situation import doses_between
from mat.errors import InvalidInput
from mat.idempotency import idempotent
from mat.jsonio import ApiBlueprint
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.web_extensions import limiter

blp = ApiBlueprint("dosing_api", __name__, url_prefix="/api/v1", description="The dosing window")

# Witness passwords are checked here: failed confirmations are limited like failed sign-ins,
# so the field cannot be used to guess a colleague's password.
WITNESS_FAILURE_LIMIT = "10 per minute"
HISTORY_DEFAULT_DAYS = 28
HISTORY_LONGEST_DAYS = 366


def _profile() -> Profile:
    return current_app.extensions["mat_profile"]


def _witness_failed(response: Any) -> bool:
    """A refusal of the witness (``witness_required``), not of another rule: only those count
    against the limit, so rule refusals (a late take-home void) never lock a window out."""
    if response.status_code != 422 or not response.is_json:
        return False
    return (response.get_json(silent=True) or {}).get("error", {}).get("code") == "witness_required"


@blp.route("/patients/<int:patient_id>/dose-plan", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.arguments(PlanQuery(), location="query")
@blp.response(200, DosePlanOut)
def dose_plan(args: dict[str, Any], patient_id: int) -> Any:
    now = clinic_now()
    plan = service.dose_plan(patient_id, args["date"] or now.date(), now, _profile())
    return {
        "date": plan.date,
        "status": plan.status,
        "dose_mg": plan.planned.dose_mg if plan.planned else None,
        "volume_ml": plan.planned.volume_ml if plan.planned else None,
        "slot": plan.planned.slot if plan.planned else None,
        "mode": plan.planned.mode if plan.planned else None,
        "medication": plan.medication,
        "violations": [v.as_dict() for v in plan.violations],
        "warnings": [v.as_dict() for v in plan.warnings],
        "missed_days": plan.missed_days,
        "take_home_ceiling_days": plan.take_home_ceiling_days,
    }


@blp.route("/patients/<int:patient_id>/doses", methods=["POST"])
@api_roles("nurse", rule="dispenser_required")
@idempotent(look_up_first=False)  # a retry is refused (slot taken) or stopped at its key's insert
@blp.arguments(DoseIn())
@blp.response(201, DoseOut)
def record_dose(data: dict[str, Any], patient_id: int) -> Any:
    return service.record_dose(patient_id, data, g.actor, clinic_now(), _profile())


@blp.route("/patients/<int:patient_id>/take-homes", methods=["POST"])
@api_roles("nurse", rule="dispenser_required")
@idempotent(look_up_first=False)  # as a dose: the dates are taken, or the key's insert fails
@blp.arguments(TakeHomeRequestIn())
@blp.response(201, TakeHomesOut)
def take_homes(data: dict[str, Any], patient_id: int) -> Any:
    doses = service.dispense_take_homes(
        patient_id, data["dates"], g.actor, clinic_now(), _profile(), **_station(data)
    )
    return {"doses": doses}


def _station(data: dict[str, Any]) -> dict[str, str]:
    """The station the doses are drawn at, when the body names one (mat.stock)."""
    return {"station": data["station"]} if data.get("station") else {}


@blp.route("/doses/<int:dose_id>/corrections", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=_witness_failed)
@api_roles("nurse", rule="dispenser_required")
@blp.arguments(CorrectionIn())
@blp.response(201, CorrectionOut)
def correct(data: dict[str, Any], dose_id: int) -> Any:
    return corrections.correct_dose(dose_id, data, g.actor, clinic_now(), _profile())


@blp.route("/patients/<int:patient_id>/doses", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.arguments(RangeQuery(), location="query")
@blp.response(200, DoseOut(many=True))
def dose_history(args: dict[str, Any], patient_id: int) -> Any:
    stop = args["to"] or clinic_now().date()
    start = args["from_"] or stop - timedelta(days=HISTORY_DEFAULT_DAYS - 1)
    if stop < start or (stop - start).days >= HISTORY_LONGEST_DAYS:
        raise InvalidInput(
            "Ask for a range of at most a year, ending after it starts.",
            fields={"to": [f"From {start}, up to {HISTORY_LONGEST_DAYS} days."]},
        )
    get_patient(patient_id)  # 404; the read of the record is audited
    return doses_between(patient_id, start, stop)
