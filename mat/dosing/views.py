"""The nurse's dosing window (server-rendered): find the patient, see today's plan, give the dose
(through a confirm step), withhold it, place a hold, hand out take-homes. What the patient page
shows is built in ``window_page``; its other records (screens, corrections, late entries) are
``views_records``, on the same blueprint.

Every decision is the JSON API's: the page calls the same services (``service.dose_plan``,
``record_dose``, ``dispense_take_homes``, ``safety.withhold_dose``, ``place_hold``) and reads its
form fields with the API's own schemas, so the page and the API accept and refuse exactly the
same. A refusal of a write (409, 422) is shown on the patient's page with every rule that fired
(``refused`` below); every other error goes to the central handler (``mat.errors.respond``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import Schema, ValidationError

from mat.auth.access import roles_required
from mat.clock import clinic_now
from mat.dosing import safety, service
from mat.dosing.measures import dose_text, measure_text
from mat.dosing.models import Dose
from mat.dosing.schemas import DoseIn, ReasonIn, TakeHomeRequestIn, WithheldIn
from mat.dosing.window_page import local_time, patient_page, profile
from mat.errors import (
    Conflict,
    InvalidInput,
    MatError,
    flatten_field_errors,
    refused_form,
)
from mat.extensions import db
from mat.idempotency import spend_form_token, spent_form_token
from mat.orders.schedule import mg_text
from mat.orders.service import governing_order, patient_orders
from mat.patients.models import Patient
from mat.patients.service import get_patient
from mat.stock.window import current_station
from mat.violations import Violation

bp = Blueprint("dosing", __name__, url_prefix="/window")

# A Give form's one-time token is stored as an IdempotentRequest key with this prefix, so it
# never meets a key a client chose for the JSON API.
GIVE_KEY_PREFIX = "window-give:"


def _load(schema: Schema, data: dict[str, Any], message: str) -> dict[str, Any]:
    """The form's values through the API's schema; a refusal is a 422 shown on the page."""
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise InvalidInput(message, fields=flatten_field_errors(messages)) from err


@bp.errorhandler(MatError)
def refused(err: MatError) -> Any:
    """A refused write is shown on the patient's page, with its rules, status 409/422
    (``mat.errors.refused_form``: rolled back and audited once, exactly as ``respond`` does for
    every other page; the page is then read again so the nurse sees what is true now). The
    refusal concerns the patient of the page. Anything else (403, 404, ...) is ``respond``'s.
    """
    patient_id = (request.view_args or {}).get("patient_id")
    if patient_id is None:
        return refused_form(err, None)
    checked = set(request.form.getlist("dates"))

    def page() -> Any:
        if db.session.get(Patient, patient_id) is None:  # no page to show it on
            return render_template("error.html", error=err)
        return patient_page(patient_id, error=err, failed=request.endpoint, checked=checked)

    return refused_form(err, page, patient_id=patient_id)


# ---- reading: the patient's window (the queue and the search: views_queue.py) --------------


@bp.route("/<int:patient_id>", methods=["GET"])
@roles_required("nurse")
def patient_window(patient_id: int) -> Any:
    return patient_page(patient_id)


# ---- writing: give, withhold, hold, take-homes --------------------------------------------


def _back(patient_id: int) -> Any:
    return redirect(url_for("dosing.patient_window", patient_id=patient_id), code=303)


@bp.route("/<int:patient_id>/give/confirm", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def confirm_give(patient_id: int) -> Any:
    """The confirm step: the Give button leads here, and this page repeats who and what (name,
    date of birth, medication, mg and what to measure) with the one button that records the
    dose. Nothing is written; a dose no longer due is refused on the patient's page."""
    token, data = _give_form()
    now = clinic_now()
    plan = service.dose_plan(patient_id, now.date(), now, profile())  # the read is audited
    if plan.status != "due" or plan.planned is None:
        message = "Nothing is due now: the page was out of date. Check the patient's page."
        raise Conflict(message, code="not_due", violations=plan.violations)
    patient = get_patient(patient_id, audit_read=False)
    order = governing_order(patient_orders(patient_id), now.date())
    medication = order.medication if order else None
    return render_template(
        "dosing/confirm.html",
        patient=patient,
        plan=plan,
        token=token,
        amount=data["amount_mg"],
        medication=medication,
        mg=mg_text(data["amount_mg"]),
        measure=measure_text(medication, data["amount_mg"]) if medication else "",
        solid=medication is not None and medication.form != "liquid",
        take_home=plan.planned.mode == "take_home" and plan.planned.slot != "daily",
    )


