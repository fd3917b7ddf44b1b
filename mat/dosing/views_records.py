"""The nurse's patient page, its records besides today's dose: a urine drug screen, a void or
spill witnessed by a second nurse who signs in on the same screen, and a dose given during
downtime entered late. Same blueprint and same refusal handling as ``mat.dosing.views``: a
refusal is shown on the patient's page, in plain words, with nothing written.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, request

from mat.auth.access import roles_required
from mat.clock import clinic_now
from mat.dosing import corrections, safety, service
from mat.dosing.api import WITNESS_FAILURE_LIMIT
from mat.dosing.measures import dose_text
from mat.dosing.schemas import SCREEN_SUBSTANCES, CorrectionIn, DoseIn, ScreenIn
from mat.dosing.views import _back, _form_number, _load, bp
from mat.dosing.window_page import local_time, profile
from mat.errors import InvalidInput, NotFound, recorded_refusal
from mat.stock.window import current_station
from mat.web_extensions import limiter


@bp.route("/<int:patient_id>/screens", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def screen(patient_id: int) -> Any:
    """A urine drug screen: a date and, per substance of the panel, positive, negative or not
    tested (left out)."""
    results = {
        name: request.form.get(f"result_{name}", "")
        for name in SCREEN_SUBSTANCES
        if request.form.get(f"result_{name}")
    }
    form = {"collected_on": request.form.get("collected_on", ""), "results": results}
    data = _load(ScreenIn(), form, "Give the date and at least one substance's result.")
    safety.record_screen(patient_id, data, g.actor, clinic_now())
    positive = sorted(k for k, v in data["results"].items() if v == "positive")
    found = f"positive for {', '.join(positive)}" if positive else "all negative"
    flash(f"Screen of {data['collected_on'].isoformat()} recorded: {found}.", "success")
    return _back(patient_id)


def _witness_refused(response: Response) -> bool:
    """Only a refused witness counts against the limit (as on the API): the answer says which
    refusal it shows (``mat.errors.answer_refusal``)."""
    refusal = recorded_refusal(response)
    return refusal is not None and refusal.code == "witness_required"


@bp.route("/<int:patient_id>/doses/<int:dose_id>/correct", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=_witness_refused)
@roles_required("nurse", rule="dispenser_required")
def correct(patient_id: int, dose_id: int) -> Any:
    """Void or spill one of the patient's doses; the witness types their own username and
    password here (``corrections.correct_dose`` checks them like a sign-in)."""
    dose = corrections.get_dose(dose_id)
    if dose.patient_id != patient_id:  # a dose of another patient: not on this page
        raise NotFound(f"No dose with id {dose_id} for this patient.", code="dose_not_found")
    username = request.form.get("witness_username", "").strip()
    password = request.form.get("witness_password", "")
    form: dict[str, Any] = {
        "kind": request.form.get("kind", ""),
        "reason": request.form.get("reason", "").strip(),
    }
    if username or password:
        form["witness"] = {"username": username, "password": password}
    data = _load(CorrectionIn(), form, "Say what happened and why, and have the witness sign in.")
    correction = corrections.correct_dose(dose_id, data, g.actor, clinic_now(), profile())
    flash(
        f"Dose of {local_time(dose.dispensed_at)} {correction.kind}ed "
        f"({dose_text(dose.medication, dose.amount_mg, dose.volume_ml)}), witnessed by "
        f"{correction.witness.full_name}.",
        "success",
    )
    return _back(patient_id)


@bp.route("/<int:patient_id>/late-entry", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def late_entry(patient_id: int) -> Any:
    """A dose given on an earlier day while mat was down; the service judges the day's rules and
    refuses a date beyond the late-entry limit or without a reason."""
    form = {
        "amount_mg": _form_number(request.form.get("amount_mg", "").strip() or None),
        "slot": request.form.get("slot") or None,
        "date": request.form.get("date", ""),
        "late_entry_reason": request.form.get("late_entry_reason", "").strip(),
        "station": current_station(),
    }
    data = _load(DoseIn(), form, "Give the date, the amount and why it is entered late.")
    if data["date"] is None or data["date"] >= clinic_now().date():
        # Today's dose is given with the Give button and its confirm step, never typed in.
        raise InvalidInput(
            "A late entry is for an earlier day; today's dose is given with the Give button.",
            fields={"date": ["Use an earlier date."]},
        )
    dose = service.record_dose(patient_id, data, g.actor, clinic_now(), profile())
    flash(
        f"Late entry recorded for {dose.service_date.isoformat()}: "
        f"{dose_text(dose.medication, dose.amount_mg, dose.volume_ml)} {dose.medication.name}.",
        "success",
    )
    return _back(patient_id)
