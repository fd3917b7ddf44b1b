"""The dosing window's stock parts (server-rendered): print the labels of today's take-homes, and
record an empty bottle scanned back (a barcode scanner types the label's dose id and Enter).

The window page itself is ``mat.dosing.views``; what it shows of the stock comes from
``mat.stock.window``. A refused scan is shown on the patient's page like any refused window
action (``mat.dosing.views.refused``: 409/422 with the reasons).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from sqlalchemy import select

from mat.auth.access import roles_required
from mat.clock import clinic_now
from mat.dosing.views import refused
from mat.errors import InvalidInput, MatError, concerning_patient
from mat.extensions import db
from mat.patients.service import get_patient
from mat.stock.bottles import record_bottle_return
from mat.stock.models import Station
from mat.stock.printing import labels_pdf
from mat.stock.window import current_station, handed_out_today

bp = Blueprint("stock_window", __name__, url_prefix="/window")
bp.register_error_handler(MatError, refused)


@bp.route("/<int:patient_id>/labels", methods=["GET"])
@roles_required("nurse")
def labels(patient_id: int) -> Any:
    """One label per take-home bottle handed out today (``layout`` sheet or thermal)."""
    layout = request.args.get("layout", "sheet")
    if layout not in ("sheet", "thermal"):
        raise InvalidInput("Choose a label layout.", fields={"layout": ["sheet or thermal"]})
    get_patient(patient_id, audit_read=False)  # 404; printing is the read's audit event
    today = clinic_now().date()
    doses = handed_out_today(patient_id, today)
    if not doses:
        raise InvalidInput(
            "No take-home was handed out to this patient today: there is no label to print.",
            code="no_take_homes",
            patient_id=patient_id,
        )
    return Response(
        labels_pdf(doses, layout),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename=labels-{patient_id}-{today}.pdf",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/<int:patient_id>/bottles", methods=["POST"])
@roles_required("nurse")
def bottle_returned(patient_id: int) -> Any:
    scanned = (request.form.get("dose_id") or "").strip()
    if not scanned.isdigit() or len(scanned) > 9:
        raise InvalidInput(
            "Scan the QR code of the bottle's label.",
            fields={"dose_id": ["The label's code is the dose number."]},
        )
    get_patient(patient_id, audit_read=False)
    station_id = db.session.scalar(select(Station.id).where(Station.code == current_station()))
    with concerning_patient(patient_id):  # a 404 of the dose too, not only what refused() shows
        returned = record_bottle_return(
            int(scanned), g.actor, clinic_now(), patient_id=patient_id, station_id=station_id
        )
    flash(f"Empty bottle of dose {returned.dose_id} returned.", "success")
    return redirect(url_for("dosing.patient_window", patient_id=patient_id), code=303)
