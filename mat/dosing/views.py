"""The nurse's dosing window (server-rendered): find the patient, see today's plan, give the dose,
withhold it, place a hold, hand out take-homes.

Every decision is the JSON API's: the page calls the same services (``service.dose_plan``,
``record_dose``, ``dispense_take_homes``, ``safety.withhold_dose``, ``place_hold``) and reads its
form fields with the API's own schemas, so the page and the API accept and refuse exactly the
same. A refusal of a write (409, 422) is shown on the patient's page with every rule that fired
(``refused`` below); every other error goes to the central handler (``mat.errors.respond``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from mat.audit.service import record_refusal
from mat.auth.access import roles_required
from mat.clock import clinic_now, clinic_zone
from mat.dosing import safety, service
from mat.dosing.models import Dose
from mat.dosing.schemas import DoseIn, ReasonIn, TakeHomeRequestIn, WithheldIn
from mat.dosing.situation import closures_between, doses_between, open_holds
from mat.dosing.take_home_facts import loss_report_dates
from mat.dosing.take_home_rules import loss_report_violations
from mat.errors import Conflict, InvalidInput, MatError, flatten_field_errors, respond
from mat.extensions import db
from mat.formulary.models import Medication
from mat.idempotency import IdempotentRequest
from mat.orders.exceptions import exception_spans
from mat.orders.schedule import mg_text
from mat.orders.service import governing_order, patient_orders, schedule_between
from mat.patients.episodes import episodes_of
from mat.patients.models import Patient
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.stock.window import WindowStock, current_station, units_text, window_stock
from mat.violations import Violation

bp = Blueprint("dosing", __name__, url_prefix="/window")

# The take-home form offers the coming week: today and the six days after it.
TAKE_HOME_FORM_DAYS = 7
# A Give form's one-time token is stored as an IdempotentRequest key with this prefix, so it
# never meets a key a client chose for the JSON API.
GIVE_KEY_PREFIX = "window-give:"
CORRECTION_STATUS = {"void": "voided", "spill": "spilled"}


def _profile() -> Profile:
    return current_app.extensions["mat_profile"]


def _local_time(at: datetime) -> str:
    return at.astimezone(clinic_zone()).strftime("%H:%M")


def _ml_text(volume_ml: Any) -> str:
    return f"{volume_ml.normalize():f} mL"


def _load(schema: Schema, data: dict[str, Any], message: str) -> dict[str, Any]:
    """The form's values through the API's schema; a refusal is a 422 shown on the page."""
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise InvalidInput(message, fields=flatten_field_errors(messages)) from err


@bp.errorhandler(MatError)
def refused(err: MatError) -> Any:
    """A refused write is shown on the patient's page, with its rules, status 409/422.

    ``record_refusal`` rolls the work back and stores the refusal once (``g.refusal_recorded``
    tells ``mat._commit`` it is done), exactly as ``respond`` does for every other page; the page
    is then read again so the nurse sees what is true now. Anything else (403, 404, ...) is
    answered by ``respond``.
    """
    patient_id = (request.view_args or {}).get("patient_id")
    if request.method != "POST" or patient_id is None or err.status not in (409, 422):
        return respond(err)
    g.audit_patient_id = g.get("audit_patient_id", patient_id)  # a form refused before any read
    record_refusal(err)
    g.refusal_recorded = True
    if db.session.get(Patient, patient_id) is None:  # no page to show it on
        return make_response(render_template("error.html", error=err), err.status)
    checked = set(request.form.getlist("dates"))
    return _patient_page(
        patient_id, error=err, failed=request.endpoint, status=err.status, checked=checked
    )


# ---- reading: the patient's window (the queue and the search: views_queue.py) --------------


@bp.route("/<int:patient_id>", methods=["GET"])
@roles_required("nurse")
def patient_window(patient_id: int) -> Any:
    return _patient_page(patient_id)


def _patient_page(
    patient_id: int,
    *,
    error: MatError | None = None,
    failed: str | None = None,
    status: int = 200,
    checked: Any = (),
) -> Any:
    now = clinic_now()
    today = now.date()
    plan = service.dose_plan(patient_id, today, now, _profile())  # 404; the read is audited
    patient = get_patient(patient_id, audit_read=False)
    orders = patient_orders(patient_id)
    episodes = episodes_of(patient_id)
    page = render_template(
        "dosing/patient.html",
        patient=patient,
        plan=plan,
        # Day 1 is the admission of the current episode of care (a readmission starts again).
        treatment_day=(today - patient.admitted_on).days + 1,
        episode=episodes[-1].number if episodes else 1,
        losses=loss_report_violations(loss_report_dates(patient_id), today, _profile()),
        # Once every dose is given, "already given" is the good news, not a reason to show red.
        reasons=[v for v in plan.violations if plan.status != "given" or v.rule != "already_dosed"],
        order=governing_order(orders, today),
        today=today,
        doses=[_dose_row(d) for d in doses_between(patient_id, today, today)],
        holds=open_holds(patient_id),
        take_home_days=_take_home_days(patient_id, orders, today),
        checked=set(checked),
        give_token=secrets.token_urlsafe(16),
        stock=_stock(patient_id, plan, today),
        units_text=units_text,
        error=error,
        failed=failed,
        zone=clinic_zone(),
        mg_text=mg_text,
        ml_text=_ml_text,
    )
    return page, status


def _stock(patient_id: int, plan: service.DosePlan, today: date) -> WindowStock:
    """The station, the lot the due dose would come from, labels and bottles (mat.stock)."""
    medication = None
    if plan.status == "due" and plan.medication and plan.planned:
        medication = db.session.scalar(select(Medication).where(Medication.code == plan.medication))
    amount = plan.planned.dose_mg if plan.planned else None
    return window_stock(patient_id, medication, amount, today, _profile(), current_station())


def _dose_row(dose: Dose) -> dict[str, Any]:
    return {
        "time": _local_time(dose.dispensed_at),
        "amount": mg_text(dose.amount_mg),
        "volume": _ml_text(dose.volume_ml)
        if dose.volume_ml is not None
        else units_text(dose.medication, dose.amount_mg),
        "lot": dose.lot.lot_number if dose.lot else "",
        "slot": dose.slot,
        "mode": dose.mode.replace("_", "-"),
        "initials": dose.dispenser.initials,
        "status": CORRECTION_STATUS[dose.correction.kind] if dose.correction else "given",
        "late_entry": dose.late_entry,
    }


def _take_home_days(patient_id: int, orders: list[Any], today: date) -> list[dict[str, Any]]:
    """The coming week's dates a take-home may be asked for: those the governing order
    authorizes, and clinic closures (one take-home allowed). The rules judge the request."""
    last = today + timedelta(days=TAKE_HOME_FORM_DAYS - 1)
    closures = closures_between(today, last)
    planned: dict[date, list[Any]] = {}
    for dose, _ in schedule_between(orders, today, last):
        planned.setdefault(dose.date, []).append(dose)
    handed_out = {
        d.service_date
        for d in doses_between(patient_id, today, last)
        if d.mode == "take_home" and d.counts
    }
    exceptions = exception_spans(patient_id)
    days = []
    for day, doses in sorted(planned.items()):
        order = governing_order(orders, day)
        take_home = order.stored.take_home if order else None
        authorized = take_home is not None and take_home.authorizes(day)
        if not (authorized or day in closures):
            continue
        exception = next((e for e in exceptions if e.covers(day)), None)
        days.append(
            {
                "date": day,
                "amount": mg_text(sum((p.dose_mg for p in doses), Decimal(0))),
                "closed": day in closures,
                "handed_out": day in handed_out,
                "exception": exception.number if exception else None,  # SMA-168
            }
        )
    return days


# ---- writing: give, withhold, hold, take-homes --------------------------------------------


def _back(patient_id: int) -> Any:
    return redirect(url_for("dosing.patient_window", patient_id=patient_id), code=303)


@bp.route("/<int:patient_id>/give", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def give(patient_id: int) -> Any:
    """Record the planned dose the nurse confirmed (POST, then redirect to the page).

    Double submission: the form carries a one-time token, stored with the dose (same
    transaction) as an ``IdempotentRequest`` of the nurse. The database's one-dose-per-slot
    constraint (with ``already_dosed`` and the patient lock) already stops a second dose from a
    second window or a double click, but it cannot tell a second press of an old form from a
    replacement dose that has become due after a void or spill (attempt 2 frees the slot). The
    token makes each Give form good for one dose, and costs one row in an existing table.
    """
    token = request.form.get("token", "")
    if not token or len(token) > 64:
        raise InvalidInput(
            "The form is incomplete; reload the page.", fields={"token": ["Missing."]}
        )
    form = {k: request.form.get(k) for k in ("amount_mg", "slot", "date")}
    form["amount_mg"] = _form_number(form["amount_mg"])
    form["station"] = current_station()
    data = _load(DoseIn(), form, "The form is incomplete; reload the page.")
    key = GIVE_KEY_PREFIX + token
    _refuse_used_token(key)
    dose = service.record_dose(patient_id, data, g.actor, clinic_now(), _profile())
    db.session.add(
        IdempotentRequest(
            user_id=current_user.id,
            key=key,
            fingerprint=hashlib.sha256(request.path.encode()).hexdigest(),
            status=303,
            body=json.dumps({"dose_id": dose.id}),
        )
    )
    db.session.flush()
    measure = _ml_text(dose.volume_ml) if dose.volume_ml is not None else ""
    measure = measure or units_text(dose.medication, dose.amount_mg)
    volume = f" ({measure})" if measure else ""
    lot = f", lot {dose.lot.lot_number}" if dose.lot else ""
    flash(
        f"Recorded: {mg_text(dose.amount_mg)}{volume} {dose.medication.name}, slot {dose.slot}, "
        f"at {_local_time(dose.dispensed_at)} by {current_user.initials}{lot}.",
        "success",
    )
    return _back(patient_id)


def _form_number(text: str | None) -> Any:
    """A form field holds text; the API's schema takes amounts only as numbers (JSON numbers,
    ``mat.schema_fields.amount``). The page's own hidden field is the order's amount: read it
    exactly, and leave anything unreadable as text for the schema to refuse."""
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return text


def _refuse_used_token(key: str) -> None:
    used = db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == current_user.id, IdempotentRequest.key == key
        )
    )
    if used is None:
        return
    dose = db.session.get(Dose, json.loads(used.body)["dose_id"])
    when = f" at {_local_time(dose.dispensed_at)}" if dose else ""
    message = (
        f"This Give button was already pressed: the dose was recorded{when}. "
        "No second dose was recorded."
    )
    violation = Violation("already_dosed", _profile().severity("already_dosed"), message)
    raise Conflict(message, code="already_dosed", violations=[violation])


@bp.route("/<int:patient_id>/withhold", methods=["POST"])
@roles_required("nurse", rule="dispenser_required")
def withhold(patient_id: int) -> Any:
    data = _load(
        WithheldIn(),
        {"reason": request.form.get("reason", "").strip()},
        "Say why the dose is withheld.",
    )
    safety.withhold_dose(patient_id, data, g.actor, clinic_now(), _profile())
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
        patient_id, data["dates"], g.actor, clinic_now(), _profile(), station=current_station()
    )
    days = ", ".join(d.strftime("%a %d %b") for d in sorted({d.service_date for d in doses}))
    flash(
        f"Take-home doses handed out ({len(doses)}): {days}. Print a label for each bottle.",
        "success",
    )
    return _back(patient_id)
