"""The chart's order form: fill in, Preview (the whole schedule and every rule), Sign.

Preview and Sign call the orders service the JSON API calls (``preview_order``,
``sign_order``) with the body the API's schema reads (``order_form.load_order``). Sign signs
the form sealed in the preview's token, only while the patient's situation is the one the
preview judged, and once (``preview_token``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from mat.auth.access import roles_required
from mat.charts import order_form, preview_token
from mat.charts.svg import ChartDay, dose_chart
from mat.charts.views import bp, profile
from mat.clock import clinic_now
from mat.errors import Conflict, MatError
from mat.extensions import db
from mat.formulary.models import Medication
from mat.idempotency import spend_form_token, spent_form_token
from mat.orders.models import ORDER_KINDS, Order
from mat.orders.schedule import mg_text
from mat.orders.schemas import CRITERIA, WEEKDAYS
from mat.orders.service import Preview, preview_order, sign_order
from mat.patients.service import get_patient

SEVERITY_TEXT = {
    "block": "Blocks the order",
    "justify": "Needs your justification",
    "warn": "Warning",
}
# Query fields a link may pre-fill (the chart's missed-dose suggestion).
PREFILL = ("medication", "kind", "start_date", "dose_mg")


def _page(
    patient_id: int,
    values: dict[str, Any],
    *,
    found: Preview | None = None,
    token: str | None = None,
    error: MatError | None = None,
    status: int = 200,
) -> Any:
    patient = get_patient(patient_id)  # the read of the record is audited
    medications = list(db.session.scalars(select(Medication).order_by(Medication.name)))
    justify = found is not None and any(v.severity == "justify" for v in found.violations)
    if error is not None and any(v.severity == "justify" for v in error.violations):
        justify = True
    schedule_rows, svg = [], None
    if found is not None and found.schedule:
        schedule_rows = found.schedule
        days: dict[Any, Decimal] = {}
        for p in found.schedule:
            days[p.date] = days.get(p.date, Decimal(0)) + p.dose_mg
        svg = dose_chart(
            [ChartDay(d, mg) for d, mg in sorted(days.items())],
            title="The order's schedule: planned dose per day",
            chart_id="preview-chart",
        )
    page = render_template(
        "charts/order.html",
        patient=patient,
        values=values,
        found=found,
        token=token,
        justify=justify,
        schedule=schedule_rows,
        svg=svg,
        error=error,
        medications=medications,
        kinds=ORDER_KINDS,
        weekdays=WEEKDAYS,
        weekday_text=order_form.WEEKDAY_TEXT,
        criteria=CRITERIA,
        criteria_text=order_form.CRITERIA_TEXT,
        severity_text=SEVERITY_TEXT,
        invalid=getattr(error, "form_names", set()),
        mg_text=mg_text,
        today=clinic_now().date(),
    )
    return page, status


@bp.route("/<int:patient_id>/orders/new", methods=["GET"])
@roles_required("prescriber")
def order_new(patient_id: int) -> Any:
    values = order_form.form_values(MultiDict())
    values.update({k: request.args[k] for k in PREFILL if request.args.get(k)})
    if not values["start_date"]:
        values["start_date"] = clinic_now().date().isoformat()
    return _page(patient_id, values)


@bp.route("/<int:patient_id>/orders/preview", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def order_preview(patient_id: int) -> Any:
    values = order_form.form_values(request.form)
    data = order_form.load_order(request.form)
    now = clinic_now()
    found = preview_order(patient_id, data, now, profile())
    token = preview_token.seal(patient_id, values, now.date())
    return _page(patient_id, values, found=found, token=token)


@bp.route("/<int:patient_id>/orders/sign", methods=["POST"])
@roles_required("prescriber", rule="prescriber_required")
def order_sign(patient_id: int) -> Any:
    now = clinic_now()
    sealed = preview_token.unseal(request.form.get("preview", ""), patient_id, now.date())
    key = preview_token.SIGN_KEY_PREFIX + sealed["nonce"]
    _refuse_signed_twice(key)
    form = order_form.as_multidict(sealed["form"])
    justification = (request.form.get("justification") or "").strip()
    if justification:
        form["justification"] = justification
    data = order_form.load_order(form)
    order = sign_order(patient_id, data, g.actor, now, profile())
    spend_form_token(key, {"order_id": order.id})
    flash(
        f"Order {order.id} signed: {order.medication.name}, {order.kind}, first dose "
        f"{mg_text(order.first_dose_mg)} on {order.start_date}.",
        "success",
    )
    return redirect(url_for("charts.chart", patient_id=patient_id), code=303)


def _refuse_signed_twice(key: str) -> None:
    used = spent_form_token(key)
    if used is None:
        return
    order = db.session.get(Order, used["order_id"])
    message = (
        f"This preview was already signed as order {order.id if order else ''}. "
        "No second order was signed."
    )
    raise Conflict(message, code="already_signed")


def refused_order_page(patient_id: int, err: MatError) -> Any:
    """The form again after a refusal, filled in as sent. A sign refused by a rule (a missing
    justification) shows the preview again, so the prescriber sees what to answer."""
    values = order_form.form_values(request.form)
    found, token = None, None
    if request.endpoint == "charts.order_sign":
        # The form of a stale preview too: the prescriber previews it again as it was.
        sealed = preview_token.sealed(request.form.get("preview", ""), patient_id)
        if sealed is not None:
            values = {**sealed["form"], "justification": request.form.get("justification", "")}
            if err.code == "order_blocked":  # judged again: the same rules, now with the schedule
                form = order_form.as_multidict(sealed["form"])
                found = preview_order(
                    patient_id, order_form.load_order(form), clinic_now(), profile()
                )
                token = request.form.get("preview")
    return _page(patient_id, values, found=found, token=token, error=err, status=err.status)