@bp.route("/<int:patient_id>/give", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def give(patient_id: int) -> Any:
    """Record the planned dose the nurse confirmed (POST, then redirect to the page).

    Only the confirm page's button records (``confirm=yes``): the patient page's Give button
    leads to ``confirm_give``, which repeats who and what first.

    Double submission: the form carries a one-time token, stored with the dose (same
    transaction) as an ``IdempotentRequest`` of the nurse. The database's one-dose-per-slot
    constraint (with ``already_dosed`` and the patient lock) already stops a second dose from a
    second window or a double click, but it cannot tell a second press of an old form from a
    replacement dose that has become due after a void or spill (attempt 2 frees the slot). The
    token makes each Give form good for one dose, and costs one row in an existing table.
    """
    token, data = _give_form()
    if request.form.get("confirm") != "yes":
        raise InvalidInput(
            "The dose needs the confirm step: press Give, check the patient and the dose, "
            "then press Confirm.",
            code="confirm_required",
        )
    key = GIVE_KEY_PREFIX + token
    _refuse_used_token(key)
    dose = service.record_dose(patient_id, data, g.actor, clinic_now(), profile())
    spend_form_token(key, {"dose_id": dose.id})
    lot = f", lot {dose.lot.lot_number}" if dose.lot else ""
    flash(
        f"Recorded: {dose_text(dose.medication, dose.amount_mg, dose.volume_ml)} "
        f"{dose.medication.name}, slot {dose.slot}, "
        f"at {local_time(dose.dispensed_at)} by {current_user.initials}{lot}.",
        "success",
    )
    return _back(patient_id)


def _give_form() -> tuple[str, dict[str, Any]]:
    """The Give form's one-time token and its dose fields, read with the API's schema."""
    token = request.form.get("token", "")
    if not token or len(token) > 64:
        raise InvalidInput(
            "The form is incomplete; reload the page.", fields={"token": ["Missing."]}
        )
    form = {k: request.form.get(k) for k in ("amount_mg", "slot", "date")}
    form["amount_mg"] = _form_number(form["amount_mg"])
    form["station"] = current_station()
    return token, _load(DoseIn(), form, "The form is incomplete; reload the page.")


def _form_number(text: str | None) -> Any:
    """A form field holds text; the API's schema takes amounts only as numbers (JSON numbers,
    ``mat.schema_fields.amount``). The page's own hidden field is the order's amount: read it
    exactly, and leave anything unreadable as text for the schema to refuse."""
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return text


def _refuse_used_token(key: str) -> None:
    used = spent_form_token(key)
    if used is None:
        return
    dose = db.session.get(Dose, used["dose_id"])
    when = f" at {local_time(dose.dispensed_at)}" if dose else ""
    message = (
        f"This Give button was already pressed: the dose was recorded{when}. "
        "No second dose was recorded."
    )
    violation = Violation("already_dosed", profile().severity("already_dosed"), message)
    raise Conflict(message, code="already_dosed", violations=[violation])


@bp.route("/<int:patient_id>/withhold", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def withhold(patient_id: int) -> Any:
    data = _load(
        WithheldIn(),
        {"reason": request.form.get("reason", "").strip()},
        "Say why the dose is withheld.",
    )
    safety.withhold_dose(patient_id, data, g.actor, clinic_now(), profile())
    flash(f"Today's dose is withheld: {data['reason']}", "success")
    return _back(patient_id)


@bp.route("/<int:patient_id>/hold", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def hold(patient_id: int) -> Any:
    data = _load(
        ReasonIn(),
        {"reason": request.form.get("reason", "").strip()},
        "Say why the patient is put on hold.",
    )
    safety.place_hold(patient_id, data["reason"], g.actor, clinic_now())
    flash(f"Hold placed: {data['reason']}. No dose until a prescriber releases it.", "success")
    return _back(patient_id)


@bp.route("/<int:patient_id>/take-homes", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def take_homes(patient_id: int) -> Any:
    data = _load(
        TakeHomeRequestIn(),
        {"dates": request.form.getlist("dates")},
        "Tick at least one date to hand out.",
    )
    doses = service.dispense_take_homes(
        patient_id, data["dates"], g.actor, clinic_now(), profile(), station=current_station()
    )
    days = ", ".join(d.strftime("%a %d %b") for d in sorted({d.service_date for d in doses}))
    flash(
        f"Take-home doses handed out ({len(doses)}): {days}. Print a label for each bottle.",
        "success",
    )
    return _back(patient_id)


# The page's other records (screens, corrections, late entries) add routes to ``bp``.
from mat.dosing import views_records  # noqa: E402, F401
