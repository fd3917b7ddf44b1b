"""Holds, withheld doses, drug screens and clinic closures: what keeps a dose from being given,
or changes how it may be given. Each is an append-only row; a release is a new row too."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mat.audit.service import record
from mat.auth.models import User
from mat.clinic_limits import LATE_ENTRY_DAYS
from mat.dosing.models import ClinicClosure, DrugScreen, Hold, HoldRelease, WithheldDose
from mat.dosing.rules import next_due
from mat.dosing.situation import lock_patient, situation_for
from mat.errors import Conflict, InvalidInput, NotFound, RuleViolation, names_the_patient
from mat.extensions import db
from mat.orders.service import patient_orders
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.violations import Violation


@names_the_patient
def place_hold(patient_id: int, reason: str, by: User, now: datetime) -> Hold:
    patient = get_patient(patient_id, audit_read=False)
    hold = Hold(patient_id=patient.id, reason=reason, set_by=by, set_at=now)
    db.session.add(hold)
    db.session.flush()
    record(
        "hold.place",
        entity_type="hold",
        entity_id=hold.id,
        patient_id=patient.id,
        records=[hold],
        detail={"reason": reason},
    )
    return hold


def release_hold(hold_id: int, reason: str, by: User, now: datetime) -> Hold:
    hold = db.session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"No hold with id {hold_id}.", code="hold_not_found")
    lock_patient(hold.patient_id)
    db.session.refresh(hold)
    if hold.release is not None:
        raise Conflict(f"Hold {hold.id} was already released.", code="hold_released")
    hold.release = HoldRelease(reason=reason, by=by, at=now)
    db.session.flush()
    record(
        "hold.release",
        entity_type="hold",
        entity_id=hold.id,
        patient_id=hold.patient_id,
        records=[hold.release],
        detail={"reason": reason},
    )
    return hold


@names_the_patient
def withhold_dose(
    patient_id: int, data: dict[str, Any], by: User, now: datetime, profile: Profile
) -> WithheldDose:
    """Record that the day's dose was not given (it then counts as missed unless a dose follows
    later the same day, after the nurse assesses the patient again)."""
    lock_patient(patient_id)
    patient = get_patient(patient_id, audit_read=False)
    today = now.date()
    day: date = data.get("date") or today
    if day > today or day < today - timedelta(days=LATE_ENTRY_DAYS):
        raise InvalidInput(
            "A withheld dose is recorded for today or a recent day.",
            fields={
                "date": [f"Use a date from {today - timedelta(days=LATE_ENTRY_DAYS)} to {today}."]
            },
        )
    situation = situation_for(patient, patient_orders(patient.id), day, now)
    if not situation.planned:
        message = f"No signed order plans a dose on {day}; there is nothing to withhold."
        violation = Violation("no_active_order", profile.severity("no_active_order"), message)
        raise RuleViolation(message, code="dose_blocked", violations=[violation])
    if next_due(situation) is None:
        message = f"Every dose planned for {day} is already given."
        violation = Violation("already_dosed", profile.severity("already_dosed"), message)
        raise Conflict(message, code="already_dosed", violations=[violation])
    withheld = WithheldDose(
        patient_id=patient.id, service_date=day, reason=data["reason"], by=by, at=now
    )
    db.session.add(withheld)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"A withheld dose is already recorded for {day}.", code="already_withheld"
        ) from exc
    record(
        "dose.withheld",
        entity_type="withheld_dose",
        entity_id=withheld.id,
        records=[withheld],
        patient_id=patient.id,
        detail={"date": day.isoformat(), "reason": data["reason"]},
    )
    return withheld


@names_the_patient
def record_screen(patient_id: int, data: dict[str, Any], by: User, now: datetime) -> DrugScreen:
    patient = get_patient(patient_id, audit_read=False)
    if data["collected_on"] > now.date():
        raise InvalidInput(
            "A screen cannot be collected in the future.",
            fields={"collected_on": ["Use today or an earlier date."]},
        )
    if data["collected_on"] < patient.admitted_on - timedelta(days=30):
        raise InvalidInput(
            "The screen is from long before admission.",
            fields={"collected_on": ["Use a date near or after admission."]},
        )
    screen = DrugScreen(
        patient_id=patient.id,
        collected_on=data["collected_on"],
        results=json.dumps(data["results"], sort_keys=True),
        recorded_by=by,
        recorded_at=now,
    )
    db.session.add(screen)
    db.session.flush()
    positives = sorted(k for k, v in data["results"].items() if v == "positive")
    record(
        "screen.record",
        entity_type="drug_screen",
        entity_id=screen.id,
        records=[screen],
        patient_id=patient.id,
        detail={"collected_on": data["collected_on"].isoformat(), "positive": positives},
    )
    return screen


# Closure dates an admin can mean: up to a year back (a closure recorded after the fact, so
# that day's take-homes and ceiling runs read right) and up to two years ahead (holidays are
# planned a year or so out). Anything else is a typo, refused with 422.
CLOSURE_DAYS_BACK = 365
CLOSURE_DAYS_AHEAD = 730


def closure_date_problem(day: date, today: date) -> str | None:
    first = today - timedelta(days=CLOSURE_DAYS_BACK)
    last = today + timedelta(days=CLOSURE_DAYS_AHEAD)
    if first <= day <= last:
        return None
    return f"Use a date from {first} (a year back) to {last} (two years ahead)."


def close_clinic(data: dict[str, Any], by: User, now: datetime) -> ClinicClosure:
    day: date = data["date"]
    problem = closure_date_problem(day, now.date())
    if problem:
        raise InvalidInput("The closure date is out of range.", fields={"date": [problem]})
    existing = db.session.scalar(select(ClinicClosure).where(ClinicClosure.date == day))
    if existing is not None:
        raise Conflict(f"The clinic is already closed on {day}.", code="duplicate_closure")
    closure = ClinicClosure(date=day, reason=data["reason"], by_id=by.id, at=now)
    db.session.add(closure)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"The clinic is already closed on {day}.", code="duplicate_closure") from exc
    record(
        "clinic.closure",
        entity_type="clinic_closure",
        entity_id=closure.id,
        records=[closure],
        detail={"date": day.isoformat(), "reason": data["reason"]},
    )
    return closure
