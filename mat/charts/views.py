"""The prescriber's chart (server-rendered): find a patient, read the chart, and the chart's
own writes: release a hold, discontinue an order, change the level of care, discharge.

Every decision is a service's (``mat.orders.service``, ``mat.dosing.safety``,
``mat.patients.episodes``); the page reads its fields with the API's schemas and puts their
messages in plain words. A refused write (409, 422) is shown on the page it came from, with
what to do (``refused``); the order form's routes are in ``order_views.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import Schema, ValidationError

from mat.auth.access import roles_required
from mat.charts.reading import read_chart
from mat.charts.svg import dose_chart
from mat.clock import clinic_now, clinic_zone
from mat.dosing import safety
from mat.dosing.models import Hold
from mat.dosing.schemas import ReasonIn
from mat.errors import (
    InvalidInput,
    MatError,
    NotFound,
    answer_refusal,
    flatten_field_errors,
    respond,
)
from mat.extensions import db
from mat.orders.schemas import DiscontinueIn
from mat.orders.service import discontinue_order, get_order
from mat.patients.episodes import change_patient, readmit
from mat.patients.models import LEVELS_OF_CARE, Patient
from mat.patients.schemas import AdmissionIn, PatientSearch, PatientUpdate
from mat.patients.service import search_patients
from mat.profiles import Profile

bp = Blueprint("charts", __name__, url_prefix="/charts")

# Length and choice messages of the schemas, said for a person at a form.
PLAIN_REASON = "Write the reason in a few words (3 to 2000 characters)."


def profile() -> Profile:
    return current_app.extensions["mat_profile"]


def load_plain(schema: Schema, data: dict[str, Any], message: str, plain: dict[str, str]) -> Any:
    """The form's values through the API's schema; a refusal is a 422 whose field messages are
    ``plain[field]`` (the schema's own sentence only for text problems it explains well)."""
    try:
        return schema.load(data)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        fields = {}
        for name, texts in flatten_field_errors(messages).items():
            own = [t for t in texts if t.startswith(("Remove ", "Write ", "The reports "))]
            fields[name] = own or [plain.get(name, "Check this field.")]
        raise InvalidInput(message, fields=fields) from err


def level_text(level: str) -> str:
    return level.replace("_", " ")


@bp.app_template_filter("level_text")
def _level_filter(level: str) -> str:
    return level_text(level)


@bp.app_template_filter("clinic_time")
def _clinic_time(at: datetime) -> str:
    """A stored moment as the clinic's wall clock reads it."""
    return at.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M")


@bp.errorhandler(MatError)
def refused(err: MatError) -> Any:
    """A refused write is shown again on its page with what to do, status 409/422; the work is
    rolled back and the refusal stored once (``answer_refusal``, as ``respond`` does); a refused
    write names the chart's patient. Anything else: ``respond``."""
    patient_id = (request.view_args or {}).get("patient_id")
    if request.method == "POST" and request.endpoint == "charts.search" and err.status == 422:
        return answer_refusal(
            err, lambda: render_template("charts/search.html", q="", patients=None, error=err)
        )
    if request.method != "POST" or patient_id is None or err.status not in (409, 422):
        return respond(err)

    def page() -> Any:
        if db.session.get(Patient, patient_id) is None:
            return render_template("error.html", error=err)
        if request.endpoint and request.endpoint.startswith("charts.order"):
            from mat.charts.order_views import refused_order_page

            return refused_order_page(patient_id, err)
        return chart_page(patient_id, error=err, status=err.status)

    return answer_refusal(err.concerning(patient_id), page)


# ---- reading ------------------------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@roles_required("prescriber")
def search() -> Any:
    """The search: the term travels in a POST body, never in the address (history, logs,
    Referer). Exactly one match opens the chart."""
    if request.method != "POST":
        return render_template("charts/search.html", q="", patients=None)
    q = load_plain(
        PatientSearch(),
        {"q": request.form.get("q", "").strip()},
        "Check the search.",
        {"q": "Type at most 80 characters of a name or an MRN."},
    )["q"]
    patients = search_patients(q) if q else None  # the search is audited
    if patients is not None and len(patients) == 1:
        return redirect(url_for("charts.chart", patient_id=patients[0].id), code=303)
    return render_template("charts/search.html", q=q, patients=patients)


@bp.route("/<int:patient_id>", methods=["GET"])
@roles_required("prescriber")
def chart(patient_id: int) -> Any:
    return chart_page(patient_id)


def chart_page(patient_id: int, *, error: MatError | None = None, status: int = 200) -> Any:
    data = read_chart(patient_id, clinic_now(), profile())  # 404; the read is audited
    svg = dose_chart(data["days"], title="Planned and given dose per day, last 90 days")
    page = render_template(
        "charts/chart.html",
        svg=svg,
        error=error,
        failed=request.endpoint if error else None,
        levels=LEVELS_OF_CARE,
        **data,
    )
    return page, status


# ---- writing ------------------------------------------------------------------------------


def _back(patient_id: int) -> Any:
    return redirect(url_for("charts.chart", patient_id=patient_id), code=303)


def _reason(schema: Schema, what: str) -> str:
    data = load_plain(
        schema,
        {"reason": request.form.get("reason", "").strip()},
        what,
        {"reason": PLAIN_REASON},
    )
    return str(data["reason"])


@bp.route("/<int:patient_id>/holds/<int:hold_id>/release", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def release_hold(patient_id: int, hold_id: int) -> Any:
    hold = db.session.get(Hold, hold_id)
    if hold is None or hold.patient_id != patient_id:
        raise NotFound("This hold is not on this patient's chart.", code="hold_not_found")
    reason = _reason(ReasonIn(), "Say why the hold is released.")
    safety.release_hold(hold_id, reason, g.actor, clinic_now())
    flash(f"Hold released: {reason}", "success")
    return _back(patient_id)


@bp.route("/<int:patient_id>/orders/<int:order_id>/discontinue", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def discontinue(patient_id: int, order_id: int) -> Any:
    order = get_order(order_id)
    if order.patient_id != patient_id:
        raise NotFound("This order is not on this patient's chart.", code="order_not_found")
    reason = _reason(DiscontinueIn(), "Say why the order is discontinued.")
    order = discontinue_order(order_id, reason, g.actor, clinic_now())
    when = order.discontinuation.effective_on if order.discontinuation else ""
    flash(f"Order {order.id} discontinued from {when}: {reason}", "success")
    return _back(patient_id)


@bp.route("/<int:patient_id>/level-of-care", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def level_of_care(patient_id: int) -> Any:
    data = load_plain(
        PatientUpdate(),
        {"level_of_care": request.form.get("level_of_care", "")},
        "Choose a level of care.",
        {"level_of_care": "Choose one of the levels in the list."},
    )
    patient = change_patient(patient_id, data, g.actor, clinic_now())
    flash(f"Level of care is now {level_text(patient.level_of_care)}.", "success")
    return _back(patient_id)


@bp.route("/<int:patient_id>/discharge", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def discharge(patient_id: int) -> Any:
    if request.form.get("confirm") != "yes":
        raise InvalidInput(
            "Tick the box to confirm the discharge.",
            fields={"confirm": ["Tick the box: the episode ends and every order stops."]},
        )
    patient = change_patient(patient_id, {"status": "discharged"}, g.actor, clinic_now())
    flash(
        f"{patient.display_name} is discharged: the episode of care ended today and the "
        "active orders stop from tomorrow.",
        "success",
    )
    return _back(patient_id)


@bp.route("/<int:patient_id>/readmit", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def readmission(patient_id: int) -> Any:
    data = load_plain(
        AdmissionIn(),
        {k: request.form.get(k, "").strip() for k in ("admitted_on", "level_of_care")},
        "Check the readmission.",
        {
            "admitted_on": "Give the date the patient came back, as YYYY-MM-DD.",
            "level_of_care": "Choose one of the levels in the list.",
        },
    )
    patient = readmit(patient_id, data, g.actor, clinic_now())
    flash(
        f"{patient.display_name} is readmitted from {patient.admitted_on}: treatment day 1 "
        "again. Write the first order of the new episode.",
        "success",
    )
    return _back(patient_id)
