"""Take-home loss reports: a take-home the patient reports lost, stolen or spilled after leaving
with it (clinical-rules.md, ``take_home_correction``). Not a correction: the dose was handed out
and stays in the dispensing log. A prescriber reviews each report and decides whether to replace
the dose; the reports count against the patient (``take_home_loss``: two in 90 days warn at
every later take-home).

Readings of the rule book where it leaves room:
- a report is about a take-home dose that counts (not voided or spilled at the window), once;
  ``reported_on`` lies between the day it was handed out and today;
- "replace" is decided only while the day the dose was for has not passed: the lost dose then
  stops counting and its slot takes a replacement (the next ``attempt``), given observed or
  handed out like any dose of that day. Once the day has passed there is nothing to replace: the
  decision is "no_replacement", and the missed-dose rules judge what happened;
- one review per report: a decision is never changed (append-only), a second one is a 409.
Services flush and never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from mat.audit.service import record
from mat.auth.models import User
from mat.dosing.corrections import get_dose
from mat.dosing.models import Dose, TakeHomeLoss, TakeHomeLossReview
from mat.dosing.situation import lock_patient
from mat.errors import Conflict, InvalidInput, NotFound, concerning_patient
from mat.extensions import db
from mat.patients.service import get_patient


def patient_losses(patient_id: int) -> list[TakeHomeLoss]:
    get_patient(patient_id)  # 404; the read of the record is audited
    stmt = (
        select(TakeHomeLoss)
        .where(TakeHomeLoss.patient_id == patient_id)
        .order_by(TakeHomeLoss.reported_on, TakeHomeLoss.id)
    )
    return list(db.session.scalars(stmt))


def report_loss(dose_id: int, data: dict[str, Any], by: User, now: datetime) -> TakeHomeLoss:
    dose = get_dose(dose_id)
    with concerning_patient(dose.patient_id):  # its refusals name the dose's patient
        return _report_loss(dose, data, by, now)


def _report_loss(dose: Dose, data: dict[str, Any], by: User, now: datetime) -> TakeHomeLoss:
    lock_patient(dose.patient_id)
    db.session.refresh(dose)  # a report or correction stored while we waited for the lock
    get_patient(dose.patient_id, audit_read=False)
    if dose.mode != "take_home":
        raise InvalidInput(
            f"Dose #{dose.id} was given under observation; only a take-home can be reported "
            "lost, stolen or spilled.",
            code="not_a_take_home",
        )
    if dose.correction is not None:
        raise Conflict(
            f"Dose #{dose.id} was {dose.correction.kind}ed at the window; it was not taken home.",
            code="already_corrected",
        )
    if dose.loss is not None:
        raise Conflict(
            f"Dose #{dose.id} was already reported {dose.loss.kind} on {dose.loss.reported_on}.",
            code="already_reported",
        )
    handed_out, today = dose.dispensed_at.astimezone(now.tzinfo).date(), now.date()
    if not handed_out <= data["reported_on"] <= today:
        raise InvalidInput(
            "The report date is out of range.",
            fields={"reported_on": [f"Use a date from {handed_out} (handed out) to {today}."]},
        )
    loss = TakeHomeLoss(
        dose=dose,
        patient_id=dose.patient_id,
        kind=data["kind"],
        reported_on=data["reported_on"],
        note=data["note"],
        reported_by=by,
        reported_at=now,
    )
    db.session.add(loss)
    db.session.flush()
    record(
        "dose.loss_report",
        entity_type="dose",
        entity_id=dose.id,
        patient_id=dose.patient_id,
        records=[loss],
        detail={
            "loss_id": loss.id,
            "kind": loss.kind,
            "reported_on": loss.reported_on.isoformat(),
            "note": loss.note,
        },
    )
    return loss


def review_loss(loss_id: int, data: dict[str, Any], by: User, now: datetime) -> TakeHomeLoss:
    loss = db.session.get(TakeHomeLoss, loss_id)
    if loss is None:
        raise NotFound(f"No loss report with id {loss_id}.", code="loss_report_not_found")
    with concerning_patient(loss.patient_id):  # its refusals name the report's patient
        return _review_loss(loss, data, by, now)


def _review_loss(loss: TakeHomeLoss, data: dict[str, Any], by: User, now: datetime) -> TakeHomeLoss:
    lock_patient(loss.patient_id)
    db.session.refresh(loss)
    get_patient(loss.patient_id, audit_read=False)
    if loss.review is not None:
        raise Conflict(
            f"Loss report {loss.id} was already reviewed ({loss.review.decision}).",
            code="already_reviewed",
        )
    day = loss.dose.service_date
    if data["decision"] == "replace" and day < now.date():
        raise InvalidInput(
            f"The lost dose was for {day}, which has passed: there is nothing to replace.",
            fields={"decision": ["Use no_replacement for a day that has passed."]},
        )
    loss.review = TakeHomeLossReview(decision=data["decision"], note=data["note"], by=by, at=now)
    db.session.flush()
    record(
        "dose.loss_review",
        entity_type="dose",
        entity_id=loss.dose_id,
        patient_id=loss.patient_id,
        detail={"loss_id": loss.id, "decision": data["decision"], "note": data["note"]},
        records=[loss.review],
    )
    return loss
