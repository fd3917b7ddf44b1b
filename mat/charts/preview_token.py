"""What a Sign button signs: the previewed form, sealed with the patient's situation.

The preview page carries a token signed with the app's secret (itsdangerous): the form's
values, a fingerprint of what the order rules read about the patient when the preview was
judged, and a one-time nonce. Sign signs the token's form (never fields a page could alter
after the preview), refuses when the fingerprint no longer matches (a dose, an order, a hold,
a screen or an episode came in between: the preview's messages may be wrong), and stores the
nonce so a second press signs nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from mat.dosing.models import (
    Dose,
    DoseCorrection,
    DrugScreen,
    Hold,
    HoldRelease,
    TakeHomeLoss,
    WithheldDose,
)
from mat.errors import Conflict, InvalidInput
from mat.extensions import db
from mat.orders.models import Order, OrderDiscontinuation, TakeHomeException
from mat.patients.models import Patient, PatientEpisode

SALT = "mat.charts.order-preview"
# A preview older than this is refused: read it again (a day's doses change the picture).
MAX_AGE_SECONDS = 60 * 60
SIGN_KEY_PREFIX = "chart-sign:"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _latest(column: Any, *where: Any) -> int | None:
    return db.session.scalar(select(func.max(column)).where(*where))  # type: ignore[no-any-return]


def situation_fingerprint(patient_id: int, today: date) -> str:
    """A hash of the newest record of each kind the order rules read about the patient."""
    patient = db.session.get(Patient, patient_id)
    parts = {
        "today": today.isoformat(),
        "patient": [patient.status, patient.level_of_care, str(patient.admitted_on)]
        if patient
        else None,
        "order": _latest(Order.id, Order.patient_id == patient_id),
        "discontinued": _latest(
            OrderDiscontinuation.id,
            OrderDiscontinuation.order_id.in_(
                select(Order.id).where(Order.patient_id == patient_id)
            ),
        ),
        "dose": _latest(Dose.id, Dose.patient_id == patient_id),
        "correction": _latest(
            DoseCorrection.id,
            DoseCorrection.dose_id.in_(select(Dose.id).where(Dose.patient_id == patient_id)),
        ),
        "withheld": _latest(WithheldDose.id, WithheldDose.patient_id == patient_id),
        "hold": _latest(Hold.id, Hold.patient_id == patient_id),
        "release": _latest(
            HoldRelease.id,
            HoldRelease.hold_id.in_(select(Hold.id).where(Hold.patient_id == patient_id)),
        ),
        "screen": _latest(DrugScreen.id, DrugScreen.patient_id == patient_id),
        "episode": _latest(PatientEpisode.id, PatientEpisode.patient_id == patient_id),
        "loss": _latest(TakeHomeLoss.id, TakeHomeLoss.patient_id == patient_id),
        "exception": _latest(TakeHomeException.id, TakeHomeException.patient_id == patient_id),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def seal(patient_id: int, values: dict[str, Any], today: date) -> str:
    return _serializer().dumps(
        {
            "patient": patient_id,
            "form": values,
            "situation": situation_fingerprint(patient_id, today),
            "nonce": secrets.token_urlsafe(16),
        }
    )


def sealed(token: str, patient_id: int) -> dict[str, Any] | None:
    """The sealed preview if its signature holds and it is this patient's, whatever the
    situation now (to fill the form in again after a refusal); else None."""
    try:
        found = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    return found if isinstance(found, dict) and found.get("patient") == patient_id else None


STALE = "The patient's record changed since your preview: preview again before signing."


def unseal(token: str, patient_id: int, today: date) -> dict[str, Any]:
    """The sealed preview, if it is this patient's and the situation is unchanged."""
    try:
        sealed = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature as exc:  # also SignatureExpired
        raise InvalidInput(
            "This preview is too old or damaged: preview the order again.",
            fields={"Preview": ["Press Preview again, then Sign."]},
        ) from exc
    if not isinstance(sealed, dict) or sealed.get("patient") != patient_id:
        raise InvalidInput(
            "This preview is for another patient: preview the order again.",
            fields={"Preview": ["Press Preview again, then Sign."]},
        )
    if sealed["situation"] != situation_fingerprint(patient_id, today):
        raise Conflict(STALE, code="preview_stale")
    return sealed
